// lower.cpp — the module (ABI declarations, runtime types, literals, constants, the entry), the
// functions (frames, the call-depth and stack guard, error exits, task scopes of procedures) and
// the statements. Expressions are in lower_exprs.cpp, template bodies in lower_template.cpp.
// Every choice mirrors what the interpreter's nodes do (compiler/interp/*.cpp), so that output,
// errors and traces are identical.
#include "jit/lower.h"

#include "run/run.h"
#include "runtime/abi.h"
#include "runtime/collections.h"
#include "runtime/sched/scheduler.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Verifier.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <type_traits>

namespace cfm::jit {

using sema::TypeKind;

namespace {

/// Machine stack a JIT'd call must find free (above the runtime's kStackMargin) before it is made:
/// generated frames are small; this bounds one frame and its spills with room to spare.
constexpr int64_t kFrameBytes = 1024;

/// The LLVM signature of every ABI function, derived from runtime/abi.def and the C types it
/// names, in a compact code: the return, then the parameters; v void, i i32 (cfm_status),
/// l i64 (int64_t and cfm_slot, an 8-byte union passed in an integer register), d double,
/// p any pointer. A type the lowering cannot pass fails to compile here.
template <typename T> constexpr char abiCode() {
  if constexpr (std::is_void_v<T>)
    return 'v';
  else if constexpr (std::is_pointer_v<T>)
    return 'p';
  else if constexpr (std::is_same_v<T, cfm_status>)
    return 'i';
  else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, cfm_slot>)
    return 'l';
  else if constexpr (std::is_same_v<T, double>)
    return 'd';
  else
    static_assert(sizeof(T) == 0, "an ABI type the JIT cannot pass (runtime/abi.def)");
}
template <typename F> struct AbiSigOf;
template <typename R, typename... A> struct AbiSigOf<R(A...)> {
  static constexpr char value[] = {abiCode<R>(), abiCode<A>()..., '\0'};
};
static_assert(sizeof(cfm_slot) == 8 && sizeof(cfm_status) == 4);

struct AbiSig {
  const char *name;
  const char *sig;
};
constexpr AbiSig kAbi[] = {
#define ABI(ret, name, params) {#name, AbiSigOf<ret params>::value},
#include "runtime/abi.def"
#undef ABI
};

} // namespace

Lowerer::Lowerer(const sema::Program &p, const support::SourceManager &sources, llvm::Module &m)
    : p_(p), T_(p.types), sources_(sources), m_(m), ctx_(m.getContext()), b_(ctx_) {
  i1_ = b_.getInt1Ty();
  i8_ = b_.getInt8Ty();
  i32_ = b_.getInt32Ty();
  i64_ = b_.getInt64Ty();
  f64_ = b_.getDoubleTy();
  ptr_ = b_.getPtrTy();
  // sched::TaskLocal, field by field from the real type: the lowering reads `stackLimit`.
  using TL = rt::sched::TaskLocal;
  static_assert(offsetof(TL, depth) == 0 && offsetof(TL, stackLimit) == alignof(const char *) &&
                    sizeof(TL::depth) <= alignof(const char *) && sizeof(TL) == 2 * sizeof(void *),
                "sched::TaskLocal changed: update tlType_");
  tlType_ = llvm::StructType::create(ctx_, {b_.getIntNTy(8 * sizeof(TL::depth)), ptr_}, "cfm.TaskLocal");
  pieceType_ = llvm::StructType::create(ctx_, {ptr_, i64_, i64_, ptr_}, "cfm.piece");
}

// ---- types and the ABI ----

bool Lowerer::boxed(const sema::Type *t) const {
  switch (t->kind) {
  case TypeKind::Int:
  case TypeKind::Float:
  case TypeKind::Bool:
  case TypeKind::Duration:
  case TypeKind::Void: return false;
  default: return true;
  }
}

llvm::Type *Lowerer::ty(const sema::Type *t) {
  switch (t->kind) {
  case TypeKind::Int:
  case TypeKind::Duration: return i64_;
  case TypeKind::Bool: return i1_;
  case TypeKind::Float: return f64_;
  case TypeKind::Void: return b_.getVoidTy();
  default: return ptr_; // strings, collections, records, caught errors
  }
}

llvm::FunctionCallee Lowerer::abi(const char *name) {
  for (const AbiSig &a : kAbi) {
    if (std::strcmp(a.name, name) != 0) continue;
    auto code = [&](char c) -> llvm::Type * {
      switch (c) {
      case 'v': return b_.getVoidTy();
      case 'i': return i32_;
      case 'l': return i64_;
      case 'd': return f64_;
      default: return ptr_;
      }
    };
    std::vector<llvm::Type *> params;
    for (const char *c = a.sig + 1; *c; ++c) params.push_back(code(*c));
    llvm::FunctionCallee fc =
        m_.getOrInsertFunction(name, llvm::FunctionType::get(code(a.sig[0]), params, false));
    if (auto *f = llvm::dyn_cast<llvm::Function>(fc.getCallee())) f->setDoesNotThrow();
    return fc;
  }
  llvm::report_fatal_error(llvm::Twine("cfm jit: no ABI signature for ") + name);
}

