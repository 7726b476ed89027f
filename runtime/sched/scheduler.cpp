// scheduler.cpp — the task scheduler of scheduler.h: the ready queue, timers (one binary heap
// for any number of sleepers), parking and waking, structured scopes and cancellation, and the
// inbox through which other threads deliver completions.
//
// Waking is by sequence number: a task that parks takes a new `waitSeq`, and every registration
// it leaves (a timer, a place in a task's waiter list, a completion) carries that number. The
// first event to wake it bumps the number, so the others, when they come, see that they are
// stale and do nothing. Registrations hold a reference to the task, so a stale one never points
// at freed memory.
#include "runtime/sched/scheduler.h"

#include "base/files.h"
#include "base/sanitizers.h"
#include "runtime/runtime.h"
#include "runtime/sched/fiber.h"

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <string_view>
#include <vector>

namespace cfm::rt::sched {

constinit thread_local TaskLocal tl;

namespace {
using Clock = std::chrono::steady_clock;
enum class Wake : uint8_t { None, Done, Timeout, Cancel, Completion, Yield };
} // namespace

struct TaskObj : Obj {
  TaskObj() : Obj(Kind::Task) {}
  const TypeDesc *resultType = nullptr;
  TaskEntry entry = nullptr;
  void *env = nullptr;
  EnvDrop drop = nullptr;
  bool root = false;
  bool done = false;
  bool failed = false;
  bool observed = false;        // a wait saw the result or the error
  bool cancelRequested = false; // it is being cancelled
  bool cancelRaised = false;    // ... and the cancellation error was raised in it
  bool interruptible = false;   // parked where cancellation wakes it
  Slot result{0};
  ErrorVal *error = nullptr;
  // execution
  Context ctx = nullptr;
  Stack stack;
  bool onShared = false; // runs on the scheduler's shared stack (copied stacks)
  char *saved = nullptr; // its frames, [ctx, stack.top()), while another task uses that stack
  size_t savedBytes = 0;
  void *asanFake = nullptr;
  void *tsanFiber = nullptr; // under TSan: the task's fiber, made when it first runs
  ErrorVal *savedPending = nullptr;
  TaskLocal savedLocal;
  // waiting
  uint64_t waitSeq = 0;
  Wake wake = Wake::None;
  std::vector<std::pair<TaskObj *, uint64_t>> waiters; // (waiter, its waitSeq then), referenced
  struct Scope {
    std::vector<TaskObj *> tasks; // referenced
    size_t compactAt = 64;
  };
  std::vector<Scope> scopes;
};

/// Completions cross threads through the inbox, which outlives the scheduler (a late completion
/// after the program ended is dropped).
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::shared_ptr<Completion::State>> items;
  std::atomic<bool> nonEmpty{false};
  bool closed = false;
  bool cancelRoot = false; // a RunCanceller asked to cancel the first task
};

struct Completion::State {
  std::shared_ptr<Inbox> inbox;
  std::atomic<bool> claimed{false}; // complete() was called
  std::atomic<bool> done{false};    // ok and payload are written
  bool ok = false;
  std::string payload;
  // scheduler thread only
  TaskObj *waiter = nullptr;
  uint64_t seq = 0;
};

