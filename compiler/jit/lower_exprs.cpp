// lower_exprs.cpp — expressions to LLVM IR (LANGUAGE.md "Expressions", "Errors"): literals,
// variables, operators specialised by static type with checked integer arithmetic (the
// overflow intrinsics as the fast path, the runtime's function to raise the same error as the
// interpreter on the slow one), string interpolation, calls of user functions (arguments left to
// right as written, then the defaults, at each call) and the built-ins of the JIT's scope.
#include "jit/lower.h"

#include "runtime/abi.h"
#include "runtime/runtime.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>

namespace cfm::jit {

using sema::TypeKind;

llvm::Value *Lowerer::expr(const ast::Expr *e) {
  Value *v = exprRaw(e);
  if (!e->toJson || e->type == T_.jsonT) return v;
  // LANGUAGE.md: where a json is expected, any value converts as to_json (interp's ToJsonNode).
  Value *j = b_.CreateCall(abi("cfm_to_json"), {toSlot(v, e->type), typeDesc(e->type)});
  releaseIf(v, e->type);
  return j;
}

llvm::Value *Lowerer::exprRaw(const ast::Expr *e) {
  switch (e->kind) {
  case ast::ExprKind::Null: return b_.CreateCall(abi("cfm_json_null"), {});
  case ast::ExprKind::Int:
    return b_.getInt64(static_cast<uint64_t>(static_cast<const ast::IntLit *>(e)->value));
  case ast::ExprKind::Duration:
    return b_.getInt64(static_cast<uint64_t>(static_cast<const ast::DurationLit *>(e)->ms));
  case ast::ExprKind::Bool: return b_.getInt1(static_cast<const ast::BoolLit *>(e)->value);
  case ast::ExprKind::Float: return llvm::ConstantFP::get(f64_, static_cast<const ast::FloatLit *>(e)->value);
  case ast::ExprKind::String: return stringLit(static_cast<const ast::StringLit *>(e));
  case ast::ExprKind::Name: return name(static_cast<const ast::NameExpr *>(e));
  case ast::ExprKind::Unary: return unary(static_cast<const ast::UnaryExpr *>(e));
  case ast::ExprKind::Binary: return binary(static_cast<const ast::BinaryExpr *>(e));
  case ast::ExprKind::Member: return member(static_cast<const ast::MemberExpr *>(e));
  case ast::ExprKind::List:
    if (static_cast<const ast::ListLit *>(e)->jsonLiteral) return jsonLit(e);
    return listLit(static_cast<const ast::ListLit *>(e));
  case ast::ExprKind::Map:
    if (static_cast<const ast::MapLit *>(e)->jsonLiteral) return jsonLit(e);
    return mapLit(static_cast<const ast::MapLit *>(e));
  case ast::ExprKind::Record: return recordLit(static_cast<const ast::RecordLit *>(e));
  case ast::ExprKind::Index: return index(static_cast<const ast::IndexExpr *>(e));
  case ast::ExprKind::Call: return call(static_cast<const ast::CallExpr *>(e));
  case ast::ExprKind::MethodCall: return method(static_cast<const ast::MethodCallExpr *>(e));
  case ast::ExprKind::AsyncCall: return asyncCall(static_cast<const ast::AsyncCallExpr *>(e));
  case ast::ExprKind::AsyncBlock: return asyncBlock(static_cast<const ast::AsyncBlockExpr *>(e));
  default: break;
  }
  // scope.cpp rejects every other construct before lowering starts.
  llvm::report_fatal_error("cfm jit: expression outside the JIT's scope reached the lowering");
}

/// A string literal is one runtime string made by cfm.init; each use takes a reference.
llvm::Value *Lowerer::literal(const std::string &text) {
  llvm::GlobalVariable *&g = literalByText_[text];
  if (!g) {
    g = new llvm::GlobalVariable(m_, ptr_, false, llvm::GlobalValue::InternalLinkage,
                                 llvm::ConstantPointerNull::get(llvm::PointerType::get(ctx_, 0)),
                                 "lit." + std::to_string(literals_.size()));
    literals_.emplace_back(g, text);
  }
  Value *v = b_.CreateLoad(ptr_, g);
  retain(v);
  return v;
}

/// `"a ${x} b"`: the interpolated values left to right, then one string formatted from the
/// pieces as str() formats each value (interp's StringNode).
llvm::Value *Lowerer::stringLit(const ast::StringLit *s) {
  bool plain = true;
  std::string text;
  for (const ast::StrPart &p : s->parts) {
    plain = plain && !p.expr;
    text += p.text;
  }
  if (plain) return literal(text);
  size_t mark = tempMark();
  std::vector<Value *> vals;
  for (const ast::StrPart &p : s->parts) {
    if (!p.expr) continue;
    vals.push_back(expr(p.expr));
    pushTemp(vals.back(), vt(p.expr));
  }
  dropTemps(mark);
  auto *arrTy = llvm::ArrayType::get(pieceType_, s->parts.size());
  llvm::AllocaInst *arr = entryAlloca(arrTy, "pieces", false);
  size_t vi = 0;
  for (size_t i = 0; i < s->parts.size(); ++i) {
    const ast::StrPart &p = s->parts[i];
    Value *piece = b_.CreateConstInBoundsGEP2_64(arrTy, arr, 0, i);
    auto field = [&](unsigned k) { return b_.CreateStructGEP(pieceType_, piece, k); };
    if (!p.expr) {
      b_.CreateStore(b_.CreateGlobalString(p.text, "piece", 0, &m_), field(0));
      b_.CreateStore(b_.getInt64(p.text.size()), field(1));
      b_.CreateStore(llvm::ConstantPointerNull::get(llvm::PointerType::get(ctx_, 0)), field(3));
    } else {
      b_.CreateStore(toSlot(vals[vi++], vt(p.expr)), field(2));
      b_.CreateStore(typeDesc(vt(p.expr)), field(3));
    }
  }
  Value *r = b_.CreateCall(abi("cfm_str_build"), {arr, b_.getInt64(s->parts.size())});
  vi = 0;
  for (const ast::StrPart &p : s->parts)
    if (p.expr) releaseIf(vals[vi++], vt(p.expr));
  return r;
}

llvm::Value *Lowerer::name(const ast::NameExpr *n) {
  const sema::Type *t = n->var->type;
  Value *v = n->var->kind == sema::VarKind::Const ? b_.CreateLoad(ty(t), consts_.at(n->var), n->name)
                                                  : b_.CreateLoad(ty(t), local(n->var), n->name);
  if (boxed(t)) retain(v);
  return v;
}

llvm::Value *Lowerer::unary(const ast::UnaryExpr *u) {
  Value *v = expr(u->operand);
  if (u->op == '!') return b_.CreateNot(v);
  if (u->operand->type->is(TypeKind::Float)) return b_.CreateFNeg(v);
  // -INT64_MIN overflows: the runtime raises it (interp's UnaryNode: negInt).
  BB *bad = block("neg.overflow"), *ok = block("neg.ok");
  llvm::MDBuilder md(ctx_);
  b_.CreateCondBr(b_.CreateICmpEQ(v, b_.getInt64(static_cast<uint64_t>(INT64_MIN))), bad, ok,
                  md.createUnlikelyBranchWeights());
  b_.SetInsertPoint(bad);
  b_.CreateCall(abi("cfm_neg_int"), {v, scratch()});
  failHere(u->loc());
  b_.SetInsertPoint(ok);
  return b_.CreateNSWNeg(v);
}

llvm::Value *Lowerer::binary(const ast::BinaryExpr *b) {
  if (b->op == ast::BinOp::And || b->op == ast::BinOp::Or) return logical(b);
  Value *l = expr(b->lhs);
  size_t mark = tempMark();
  pushTemp(l, vt(b->lhs));
  Value *r = expr(b->rhs);
  dropTemps(mark);
  switch (b->op) {
  case ast::BinOp::Add: return arith('+', l, r, b->lhs->type, b->opLoc);
  case ast::BinOp::Sub: return arith('-', l, r, b->lhs->type, b->opLoc);
  case ast::BinOp::Mul: return arith('*', l, r, b->lhs->type, b->opLoc);
  case ast::BinOp::Div: return arith('/', l, r, b->lhs->type, b->opLoc);
  case ast::BinOp::Mod: return arith('%', l, r, b->lhs->type, b->opLoc);
  default: return compare(b->op, l, r, vt(b->lhs));
  }
}

/// `&&`, `||`: the right operand only when the left does not decide.
llvm::Value *Lowerer::logical(const ast::BinaryExpr *b) {
  Value *l = expr(b->lhs);
  BB *lhsEnd = b_.GetInsertBlock();
  BB *rhs = block("logic.rhs"), *end = block("logic.end");
  if (b->op == ast::BinOp::And)
    b_.CreateCondBr(l, rhs, end);
  else
    b_.CreateCondBr(l, end, rhs);
  b_.SetInsertPoint(rhs);
  Value *r = expr(b->rhs);
  BB *rhsEnd = b_.GetInsertBlock();
  b_.CreateBr(end);
  b_.SetInsertPoint(end);
  llvm::PHINode *phi = b_.CreatePHI(i1_, 2);
  phi->addIncoming(l, lhsEnd);
  phi->addIncoming(r, rhsEnd);
  return phi;
}

llvm::Value *Lowerer::arith(char op, Value *a, Value *b, const sema::Type *t, support::Loc loc) {
  if (t->is(TypeKind::Float)) {
    switch (op) {
    case '+': return b_.CreateFAdd(a, b);
    case '-': return b_.CreateFSub(a, b);
    case '*': return b_.CreateFMul(a, b);
    case '/': return b_.CreateFDiv(a, b);
    default: return b_.CreateCall(abi("cfm_mod_float"), {a, b});
    }
  }
  if (t->is(TypeKind::String) || t->is(TypeKind::List)) { // only `+`
    Value *r = b_.CreateCall(abi(t->is(TypeKind::String) ? "cfm_str_concat" : "cfm_list_concat"), {a, b});
    release(a);
    release(b);
    return r;
  }
  return checkedInt(op, a, b, loc); // int, and duration (`d * n`, `n * d` too)
}

/// LANGUAGE.md "Precise rules": overflow and division by zero are errors, `/` truncates toward
/// zero, `%` has the sign of the dividend. The fast path is inline; the slow one calls the
/// runtime's function, which raises exactly the interpreter's error.
llvm::Value *Lowerer::checkedInt(char op, Value *a, Value *b, support::Loc loc) {
  llvm::MDBuilder md(ctx_);
  BB *bad = block("int.error"), *ok = block("int.ok");
  const char *slow = nullptr;
  Value *result = nullptr, *failed = nullptr;
  if (op == '+' || op == '-' || op == '*') {
    llvm::Intrinsic::ID id = op == '+'   ? llvm::Intrinsic::sadd_with_overflow
                             : op == '-' ? llvm::Intrinsic::ssub_with_overflow
                                         : llvm::Intrinsic::smul_with_overflow;
    slow = op == '+' ? "cfm_add_int" : op == '-' ? "cfm_sub_int" : "cfm_mul_int";
    Value *pair = b_.CreateBinaryIntrinsic(id, a, b);
    result = b_.CreateExtractValue(pair, 0);
    failed = b_.CreateExtractValue(pair, 1);
  } else if (op == '/') {
    slow = "cfm_div_int";
    Value *zero = b_.CreateICmpEQ(b, b_.getInt64(0));
    Value *minByMinus1 = b_.CreateAnd(b_.CreateICmpEQ(a, b_.getInt64(static_cast<uint64_t>(INT64_MIN))),
                                      b_.CreateICmpEQ(b, b_.getInt64(static_cast<uint64_t>(-1))));
    failed = b_.CreateOr(zero, minByMinus1);
  } else {
    slow = "cfm_mod_int";
    failed = b_.CreateICmpEQ(b, b_.getInt64(0));
  }
  b_.CreateCondBr(failed, bad, ok, md.createUnlikelyBranchWeights());
  b_.SetInsertPoint(bad);
  // The runtime's own function raises the interpreter's error; its result goes to a module-wide
  // sink (only ever written on this cold path), so that a hot function needs no stack slot.
  if (!sink_)
    sink_ = new llvm::GlobalVariable(m_, i64_, false, llvm::GlobalValue::InternalLinkage, b_.getInt64(0),
                                     "cfm.sink");
  b_.CreateCall(abi(slow), {a, b, sink_});
  failHere(loc);
  b_.SetInsertPoint(ok);
  if (op == '/') return b_.CreateSDiv(a, b);
  if (op == '%') {
    // x % -1 is 0 (and INT64_MIN % -1 must not reach srem, where it is undefined).
    Value *safe =
        b_.CreateSelect(b_.CreateICmpEQ(b, b_.getInt64(static_cast<uint64_t>(-1))), b_.getInt64(1), b);
    return b_.CreateSRem(a, safe);
  }
  return result;
}

llvm::Value *Lowerer::compare(ast::BinOp op, Value *a, Value *b, const sema::Type *t) {
  using ast::BinOp;
  if (t->is(TypeKind::Float)) {
    switch (op) {
    case BinOp::Lt: return b_.CreateFCmpOLT(a, b);
    case BinOp::Le: return b_.CreateFCmpOLE(a, b);
    case BinOp::Gt: return b_.CreateFCmpOGT(a, b);
    case BinOp::Ge: return b_.CreateFCmpOGE(a, b);
    case BinOp::Eq: return b_.CreateFCmpOEQ(a, b);
    default: return b_.CreateFCmpUNE(a, b);
    }
  }
  if (!boxed(t)) {
    switch (op) {
    case BinOp::Lt: return b_.CreateICmpSLT(a, b);
    case BinOp::Le: return b_.CreateICmpSLE(a, b);
    case BinOp::Gt: return b_.CreateICmpSGT(a, b);
    case BinOp::Ge: return b_.CreateICmpSGE(a, b);
    case BinOp::Eq: return b_.CreateICmpEQ(a, b);
    default: return b_.CreateICmpNE(a, b);
    }
  }
  Value *r = nullptr;
  if (op == BinOp::Eq || op == BinOp::Ne) {
    Value *eq = b_.CreateCall(abi("cfm_equal"), {toSlot(a, t), toSlot(b, t), typeDesc(t)});
    r = op == BinOp::Eq ? b_.CreateICmpNE(eq, b_.getInt64(0)) : b_.CreateICmpEQ(eq, b_.getInt64(0));
  } else {
    Value *c = b_.CreateCall(abi("cfm_str_compare"), {a, b});
    Value *z = b_.getInt64(0);
    r = op == BinOp::Lt   ? b_.CreateICmpSLT(c, z)
        : op == BinOp::Le ? b_.CreateICmpSLE(c, z)
        : op == BinOp::Gt ? b_.CreateICmpSGT(c, z)
                          : b_.CreateICmpSGE(c, z);
  }
  release(a);
  release(b);
  return r;
}

llvm::Value *Lowerer::call(const ast::CallExpr *c) {
  if (c->fn) return userCall(c);
  if (ast::apiSignature(c->builtin)) return apiCall(c);
  return c->builtin == ast::Builtin::Wait ? waitCall(c) : builtin(c);
}

/// A call: the guard, the arguments as written, the defaults, then the callee; an error from
/// it gets the call's line in the trace (interp's CallNode and runFrame).
llvm::Value *Lowerer::userCall(const ast::CallExpr *c) {
  const sema::FnInfo *callee = c->fn;
  stackCheck(callee, c->loc());
  // args[0] is the callee's depth, args[1] the task's stack limit, args[i + kHiddenParams]
  // parameter i.
  std::vector<Value *> args(callee->params.size() + kHiddenParams, nullptr);
  args[0] = b_.CreateAdd(fn_.depth, b_.getInt32(1), "", false, true);
  args[1] = fn_.limit;
  size_t mark = tempMark();
  for (int idx : c->evalOrder) {
    auto i = static_cast<size_t>(idx);
    args[i + kHiddenParams] = expr(c->boundArgs[i]);
    pushTemp(args[i + kHiddenParams], callee->params[i].type);
  }
  for (size_t i = 0; i < callee->params.size(); ++i) {
    if (c->boundArgs[i]) continue;
    args[i + kHiddenParams] = expr(callee->params[i].decl->defaultValue);
    pushTemp(args[i + kHiddenParams], callee->params[i].type);
  }
  dropTemps(mark); // the callee owns its arguments now
  Value *r = b_.CreateCall(fns_.at(callee), args);
  bool isVoid = callee->ret->is(TypeKind::Void);
  checkFailed(isVoid ? r : b_.CreateExtractValue(r, 1), c->loc());
  return isVoid ? nullptr : b_.CreateExtractValue(r, 0);
}

llvm::Value *Lowerer::builtin(const ast::CallExpr *c, Value *given) {
  using ast::Builtin;
  const ast::Expr *a0 = c->args.empty() ? nullptr : c->args[0].value;
  Value *v = given ? given : a0 ? expr(a0) : nullptr;
  const sema::Type *at = a0 ? vt(a0) : nullptr;
  switch (c->builtin) {
  case Builtin::None:
  case Builtin::Wait:
    // the procedure API is apiCall's
#define API(id, ...) case Builtin::id:
#include "ast/builtins.def"
#define METHOD(id, recv, name) case Builtin::id:
#include "ast/builtins.def"
    ast::unreachableBuiltin(c->builtin, "the JIT's built-in functions");
  case Builtin::Print: {
    Value *out = b_.CreateLoad(ptr_, out_);
    b_.CreateCall(abi("cfm_print"), {out, toSlot(v, at), typeDesc(at)});
    releaseIf(v, at);
    return nullptr;
  }
  case Builtin::Str: {
    Value *r = b_.CreateCall(abi("cfm_format"), {toSlot(v, at), typeDesc(at)});
    releaseIf(v, at);
    return r;
  }
  case Builtin::Fail:
    b_.CreateCall(abi("cfm_raise_user"), {v});
    release(v);
    failHere(c->loc());
    continueDead();
    return nullptr;
  case Builtin::Int:
    if (at->is(TypeKind::Int)) return v;
    if (at->is(TypeKind::Float)) {
      checkFailed(status(b_.CreateCall(abi("cfm_int_of_float"), {v, scratch()})), c->loc());
    } else {
      Value *st = b_.CreateCall(abi("cfm_int_of_string"), {v, scratch()});
      release(v);
      checkFailed(status(st), c->loc());
    }
    return b_.CreateLoad(i64_, scratch());
  case Builtin::Float:
    if (at->is(TypeKind::Int)) return b_.CreateSIToFP(v, f64_);
    if (at->is(TypeKind::Float)) return v;
    {
      Value *st = b_.CreateCall(abi("cfm_float_of_string"), {v, scratch()});
      release(v);
      checkFailed(status(st), c->loc());
      return b_.CreateLoad(f64_, scratch());
    }
  case Builtin::Len: {
    if (at->is(TypeKind::Json)) {
      Value *st = b_.CreateCall(abi("cfm_json_as"),
                                {v, b_.getInt64(static_cast<int64_t>(rt::JsonAs::Len)), scratch()});
      release(v);
      checkFailed(status(st), c->loc());
      return b_.CreateLoad(i64_, scratch());
    }
    const char *fn = at->is(TypeKind::String) ? "cfm_str_len"
                     : at->is(TypeKind::List) ? "cfm_list_len"
                                              : "cfm_map_len";
    Value *n = b_.CreateCall(abi(fn), {v});
    release(v);
    return n;
  }
  case Builtin::Now: return b_.CreateCall(abi("cfm_now_ms"), {});
  case Builtin::ParseJson: {
    Value *st = b_.CreateCall(abi("cfm_parse_json"), {v, scratch()});
    release(v);
    checkFailed(status(st), c->loc());
    return b_.CreateLoad(ptr_, scratch());
  }
  case Builtin::ToJson: {
    Value *r = b_.CreateCall(abi("cfm_to_json_text"), {toSlot(v, at), typeDesc(at)});
    releaseIf(v, at);
    return r;
  }
  case Builtin::Sleep: // suspends this task only: JIT'd code runs on the task's fiber
    checkFailed(status(b_.CreateCall(abi("cfm_sleep"), {v})), c->loc());
    return nullptr;
  }
  llvm::report_fatal_error("cfm jit: built-in outside the JIT's scope reached the lowering");
}

/// A procedure API call (API.md "Cloud"; interp's ApiNode): the arguments as written (or
/// `given`, evaluated already in that order by `async`), then the defaults the call leaves out,
/// borrowed by the ABI's `cfm_api_*` function (which may suspend the task: JIT'd code runs on
/// the task's fiber) and released after it.
llvm::Value *Lowerer::apiCall(const ast::CallExpr *c, const std::vector<Value *> *given) {
  using ast::Builtin;
  const ast::ApiSignature &sig = *ast::apiSignature(c->builtin);
  size_t n = sig.params.size();
  std::vector<Value *> v(n, nullptr);
  std::vector<const sema::Type *> types(n, nullptr);
  size_t mark = tempMark();
  for (size_t k = 0; k < c->evalOrder.size(); ++k) {
    auto i = static_cast<size_t>(c->evalOrder[k]);
    types[i] = vt(c->boundArgs[i]);
    v[i] = given ? (*given)[k] : expr(c->boundArgs[i]);
    pushTemp(v[i], types[i]);
  }
  for (size_t i = 0; i < n; ++i) {
    if (c->boundArgs[i]) continue;
    const ast::ApiParam &p = sig.params[i];
    if (p.defaultEmpty) { // the empty map or json null: a null reference (runtime/model/api.h)
      types[i] = p.type == ast::ApiType::Json ? T_.jsonT : T_.map(T_.stringT, T_.stringT);
      v[i] = llvm::ConstantPointerNull::get(llvm::cast<llvm::PointerType>(ptr_));
    } else {
      types[i] = p.defaultText ? T_.stringT : p.type == ast::ApiType::Int ? T_.intT : T_.durationT;
      v[i] = p.defaultText ? literal(p.defaultText) : b_.getInt64(static_cast<uint64_t>(p.defaultInt));
    }
    pushTemp(v[i], types[i]);
  }
  Value *out = scratch(), *st = nullptr;
  switch (c->builtin) {
  case Builtin::RunVm:
    st = b_.CreateCall(abi("cfm_api_run_vm"), {v[0], v[1], v[2], typeDesc(c->type), out});
    break;
  case Builtin::TerminateVm: st = b_.CreateCall(abi("cfm_api_terminate_vm"), {v[0], v[1]}); break;
  case Builtin::AttachVolume:
    st = b_.CreateCall(abi("cfm_api_attach_volume"), {v[0], v[1], v[2], v[3], out});
    break;
  case Builtin::AssociateAddress:
    st = b_.CreateCall(abi("cfm_api_associate_address"), {v[0], v[1], out});
    break;
  case Builtin::Reload: st = b_.CreateCall(abi("cfm_api_reload"), {v[0], out}); break;
  case Builtin::SetProperty: st = b_.CreateCall(abi("cfm_api_set_property"), {v[0], v[1], v[2], out}); break;
  case Builtin::ThisManager: st = b_.CreateCall(abi("cfm_api_this_manager"), {out}); break;
  case Builtin::ThisCloud: st = b_.CreateCall(abi("cfm_api_this_cloud"), {out}); break;
  case Builtin::RunAgentCommand:
    st = b_.CreateCall(abi("cfm_api_run_agent_command"), {v[0], v[1], v[2], v[3], typeDesc(c->type), out});
    break;
  case Builtin::PutFile: st = b_.CreateCall(abi("cfm_api_put_file"), {v[0], v[1], v[2], v[3]}); break;
  case Builtin::PublishCloudEvent:
    st = b_.CreateCall(abi("cfm_api_publish_cloud_event"), {v[0], v[1], v[2]});
    break;
  case Builtin::WaitCloudEvent:
    st = b_.CreateCall(abi("cfm_api_wait_cloud_event"), {v[0], v[1], v[2], v[3], typeDesc(c->type), out});
    break;
  case Builtin::None:
  case Builtin::Print:
  case Builtin::Str:
  case Builtin::Int:
  case Builtin::Float:
  case Builtin::Len:
  case Builtin::Sleep:
  case Builtin::Now:
  case Builtin::ParseJson:
  case Builtin::ToJson:
  case Builtin::Fail:
  case Builtin::Wait:
#define METHOD(id, recv, name) case Builtin::id:
#include "ast/builtins.def"
    ast::unreachableBuiltin(c->builtin, "the JIT's API calls");
  }
  checkFailed(status(st), c->loc());
  dropTemps(mark);
  for (size_t i = 0; i < n; ++i) releaseIf(v[i], types[i]);
  if (c->type->is(TypeKind::Void)) return nullptr;
  return fromSlot(b_.CreateLoad(i64_, out), c->type);
}

/// Methods of strings and durations: the receiver, then the arguments, left to right.
llvm::Value *Lowerer::method(const ast::MethodCallExpr *m) {
  using ast::Builtin;
  if (m->method == Builtin::DurationMs) return expr(m->receiver);
  if (m->method == Builtin::ListPush || m->method == Builtin::ListPop || m->method == Builtin::MapRemove)
    return mutatingMethod(m);
  if (m->receiver->type->is(TypeKind::Json)) return jsonMethod(m);
  std::vector<Value *> v;
  std::vector<bool> owned; // v[i] is a reference of its own (else borrowed from a variable)
  size_t mark = tempMark();
  // `m.has(k)`, `l.contains(x)`, `s.contains(t)`, `s.starts_with(t)`, `s.ends_with(t)`: the ABI
  // function only reads its operands, and nothing evaluated before the call can change a local
  // variable (no expression assigns, a callee cannot reach its caller's variables), so a
  // variable's value is borrowed instead of retained before the call and released after it.
  bool borrows = m->method == Builtin::MapHas || m->method == Builtin::ListContains ||
                 m->method == Builtin::StrContains || m->method == Builtin::StrStartsWith ||
                 m->method == Builtin::StrEndsWith;
  auto operand = [&](const ast::Expr *e) {
    if (borrows && e->kind == ast::ExprKind::Name) {
      auto *n = static_cast<const ast::NameExpr *>(e);
      if (n->var->kind != sema::VarKind::Const) {
        v.push_back(b_.CreateLoad(ty(n->var->type), local(n->var), n->name));
        owned.push_back(false);
        return;
      }
    }
    v.push_back(expr(e));
    pushTemp(v.back(), vt(e));
    owned.push_back(true);
  };
  operand(m->receiver);
  for (const ast::Arg &a : m->args) operand(a.value);
  if (Value *r = modelMethod(m, v)) {
    dropTemps(mark);
    return r;
  }
  dropTemps(mark);
  Value *r = nullptr;
  // v[i] of a boxed type is an owned reference; the ABI functions borrow them.
  auto truth = [&](const char *fn) {
    return b_.CreateICmpNE(b_.CreateCall(abi(fn), {v[0], v[1]}), b_.getInt64(0));
  };
  switch (m->method) {
  case Builtin::DurationMs:
  case Builtin::JsonAsBool:
  case Builtin::JsonAsFloat:
  case Builtin::JsonAsInt:
  case Builtin::JsonAsString:
  case Builtin::JsonLen:
  case Builtin::ListPop:
  case Builtin::ListPush:
  case Builtin::MapRemove:
  case Builtin::ModelElement:
  case Builtin::ModelInstancesOf:
  case Builtin::ModelProperty:
  case Builtin::ModelRender:
  case Builtin::ModelTemplate:
  case Builtin::ModelVmClass:
  case Builtin::None:
#define BUILTIN(id, name) case Builtin::id:
#include "ast/builtins.def"
    ast::unreachableBuiltin(m->method, "the JIT's string, list and map methods");
  case Builtin::StrTrim: r = b_.CreateCall(abi("cfm_str_trim"), {v[0]}); break;
  case Builtin::StrUpper: r = b_.CreateCall(abi("cfm_str_upper"), {v[0]}); break;
  case Builtin::StrLower: r = b_.CreateCall(abi("cfm_str_lower"), {v[0]}); break;
  case Builtin::StrReplace: r = b_.CreateCall(abi("cfm_str_replace"), {v[0], v[1], v[2]}); break;
  case Builtin::StrContains: r = truth("cfm_str_contains"); break;
  case Builtin::StrStartsWith: r = truth("cfm_str_starts_with"); break;
  case Builtin::StrEndsWith: r = truth("cfm_str_ends_with"); break;
  case Builtin::StrSplit:
    r = b_.CreateCall(abi("cfm_str_split"), {v[0], v[1], typeDesc(T_.list(T_.stringT))});
    break;
  case Builtin::ListJoin: r = b_.CreateCall(abi("cfm_list_join"), {v[0], v[1]}); break;
  case Builtin::ListContains:
  case Builtin::MapHas: {
    const sema::Type *at = vt(m->args[0].value);
    Value *found = b_.CreateCall(abi(m->method == Builtin::MapHas ? "cfm_map_has" : "cfm_list_contains"),
                                 {v[0], toSlot(v[1], at)});
    r = b_.CreateICmpNE(found, b_.getInt64(0));
    break;
  }
  case Builtin::MapKeys:
  case Builtin::MapValues: {
    const sema::Type *mt = m->receiver->type;
    bool keys = m->method == Builtin::MapKeys;
    r = b_.CreateCall(abi(keys ? "cfm_map_keys" : "cfm_map_values"),
                      {v[0], typeDesc(T_.list(keys ? mt->a : mt->b))});
    break;
  }
  }
  if (owned[0]) releaseIf(v[0], vt(m->receiver));
  for (size_t i = 0; i < m->args.size(); ++i)
    if (owned[i + 1]) releaseIf(v[i + 1], vt(m->args[i].value));
  return r;
}

/// A model object's method (runtime/model/methods.h), or nullptr for other methods: the receiver
/// and the argument (owned, still temporaries) are borrowed by the ABI and released after it.
llvm::Value *Lowerer::modelMethod(const ast::MethodCallExpr *m, const std::vector<Value *> &v) {
  using ast::Builtin;
  Value *st = nullptr;
  switch (m->method) {
  case Builtin::DurationMs:
  case Builtin::JsonAsBool:
  case Builtin::JsonAsFloat:
  case Builtin::JsonAsInt:
  case Builtin::JsonAsString:
  case Builtin::JsonLen:
  case Builtin::ListContains:
  case Builtin::ListJoin:
  case Builtin::ListPop:
  case Builtin::ListPush:
  case Builtin::MapHas:
  case Builtin::MapKeys:
  case Builtin::MapRemove:
  case Builtin::MapValues:
  case Builtin::None:
  case Builtin::StrContains:
  case Builtin::StrEndsWith:
  case Builtin::StrLower:
  case Builtin::StrReplace:
  case Builtin::StrSplit:
  case Builtin::StrStartsWith:
  case Builtin::StrTrim:
  case Builtin::StrUpper:
#define BUILTIN(id, name) case Builtin::id:
#include "ast/builtins.def"
    return nullptr; // not a model object's method
  case Builtin::ModelElement:
  case Builtin::ModelVmClass:
  case Builtin::ModelTemplate: {
    int64_t which = m->method == Builtin::ModelElement ? 0 : m->method == Builtin::ModelVmClass ? 1 : 2;
    st = b_.CreateCall(abi("cfm_model_find"),
                       {v[0], b_.getInt64(static_cast<uint64_t>(which)), v[1], scratch()});
    break;
  }
  case Builtin::ModelProperty: st = b_.CreateCall(abi("cfm_model_property"), {v[0], v[1], scratch()}); break;
  case Builtin::ModelInstancesOf:
    st = b_.CreateCall(abi("cfm_model_instances_of"), {v[0], v[1], typeDesc(m->type), scratch()});
    break;
  case Builtin::ModelRender: st = b_.CreateCall(abi("cfm_model_render"), {v[0], v[1], scratch()}); break;
  }
  checkFailed(status(st), m->nameLoc);
  Value *r = fromSlot(b_.CreateLoad(i64_, scratch()), m->type);
  releaseIf(v[0], vt(m->receiver));
  for (size_t i = 0; i < m->args.size(); ++i) releaseIf(v[i + 1], vt(m->args[i].value));
  return r;
}

/// `err.kind`, `err.message`, `err.code` of a caught error; a record's field (interp's FieldNode).
llvm::Value *Lowerer::member(const ast::MemberExpr *m) {
  Value *e = expr(m->base);
  if (m->base->type->is(TypeKind::Record)) {
    int field = m->base->type->record->fieldIndex(m->name);
    Value *v =
        fromSlot(slotAt(e, CFM_RECORD_FIELDS_OFFSET, b_.getInt64(static_cast<uint64_t>(field))), m->type);
    if (boxed(m->type)) retain(v);
    release(e);
    return v;
  }
  const char *field = m->name == "kind"      ? "cfm_error_kind"
                      : m->name == "message" ? "cfm_error_message"
                                             : "cfm_error_code";
  Value *s = b_.CreateCall(abi(field), {e});
  retain(s);
  release(e);
  return s;
}

// ---- collections and records ----

/// `[a, b]`: a new list, the elements left to right (interp's ListNode).
llvm::Value *Lowerer::listLit(const ast::ListLit *l) {
  Value *list = b_.CreateCall(abi("cfm_list_new"), {typeDesc(l->type)});
  size_t mark = tempMark();
  pushTemp(list, l->type);
  for (const ast::Expr *e : l->elems) {
    Value *v = expr(e);
    b_.CreateCall(abi("cfm_list_push"), {list, toSlot(v, vt(e))}); // takes over v
  }
  dropTemps(mark);
  return list;
}

/// `{k: v, ...}`: each key, then its value; a later equal key replaces the value (mapSet).
llvm::Value *Lowerer::mapLit(const ast::MapLit *m) {
  Value *map = b_.CreateCall(abi("cfm_map_new"), {typeDesc(m->type)});
  size_t mark = tempMark();
  pushTemp(map, m->type);
  for (const ast::MapEntry &en : m->entries) {
    Value *k = expr(en.key);
    size_t keyMark = tempMark();
    pushTemp(k, vt(en.key));
    Value *v = expr(en.value);
    dropTemps(keyMark);
    b_.CreateCall(abi("cfm_map_set"), {map, toSlot(k, vt(en.key)), toSlot(v, vt(en.value))});
  }
  dropTemps(mark);
  return map;
}

/// `R { f: v, ... }`: the fields as written, each into its declared position.
llvm::Value *Lowerer::recordLit(const ast::RecordLit *r) {
  Value *rec = b_.CreateCall(abi("cfm_record_new"), {typeDesc(r->type)});
  size_t mark = tempMark();
  pushTemp(rec, r->type);
  for (const ast::FieldInit &fi : r->fields) {
    Value *v = expr(fi.value);
    int field = r->record->fieldIndex(fi.name);
    b_.CreateCall(abi("cfm_record_set"),
                  {rec, b_.getInt64(static_cast<uint64_t>(field)), toSlot(v, vt(fi.value))});
  }
  dropTemps(mark);
  return rec;
}

/// `xs[i]`, `m[k]`: the base, the index, then the element (lent by the runtime, so retained);
/// an index or key error at the bracket (interp's IndexNode).
llvm::Value *Lowerer::index(const ast::IndexExpr *ix) {
  Value *base = expr(ix->base);
  size_t mark = tempMark();
  pushTemp(base, ix->base->type);
  Value *key = expr(ix->index);
  pushTemp(key, vt(ix->index));
  const sema::Type *bt = ix->base->type;
  Value *st = bt->is(TypeKind::List) ? b_.CreateCall(abi("cfm_list_get"), {base, key, scratch()})
              : bt->is(TypeKind::Map)
                  ? b_.CreateCall(abi("cfm_map_get"), {base, toSlot(key, vt(ix->index)), scratch()})
              : vt(ix->index)->is(TypeKind::String)
                  ? b_.CreateCall(abi("cfm_json_index_key"), {base, key, scratch()})
                  : b_.CreateCall(abi("cfm_json_index_int"), {base, key, scratch()});
  checkFailed(status(st), ix->bracketLoc);
  dropTemps(mark);
  Value *v = fromSlot(b_.CreateLoad(i64_, scratch()), ix->type);
  if (boxed(ix->type) && !bt->is(TypeKind::Json)) retain(v); // a json index gives a new reference
  release(base);
  releaseIf(key, vt(ix->index));
  return v;
}

/// `xs.push(v)`, `xs.pop()`, `m.remove(k)` on a place: its keys, the argument, then the place
/// made unique (interp's BuiltinNode on `place`).
llvm::Value *Lowerer::mutatingMethod(const ast::MethodCallExpr *m) {
  using ast::Builtin;
  const ast::NameExpr *root = nullptr;
  std::vector<PlaceStep> steps = placeSteps(m->receiver, root);
  size_t mark = tempMark();
  placeKeys(steps);
  const ast::Expr *argExpr = m->args.empty() ? nullptr : m->args[0].value;
  Value *arg = argExpr ? expr(argExpr) : nullptr;
  if (argExpr) pushTemp(arg, vt(argExpr));
  Value *slot = placeSlot(root, steps, false);
  Value *obj = b_.CreateCall(abi("cfm_unique"), {slot});
  Value *r = nullptr;
  if (m->method == Builtin::ListPush) {
    dropTemps(tempMark() - (boxed(vt(argExpr)) ? 1 : 0)); // the list takes the argument over
    b_.CreateCall(abi("cfm_list_push"), {obj, toSlot(arg, vt(argExpr))});
  } else if (m->method == Builtin::ListPop) {
    checkFailed(status(b_.CreateCall(abi("cfm_list_pop"), {obj, scratch()})), m->nameLoc);
    r = fromSlot(b_.CreateLoad(i64_, scratch()), m->type); // handed over by the list
  } else {
    b_.CreateCall(abi("cfm_map_remove"), {obj, toSlot(arg, vt(argExpr))});
    dropTemps(tempMark() - (boxed(vt(argExpr)) ? 1 : 0));
    releaseIf(arg, vt(argExpr));
  }
  dropTemps(mark);
  releaseKeys(steps);
  return r;
}

// ---- json ----

/// `[...]` and `{...}` where a json is expected: elements (and values) are json already.
llvm::Value *Lowerer::jsonLit(const ast::Expr *e) {
  bool array = e->kind == ast::ExprKind::List;
  Value *j = b_.CreateCall(abi(array ? "cfm_json_array_new" : "cfm_json_object_new"), {});
  size_t mark = tempMark();
  pushTemp(j, T_.jsonT);
  if (array) {
    for (const ast::Expr *x : static_cast<const ast::ListLit *>(e)->elems)
      b_.CreateCall(abi("cfm_json_array_push"), {j, expr(x)});
  } else {
    for (const ast::MapEntry &en : static_cast<const ast::MapLit *>(e)->entries) {
      Value *k = expr(en.key);
      size_t keyMark = tempMark();
      pushTemp(k, T_.stringT);
      Value *v = expr(en.value);
      dropTemps(keyMark);
      b_.CreateCall(abi("cfm_json_object_set"), {j, k, v});
    }
  }
  dropTemps(mark);
  return j;
}

/// `j.as_string()`, `as_int()`, `as_float()`, `as_bool()`, `len()`: a conversion error at the
/// method's name (rt::jsonAs).
llvm::Value *Lowerer::jsonMethod(const ast::MethodCallExpr *m) {
  using ast::Builtin;
  rt::JsonAs which = m->method == Builtin::JsonAsString  ? rt::JsonAs::String
                     : m->method == Builtin::JsonAsInt   ? rt::JsonAs::Int
                     : m->method == Builtin::JsonAsFloat ? rt::JsonAs::Float
                     : m->method == Builtin::JsonAsBool  ? rt::JsonAs::Bool
                                                         : rt::JsonAs::Len;
  Value *j = expr(m->receiver);
  Value *st = b_.CreateCall(abi("cfm_json_as"), {j, b_.getInt64(static_cast<uint64_t>(which)), scratch()});
  release(j);
  checkFailed(status(st), m->nameLoc);
  return fromSlot(b_.CreateLoad(i64_, scratch()), m->type);
}

} // namespace cfm::jit