llvm::Value *Lowerer::typeDesc(const sema::Type *t) {
  std::string name = "cfm.type." + t->str();
  info_.typeSymbols[name] = t;
  if (llvm::GlobalVariable *g = m_.getNamedGlobal(name)) return g;
  return new llvm::GlobalVariable(m_, i8_, true, llvm::GlobalValue::ExternalLinkage, nullptr, name);
}

llvm::Value *Lowerer::toSlot(Value *v, const sema::Type *t) {
  llvm::Type *lt = v->getType();
  if (lt == i64_) return v;
  if (lt == i1_) return b_.CreateZExt(v, i64_);
  if (lt == f64_) return b_.CreateBitCast(v, i64_);
  (void)t;
  return b_.CreatePtrToInt(v, i64_);
}

llvm::Value *Lowerer::slotAt(Value *obj, int64_t offset, Value *index) {
  Value *data =
      b_.CreateLoad(ptr_, b_.CreateInBoundsGEP(i8_, obj, b_.getInt64(static_cast<uint64_t>(offset))));
  return b_.CreateLoad(i64_, b_.CreateInBoundsGEP(i64_, data, index));
}

llvm::Value *Lowerer::fromSlot(Value *slot, const sema::Type *t) {
  llvm::Type *lt = ty(t);
  if (lt == i64_) return slot;
  if (lt == i1_) return b_.CreateICmpNE(slot, b_.getInt64(0));
  if (lt == f64_) return b_.CreateBitCast(slot, f64_);
  return b_.CreateIntToPtr(slot, ptr_);
}

llvm::Value *Lowerer::fileName(support::FileId f) {
  auto it = fileNames_.find(f);
  if (it != fileNames_.end()) return it->second;
  llvm::Constant *c = b_.CreateGlobalString(sources_.file(f).path(), "file", 0, &m_);
  fileNames_[f] = c;
  return c;
}

llvm::AllocaInst *Lowerer::entryAlloca(llvm::Type *t, const std::string &name, bool zero) {
  llvm::IRBuilder<> eb(fn_.allocas, fn_.allocas->getTerminator() ? fn_.allocas->getTerminator()->getIterator()
                                                                 : fn_.allocas->end());
  llvm::AllocaInst *a = eb.CreateAlloca(t, nullptr, name);
  if (zero) eb.CreateStore(llvm::Constant::getNullValue(t), a);
  return a;
}

llvm::AllocaInst *Lowerer::local(const sema::Var *v) {
  auto it = fn_.locals.find(v);
  if (it != fn_.locals.end()) return it->second;
  bool bx = boxed(v->type);
  llvm::AllocaInst *a = entryAlloca(ty(v->type), v->name, bx);
  if (bx) fn_.boxedLocals.push_back(a);
  fn_.locals[v] = a;
  return a;
}

void Lowerer::retain(Value *v) { b_.CreateCall(abi("cfm_retain"), {v}); }
void Lowerer::release(Value *v) { b_.CreateCall(abi("cfm_release"), {v}); }

Lowerer::BB *Lowerer::block(const std::string &name) { return BB::Create(ctx_, name, fn_.f); }

void Lowerer::continueDead() { b_.SetInsertPoint(block("dead")); }

// ---- errors and frames ----

void Lowerer::failHere(support::Loc loc) {
  b_.CreateCall(abi("cfm_fail_at"), {fileName(loc.file), b_.getInt64(loc.line)});
  for (auto it = fn_.temps.rbegin(); it != fn_.temps.rend(); ++it) release(*it);
  b_.CreateBr(fn_.errTarget);
}

void Lowerer::checkFailed(Value *failed, support::Loc loc) {
  BB *bad = block("fail"), *ok = block("ok");
  llvm::MDBuilder md(ctx_);
  b_.CreateCondBr(failed, bad, ok, md.createUnlikelyBranchWeights());
  b_.SetInsertPoint(bad);
  failHere(loc);
  b_.SetInsertPoint(ok);
}