namespace {

struct Timer {
  Clock::time_point at;
  uint64_t order;
  TaskObj *task; // referenced
  uint64_t seq;
};
struct TimerLater {
  bool operator()(const Timer &a, const Timer &b) const {
    return a.at != b.at ? a.at > b.at : a.order > b.order;
  }
};

class Scheduler {
public:
  explicit Scheduler(const Options &o) : opt(o), pool(o.taskStackBytes) {
    rng.seed(o.seed ? o.seed : static_cast<uint64_t>(Clock::now().time_since_epoch().count()));
    if (opt.copyStacks && !kSanitizedStacks) {
      shared = mapGuardedStack(o.taskStackBytes);
      if (!shared.base) opt.copyStacks = false; // no address space: stacks of their own
    } else {
      opt.copyStacks = false;
    }
  }
  ~Scheduler() { unmapGuardedStack(shared); }
  Scheduler(const Scheduler &) = delete;
  Scheduler &operator=(const Scheduler &) = delete;
  Options opt;
  StackPool pool;
  // Copied stacks: every spawned task runs on `shared` (mapped once, with a guard page, and kept
  // faulted in). `sharedOwner` is the task whose frames are on it now: the running one, or the
  // last one that ran and suspended, saved only when another task needs the stack (so a task
  // that suspends and is resumed next costs no copy).
  Stack shared;
  TaskObj *sharedOwner = nullptr;
  Context schedCtx = nullptr; // the scheduler loop, while a task runs
  Stack schedStack;           // its stack, for ASan
  void *schedFiber = nullptr; // its TSan fiber (the thread's own)
  void *schedFake = nullptr;
  TaskObj *cur = nullptr;
  std::deque<TaskObj *> ready;
  std::priority_queue<Timer, std::vector<Timer>, TimerLater> timers;
  uint64_t timerOrder = 0;
  std::shared_ptr<Inbox> inbox = std::make_shared<Inbox>();
  size_t awaitingCompletions = 0;
  bool rootCancelAsked = false; // by a RunCanceller, seen in drainInbox
  std::mt19937_64 rng;
  Stats st;
  uint64_t live = 0;

  void makeReady(TaskObj *t, Wake w) {
    t->wake = w;
    ++t->waitSeq;
    t->interruptible = false;
    ready.push_back(t);
  }

  TaskObj *pickReady() {
    if (opt.stress && ready.size() > 1) {
      size_t i = std::uniform_int_distribution<size_t>(0, ready.size() - 1)(rng);
      std::swap(ready[i], ready.front());
    }
    TaskObj *t = ready.front();
    ready.pop_front();
    return t;
  }

  void pushTimer(Clock::time_point at, TaskObj *t, uint64_t seq) {
    retain(t);
    timers.push(Timer{at, ++timerOrder, t, seq});
  }

  void fireTimers(Clock::time_point now) {
    while (!timers.empty() && timers.top().at <= now) {
      Timer e = timers.top();
      timers.pop();
      if (e.seq == e.task->waitSeq && !e.task->done) makeReady(e.task, Wake::Timeout);
      release(e.task);
    }
  }

  void drainInbox() {
    std::vector<std::shared_ptr<Completion::State>> got;
    {
      std::lock_guard<std::mutex> g(inbox->mu);
      got.swap(inbox->items);
      inbox->nonEmpty.store(false, std::memory_order_relaxed);
      if (inbox->cancelRoot) {
        inbox->cancelRoot = false;
        rootCancelAsked = true;
      }
    }
    for (auto &c : got)
      if (c->waiter && c->waiter->waitSeq == c->seq) makeReady(c->waiter, Wake::Completion);
  }

  /// Copies the frames of the task on the shared stack to the heap. Runs on the scheduler's own
  /// stack. The frames are [ctx, top): fcontext saves a suspended task's registers at its stack
  /// pointer, and nothing of the task lives below that.
  void saveShared() {
    TaskObj *u = sharedOwner;
    if (!u) return;
    sharedOwner = nullptr;
    const char *from = static_cast<const char *>(u->ctx);
    size_t n = static_cast<size_t>(shared.top() - from);
    u->saved = static_cast<char *>(std::malloc(n));
    if (!u->saved) outOfMemory();
    std::memcpy(u->saved, from, n);
    u->savedBytes = n;
    ++st.stackSaves;
    st.stackBytesSaved += n;
    if (n > st.maxStackSave) st.maxStackSave = n;
  }

  /// Makes the shared stack t's: saves its present owner's frames and puts t's back at the
  /// addresses they were saved from.
  void takeShared(TaskObj *t) {
    if (sharedOwner == t) return;
    saveShared();
    if (t->saved) {
      std::memcpy(static_cast<char *>(t->ctx), t->saved, t->savedBytes);
      std::free(t->saved);
      t->saved = nullptr;
      t->savedBytes = 0;
    }
    sharedOwner = t;
  }

