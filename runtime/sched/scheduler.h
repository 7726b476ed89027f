// scheduler.h — tasks (LANGUAGE.md "Concurrency"): `async`, `wait`, `sleep`, structured
// concurrency and cancellation, on one scheduler thread of lightweight fibers that both engines
// share; and the completion API through which other threads (HTTP, MQTT, agents) resume the
// one task that waits for them.
//
// Every task, the procedure that runs first included, is a fiber, switched by Boost.Context's
// fcontext in a few nanoseconds. The first task has a stack of its own; spawned tasks all run on
// one shared stack, and a task that suspends has its frames copied to the heap when another task
// needs that stack, and back to the same addresses before it resumes (copied stacks; under the
// sanitizers, or with CFM_TASK_STACKS=own, each has a pooled stack of its own, fiber.h). Nothing
// may therefore point into a spawned task's stack from another task: what a task is started
// with is copied to the heap by `async`, and every record of waiting is on the heap. A task that
// waits is parked on what it waits for (a timer, a task, a completion) and holds no thread. The
// running task's pending error, call depth and stack limit live in thread-locals that the
// scheduler saves and restores at each switch, so engine code uses them as if there were one
// task. docs/tasks.md argues the design against stackless coroutines.
#pragma once

#include "base/result.h"
#include "base/sanitizers.h"
#include "runtime/value.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace cfm::rt::sched {

/// The task's body: runs on the task's fiber; writes the result (a reference it hands over) and
/// returns true, or returns false with the error pending.
using TaskEntry = bool (*)(void *env, Slot *result);
/// Frees `env` (what the body needed: copied variables, arguments); called once, on the
/// scheduler thread, after the body ran or when the task is cancelled before it started.
using EnvDrop = void (*)(void *env);

struct TaskObj; // a Task<T> value (Kind::Task); the API passes it as Obj

/// What engines read and write directly for the running task; swapped at every switch.
struct TaskLocal {
  int depth = 0;                    // nested calls (LANGUAGE.md: a catchable `stack overflow`)
  const char *stackLimit = nullptr; // lowest address the engines may grow the stack to
};
extern constinit thread_local TaskLocal tl;

/// Room kept below `tl.stackLimit` for the runtime's own calls (their recursion is bounded by
/// the nesting of static types, and json's by its parser's limit).
constexpr size_t kStackMargin = 64 * 1024;

/// True when a frame of `need` bytes would take the running task's stack below its limit: the
/// engines then raise the catchable `stack overflow` instead of calling.
inline bool stackLow(size_t need) {
  const char *sp = static_cast<const char *>(__builtin_frame_address(0));
  return tl.stackLimit && sp < tl.stackLimit + need;
}

/// True in builds under AddressSanitizer or ThreadSanitizer: they keep shadow state for each stack
/// (ASan's poisoned red zones, TSan's fibers), which copying stacks would contradict, so spawned
/// tasks there always get stacks of their own.
constexpr bool kSanitizedStacks = base::kAsan || base::kTsan;

struct Options {
  size_t taskStackBytes = 0; // 0: CFM_TASK_STACK or the default (256 KiB; 1 MiB under ASan)
  size_t mainStackBytes = size_t(256) << 20;
  /// Spawned tasks run on one shared stack and a suspended task's frames are copied to the heap
  /// (docs/tasks.md "Copied stacks"); false: each task has a pooled stack of its own. Default
  /// true, false under the sanitizers (always) or with CFM_TASK_STACKS=own.
  bool copyStacks = !kSanitizedStacks;
  bool stress = false; // CFM_SCHED_STRESS=1: yield at every suspension point, shuffle ready tasks
  uint64_t seed = 0;   // CFM_SCHED_SEED, for stress runs (0: from the clock)
};
/// The bounds of CFM_TASK_STACK: a task's stack holds at least the runtime's margin and a frame.
constexpr size_t kMinTaskStack = size_t(128) << 10;
constexpr size_t kMaxTaskStack = size_t(1) << 30;
/// The options from the environment: CFM_TASK_STACK (bytes, or 256k, 1m, 1g; within the bounds
/// above), CFM_TASK_STACKS (`copy` or `own`; ignored under the sanitizers, which always use `own`),
/// CFM_SCHED_STRESS (`0` or `1`), CFM_SCHED_SEED (a whole number). A value that is not
/// understood is an error for the program to report (cfmc checks before it runs anything),
/// never silently replaced.
Result<Options> readOptionsFromEnv();
/// readOptionsFromEnv's options, or the defaults when it fails (for callers that checked first).
Options optionsFromEnv();