/// LANGUAGE.md "Errors": calls nest at most kMaxCallDepth deep, and only while the task's stack
/// holds the next frame; checked before the arguments are evaluated, as interp's CallNode does.
/// Both conditions are the same at every call a frame makes (its depth and stack pointer do not
/// change, nor does its task's stack limit), so they are computed once, in the entry block.
void Lowerer::stackCheck(const sema::FnInfo *callee, support::Loc loc) {
  (void)callee;
  if (!fn_.cannotCall) {
    llvm::IRBuilder<> eb(fn_.allocas, fn_.allocas->getTerminator()->getIterator());
    Value *limit = fn_.limit;
    llvm::Function *save = llvm::Intrinsic::getDeclaration(&m_, llvm::Intrinsic::stacksave, {ptr_});
    Value *sp = eb.CreatePtrToInt(eb.CreateCall(save, {}), i64_);
    Value *low = eb.CreateICmpULT(sp, eb.CreateAdd(eb.CreatePtrToInt(limit, i64_), eb.getInt64(kFrameBytes)));
    Value *deep = eb.CreateICmpSGE(fn_.depth, eb.getInt32(run::kMaxCallDepth));
    fn_.cannotCall = eb.CreateOr(deep, low, "cannot.call");
  }
  BB *bad = block("overflow"), *ok = block("fits");
  llvm::MDBuilder md(ctx_);
  b_.CreateCondBr(fn_.cannotCall, bad, ok, md.createUnlikelyBranchWeights());
  b_.SetInsertPoint(bad);
  b_.CreateCall(abi("cfm_stack_overflow"), {});
  failHere(loc);
  b_.SetInsertPoint(ok);
}

// ---- functions ----

void Lowerer::declareFunction(const sema::FnInfo &fi) {
  std::vector<llvm::Type *> params{i32_, ptr_}; // the call depth and the task's stack limit
  for (const sema::ParamInfo &pi : fi.params) params.push_back(ty(pi.type));
  llvm::Type *ret = fi.ret->is(TypeKind::Void) ? static_cast<llvm::Type *>(i1_)
                                               : llvm::StructType::get(ctx_, {ty(fi.ret), i1_});
  auto *f = llvm::Function::Create(llvm::FunctionType::get(ret, params, false),
                                   llvm::GlobalValue::InternalLinkage, "fn." + fi.name, m_);
  f->setDoesNotThrow();
  f->getArg(0)->setName("depth");
  f->getArg(1)->setName("limit");
  for (size_t i = 0; i < fi.params.size(); ++i)
    f->getArg(static_cast<unsigned>(i + kHiddenParams))->setName(fi.params[i].name);
  fns_[&fi] = f;
}

void Lowerer::beginFunction(llvm::Function *f, const sema::FnInfo *info) {
  fn_ = Fn{};
  fn_.f = f;
  fn_.info = info;
  fn_.allocas = BB::Create(ctx_, "entry", f);
  BB *body = block("body");
  b_.SetInsertPoint(fn_.allocas);
  // Outside CFM functions (constants, the entry, task entries): the running task's depth (0 at
  // the top) and stack limit, read from its sched::tl through the runtime — JIT'd code may run
  // on any scheduler thread, so no thread-local's address is built into it.
  if (!info) {
    Value *tl = b_.CreateCall(abi("cfm_task_local"), {}, "tl");
    fn_.depth = b_.CreateLoad(tlType_->getElementType(0), b_.CreateStructGEP(tlType_, tl, 0), "depth");
    fn_.limit = b_.CreateLoad(ptr_, b_.CreateStructGEP(tlType_, tl, 1), "limit");
  }
  b_.CreateBr(body);
  b_.SetInsertPoint(body);
}

