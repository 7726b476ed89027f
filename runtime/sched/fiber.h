// fiber.h — the machine side of tasks: stacks and the context switch.
//
// Stacks come from a pool of large anonymous mappings (MAP_NORESERVE): a stack costs memory only
// for the pages a task touches, a finished task's stack goes back to the pool, and 100,000 stacks
// are a few thousand mappings, far below the kernel's map limit (guard pages on each would split
// every stack into two mappings and hit it). Overflow is caught in software instead: engines
// compare the stack pointer with `tl.stackLimit` before every call (scheduler.h). The first
// task's stack is one mapping of its own with a guard page. (By default the scheduler uses the
// pool only under the sanitizers or with CFM_TASK_STACKS=own: otherwise spawned tasks share one
// guarded stack and are copied off it when they suspend, scheduler.h.)
//
// The switch is Boost.Context's fcontext (a few instructions); under AddressSanitizer and
// ThreadSanitizer each switch is announced to them so that they keep track of the stack in use.
#pragma once

#include <cstddef>
#include <vector>

namespace cfm::rt::sched {

struct Stack {
  char *base = nullptr; // lowest address
  size_t size = 0;      // the stack grows down from base + size
  char *top() const { return base + size; }
};

/// Stacks of one size, carved from shared mappings and reused.
class StackPool {
public:
  explicit StackPool(size_t stackBytes);
  ~StackPool();
  StackPool(const StackPool &) = delete;
  StackPool &operator=(const StackPool &) = delete;
  /// A stack; base == nullptr when the system has no more address space.
  Stack take();
  void give(Stack s);
  size_t stackBytes() const { return bytes_; }
  size_t mappings() const { return chunks_.size(); }

private:
  size_t bytes_;
  std::vector<std::pair<char *, size_t>> chunks_;
  std::vector<char *> free_;
};

/// A stack mapped on its own, with a guard page below it.
Stack mapGuardedStack(size_t bytes);
void unmapGuardedStack(Stack s);

/// A suspended execution context (fcontext_t).
using Context = void *;
/// Where a switch lands: the context that switched to us and what it passed.
struct Transfer {
  Context from;
  void *data;
};
using FiberMain = void (*)(Transfer);

/// A context that will run `fn` on `s` when first switched to.
Context makeContext(Stack s, FiberMain fn);
/// Suspends the caller and continues `to`, passing `data`; returns when something switches back.
Transfer switchTo(Context to, void *data);

/// Runs fn(arg) on stack `s` and returns when it has returned: a nested call on another stack,
/// not a task (fn must not suspend). Exceptions thrown by fn are carried back to the caller.
/// stack.h uses it to extend a stack that is nearly full.
void callOnStack(Stack s, void (*fn)(void *), void *arg);

// AddressSanitizer's fiber annotations (no-ops in other builds).
void asanStartSwitch(void **fakeStackSave, const Stack &to);
void asanFinishSwitch(void *fakeStackSave, Stack *from);

// ThreadSanitizer's fiber annotations (no-ops in other builds): every task runs as a TSan fiber
// of its own, announced right before each switch, so that TSan keeps one shadow call stack per
// task and sees the switches of one scheduler thread as ordered (no false races between tasks).
void *tsanCurrentFiber();
void *tsanCreateFiber();
void tsanSwitchToFiber(void *fiber);
void tsanDestroyFiber(void *fiber);

} // namespace cfm::rt::sched