  void resume(TaskObj *t);
  bool loop(TaskObj *root);
};

thread_local Scheduler *tS = nullptr;

[[noreturn]] void fiberMain(Transfer from);

void Scheduler::resume(TaskObj *t) {
  cur = t;
  if (!t->ctx) {
    if (!t->root && opt.copyStacks) {
      // The frames of the task that used the shared stack last move to the heap first:
      // makeContext writes at its top.
      saveShared();
      sharedOwner = t;
      t->stack = shared;
      t->onShared = true;
    } else if (!t->root) {
      t->stack = pool.take();
      if (t->stack.base) ++st.stacksMapped;
    }
    if (!t->stack.base) {
      // No address space for one more stack: the task fails without running.
      cur = nullptr;
      t->done = t->failed = true;
      (void)raise(ErrKind::Stack, "stack overflow (no memory for another task stack)");
      t->error = takeError();
      for (auto &[w, seq] : t->waiters) {
        if (w->waitSeq == seq) makeReady(w, Wake::Done);
        release(w);
      }
      t->waiters.clear();
      if (t->drop) t->drop(t->env);
      t->env = nullptr;
      --live;
      release(t);
      return;
    }
    t->ctx = makeContext(t->stack, fiberMain);
    t->tsanFiber = tsanCreateFiber();
    t->savedLocal.depth = 0;
    t->savedLocal.stackLimit = t->stack.base + kStackMargin;
  } else if (t->onShared) {
    takeShared(t);
  }
  tl = t->savedLocal;
  clearError();
  if (t->savedPending) raiseError(t->savedPending);
  t->savedPending = nullptr;
  tsanSwitchToFiber(t->tsanFiber);
  asanStartSwitch(&schedFake, t->stack);
  Transfer back = switchTo(t->ctx, t);
  asanFinishSwitch(schedFake, nullptr);
  ++st.switches;
  cur = nullptr;
  // Back on the scheduler's own stack: the task's limit no longer applies (sched/stack.h falls
  // back to the thread's), e.g. while the scheduler frees what a task left.
  TaskLocal taskLocal = tl;
  tl = TaskLocal{};
  if (t->done) {
    // Its fiber ended for good: the stack goes back to the pool.
    t->ctx = nullptr;
    tsanDestroyFiber(t->tsanFiber);
    t->tsanFiber = nullptr;
    if (t->onShared) {
      sharedOwner = nullptr; // nothing of it is left to keep
    } else if (!t->root) {
      pool.give(t->stack);
    }
    t->stack = {};
    --live;
    release(t); // the scheduler's reference
    return;
  }
  t->ctx = back.from;
  t->savedLocal = taskLocal;
  t->savedPending = takeError();
}

/// Parks the running task; returns why it was woken.
Wake suspend() {
  Scheduler &s = *tS;
  TaskObj *t = s.cur;
  tsanSwitchToFiber(s.schedFiber);
  asanStartSwitch(&t->asanFake, s.schedStack);
  Transfer back = switchTo(s.schedCtx, nullptr);
  s.schedCtx = back.from;
  asanFinishSwitch(t->asanFake, nullptr);
  Wake w = t->wake;
  t->wake = Wake::None;
  return w;
}

bool raiseCancelled(TaskObj *t) {
  t->cancelRaised = true;
  return raise(ErrKind::Cancelled, "task cancelled");
}

/// A task's error raised again in its waiter: the same kind, message and trace, and the
/// waiter's frames are added as it unwinds.
bool reraise(const ErrorVal *e) {
  retain(e->errKind);
  retain(e->message);
  retain(e->code);
  auto *copy = new ErrorVal(e->errKind, e->message, e->code);
  copy->trace = e->trace;
  raiseError(copy);
  return false;
}

void yieldNow() {
  Scheduler &s = *tS;
  s.makeReady(s.cur, Wake::Yield);
  (void)suspend();
}

/// Parks the running task until `target` ends (if given) or `deadline` passes (if given).
/// An interruptible park also ends when the task is cancelled.
Wake park(TaskObj *target, const Clock::time_point *deadline, bool interruptible) {
  Scheduler &s = *tS;
  TaskObj *me = s.cur;
  uint64_t seq = ++me->waitSeq;
  if (target) {
    retain(me);
    target->waiters.emplace_back(me, seq);
  }
  if (deadline) s.pushTimer(*deadline, me, seq);
  me->interruptible = interruptible;
  return suspend();
}

void cancel(TaskObj *t) {
  if (t->done || t->cancelRequested) return;
  t->cancelRequested = true;
  if (t->interruptible) tS->makeReady(t, Wake::Cancel);
  // Its own tasks too, also when it is past its body and waiting for them.
  for (TaskObj::Scope &sc : t->scopes)
    for (TaskObj *c : sc.tasks) cancel(c);
}

/// Ends the scope of the running task (see closeScope).
bool closeScopeOf(TaskObj *me, bool failing) {
  // The tasks stay in the scope while we wait for them, so that cancelling this task (or its
  // owner) reaches them too.
  if (failing)
    for (TaskObj *t : me->scopes.back().tasks) cancel(t);
  for (size_t i = 0; i < me->scopes.back().tasks.size(); ++i) {
    TaskObj *t = me->scopes.back().tasks[i];
    while (!t->done) (void)park(t, nullptr, false);
  }
  std::vector<TaskObj *> tasks = std::move(me->scopes.back().tasks);
  me->scopes.pop_back();
  const ErrorVal *first = nullptr;
  for (TaskObj *t : tasks) {
    if (t->failed && !t->observed) {
      t->observed = true;
      if (!first && !failing) first = t->error;
    }
  }
  bool ok = !failing;
  if (first) ok = reraise(first);
  for (TaskObj *t : tasks) release(t);
  return ok;
}

/// Runs a task's body on its fiber and records how it ended.
void runBody(TaskObj *t) {
  t->scopes.emplace_back();
  Slot r{0};
  bool ok;
  if (t->cancelRequested)
    ok = raiseCancelled(t); // cancelled before it started: the body never runs
  else
    ok = t->entry(t->env, &r);
  if (t->drop) t->drop(t->env);
  t->env = nullptr;
  if (!closeScopeOf(t, !ok) && ok) {
    if (t->resultType) releaseSlot(r, t->resultType);
    ok = false;
  }
  if (ok) {
    t->result = r;
  } else {
    t->failed = true;
    t->error = takeError();
  }
  t->done = true;
  for (auto &[w, seq] : t->waiters) {
    if (w->waitSeq == seq) tS->makeReady(w, Wake::Done);
    release(w);
  }
  t->waiters.clear();
}

[[noreturn]] void fiberMain(Transfer from) {
  Scheduler &s = *tS;
  s.schedCtx = from.from;
  asanFinishSwitch(nullptr, &s.schedStack);
  runBody(static_cast<TaskObj *>(from.data));
  // Back to the scheduler for good; it recycles this stack.
  tsanSwitchToFiber(s.schedFiber);
  asanStartSwitch(nullptr, s.schedStack);
  switchTo(s.schedCtx, nullptr);
  __builtin_unreachable();
}

bool Scheduler::loop(TaskObj *root) {
  unsigned n = 0;
  schedFiber = tsanCurrentFiber();
  while (!root->done) {
    if (inbox->nonEmpty.load(std::memory_order_acquire)) drainInbox();
    if (rootCancelAsked) {
      rootCancelAsked = false;
      cancel(root);
    }
    if (ready.empty() || (++n & 63) == 0) fireTimers(Clock::now());
    if (!ready.empty()) {
      resume(pickReady());
      continue;
    }
    if (timers.empty() && awaitingCompletions == 0) return false; // nothing can wake anyone
    std::unique_lock<std::mutex> g(inbox->mu);
    auto hasMail = [&] { return inbox->nonEmpty.load(std::memory_order_relaxed); };
    if (timers.empty())
      inbox->cv.wait(g, hasMail);
    else
      inbox->cv.wait_until(g, timers.top().at, hasMail);
  }
  return true;
}

/// A size in bytes, `k`/`m`/`g` for KiB/MiB/GiB ("256k", "1m", "262144"); nullopt if not one.
std::optional<uint64_t> parseSize(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data()) return std::nullopt;
  std::string_view unit(p, static_cast<size_t>(s.data() + s.size() - p));
  int shift = unit.empty()                 ? 0
              : unit == "k" || unit == "K" ? 10
              : unit == "m" || unit == "M" ? 20
              : unit == "g" || unit == "G" ? 30
                                           : -1;
  if (shift < 0 || v > (UINT64_MAX >> shift)) return std::nullopt;
  return v << shift;
}