void Lowerer::defineFunction(const sema::FnInfo &fi) {
  llvm::Function *f = fns_.at(&fi);
  beginFunction(f, &fi);
  bool isProc = fi.decl->fnKind == ast::FnKind::Procedure;
  bool isVoid = fi.ret->is(TypeKind::Void);
  // Parameters are owned by the callee (as in the interpreter's frame slots).
  fn_.depth = f->getArg(0);
  fn_.limit = f->getArg(1);
  for (size_t i = 0; i < fi.params.size(); ++i)
    b_.CreateStore(f->getArg(static_cast<unsigned>(i + kHiddenParams)), local(fi.params[i].decl->var));
  if (!isVoid) fn_.retSlot = entryAlloca(ty(fi.ret), "ret", true);
  BB *errBB = block("error"), *errCommon = block("error.frame");
  fn_.retBB = block("return");
  fn_.errTarget = errBB;
  // A procedure is a scope of the tasks it starts (interp's runFrame).
  if (isProc) b_.CreateCall(abi("cfm_open_scope"), {});

  bool isTemplate = fi.decl->fnKind == ast::FnKind::Template;
  if (isTemplate) {
    templateBegin(fi);
    templateBody(fi.decl->tplBody);
    b_.CreateStore(templateEnd(), fn_.retSlot);
  } else {
    stmts(fi.decl->body);
  }
  if (!b_.GetInsertBlock()->getTerminator()) b_.CreateBr(fn_.retBB);

  auto frameEnd = [&] {
    for (llvm::AllocaInst *a : fn_.boxedLocals) release(b_.CreateLoad(ptr_, a));
  };
  // The normal exit: a procedure's scope may still fail (a task it started failed unwaited).
  b_.SetInsertPoint(fn_.retBB);
  Value *retVal = isVoid ? nullptr : b_.CreateLoad(ty(fi.ret), fn_.retSlot, "result");
  if (isProc) {
    BB *done = block("return.done"), *scopeFailed = block("return.scopefailed");
    Value *failed = status(b_.CreateCall(abi("cfm_close_scope"), {b_.getInt64(0)}));
    b_.CreateCondBr(failed, scopeFailed, done);
    b_.SetInsertPoint(scopeFailed);
    if (retVal) releaseIf(retVal, fi.ret);
    b_.CreateBr(errCommon);
    b_.SetInsertPoint(done);
  }
  if (capture_ && capture_->fn == &fi) captureVars();
  frameEnd();
  if (isVoid)
    b_.CreateRet(b_.getFalse());
  else
    b_.CreateAggregateRet(std::array<Value *, 2>{retVal, b_.getFalse()}.data(), 2);

  b_.SetInsertPoint(errBB);
  if (isProc) b_.CreateCall(abi("cfm_close_scope"), {b_.getInt64(1)});
  b_.CreateBr(errCommon);
  b_.SetInsertPoint(errCommon);
  if (isTemplate) b_.CreateCall(abi("cfm_text_drop"), {fn_.text});
  frameEnd();
  b_.CreateCall(abi("cfm_frame_done"), {});
  if (isVoid)
    b_.CreateRet(b_.getTrue());
  else
    b_.CreateAggregateRet(std::array<Value *, 2>{llvm::UndefValue::get(ty(fi.ret)), b_.getTrue()}.data(), 2);
}

/// `i32 cfm.init(ptr out)`: keeps where `print` writes, makes the string literals, evaluates
/// the constants in order (interp's evalConstants). 1 when a constant failed (error pending).
void Lowerer::defineInit() {
  auto *f = llvm::Function::Create(llvm::FunctionType::get(i32_, {ptr_}, false),
                                   llvm::GlobalValue::ExternalLinkage, kInitSymbol, m_);
  beginFunction(f, nullptr);
  b_.CreateStore(f->getArg(0), out_);
  BB *err = block("error");
  fn_.errTarget = err;
  llvm::Instruction *literalsAt = b_.CreateBr(block("constants")); // literals are made first
  b_.SetInsertPoint(&f->back());
  for (ast::ConstDecl *cd : p_.constOrder) {
    Value *v = expr(cd->init);
    b_.CreateStore(v, consts_.at(cd->var));
  }
  b_.CreateRet(b_.getInt32(0));
  b_.SetInsertPoint(err);
  b_.CreateRet(b_.getInt32(1));
  // Literals are known only now that everything is lowered (init is lowered last).
  b_.SetInsertPoint(literalsAt);
  for (auto &[g, text] : literals_) {
    Value *data = b_.CreateGlobalString(text, "text", 0, &m_);
    b_.CreateStore(b_.CreateCall(abi("cfm_str_new"), {data, b_.getInt64(static_cast<int64_t>(text.size()))}),
                   g);
  }
}

void Lowerer::defineFini() {
  auto *f = llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), false),
                                   llvm::GlobalValue::ExternalLinkage, kFiniSymbol, m_);
  beginFunction(f, nullptr);
  for (ast::ConstDecl *cd : p_.constOrder)
    if (boxed(cd->var->type)) release(b_.CreateLoad(ptr_, consts_.at(cd->var)));
  for (auto &lit : literals_) release(b_.CreateLoad(ptr_, lit.first));
  b_.CreateRetVoid();
}