/// Runs `entry` as the first task on a new scheduler on this thread and returns when it and
/// every task have ended. Returns entry's result; false leaves its error pending.
[[nodiscard]] bool runMain(TaskEntry entry, void *env, Slot *result, const Options &o = optionsFromEnv());

/// True on a thread that is inside runMain (a task is running).
bool active();

// ---- used by the running task ----

/// Starts a task in the innermost scope of the running task (it runs when the scheduler picks
/// it; the caller goes on). Returns a new reference. `resultType` is T of Task<T>.
Obj *spawn(const TypeDesc *resultType, TaskEntry entry, void *env, EnvDrop drop);

/// Suspends the running task for `ms` milliseconds (<= 0: lets the other ready tasks run).
[[nodiscard]] bool sleep(int64_t ms);

/// The task's result (a new reference), or its error raised again (with its trace, then the
/// waiter's frames as they unwind). `timeoutMs` < 0: no timeout; otherwise a "timeout" error
/// `wait timed out after D` when time runs out (the task goes on).
[[nodiscard]] bool wait(Obj *task, int64_t timeoutMs, Slot &out);
/// wait(list<Task<T>>): `listType` is list<T> (nullptr for Task<void>: nothing is built); the
/// first error in list order is raised. `out` is a new list.
[[nodiscard]] bool waitList(const List *tasks, const TypeDesc *listType, int64_t timeoutMs, Slot &out);

/// Structured concurrency: a procedure opens a scope when it starts and closes it when it ends.
/// Closing waits for every task started in the scope. When `failing` (the procedure ends with
/// an error, which stays pending), the scope's tasks are cancelled first; otherwise the first
/// error that nobody waited for is raised (false).
void openScope();
[[nodiscard]] bool closeScope(bool failing);

/// The running task is being cancelled: `catch` does not stop the unwinding.
bool cancelling();

// ---- the completion API (other threads) ----

/// A result that another thread delivers to the task that waits for it: an HTTP reply, an MQTT
/// message, an agent's answer. Made on the scheduler thread; `complete` may be called from any
/// thread, once (later calls are ignored); it resumes exactly the task waiting in `await`.
class Completion {
public:
  static std::shared_ptr<Completion> create();
  void complete(bool ok, std::string payload);
  bool completed() const;

  struct State;
  explicit Completion(std::shared_ptr<State> s) : s_(std::move(s)) {}

private:
  friend bool await(Completion &c, int64_t timeoutMs, bool &ok, std::string &payload);
  std::shared_ptr<State> s_;
};

/// Suspends the running task until `c` completes: then `ok`/`payload` are what was delivered.
/// False with a "timeout" error when `timeoutMs` (>= 0) passes first, or with the cancellation.
[[nodiscard]] bool await(Completion &c, int64_t timeoutMs, bool &ok, std::string &payload);

// ---- cancelling a whole run (other threads) ----

struct Inbox; // scheduler.cpp: how other threads reach a scheduler

/// Cancels the first task of a runMain, and so all its tasks (`task cancelled`, as for cancel
/// in the language), from any thread: how cfmd's `POST /runs/ID/cancel` stops a run. Installed
/// on the thread that will call runMain (setRunCanceller); cancel() before runMain starts makes
/// the first task end cancelled without running, after it ended does nothing.
class RunCanceller {
public:
  void cancel();
  bool requested() const;

private:
  friend struct RunCancellerAccess;
  mutable std::mutex mu_;
  std::shared_ptr<Inbox> inbox_; // the running scheduler's, while one runs
  bool requested_ = false;
};
/// The canceller of every later runMain on this thread (nullptr: none).
void setRunCanceller(std::shared_ptr<RunCanceller> c);

// ---- tasks as values ----

/// Frees a task object (its count reached zero; it has ended).
void destroyTask(Obj *task);

/// Counters for tests and benchmarks.
struct Stats {
  uint64_t spawned = 0, switches = 0, maxLive = 0, stacksMapped = 0;
  // copied stacks: how many suspended tasks' frames were saved, their total and largest size
  uint64_t stackSaves = 0, stackBytesSaved = 0, maxStackSave = 0;
};
Stats stats();

} // namespace cfm::rt::sched
