// lower_tasks.cpp — tasks (LANGUAGE.md "Concurrency") on the runtime's scheduler, as the
// interpreter's tasks.cpp runs them: `async f(args)` evaluates the arguments now and calls f in
// the new task; `async { ... }` copies the variables it uses and runs its body as its own LLVM
// function on the task's stack; `wait` suspends the running task (JIT'd code runs on fibers, so
// a suspension is just a call). What a task needs travels in an env block:
// `{ i64 taken, [n x cfm_slot] }`; the entry sets `taken` when it owns the values, and the drop
// function releases them only if the task was cancelled before it started.
#include "jit/lower.h"

#include "runtime/collections.h"

#include <llvm/IR/MDBuilder.h>

namespace cfm::jit {

using sema::TypeKind;

namespace {
/// Machine stack an async block's frame must find free (as lower.cpp's guard of calls).
constexpr int64_t kBlockFrameBytes = 1024;
} // namespace

llvm::Function *Lowerer::taskFunction(const std::string &name, bool drop) {
  auto *t = drop ? llvm::FunctionType::get(b_.getVoidTy(), {ptr_}, false)
                 : llvm::FunctionType::get(i8_, {ptr_, ptr_}, false);
  auto *f = llvm::Function::Create(t, llvm::GlobalValue::InternalLinkage, name, m_);
  f->setDoesNotThrow();
  return f;
}

namespace {
/// The env's slot i (after the `taken` word).
llvm::Value *envSlot(llvm::IRBuilder<> &b, llvm::Value *env, size_t i) {
  return b.CreateConstGEP1_64(b.getInt64Ty(), env, static_cast<uint64_t>(i + 1));
}
} // namespace

/// A task's env drop (see the file comment): frees the env, releasing the boxed values of
/// `slots` first unless the entry took them over (`taken` set).
void Lowerer::defineEnvDrop(llvm::Function *drop, const std::vector<const sema::Type *> &slots) {
  beginFunction(drop, nullptr);
  Value *env = drop->getArg(0);
  BB *release_ = block("release"), *done = block("done");
  b_.CreateCondBr(b_.CreateICmpEQ(b_.CreateLoad(i64_, env), b_.getInt64(0)), release_, done);
  b_.SetInsertPoint(release_);
  for (size_t i = 0; i < slots.size(); ++i)
    if (boxed(slots[i])) release(b_.CreateLoad(ptr_, envSlot(b_, env, i)));
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
  b_.CreateCall(abi("cfm_env_free"), {env});
  b_.CreateRetVoid();
}

/// `async f(args)`: the arguments as a call evaluates them (no guard: the task's own call has
/// it), then a task whose entry makes the call; its error gets the `async` line in the trace.
llvm::Value *Lowerer::asyncCall(const ast::AsyncCallExpr *a) {
  const ast::CallExpr *c = a->call;
  if (!c->fn) return asyncBuiltin(a);
  const sema::FnInfo *callee = c->fn;
  size_t n = callee->params.size();
  std::vector<Value *> args(n, nullptr);
  size_t mark = tempMark();
  for (int idx : c->evalOrder) {
    auto i = static_cast<size_t>(idx);
    args[i] = expr(c->boundArgs[i]);
    pushTemp(args[i], callee->params[i].type);
  }
  for (size_t i = 0; i < n; ++i) {
    if (c->boundArgs[i]) continue;
    args[i] = expr(callee->params[i].decl->defaultValue);
    pushTemp(args[i], callee->params[i].type);
  }
  dropTemps(mark);
  Value *env = b_.CreateCall(abi("cfm_env_new"), {b_.getInt64(8 * (n + 1))});
  for (size_t i = 0; i < n; ++i) b_.CreateStore(toSlot(args[i], callee->params[i].type), envSlot(b_, env, i));

  std::string name = "task." + std::to_string(taskCount_++) + "." + callee->name;
  llvm::Function *entry = taskFunction(name, false), *drop = taskFunction(name + ".drop", true);
  auto ip = b_.saveIP();
  Fn saved = std::move(fn_);
  {
    // The entry: take the arguments, the guard (the task's depth is 0), the call.
    beginFunction(entry, nullptr);
    Value *envArg = entry->getArg(0), *result = entry->getArg(1);
    b_.CreateStore(b_.getInt64(1), envArg);
    std::vector<Value *> callArgs{b_.CreateAdd(fn_.depth, b_.getInt32(1)), fn_.limit};
    for (size_t i = 0; i < n; ++i)
      callArgs.push_back(fromSlot(b_.CreateLoad(i64_, envSlot(b_, envArg, i)), callee->params[i].type));
    BB *err = block("error");
    fn_.errTarget = err;
    for (size_t i = kHiddenParams; i < callArgs.size(); ++i)
      pushTemp(callArgs[i], callee->params[i - kHiddenParams].type);
    stackCheck(callee, a->loc()); // a failure releases the arguments and records the async line
    dropTemps(0);
    Value *r = b_.CreateCall(fns_.at(callee), callArgs);
    bool isVoid = callee->ret->is(TypeKind::Void);
    BB *ok = block("ok"), *failed = block("failed");
    b_.CreateCondBr(isVoid ? r : b_.CreateExtractValue(r, 1), failed, ok);
    b_.SetInsertPoint(ok);
    b_.CreateStore(isVoid ? b_.getInt64(0) : toSlot(b_.CreateExtractValue(r, 0), callee->ret), result);
    b_.CreateRet(b_.getInt8(1));
    b_.SetInsertPoint(failed);
    b_.CreateCall(abi("cfm_fail_at"), {fileName(a->loc().file), b_.getInt64(a->loc().line)});
    b_.CreateBr(err);
    b_.SetInsertPoint(err);
    b_.CreateRet(b_.getInt8(0));

    std::vector<const sema::Type *> slots;
    for (const sema::ParamInfo &pi : callee->params) slots.push_back(pi.type);
    defineEnvDrop(drop, slots);
  }
  fn_ = std::move(saved);
  b_.restoreIP(ip);
  return b_.CreateCall(abi("cfm_spawn"), {typeDesc(a->type->a), entry, env, drop});
}

/// `async builtin(args)`: the arguments now, left to right, the built-in in the task; its error
/// gets the call's line, then the `async` line (interp's AsyncBuiltinNode).
llvm::Value *Lowerer::asyncBuiltin(const ast::AsyncCallExpr *a) {
  const ast::CallExpr *c = a->call;
  size_t n = c->args.size();
  std::vector<Value *> args;
  size_t mark = tempMark();
  for (const ast::Arg &arg : c->args) {
    args.push_back(expr(arg.value));
    pushTemp(args.back(), vt(arg.value));
  }
  dropTemps(mark);
  Value *env = b_.CreateCall(abi("cfm_env_new"), {b_.getInt64(8 * (n + 1))});
  for (size_t i = 0; i < n; ++i) b_.CreateStore(toSlot(args[i], vt(c->args[i].value)), envSlot(b_, env, i));

  std::string name = "task." + std::to_string(taskCount_++) + "." + c->callee;
  llvm::Function *entry = taskFunction(name, false), *drop = taskFunction(name + ".drop", true);
  auto ip = b_.saveIP();
  Fn saved = std::move(fn_);
  {
    beginFunction(entry, nullptr);
    Value *envArg = entry->getArg(0), *result = entry->getArg(1);
    BB *err = block("error");
    fn_.errTarget = err;
    b_.CreateStore(b_.getInt64(1), envArg);
    std::vector<Value *> given;
    for (size_t i = 0; i < n; ++i)
      given.push_back(fromSlot(b_.CreateLoad(i64_, envSlot(b_, envArg, i)), vt(c->args[i].value)));
    Value *r = c->builtin == ast::Builtin::Wait ? waitCall(c, &given)
               : ast::apiSignature(c->builtin)  ? apiCall(c, &given)
                                                : builtin(c, n ? given[0] : nullptr);
    b_.CreateStore(r ? toSlot(r, c->type) : b_.getInt64(0), result);
    b_.CreateRet(b_.getInt8(1));
    b_.SetInsertPoint(err);
    b_.CreateCall(abi("cfm_frame_done"), {});
    b_.CreateCall(abi("cfm_fail_at"), {fileName(a->loc().file), b_.getInt64(a->loc().line)});
    b_.CreateRet(b_.getInt8(0));

    std::vector<const sema::Type *> slots;
    for (const ast::Arg &arg : c->args) slots.push_back(vt(arg.value));
    defineEnvDrop(drop, slots);
  }
  fn_ = std::move(saved);
  b_.restoreIP(ip);
  return b_.CreateCall(abi("cfm_spawn"), {typeDesc(a->type->a), entry, env, drop});
}

/// `async { ... }`: the captured variables copied (values are copy on write), the body as the
/// task's entry; an error in it ends the task without an extra line (interp's runBlock).
llvm::Value *Lowerer::asyncBlock(const ast::AsyncBlockExpr *a) {
  const std::vector<sema::Var *> &caps = a->captures;
  size_t n = caps.size();
  Value *env = b_.CreateCall(abi("cfm_env_new"), {b_.getInt64(8 * (n + 1))});
  for (size_t i = 0; i < n; ++i) {
    const sema::Var *v = caps[i];
    Value *x = v->kind == sema::VarKind::Const ? b_.CreateLoad(ty(v->type), consts_.at(v))
                                               : b_.CreateLoad(ty(v->type), local(v));
    if (boxed(v->type)) retain(x);
    b_.CreateStore(toSlot(x, v->type), envSlot(b_, env, i));
  }

  std::string name = "block." + std::to_string(taskCount_++);
  llvm::Function *entry = taskFunction(name, false), *drop = taskFunction(name + ".drop", true);
  auto ip = b_.saveIP();
  Fn saved = std::move(fn_);
  {
    beginFunction(entry, nullptr);
    Value *envArg = entry->getArg(0), *result = entry->getArg(1);
    BB *errBB = block("error"), *overflow = block("overflow"), *body = block("block");
    fn_.retBB = block("return");
    // The task's stack must hold the block's frame (interp: sched::stackLow(fn->stackNeed)).
    Value *limit = fn_.limit;
    llvm::Function *save = llvm::Intrinsic::getDeclaration(&m_, llvm::Intrinsic::stacksave, {ptr_});
    Value *sp = b_.CreatePtrToInt(b_.CreateCall(save, {}), i64_);
    Value *low =
        b_.CreateICmpULT(sp, b_.CreateAdd(b_.CreatePtrToInt(limit, i64_), b_.getInt64(kBlockFrameBytes)));
    llvm::MDBuilder md(ctx_);
    b_.CreateCondBr(low, overflow, body, md.createUnlikelyBranchWeights());
    b_.SetInsertPoint(overflow);
    b_.CreateCall(abi("cfm_stack_overflow"), {});
    b_.CreateCall(abi("cfm_fail_at"), {fileName(a->loc().file), b_.getInt64(a->loc().line)});
    b_.CreateRet(b_.getInt8(0)); // the drop releases the copies
    b_.SetInsertPoint(body);
    b_.CreateStore(b_.getInt64(1), envArg);
    for (size_t i = 0; i < n; ++i) {
      const sema::Var *v = caps[i];
      if (v->kind == sema::VarKind::Const) continue; // constants are read where they are
      b_.CreateStore(fromSlot(b_.CreateLoad(i64_, envSlot(b_, envArg, i)), v->type), local(v));
    }
    // The block is one frame deep (in the entry block: the call guard is computed there).
    fn_.depth = llvm::IRBuilder<>(fn_.allocas->getTerminator()).CreateAdd(fn_.depth, b_.getInt32(1), "depth");
    fn_.errTarget = errBB;
    stmts(a->body);
    if (!b_.GetInsertBlock()->getTerminator()) b_.CreateBr(fn_.retBB);
    b_.SetInsertPoint(fn_.retBB);
    for (llvm::AllocaInst *x : fn_.boxedLocals) release(b_.CreateLoad(ptr_, x));
    b_.CreateStore(b_.getInt64(0), result);
    b_.CreateRet(b_.getInt8(1));
    b_.SetInsertPoint(errBB);
    for (llvm::AllocaInst *x : fn_.boxedLocals) release(b_.CreateLoad(ptr_, x));
    b_.CreateCall(abi("cfm_frame_done"), {});
    b_.CreateRet(b_.getInt8(0));

    std::vector<const sema::Type *> slots;
    for (const sema::Var *v : caps) slots.push_back(v->type);
    defineEnvDrop(drop, slots);
  }
  fn_ = std::move(saved);
  b_.restoreIP(ip);
  return b_.CreateCall(abi("cfm_spawn"), {typeDesc(a->type->a), entry, env, drop});
}

/// `wait(t)`, `wait(ts)`, `wait(t, timeout: d)`: the target, the timeout (a negative one has
/// passed already), then the suspension; an error at the call (interp's WaitNode).
llvm::Value *Lowerer::waitCall(const ast::CallExpr *c, const std::vector<Value *> *given) {
  const ast::Expr *target = nullptr;
  Value *givenTarget = nullptr, *givenTimeout = nullptr;
  for (size_t i = 0; i < c->args.size(); ++i) {
    if (c->args[i].name.empty()) target = c->args[i].value;
    if (given) (c->args[i].name.empty() ? givenTarget : givenTimeout) = (*given)[i];
  }
  Value *t = given ? givenTarget : expr(target);
  size_t mark = tempMark();
  pushTemp(t, target->type);
  Value *tm = b_.getInt64(static_cast<uint64_t>(-1));
  if (c->timeout) {
    tm = given ? givenTimeout : expr(c->timeout);
    tm = b_.CreateSelect(b_.CreateICmpSLT(tm, b_.getInt64(0)), b_.getInt64(0), tm);
  }
  dropTemps(mark);
  Value *st = nullptr;
  if (target->type->is(TypeKind::List)) {
    Value *lt = c->type->is(TypeKind::List) ? typeDesc(c->type)
                                            : llvm::ConstantPointerNull::get(llvm::PointerType::get(ctx_, 0));
    st = b_.CreateCall(abi("cfm_wait_list"), {t, lt, tm, scratch()});
  } else {
    st = b_.CreateCall(abi("cfm_wait"), {t, tm, scratch()});
  }
  release(t);
  checkFailed(status(st), c->loc());
  if (c->type->is(TypeKind::Void)) return nullptr;
  return fromSlot(b_.CreateLoad(i64_, scratch()), c->type);
}

} // namespace cfm::jit