/// `i32 cfm.entry(ptr args, ptr given)`: the procedure's parameters from --arg (slots, owned)
/// or their defaults, then the call (interp's run: no caller line in the trace). 1 = error.
void Lowerer::defineEntry(const sema::FnInfo &proc) {
  auto *f = llvm::Function::Create(llvm::FunctionType::get(i32_, {ptr_, ptr_, ptr_}, false),
                                   llvm::GlobalValue::ExternalLinkage, kEntrySymbol, m_);
  beginFunction(f, nullptr);
  BB *err = block("error");
  fn_.errTarget = err;
  std::vector<llvm::AllocaInst *> vals;
  for (size_t i = 0; i < proc.params.size(); ++i) {
    const sema::ParamInfo &pi = proc.params[i];
    llvm::AllocaInst *a = entryAlloca(ty(pi.type), pi.name, boxed(pi.type));
    if (boxed(pi.type)) fn_.boxedLocals.push_back(a);
    vals.push_back(a);
    BB *given = block("given"), *dflt = block("default"), *next = block("next");
    Value *flag = b_.CreateLoad(i8_, b_.CreateGEP(i8_, f->getArg(1), b_.getInt64(static_cast<int64_t>(i))));
    b_.CreateCondBr(b_.CreateICmpNE(flag, b_.getInt8(0)), given, dflt);
    b_.SetInsertPoint(given);
    Value *slot = b_.CreateLoad(i64_, b_.CreateGEP(i64_, f->getArg(0), b_.getInt64(static_cast<int64_t>(i))));
    b_.CreateStore(fromSlot(slot, pi.type), a);
    b_.CreateBr(next);
    b_.SetInsertPoint(dflt);
    if (pi.decl->defaultValue) b_.CreateStore(expr(pi.decl->defaultValue), a);
    b_.CreateBr(next);
    b_.SetInsertPoint(next);
  }
  std::vector<Value *> args{b_.CreateAdd(fn_.depth, b_.getInt32(1)), fn_.limit};
  for (size_t i = 0; i < vals.size(); ++i) args.push_back(b_.CreateLoad(ty(proc.params[i].type), vals[i]));
  Value *r = b_.CreateCall(fns_.at(&proc), args);
  Value *failed = proc.ret->is(TypeKind::Void) ? r : b_.CreateExtractValue(r, 1);
  BB *ok = block("ok"), *callFailed = block("call.failed");
  b_.CreateCondBr(failed, callFailed, ok);
  b_.SetInsertPoint(ok);
  if (!proc.ret->is(TypeKind::Void)) {
    // The result goes to `result` (a cfm_slot) when the host asked for it, else it is dropped.
    Value *res = b_.CreateExtractValue(r, 0);
    BB *keep = block("keep.result"), *drop = block("drop.result"), *done = block("done");
    b_.CreateCondBr(b_.CreateIsNull(f->getArg(2)), drop, keep);
    b_.SetInsertPoint(keep);
    b_.CreateStore(toSlot(res, proc.ret), f->getArg(2));
    b_.CreateBr(done);
    b_.SetInsertPoint(drop);
    releaseIf(res, proc.ret);
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
  }
  b_.CreateRet(b_.getInt32(0));
  b_.SetInsertPoint(callFailed); // the arguments went to the procedure, which released them
  b_.CreateRet(b_.getInt32(1));
  b_.SetInsertPoint(err);
  for (llvm::AllocaInst *a : fn_.boxedLocals) release(b_.CreateLoad(ptr_, a));
  b_.CreateRet(b_.getInt32(1));
}

ModuleInfo Lowerer::run(const sema::FnInfo *entry, const ReplCapture *capture) {
  if (capture && capture->fn) {
    capture_ = capture;
    captureOut_ = new llvm::GlobalVariable(m_, ptr_, false, llvm::GlobalValue::ExternalLinkage,
                                           llvm::ConstantPointerNull::get(llvm::PointerType::get(ctx_, 0)),
                                           kCaptureSymbol);
  }
  out_ = new llvm::GlobalVariable(m_, ptr_, false, llvm::GlobalValue::InternalLinkage,
                                  llvm::ConstantPointerNull::get(llvm::PointerType::get(ctx_, 0)), "cfm.out");
  for (ast::ConstDecl *cd : p_.constOrder)
    consts_[cd->var] =
        new llvm::GlobalVariable(m_, ty(cd->var->type), false, llvm::GlobalValue::InternalLinkage,
                                 llvm::Constant::getNullValue(ty(cd->var->type)), "const." + cd->name);
  for (const sema::FnInfo &fi : p_.functions) declareFunction(fi);
  for (const sema::FnInfo &fi : p_.functions) defineFunction(fi);
  if (entry) {
    defineEntry(*entry);
    info_.hasEntry = true;
  }
  defineInit(); // after the functions: it makes the literals they use
  defineFini(); // and this releases them
  return info_;
}

ModuleInfo lowerProgram(const sema::Program &p, const support::SourceManager &sources,
                        const sema::FnInfo *entry, llvm::Module &m, const ReplCapture *capture) {
  Lowerer l(p, sources, m);
  return l.run(entry, capture);
}

// ---- the REPL's capture (jit::runForRepl; interp: Program::captureFn/captureSlots) ----