Options defaultOptions() {
  Options o;
#ifdef CFM_ASAN
  o.taskStackBytes = size_t(1) << 20; // instrumented frames are several times larger
#else
  o.taskStackBytes = size_t(256) << 10;
#endif
  return o;
}

} // namespace

Result<Options> readOptionsFromEnv() {
  Options o = defaultOptions();
  if (const char *v = std::getenv("CFM_TASK_STACK"); v && *v) {
    std::optional<uint64_t> n = parseSize(v);
    if (!n)
      return Error{ErrorKind::Usage, "CFM_TASK_STACK=`" + std::string(v) +
                                         "` is not a size (bytes, or with k, m or g: `256k`, `1m`)"};
    if (*n < kMinTaskStack || *n > kMaxTaskStack)
      return Error{ErrorKind::Usage, "CFM_TASK_STACK=`" + std::string(v) + "` is out of range (" +
                                         base::formatBytes(kMinTaskStack) + " to " +
                                         base::formatBytes(kMaxTaskStack) + ")"};
    o.taskStackBytes = static_cast<size_t>(*n);
  }
  if (const char *v = std::getenv("CFM_TASK_STACKS"); v && *v) {
    std::string_view s(v);
    if (s != "copy" && s != "own")
      return Error{ErrorKind::Usage, "CFM_TASK_STACKS=`" + std::string(v) + "` is neither `copy` nor `own`"};
    o.copyStacks = s == "copy" && !kSanitizedStacks;
  }
  if (const char *v = std::getenv("CFM_SCHED_STRESS"); v && *v) {
    std::string_view s(v);
    if (s != "0" && s != "1")
      return Error{ErrorKind::Usage, "CFM_SCHED_STRESS=`" + std::string(v) + "` is neither `0` nor `1`"};
    o.stress = s == "1";
  }
  if (const char *v = std::getenv("CFM_SCHED_SEED"); v && *v) {
    std::string_view s(v);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), o.seed);
    if (ec != std::errc() || p != s.data() + s.size())
      return Error{ErrorKind::Usage, "CFM_SCHED_SEED=`" + std::string(v) + "` is not a whole number"};
  }
  return o;
}

