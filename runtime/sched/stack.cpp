// stack.cpp — segments for the runtime's deep walks (stack.h).
#include "runtime/sched/stack.h"

#include "runtime/runtime.h"
#include "runtime/sched/fiber.h"

#include <pthread.h>
#include <vector>

namespace cfm::rt::sched {

namespace {

/// Segments kept for reuse on this thread (a walk that keeps crossing a boundary would otherwise
/// map and unmap one each time); more than this are unmapped when they come back.
constexpr size_t kKeptSegments = 4;

struct SegmentCache {
  std::vector<Stack> free;
  ~SegmentCache() {
    for (Stack s : free) unmapGuardedStack(s);
  }
};
thread_local SegmentCache tSegments;

/// Set while callAsThreadStack runs: the segment that stands in for this thread's stack.
thread_local const char *tStandInLimit = nullptr;

const char *threadStackLimit() {
  if (tStandInLimit) return tStandInLimit;
  thread_local const char *lim = [] {
    pthread_attr_t a;
    void *addr = nullptr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &a) != 0) return static_cast<const char *>(nullptr);
    pthread_attr_getstack(&a, &addr, &size);
    pthread_attr_destroy(&a);
    return static_cast<const char *>(addr) + kStackMargin;
  }();
  return lim;
}

} // namespace

const char *currentStackLimit() { return tl.stackLimit ? tl.stackLimit : threadStackLimit(); }

void callAsThreadStack(size_t bytes, void (*fn)(void *), void *arg) {
  Stack seg = mapGuardedStack(bytes);
  if (!seg.base) outOfMemory();
  struct Restore {
    const char *savedLimit, *savedStandIn;
    Stack seg;
    ~Restore() {
      tl.stackLimit = savedLimit;
      tStandInLimit = savedStandIn;
      unmapGuardedStack(seg);
    }
  } restore{tl.stackLimit, tStandInLimit, seg};
  tStandInLimit = seg.base + kStackMargin;
  tl.stackLimit = tStandInLimit;
  callOnStack(seg, fn, arg);
}

void callOnNewSegment(size_t bytes, void (*fn)(void *), void *arg) {
  Stack seg;
  bool reusable = bytes == kDeepSegmentBytes;
  if (reusable && !tSegments.free.empty()) {
    seg = tSegments.free.back();
    tSegments.free.pop_back();
  } else {
    seg = mapGuardedStack(bytes);
    if (!seg.base) outOfMemory();
  }
  const char *saved = tl.stackLimit;
  tl.stackLimit = seg.base + kStackMargin;
  struct Restore {
    const char *saved;
    Stack seg;
    bool reusable;
    ~Restore() {
      tl.stackLimit = saved;
      if (reusable && tSegments.free.size() < kKeptSegments)
        tSegments.free.push_back(seg);
      else
        unmapGuardedStack(seg);
    }
  } restore{saved, seg, reusable};
  callOnStack(seg, fn, arg);
}

} // namespace cfm::rt::sched