/// At the normal exit of the captured function, after its task scope closed and before its
/// variables are released: when it runs at the top (depth 1: called by cfm.entry) and the host
/// set kCaptureSymbol, each captured variable's value is retained and stored as a cfm_slot.
void Lowerer::captureVars() {
  BB *store = block("capture"), *done = block("capture.done");
  Value *out = b_.CreateLoad(ptr_, captureOut_, "capture.out");
  Value *top = b_.CreateICmpEQ(fn_.depth, b_.getInt32(1));
  b_.CreateCondBr(b_.CreateAnd(top, b_.CreateIsNotNull(out)), store, done);
  b_.SetInsertPoint(store);
  for (size_t i = 0; i < capture_->vars.size(); ++i) {
    const sema::Var *v = capture_->vars[i];
    llvm::AllocaInst *a = local(v);
    if (!boxed(v->type)) { // zero, as the interpreter's slots, if its `let` never ran
      llvm::IRBuilder<> eb(fn_.allocas->getTerminator());
      eb.CreateStore(llvm::Constant::getNullValue(ty(v->type)), a);
    }
    Value *val = b_.CreateLoad(ty(v->type), a);
    if (boxed(v->type)) retain(val);
    b_.CreateStore(toSlot(val, v->type), b_.CreateGEP(i64_, out, b_.getInt64(static_cast<int64_t>(i))));
  }
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
}

// ---- statements ----

void Lowerer::stmts(const ast::Block &b) {
  for (const ast::Stmt *s : b) {
    if (b_.GetInsertBlock()->getTerminator()) continueDead();
    stmt(s);
  }
}

/// A variable's new value: the old one is released (interp's store).
void Lowerer::store(llvm::AllocaInst *slot, Value *v, const sema::Type *t) {
  if (!boxed(t)) {
    b_.CreateStore(v, slot);
    return;
  }
  Value *old = b_.CreateLoad(ptr_, slot);
  b_.CreateStore(v, slot);
  release(old);
}

void Lowerer::stmt(const ast::Stmt *s) {
  switch (s->kind) {
  case ast::StmtKind::Let: {
    auto *ls = static_cast<const ast::LetStmt *>(s);
    Value *v = expr(ls->init);
    return store(local(ls->var), v, ls->var->type);
  }
  case ast::StmtKind::Assign: return assign(static_cast<const ast::AssignStmt *>(s));
  case ast::StmtKind::Expr: {
    const ast::Expr *e = static_cast<const ast::ExprStmt *>(s)->expr;
    Value *v = expr(e);
    if (v && !e->type->is(TypeKind::Void)) releaseIf(v, vt(e));
    return;
  }
  case ast::StmtKind::If: return ifStmt(static_cast<const ast::IfStmt *>(s));
  case ast::StmtKind::While: return whileStmt(static_cast<const ast::WhileStmt *>(s));
  case ast::StmtKind::For: return forStmt(static_cast<const ast::ForStmt *>(s));
  case ast::StmtKind::Break: b_.CreateBr(fn_.loops.back().breakTo); return;
  case ast::StmtKind::Continue: b_.CreateBr(fn_.loops.back().continueTo); return;
  case ast::StmtKind::Return: {
    auto *rs = static_cast<const ast::ReturnStmt *>(s);
    if (rs->value) {
      Value *v = expr(rs->value);
      b_.CreateStore(v, fn_.retSlot);
    }
    b_.CreateBr(fn_.retBB);
    return;
  }
  case ast::StmtKind::Throw: {
    Value *v = expr(static_cast<const ast::ThrowStmt *>(s)->value);
    b_.CreateCall(abi("cfm_raise_user"), {v});
    release(v);
    failHere(s->loc());
    return;
  }
  case ast::StmtKind::Try: return tryStmt(static_cast<const ast::TryStmt *>(s));
  }
}

void Lowerer::assign(const ast::AssignStmt *s) {
  const sema::Type *t = s->target->type;
  if (s->target->kind == ast::ExprKind::Name) {
    auto *target = static_cast<const ast::NameExpr *>(s->target);
    llvm::AllocaInst *slot = local(target->var);
    Value *v = expr(s->value);
    if (s->op == '=') return store(slot, v, t);
    // `x op= e`: the variable keeps its value when the operation fails (LocalIntCompound).
    Value *cur = b_.CreateLoad(ty(t), slot);
    if (boxed(t)) retain(cur); // arith consumes its operands
    Value *r = arith(s->op, cur, v, t, s->opLoc);
    return store(slot, r, t);
  }
  // An element or field (interp's AssignNode): the place's indexes first (once), then the value,
  // then the path, made unique on the way (copy on write).
  const ast::NameExpr *root = nullptr;
  std::vector<PlaceStep> steps = placeSteps(s->target, root);
  size_t mark = tempMark();
  placeKeys(steps);
  size_t keysMark = tempMark();
  Value *v = expr(s->value);
  pushTemp(v, vt(s->value));
  Value *slot = placeSlot(root, steps, s->op == '=');
  dropTemps(keysMark);
  if (s->op != '=') {
    Value *cur = fromSlot(b_.CreateLoad(i64_, slot), t);
    if (boxed(t)) retain(cur);
    v = arith(s->op, cur, v, t, s->opLoc); // a failure releases the keys (still temporaries)
  }
  dropTemps(mark);
  Value *old = b_.CreateLoad(i64_, slot);
  b_.CreateStore(toSlot(v, t), slot);
  if (boxed(t)) release(b_.CreateIntToPtr(old, ptr_));
  releaseKeys(steps);
}