Options optionsFromEnv() {
  Result<Options> o = readOptionsFromEnv();
  return o ? *o : defaultOptions();
}

bool active() { return tS != nullptr && tS->cur != nullptr; }

/// setRunCanceller's, for this thread's runMain.
thread_local std::shared_ptr<RunCanceller> tCanceller;

struct RunCancellerAccess {
  /// Connects `c` to the scheduler of `inbox` (nullptr: disconnects); true when a cancel was
  /// asked before.
  static bool attach(RunCanceller &c, std::shared_ptr<Inbox> inbox) {
    std::lock_guard<std::mutex> g(c.mu_);
    c.inbox_ = std::move(inbox);
    return c.requested_;
  }
};

void RunCanceller::cancel() {
  std::shared_ptr<Inbox> inbox;
  {
    std::lock_guard<std::mutex> g(mu_);
    requested_ = true;
    inbox = inbox_;
  }
  if (!inbox) return;
  {
    std::lock_guard<std::mutex> g(inbox->mu);
    if (inbox->closed) return;
    inbox->cancelRoot = true;
    inbox->nonEmpty.store(true, std::memory_order_release);
  }
  inbox->cv.notify_one();
}

bool RunCanceller::requested() const {
  std::lock_guard<std::mutex> g(mu_);
  return requested_;
}

void setRunCanceller(std::shared_ptr<RunCanceller> c) { tCanceller = std::move(c); }

