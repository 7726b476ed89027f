// tasks.cpp — the interpreter's task nodes (LANGUAGE.md "Concurrency"): `async f(args)`,
// `async { ... }` and `wait`, on the runtime's scheduler (runtime/sched/), which the JIT shares.
//
// What a task needs is copied when the `async` expression is evaluated: the arguments of
// `async f(args)`, or the variables an async block uses (into the same slots of a fresh frame of
// the enclosing function, on the task's own stack).
#include "interp/exprs.h"
#include "runtime/sched/scheduler.h"

#include <alloca.h>
#include <memory>

namespace cfm::interp {

using namespace rt;

namespace {

// ---- async f(args) ----

struct AsyncCallNode final : ENode {
  FnCode *fn;
  std::vector<std::pair<int, EPtr>> written;
  std::vector<int> defaulted;
  AsyncCallNode(const TypeDesc *t, support::Loc l, FnCode *f) : ENode(t, l), fn(f) {}
  bool eval(Frame &f, Slot &out) override;
};

struct CallEnv {
  AsyncCallNode *node;
  Program *prog;
  std::vector<Slot> args; // owned until the call takes them
  ~CallEnv() {
    for (size_t i = 0; i < args.size(); ++i) releaseSlot(args[i], node->fn->paramTypes[i]);
  }
};

bool runCall(void *envp, Slot *result) {
  auto *env = static_cast<CallEnv *>(envp);
  AsyncCallNode *n = env->node;
  std::vector<Slot> args = std::move(env->args);
  env->args.clear();
  if (callFunction(*env->prog, n->fn, args.data(), *result, n->loc, nullptr)) return true;
  // The task's outermost frame is the `async` expression (as in refcfp.py's traces).
  Frame site{nullptr, env->prog};
  return failAt(site, n->loc);
}

void dropCall(void *envp) { delete static_cast<CallEnv *>(envp); }

bool AsyncCallNode::eval(Frame &f, Slot &out) {
  // Until the task is spawned the environment is ours: a failing argument frees it with the
  // arguments evaluated so far (the others are still null).
  std::unique_ptr<CallEnv> env(new CallEnv{this, f.prog, std::vector<Slot>(fn->paramTypes.size(), Slot{0})});
  for (auto &[idx, e] : written)
    if (!e->eval(f, env->args[static_cast<size_t>(idx)])) return false;
  for (int idx : defaulted)
    if (!fn->defaults[static_cast<size_t>(idx)]->eval(f, env->args[static_cast<size_t>(idx)])) return false;
  out.o = sched::spawn(type->elem, runCall, env.release(), dropCall);
  return true;
}

// ---- async builtin(args): the arguments are evaluated now, the built-in runs in the task ----

struct AsyncBuiltinNode final : ENode {
  std::vector<EPtr> argExprs; // evaluated by the spawner
  std::vector<const TypeDesc *> argTypes;
  EPtr call; // the built-in, reading its arguments from slots 0..n-1
  using ENode::ENode;
  bool eval(Frame &f, Slot &out) override;
};

struct BuiltinEnv {
  AsyncBuiltinNode *node;
  Program *prog;
  std::vector<Slot> args;
  ~BuiltinEnv() {
    for (size_t i = 0; i < args.size(); ++i) releaseSlot(args[i], node->argTypes[i]);
  }
};

bool runBuiltin(void *envp, Slot *result) {
  auto *env = static_cast<BuiltinEnv *>(envp);
  Frame fr{env->args.data(), env->prog};
  if (env->node->call->eval(fr, *result)) return true;
  if (ErrorVal *e = pendingError()) e->lineRecorded = false;
  return failAt(fr, env->node->loc);
}

void dropBuiltin(void *envp) { delete static_cast<BuiltinEnv *>(envp); }

bool AsyncBuiltinNode::eval(Frame &f, Slot &out) {
  std::unique_ptr<BuiltinEnv> env(new BuiltinEnv{this, f.prog, {}});
  for (EPtr &a : argExprs) {
    Slot v;
    if (!a->eval(f, v)) return false;
    env->args.push_back(v);
  }
  out.o = sched::spawn(type->elem, runBuiltin, env.release(), dropBuiltin);
  return true;
}

// ---- async { ... } ----

struct AsyncBlockNode final : ENode {
  FnCode *fn; // the enclosing function: the block's variables are slots of its frame
  std::vector<int> capSlots;
  std::vector<const TypeDesc *> capTypes;
  BlockNode body;
  AsyncBlockNode(const TypeDesc *t, support::Loc l, FnCode *f) : ENode(t, l), fn(f) {}
  bool eval(Frame &f, Slot &out) override;
};

struct BlockEnv {
  AsyncBlockNode *node;
  Program *prog;
  std::vector<Slot> caps; // copies of the captured variables, owned until the frame takes them
  ~BlockEnv() {
    for (size_t i = 0; i < caps.size(); ++i) releaseSlot(caps[i], node->capTypes[i]);
  }
};

void dropBlock(void *envp) { delete static_cast<BlockEnv *>(envp); }

bool runBlock(void *envp, Slot *result) {
  auto *env = static_cast<BlockEnv *>(envp);
  AsyncBlockNode *n = env->node;
  FnCode *fn = n->fn;
  if (sched::stackLow(fn->stackNeed)) {
    (void)raiseStackOverflow();
    Frame site{nullptr, env->prog};
    return failAt(site, n->loc);
  }
  size_t size = static_cast<size_t>(fn->frameSize);
  Slot *slots = static_cast<Slot *>(alloca(size * sizeof(Slot) + 1));
  for (size_t i = 0; i < size; ++i) slots[i].i = 0;
  for (size_t i = 0; i < n->capSlots.size(); ++i) slots[n->capSlots[i]] = env->caps[i];
  env->caps.clear(); // the frame owns them now
  Frame fr{slots, env->prog};
  ++sched::tl.depth;
  Flow fl = n->body.run(fr);
  --sched::tl.depth;
  for (int i : fn->boxedSlots) release(slots[i].o);
  result->i = 0;
  if (fl != Flow::Error) return true;
  if (ErrorVal *e = pendingError()) e->lineRecorded = false;
  return false;
}

bool AsyncBlockNode::eval(Frame &f, Slot &out) {
  auto *env = new BlockEnv{this, f.prog, {}};
  env->caps.reserve(capSlots.size());
  for (size_t i = 0; i < capSlots.size(); ++i) {
    Slot v = f.slots[capSlots[i]];
    retainSlot(v, capTypes[i]); // a copy: values are copy-on-write
    env->caps.push_back(v);
  }
  out.o = sched::spawn(type->elem, runBlock, env, dropBlock);
  return true;
}

// ---- wait ----

struct WaitNode final : ENode {
  EPtr target, timeout;
  bool list;
  WaitNode(const TypeDesc *t, support::Loc l, EPtr tg, EPtr tm, bool li)
      : ENode(t, l), target(std::move(tg)), timeout(std::move(tm)), list(li) {}
  bool eval(Frame &f, Slot &out) override {
    Slot tg, tm{.i = -1};
    if (!target->eval(f, tg)) return false;
    Ref<> held(tg.o);
    if (timeout && !timeout->eval(f, tm)) return false;
    if (timeout && tm.i < 0) tm.i = 0; // a negative timeout has passed already
    bool ok;
    if (list) {
      Slot r{0};
      ok = sched::waitList(static_cast<List *>(tg.o), type->kind == Kind::List ? type : nullptr, tm.i, r);
      if (ok && type->kind == Kind::List)
        out = r;
      else if (ok)
        out.i = 0;
    } else {
      ok = sched::wait(tg.o, tm.i, out);
    }
    if (!ok) return failAt(f, loc);
    return true;
  }
};

} // namespace

EPtr makeAsyncCall(const TypeDesc *t, support::Loc l, FnCode *fn, std::vector<std::pair<int, EPtr>> written,
                   std::vector<int> defaulted) {
  auto n = std::make_unique<AsyncCallNode>(t, l, fn);
  n->written = std::move(written);
  n->defaulted = std::move(defaulted);
  return n;
}

EPtr makeAsyncBuiltin(const TypeDesc *t, support::Loc l, std::vector<EPtr> argExprs, EPtr call) {
  auto n = std::make_unique<AsyncBuiltinNode>(t, l);
  for (EPtr &a : argExprs) n->argTypes.push_back(a->type);
  n->argExprs = std::move(argExprs);
  n->call = std::move(call);
  return n;
}

EPtr makeAsyncBlock(const TypeDesc *t, support::Loc l, FnCode *enclosing, std::vector<int> capSlots,
                    std::vector<const TypeDesc *> capTypes, BlockNode body) {
  auto n = std::make_unique<AsyncBlockNode>(t, l, enclosing);
  n->capSlots = std::move(capSlots);
  n->capTypes = std::move(capTypes);
  n->body = std::move(body);
  return n;
}

EPtr makeWait(const TypeDesc *t, support::Loc l, EPtr target, EPtr timeout, bool list) {
  return std::make_unique<WaitNode>(t, l, std::move(target), std::move(timeout), list);
}

} // namespace cfm::interp
