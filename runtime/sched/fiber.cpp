// fiber.cpp — stack pool, guarded stacks, fcontext switch and ASan fiber annotations (fiber.h).
#include "runtime/sched/fiber.h"

#include "base/sanitizers.h"

#include <boost/context/detail/fcontext.hpp>
#include <exception>
#include <sys/mman.h>
#include <unistd.h>

#ifdef CFM_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef CFM_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace cfm::rt::sched {

namespace bc = boost::context::detail;

namespace {
constexpr size_t kStacksPerChunk = 64;

size_t pageSize() {
  static const size_t p = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return p;
}

size_t roundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }
} // namespace

StackPool::StackPool(size_t stackBytes) : bytes_(roundUp(stackBytes, pageSize())) {}

StackPool::~StackPool() {
  for (auto &[p, n] : chunks_) munmap(p, n);
}

Stack StackPool::take() {
  if (free_.empty()) {
    size_t n = bytes_ * kStacksPerChunk;
    void *p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return {};
    chunks_.emplace_back(static_cast<char *>(p), n);
    // Hand out the highest stacks last, so that the first tasks use neighbouring pages.
    for (size_t i = kStacksPerChunk; i-- > 0;) free_.push_back(static_cast<char *>(p) + i * bytes_);
  }
  char *b = free_.back();
  free_.pop_back();
  return {b, bytes_};
}

void StackPool::give(Stack s) { free_.push_back(s.base); }

Stack mapGuardedStack(size_t bytes) {
  size_t page = pageSize();
  bytes = roundUp(bytes, page);
  void *p =
      mmap(nullptr, bytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return {};
  mprotect(p, page, PROT_NONE);
  return {static_cast<char *>(p) + page, bytes};
}

void unmapGuardedStack(Stack s) {
  if (s.base) munmap(s.base - pageSize(), s.size + pageSize());
}

namespace {
// Every fiber of a process starts in the same function (the scheduler's task runner).
FiberMain gFiberMain = nullptr;
void trampoline(bc::transfer_t t) { gFiberMain(Transfer{t.fctx, t.data}); }
} // namespace

Context makeContext(Stack s, FiberMain fn) {
  gFiberMain = fn;
  return bc::make_fcontext(s.top(), s.size, trampoline);
}

Transfer switchTo(Context to, void *data) {
  bc::transfer_t t = bc::jump_fcontext(static_cast<bc::fcontext_t>(to), data);
  return {t.fctx, t.data};
}

namespace {
struct OnStackCall {
  void (*fn)(void *);
  void *arg;
  Stack caller; // the stack the call came from (for ASan's switch back)
  std::exception_ptr thrown;
  void *callerFiber; // TSan's fiber of the caller
};

void onStackEntry(bc::transfer_t t) {
  auto *c = static_cast<OnStackCall *>(t.data);
  asanFinishSwitch(nullptr, &c->caller);
  try {
    c->fn(c->arg);
  } catch (...) {
    c->thrown = std::current_exception();
  }
  // This context is never resumed: nullptr tells ASan to drop its fake stack.
  tsanSwitchToFiber(c->callerFiber);
  asanStartSwitch(nullptr, c->caller);
  bc::jump_fcontext(t.fctx, nullptr);
  __builtin_unreachable();
}
} // namespace

void callOnStack(Stack s, void (*fn)(void *), void *arg) {
#ifdef CFM_ASAN
  // The segment may have run a call before: the frame that switched back from it never returned,
  // so its red zones are still poisoned in ASan's shadow. Start clean.
  __asan_unpoison_memory_region(s.base, s.size);
#endif
  OnStackCall c{fn, arg, {}, nullptr, nullptr};
  bc::fcontext_t ctx = bc::make_fcontext(s.top(), s.size, onStackEntry);
  void *fake = nullptr;
  // Under TSan the call runs as a fiber of its own: its entry frame never returns, so it must
  // not be left on the caller's shadow stack.
  c.callerFiber = tsanCurrentFiber();
  void *callee = tsanCreateFiber();
  tsanSwitchToFiber(callee);
  asanStartSwitch(&fake, s);
  bc::jump_fcontext(ctx, &c);
  asanFinishSwitch(fake, nullptr);
  tsanDestroyFiber(callee);
  if (c.thrown) std::rethrow_exception(c.thrown);
}

#ifdef CFM_ASAN
void asanStartSwitch(void **fakeStackSave, const Stack &to) {
  __sanitizer_start_switch_fiber(fakeStackSave, to.base, to.size);
}
void asanFinishSwitch(void *fakeStackSave, Stack *from) {
  const void *b = nullptr;
  size_t n = 0;
  __sanitizer_finish_switch_fiber(fakeStackSave, &b, &n);
  if (from) *from = {static_cast<char *>(const_cast<void *>(b)), n};
}
#else
void asanStartSwitch(void **, const Stack &) {}
void asanFinishSwitch(void *, Stack *) {}
#endif

#ifdef CFM_TSAN
void *tsanCurrentFiber() { return __tsan_get_current_fiber(); }
void *tsanCreateFiber() { return __tsan_create_fiber(0); }
void tsanSwitchToFiber(void *fiber) { __tsan_switch_to_fiber(fiber, 0); }
void tsanDestroyFiber(void *fiber) {
  if (fiber) __tsan_destroy_fiber(fiber);
}
#else
void *tsanCurrentFiber() { return nullptr; }
void *tsanCreateFiber() { return nullptr; }
void tsanSwitchToFiber(void *) {}
void tsanDestroyFiber(void *) {}
#endif

} // namespace cfm::rt::sched