bool runMain(TaskEntry entry, void *env, Slot *result, const Options &o) {
  if (tS) return entry(env, result); // already inside a scheduler: just call
  Options opt = o;
  if (opt.taskStackBytes == 0) opt.taskStackBytes = optionsFromEnv().taskStackBytes;
  Scheduler s(opt);
  tS = &s;
  auto *root = new TaskObj();
  root->root = true;
  root->entry = entry;
  root->env = env;
  root->stack = mapGuardedStack(opt.mainStackBytes);
  retain(root); // the scheduler's reference
  ++s.live;
  std::shared_ptr<RunCanceller> canceller = tCanceller;
  if (canceller && RunCancellerAccess::attach(*canceller, s.inbox)) root->cancelRequested = true;
  s.ready.push_back(root);
  bool ok = root->stack.base != nullptr;
  if (!ok) {
    (void)raise(ErrKind::Stack, "stack overflow (no memory for the main stack)");
  } else if (!s.loop(root)) {
    ok = false;
    (void)raise(ErrKind::Timeout, "every task is waiting and nothing can wake one (deadlock)");
  } else {
    ok = !root->failed;
    if (ok) {
      *result = root->result;
    } else {
      raiseError(root->error);
      root->error = nullptr;
    }
  }
  // Timers of waits that ended otherwise may still be queued: drop their references.
  while (!s.timers.empty()) {
    release(s.timers.top().task);
    s.timers.pop();
  }
  unmapGuardedStack(root->stack);
  root->stack = {};
  release(root);
  {
    std::lock_guard<std::mutex> g(s.inbox->mu);
    s.inbox->closed = true;
    s.inbox->items.clear();
  }
  if (canceller) (void)RunCancellerAccess::attach(*canceller, nullptr);
  tS = nullptr;
  tl = TaskLocal{};
  return ok;
}

Obj *spawn(const TypeDesc *resultType, TaskEntry entry, void *env, EnvDrop drop) {
  Scheduler &s = *tS;
  auto *t = new TaskObj(); // the caller's reference
  t->resultType = resultType;
  t->entry = entry;
  t->env = env;
  t->drop = drop;
  retain(t); // the scheduler's, until it ends
  retain(t); // the scope's
  TaskObj::Scope &sc = s.cur->scopes.back();
  sc.tasks.push_back(t);
  if (sc.tasks.size() >= sc.compactAt) {
    // Tasks that ended and need no join (no error, or one that was seen) leave the scope.
    size_t k = 0;
    for (TaskObj *x : sc.tasks) {
      if (x->done && (!x->failed || x->observed))
        release(x);
      else
        sc.tasks[k++] = x;
    }
    sc.tasks.resize(k);
    sc.compactAt = std::max<size_t>(64, 2 * k);
  }
  s.ready.push_back(t);
  ++s.st.spawned;
  if (++s.live > s.st.maxLive) s.st.maxLive = s.live;
  if (s.opt.stress) yieldNow();
  return t;
}

bool sleep(int64_t ms) {
  Scheduler &s = *tS;
  TaskObj *me = s.cur;
  if (me->cancelRequested && !me->cancelRaised) return raiseCancelled(me);
  Wake w;
  if (ms <= 0) {
    yieldNow();
    w = Wake::Yield;
  } else {
    Clock::time_point at = Clock::now() + std::chrono::milliseconds(ms);
    w = park(nullptr, &at, true);
  }
  if (w == Wake::Cancel || (me->cancelRequested && !me->cancelRaised)) return raiseCancelled(me);
  return true;
}

namespace {
/// Waits for one task of a wait(...) call; false with the timeout or cancellation error.
bool awaitTask(TaskObj *t, const Clock::time_point *deadline, int64_t timeoutMs) {
  Scheduler &s = *tS;
  TaskObj *me = s.cur;
  if (s.opt.stress) yieldNow();
  if (t->done) return true;
  if (me->cancelRequested && !me->cancelRaised) return raiseCancelled(me);
  if (deadline && *deadline <= Clock::now())
    return raise(ErrKind::Timeout, "wait timed out after " + formatDuration(timeoutMs));
  Wake w = park(t, deadline, true);
  if (w == Wake::Cancel) return raiseCancelled(me);
  if (w == Wake::Timeout) return raise(ErrKind::Timeout, "wait timed out after " + formatDuration(timeoutMs));
  return true;
}
} // namespace