std::vector<Lowerer::PlaceStep> Lowerer::placeSteps(const ast::Expr *e, const ast::NameExpr *&root) {
  std::vector<PlaceStep> chain;
  while (e->kind == ast::ExprKind::Index || e->kind == ast::ExprKind::Member) {
    chain.push_back({e});
    e = e->kind == ast::ExprKind::Index ? static_cast<const ast::IndexExpr *>(e)->base
                                        : static_cast<const ast::MemberExpr *>(e)->base;
  }
  root = static_cast<const ast::NameExpr *>(e);
  std::reverse(chain.begin(), chain.end());
  return chain;
}

void Lowerer::placeKeys(std::vector<PlaceStep> &steps) {
  for (PlaceStep &st : steps) {
    if (st.x->kind != ast::ExprKind::Index) continue;
    const ast::Expr *ix = static_cast<const ast::IndexExpr *>(st.x)->index;
    // `m[k] += 1`, `m[k] = v`, `m[k].push(x)`: a variable key is borrowed, as `m.has(k)`'s operands
    // are (lower_exprs.cpp method): nothing evaluated before the place is used can change a local
    // variable (no expression assigns, a callee cannot reach its caller's variables), the key's
    // variable cannot be the place's root (a map or list is not its own key type), and a map that
    // inserts the key takes a reference of its own (mapPlace).
    if (ix->kind == ast::ExprKind::Name) {
      auto *n = static_cast<const ast::NameExpr *>(ix);
      if (n->var->kind != sema::VarKind::Const) {
        st.key = b_.CreateLoad(ty(n->var->type), local(n->var), n->name);
        st.borrowed = true;
        continue;
      }
    }
    st.key = expr(ix);
    pushTemp(st.key, vt(ix));
  }
}

void Lowerer::releaseKeys(std::vector<PlaceStep> &steps) {
  for (PlaceStep &st : steps)
    if (st.key && !st.borrowed) releaseIf(st.key, vt(static_cast<const ast::IndexExpr *>(st.x)->index));
}

llvm::Value *Lowerer::placeSlot(const ast::NameExpr *root, std::vector<PlaceStep> &steps, bool create) {
  Value *cur = local(root->var);
  for (size_t i = 0; i < steps.size(); ++i) {
    const ast::Expr *x = steps[i].x;
    support::Loc loc;
    if (x->kind == ast::ExprKind::Member) {
      auto *mx = static_cast<const ast::MemberExpr *>(x);
      int field = mx->base->type->record->fieldIndex(mx->name);
      cur = b_.CreateCall(abi("cfm_place_field"), {cur, b_.getInt64(static_cast<uint64_t>(field))});
      continue;
    }
    auto *ix = static_cast<const ast::IndexExpr *>(x);
    loc = ix->bracketLoc;
    if (ix->base->type->is(TypeKind::List)) {
      cur = b_.CreateCall(abi("cfm_place_index"), {cur, steps[i].key});
    } else {
      bool last = i + 1 == steps.size();
      cur = b_.CreateCall(abi("cfm_place_key"),
                          {cur, toSlot(steps[i].key, vt(ix->index)), b_.getInt64(last && create ? 1 : 0)});
    }
    checkFailed(b_.CreateIsNull(cur), loc);
  }
  return cur;
}

void Lowerer::ifStmt(const ast::IfStmt *s) {
  BB *end = block("if.end");
  for (const ast::IfBranch &br : s->branches) {
    Value *c = expr(br.cond);
    BB *then = block("if.then"), *next = block("if.next");
    b_.CreateCondBr(c, then, next);
    b_.SetInsertPoint(then);
    stmts(br.body);
    if (!b_.GetInsertBlock()->getTerminator()) b_.CreateBr(end);
    b_.SetInsertPoint(next);
  }
  if (s->hasElse) stmts(s->elseBody);
  if (!b_.GetInsertBlock()->getTerminator()) b_.CreateBr(end);
  b_.SetInsertPoint(end);
}

void Lowerer::whileStmt(const ast::WhileStmt *s) {
  BB *cond = block("while.cond"), *body = block("while.body"), *end = block("while.end");
  b_.CreateBr(cond);
  b_.SetInsertPoint(cond);
  Value *c = expr(s->cond);
  b_.CreateCondBr(c, body, end);
  b_.SetInsertPoint(body);
  fn_.loops.push_back({end, cond});
  stmts(s->body);
  fn_.loops.pop_back();
  if (!b_.GetInsertBlock()->getTerminator()) b_.CreateBr(cond);
  b_.SetInsertPoint(end);
}

