// calls.cpp — calls of user functions (frames on the running task's machine stack, defaults,
// the stack-overflow guard), the built-in functions and methods (LANGUAGE.md "Built-ins") and
// the procedure API's functions (API.md "Cloud" and "Agents", through runtime/model/api.h).
#include "interp/exprs.h"

#include "run/run.h"
#include "runtime/model/api.h"
#include "runtime/sched/scheduler.h"

#include <alloca.h>
#include <atomic>
#include <chrono>

namespace cfm::interp {

using namespace rt;

namespace {

bool stackOverflow(Frame *caller, support::Loc callLoc) {
  (void)raiseStackOverflow();
  if (caller) failAt(*caller, callLoc);
  return false;
}

/// The call depth and the machine stack left allow one more frame of fn.
inline bool frameFits(const FnCode *fn) {
  return sched::tl.depth < run::kMaxCallDepth && !sched::stackLow(fn->stackNeed);
}

/// Runs fn's body on its frame `slots` (parameters in place); a procedure is a scope of the
/// running task (LANGUAGE.md "Concurrency": it waits for the tasks it started).
bool runFrame(Program &p, FnCode *fn, Slot *slots, Slot &result, support::Loc callLoc, Frame *caller) {
  Frame f{slots, &p};
  std::unique_ptr<std::string> text;
  if (fn->isTemplate) {
    text = std::make_unique<std::string>();
    text->reserve(std::atomic_ref<size_t>(fn->textHint).load(std::memory_order_relaxed));
    f.tplOut = text.get();
  }
  ++sched::tl.depth;
  if (fn->isProcedure) sched::openScope();
  Flow fl = Flow::Normal;
  for (SPtr &s : fn->body) {
    fl = s->exec(f);
    if (fl != Flow::Normal) [[unlikely]]
      break;
  }
  if (fn->isProcedure) {
    bool failing = fl == Flow::Error;
    if (!sched::closeScope(failing) && !failing) {
      // A task of the procedure failed and nobody waited for it: the procedure fails with it.
      if (fl == Flow::Return) releaseSlot(f.ret, fn->ret);
      fl = Flow::Error;
    }
  }
  --sched::tl.depth;
  if (fn == p.captureFn && sched::tl.depth == 0 && fl != Flow::Error) [[unlikely]]
    for (int i : p.captureSlots) {
      retainSlot(slots[i], fn->slotTypes[static_cast<size_t>(i)]);
      p.captured.push_back(slots[i]);
    }
  for (int i : fn->boxedSlots) release(slots[i].o);
  if (fl == Flow::Error) [[unlikely]] {
    // The callee's frame is done: the next line in the trace is the caller's.
    if (ErrorVal *e = pendingError()) e->lineRecorded = false;
    if (caller) failAt(*caller, callLoc);
    return false;
  }
  if (fn->isTemplate) {
    std::atomic_ref<size_t>(fn->textHint).store(text->size(), std::memory_order_relaxed);
    result.o = newStr(*text);
  } else
    result = f.ret;
  return true;
}

} // namespace

bool callFunction(Program &p, FnCode *fn, Slot *args, Slot &result, support::Loc callLoc, Frame *caller) {
  if (!frameFits(fn)) {
    for (size_t i = 0; i < fn->paramTypes.size(); ++i) releaseSlot(args[i], fn->paramTypes[i]);
    return stackOverflow(caller, callLoc);
  }
  size_t n = static_cast<size_t>(fn->frameSize);
  // Frames live on the machine stack of the running task.
  Slot *slots = static_cast<Slot *>(alloca(n * sizeof(Slot) + 1));
  for (size_t i = 0; i < n; ++i) slots[i].i = 0;
  for (size_t i = 0; i < fn->paramSlots.size(); ++i) slots[fn->paramSlots[i]] = args[i];
  return runFrame(p, fn, slots, result, callLoc, caller);
}

bool CallNode::eval(Frame &f, Slot &out) {
  if (!frameFits(fn)) [[unlikely]]
    return stackOverflow(&f, loc);
  // The callee's frame is made first and the arguments are evaluated straight into its
  // parameter slots. LANGUAGE.md: arguments left to right as written, then the defaults,
  // evaluated at each call.
  size_t n = static_cast<size_t>(fn->frameSize);
  Slot *slots = static_cast<Slot *>(alloca(n * sizeof(Slot) + 1));
  for (int i : fn->boxedSlots) slots[i].o = nullptr; // the only slots read before written
  for (auto &[idx, e] : written) {
    if (!e->eval(f, slots[fn->paramSlots[static_cast<size_t>(idx)]])) [[unlikely]] {
      for (int i : fn->boxedSlots) release(slots[i].o);
      return false;
    }
  }
  for (int idx : defaulted) {
    if (!fn->defaults[static_cast<size_t>(idx)]->eval(f, slots[fn->paramSlots[static_cast<size_t>(idx)]])) {
      for (int i : fn->boxedSlots) release(slots[i].o);
      return false;
    }
  }
  return runFrame(*f.prog, fn, slots, out, loc, &f);
}

namespace {

Str *asStr(Slot s) { return static_cast<Str *>(s.o); }

} // namespace

bool BuiltinNode::eval(Frame &f, Slot &out) {
  using B = ast::Builtin;
  // Mutating methods work on their receiver's place.
  if (which == B::ListPush || which == B::ListPop || which == B::MapRemove) {
    PlaceKeys keys(*place);
    if (!keys.eval(f)) return false;
    Slot arg{0};
    if (!args.empty() && !args[0]->eval(f, arg)) return false;
    HeldSlot held(args.empty() ? nullptr : args[0]->type, arg);
    Slot *slot = nullptr;
    if (!resolvePlace(f, *place, keys.keys(), slot, false)) return false;
    Obj *o = unique(*slot);
    if (which == B::ListPush) {
      listPush(static_cast<List *>(o), held.take());
    } else if (which == B::ListPop) {
      if (!listPop(static_cast<List *>(o), out)) return failAt(f, loc);
    } else {
      mapRemove(static_cast<Map *>(o), arg);
    }
    return true;
  }

  // The arguments (at most three), released on every way out.
  struct Args {
    const std::vector<EPtr> &exprs;
    Slot v[3] = {{0}, {0}, {0}};
    size_t n = 0;
    ~Args() {
      for (size_t i = 0; i < n; ++i) releaseSlot(v[i], exprs[i]->type);
    }
  } held{args};
  Slot *v = held.v;
  for (; held.n < args.size(); ++held.n)
    if (!args[held.n]->eval(f, v[held.n])) return false;
  bool ok = true;
  switch (which) {
  case B::ListPop: // the mutating methods are done above, `wait` is a node of its own
  case B::ListPush:
  case B::MapRemove:
  case B::None:
  case B::Wait:
    // the procedure API is ApiNode's
#define API(id, ...) case B::id:
#include "ast/builtins.def"
    ast::unreachableBuiltin(which, "the interpreter's built-ins");
  case B::Print: printValue(f.prog->out, v[0], args[0]->type); break;
  case B::Str: {
    std::string s;
    format(s, v[0], args[0]->type);
    out.o = newStr(s);
    break;
  }
  case B::Int:
    switch (args[0]->type->kind) {
    case Kind::Int: out.i = v[0].i; break;
    case Kind::Float: ok = intOfFloat(v[0].f, out.i); break;
    default: ok = intOfString(asStr(v[0])->view(), out.i);
    }
    break;
  case B::Float:
    switch (args[0]->type->kind) {
    case Kind::Int: out.f = static_cast<double>(v[0].i); break;
    case Kind::Float: out.f = v[0].f; break;
    default: ok = floatOfString(asStr(v[0])->view(), out.f);
    }
    break;
  case B::Len:
    switch (args[0]->type->kind) {
    case Kind::String: out.i = asStr(v[0])->len; break;
    case Kind::List: out.i = static_cast<int64_t>(static_cast<List *>(v[0].o)->items.size()); break;
    case Kind::Map: out.i = static_cast<Map *>(v[0].o)->count; break;
    default: ok = jsonLen(static_cast<Json *>(v[0].o), out.i);
    }
    break;
  case B::Sleep: ok = sched::sleep(v[0].i); break; // suspends this task only
  case B::Now: out.i = nowMs(); break;
  case B::ParseJson: {
    Json *j = nullptr;
    ok = parseJson(asStr(v[0])->view(), j);
    out.o = j;
    break;
  }
  case B::ToJson: out.o = toJsonText(v[0], args[0]->type); break;
  case B::Fail: ok = raiseUser(std::string(asStr(v[0])->view())); break;
  case B::ListContains: out.i = listContains(static_cast<List *>(v[0].o), v[1]); break;
  case B::ListJoin: out.o = listJoin(static_cast<List *>(v[0].o), asStr(v[1])); break;
  case B::MapHas: out.i = mapFind(static_cast<Map *>(v[0].o), v[1]) != nullptr; break;
  case B::MapKeys: out.o = mapKeys(static_cast<Map *>(v[0].o), auxType); break;
  case B::MapValues: out.o = mapValues(static_cast<Map *>(v[0].o), auxType); break;
  case B::StrSplit: out.o = strSplit(asStr(v[0]), asStr(v[1]), auxType); break;
  case B::StrTrim: out.o = strTrim(asStr(v[0])); break;
  case B::StrUpper: out.o = strUpper(asStr(v[0])); break;
  case B::StrLower: out.o = strLower(asStr(v[0])); break;
  case B::StrContains: out.i = strContains(asStr(v[0]), asStr(v[1])); break;
  case B::StrStartsWith: out.i = strStartsWith(asStr(v[0]), asStr(v[1])); break;
  case B::StrEndsWith: out.i = strEndsWith(asStr(v[0]), asStr(v[1])); break;
  case B::StrReplace: out.o = strReplace(asStr(v[0]), asStr(v[1]), asStr(v[2])); break;
  case B::JsonAsString: ok = jsonAs(static_cast<Json *>(v[0].o), JsonAs::String, out); break;
  case B::JsonAsInt: ok = jsonAs(static_cast<Json *>(v[0].o), JsonAs::Int, out); break;
  case B::JsonAsFloat: ok = jsonAs(static_cast<Json *>(v[0].o), JsonAs::Float, out); break;
  case B::JsonAsBool: ok = jsonAs(static_cast<Json *>(v[0].o), JsonAs::Bool, out); break;
  case B::JsonLen: ok = jsonAs(static_cast<Json *>(v[0].o), JsonAs::Len, out); break;
  case B::DurationMs: out.i = v[0].i; break;
  case B::ModelElement:
  case B::ModelVmClass:
  case B::ModelTemplate:
  case B::ModelProperty:
  case B::ModelInstancesOf:
  case B::ModelRender:
    if (!modelMethod(f, loc, which, v, auxType, out)) return false;
    break;
  }
  if (!ok) return failAt(f, loc);
  return true;
}

bool ApiNode::eval(Frame &f, Slot &out) {
  using B = ast::Builtin;
  // The arguments by parameter, released on every way out (the manager only borrows them).
  struct Args {
    const TypeDesc *const *types;
    Slot v[kMaxParams] = {{0}, {0}, {0}, {0}};
    ~Args() {
      for (size_t i = 0; i < kMaxParams; ++i)
        if (types[i]) releaseSlot(v[i], types[i]);
    }
  } held{paramTypes};
  Slot *v = held.v;
  for (auto &[idx, e] : args)
    if (!e->eval(f, v[idx])) return false;
  auto rec = [&](int i) { return static_cast<const Record *>(v[i].o); };
  auto str = [&](int i) { return static_cast<const Str *>(v[i].o); };
  bool ok = false;
  switch (which) {
  case B::RunVm: ok = model::apiRunVm(rec(0), str(1), v[2].i, type, out); break;
  case B::TerminateVm: ok = model::apiTerminateVm(rec(0), v[1].i); break;
  case B::AttachVolume: ok = model::apiAttachVolume(rec(0), v[1].i, str(2), str(3), out); break;
  case B::AssociateAddress: ok = model::apiAssociateAddress(rec(0), str(1), out); break;
  case B::Reload: ok = model::apiReload(rec(0), out); break;
  case B::SetProperty:
    ok = model::apiSetProperty(rec(0), str(1), static_cast<const Json *>(v[2].o), out);
    break;
  case B::ThisManager: ok = model::apiThisManager(out); break;
  case B::ThisCloud: ok = model::apiThisCloud(out); break;
  case B::RunAgentCommand:
    ok = model::apiRunAgentCommand(rec(0), str(1), v[2].i, static_cast<const Map *>(v[3].o), type, out);
    break;
  case B::PutFile: ok = model::apiPutFile(rec(0), str(1), str(2), str(3)); break;
  case B::PublishCloudEvent:
    ok = model::apiPublishCloudEvent(rec(0), str(1), static_cast<const Json *>(v[2].o));
    break;
  case B::WaitCloudEvent:
    ok = model::apiWaitCloudEvent(rec(0), str(1), v[2].i, static_cast<const Json *>(v[3].o), type, out);
    break;
  case B::None:
  case B::Print:
  case B::Str:
  case B::Int:
  case B::Float:
  case B::Len:
  case B::Sleep:
  case B::Now:
  case B::ParseJson:
  case B::ToJson:
  case B::Fail:
  case B::Wait:
#define METHOD(id, recv, name) case B::id:
#include "ast/builtins.def"
    ast::unreachableBuiltin(which, "the interpreter's API calls");
  }
  if (!ok) return failAt(f, loc);
  return true;
}

} // namespace cfm::interp