bool wait(Obj *task, int64_t timeoutMs, Slot &out) {
  auto *t = static_cast<TaskObj *>(task);
  Clock::time_point at = Clock::now() + std::chrono::milliseconds(timeoutMs < 0 ? 0 : timeoutMs);
  if (!awaitTask(t, timeoutMs >= 0 ? &at : nullptr, timeoutMs)) return false;
  t->observed = true;
  if (t->failed) return reraise(t->error);
  if (t->resultType) retainSlot(t->result, t->resultType);
  out = t->result;
  return true;
}

bool waitList(const List *tasks, const TypeDesc *listType, int64_t timeoutMs, Slot &out) {
  Clock::time_point at = Clock::now() + std::chrono::milliseconds(timeoutMs < 0 ? 0 : timeoutMs);
  List *res = listType ? new List(listType) : nullptr;
  if (res) res->items.reserve(tasks->items.size());
  // The list may change while we wait (it is a value: ours stays as it was).
  const List *keep = tasks;
  retain(const_cast<List *>(keep));
  bool ok = true;
  for (Slot s : keep->items) {
    auto *t = static_cast<TaskObj *>(s.o);
    if (!awaitTask(t, timeoutMs >= 0 ? &at : nullptr, timeoutMs)) {
      ok = false;
      break;
    }
    t->observed = true;
    if (t->failed) {
      ok = reraise(t->error);
      break;
    }
    if (res) {
      if (t->resultType) retainSlot(t->result, t->resultType);
      res->items.push_back(t->result);
    }
  }
  release(const_cast<List *>(keep));
  if (!ok) {
    release(res);
    return false;
  }
  out.o = res;
  return true;
}

void openScope() { tS->cur->scopes.emplace_back(); }

bool closeScope(bool failing) { return closeScopeOf(tS->cur, failing); }

bool cancelling() { return tS && tS->cur && tS->cur->cancelRequested; }

// ---- completions ----

std::shared_ptr<Completion> Completion::create() {
  auto st = std::make_shared<State>();
  if (tS) st->inbox = tS->inbox;
  return std::make_shared<Completion>(std::move(st));
}

void Completion::complete(bool ok, std::string payload) {
  bool expected = false;
  if (!s_->claimed.compare_exchange_strong(expected, true)) return; // once
  s_->ok = ok;
  s_->payload = std::move(payload);
  s_->done.store(true, std::memory_order_release);
  if (!s_->inbox) return;
  {
    std::lock_guard<std::mutex> g(s_->inbox->mu);
    if (s_->inbox->closed) return;
    s_->inbox->items.push_back(s_);
    s_->inbox->nonEmpty.store(true, std::memory_order_release);
  }
  s_->inbox->cv.notify_one();
}

bool Completion::completed() const { return s_->done.load(std::memory_order_acquire); }

bool await(Completion &c, int64_t timeoutMs, bool &ok, std::string &payload) {
  Scheduler &s = *tS;
  TaskObj *me = s.cur;
  Completion::State &st = *c.s_;
  if (s.opt.stress) yieldNow();
  if (!st.done.load(std::memory_order_acquire)) {
    if (me->cancelRequested && !me->cancelRaised) return raiseCancelled(me);
    Clock::time_point at = Clock::now() + std::chrono::milliseconds(timeoutMs < 0 ? 0 : timeoutMs);
    retain(me);
    st.waiter = me;
    st.seq = me->waitSeq + 1; // the number park() takes
    ++s.awaitingCompletions;
    Wake w = park(nullptr, timeoutMs >= 0 ? &at : nullptr, true);
    --s.awaitingCompletions;
    release(st.waiter);
    st.waiter = nullptr;
    if (w == Wake::Cancel) return raiseCancelled(me);
    if (w == Wake::Timeout) return raise(ErrKind::Timeout, "timed out after " + formatDuration(timeoutMs));
  }
  ok = st.ok;
  payload = std::move(st.payload);
  return true;
}

void destroyTask(Obj *task) {
  auto *t = static_cast<TaskObj *>(task);
  if (t->done && !t->failed && t->resultType) releaseSlot(t->result, t->resultType);
  release(t->error);
  if (t->drop && t->env) t->drop(t->env);
  std::free(t->saved); // a task that never ended (a deadlocked run)
  delete t;
}

Stats stats() { return tS ? tS->st : Stats{}; }

} // namespace cfm::rt::sched