/// `for i in a..b`: a and b once, then i = a, a+1, ... while i < b; `for x in list`,
/// `for k, v in map`: over the collection as it was when the loop started (interp's ForNode).
void Lowerer::forStmt(const ast::ForStmt *s) {
  forLoop(s->head, [&] { stmts(s->body); });
}

void Lowerer::forLoop(const ast::ForHead &h, const std::function<void()> &lowerBody) {
  Value *from = expr(h.iter);
  Value *to = nullptr;
  llvm::AllocaInst *held = nullptr; // the collection, referenced while the loop runs
  if (h.form == ast::ForForm::Range) {
    to = expr(h.end);
  } else {
    // Kept in a hidden variable so that leaving the loop by an error or `return` releases it
    // with the frame's variables.
    held = entryAlloca(ptr_, "for.held", true);
    fn_.boxedLocals.push_back(held);
    Value *old = b_.CreateLoad(ptr_, held);
    b_.CreateStore(from, held);
    release(old);
    to = b_.CreateCall(abi(h.form == ast::ForForm::List ? "cfm_list_len" : "cfm_map_entries"), {from});
    from = b_.getInt64(0);
  }
  llvm::AllocaInst *counter = entryAlloca(i64_, "for.i", false);
  b_.CreateStore(from, counter);
  BB *cond = block("for.cond"), *body = block("for.body"), *inc = block("for.inc"), *end = block("for.end");
  b_.CreateBr(cond);
  b_.SetInsertPoint(cond);
  Value *i = b_.CreateLoad(i64_, counter);
  b_.CreateCondBr(b_.CreateICmpSLT(i, to), body, end);
  b_.SetInsertPoint(body);
  if (h.form == ast::ForForm::Range) {
    b_.CreateStore(i, local(h.v1));
  } else if (h.form == ast::ForForm::List) {
    Value *coll = b_.CreateLoad(ptr_, held);
    Value *x = fromSlot(slotAt(coll, CFM_LIST_ITEMS_OFFSET, i), h.v1->type); // 0 <= i < len
    if (boxed(h.v1->type)) retain(x);
    store(local(h.v1), x, h.v1->type);
  } else {
    Value *coll = b_.CreateLoad(ptr_, held);
    llvm::AllocaInst *val = entryAlloca(i64_, "for.value", false);
    Value *live = b_.CreateCall(abi("cfm_map_entry"), {coll, i, scratch(), val});
    BB *use = block("for.entry");
    b_.CreateCondBr(b_.CreateICmpNE(live, b_.getInt64(0)), use, inc);
    b_.SetInsertPoint(use);
    Value *k = fromSlot(b_.CreateLoad(i64_, scratch()), h.v1->type);
    if (boxed(h.v1->type)) retain(k);
    store(local(h.v1), k, h.v1->type);
    Value *v = fromSlot(b_.CreateLoad(i64_, val), h.v2->type);
    if (boxed(h.v2->type)) retain(v);
    store(local(h.v2), v, h.v2->type);
  }
  fn_.loops.push_back({end, inc});
  lowerBody();
  fn_.loops.pop_back();
  if (!b_.GetInsertBlock()->getTerminator()) b_.CreateBr(inc);
  b_.SetInsertPoint(inc);
  // i < b <= INT64_MAX, so the increment cannot overflow.
  b_.CreateStore(b_.CreateAdd(b_.CreateLoad(i64_, counter), b_.getInt64(1), "", false, true), counter);
  b_.CreateBr(cond);
  b_.SetInsertPoint(end);
  if (held) {
    Value *coll = b_.CreateLoad(ptr_, held);
    b_.CreateStore(llvm::ConstantPointerNull::get(llvm::PointerType::get(ctx_, 0)), held);
    release(coll);
  }
}

/// `try { } catch e { }`: errors in the body branch to the catch block, which takes the pending
/// error into `e` — unless the task is being cancelled, which unwinds on (interp's TryNode).
void Lowerer::tryStmt(const ast::TryStmt *s) {
  BB *catchBB = block("catch"), *handler = block("catch.body"), *end = block("try.end");
  BB *outer = fn_.errTarget;
  fn_.errTarget = catchBB;
  stmts(s->body);
  fn_.errTarget = outer;
  if (!b_.GetInsertBlock()->getTerminator()) b_.CreateBr(end);
  b_.SetInsertPoint(catchBB);
  Value *cancelling = b_.CreateICmpNE(b_.CreateCall(abi("cfm_cancelling"), {}), b_.getInt64(0));
  b_.CreateCondBr(cancelling, outer, handler);
  b_.SetInsertPoint(handler);
  store(local(s->errVar), b_.CreateCall(abi("cfm_take_error"), {}), s->errVar->type);
  stmts(s->handler);
  if (!b_.GetInsertBlock()->getTerminator()) b_.CreateBr(end);
  b_.SetInsertPoint(end);
}

} // namespace cfm::jit
