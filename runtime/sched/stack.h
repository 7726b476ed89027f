// stack.h — deep recursion in the runtime without overflowing a task's stack (issue 12).
//
// Values can be nested without bound: a program builds json one level at a time (`j = [j]`)
// or a recursive record (`record Node { kids: list<Node> }`), and the runtime's own walks over
// values — destroy, str/print, to_json, ==, json text — recurse once per level. A task's stack
// is small (256 KiB by default) and pooled stacks have no guard page (fiber.h), so a walk that
// runs off its end would write into a neighbour's stack. Every such walk therefore calls
// `deep(f)` at each level: while the stack has room it simply calls f; near the limit it runs f
// on a fresh 1 MiB segment (guarded), as Rust's `stacker` does, and the walk goes on there. The
// result is always the value — a 200,000-level json converts, compares, prints and frees — and
// memory is the only bound. Walks must not suspend (they never do: none of them waits).
//
// Outside a task (the scheduler's own loop, a thread without a scheduler) the limit is the
// thread's stack as pthread reports it, less the same margin.
#pragma once

#include "runtime/sched/scheduler.h"

#include <optional>
#include <type_traits>
#include <utility>

namespace cfm::rt::sched {

/// A walk switches to a new segment when less than this is left above the stack's limit.
constexpr size_t kDeepGrowAt = 32 * 1024;
/// The size of each segment a walk continues on.
constexpr size_t kDeepSegmentBytes = size_t(1) << 20;

/// The lowest address code on this thread's current stack may use (tl.stackLimit in a task).
const char *currentStackLimit();

/// Stack that the compilers (front end, LLVM) get when a task renders a ConfigTemplate that
/// arrived at run time: they are not written for 256 KiB.
constexpr size_t kCompilerStackBytes = size_t(8) << 20;

/// Runs fn(arg) on a fresh segment of `bytes` (kept for reuse when it is the walks' size), with
/// tl.stackLimit set to it; ends the process with `out of memory` when none can be mapped.
void callOnNewSegment(size_t bytes, void (*fn)(void *), void *arg);

/// Runs fn(arg) on a fresh segment of `bytes` that stands in for this thread's own stack until it
/// returns: the limit every check falls back to when no task's applies (tl reset, as the
/// scheduler does between tasks) is the segment's, not the thread's. For a program's whole run
/// on a stack larger than the thread's without starting a thread (cfmc); exceptions pass through;
/// ends the process with `out of memory` when no segment can be mapped.
void callAsThreadStack(size_t bytes, void (*fn)(void *), void *arg);

/// True when less than `need` bytes are left above the running stack's limit.
inline bool stackShort(size_t need) {
  const char *sp = static_cast<const char *>(__builtin_frame_address(0));
  const char *lim = tl.stackLimit ? tl.stackLimit : currentStackLimit();
  return sp < lim + need;
}
inline bool deepStackLow() { return stackShort(kDeepGrowAt); }

/// f() with at least `need` bytes of stack: here when there is room, else on a new segment of
/// `segment` bytes.
template <typename F> inline auto withStack(size_t need, size_t segment, F &&f) -> decltype(f()) {
  using R = decltype(f());
  if (!stackShort(need)) [[likely]]
    return f();
  if constexpr (std::is_void_v<R>) {
    callOnNewSegment(
        segment, [](void *p) { (*static_cast<std::remove_reference_t<F> *>(p))(); }, &f);
  } else {
    std::optional<R> r;
    auto g = [&] { r.emplace(f()); };
    callOnNewSegment(
        segment, [](void *p) { (*static_cast<decltype(g) *>(p))(); }, &g);
    return std::move(*r);
  }
}

/// f() — here, or on a new segment when the stack is nearly full (a walk's next level).
template <typename F> inline auto deep(F &&f) -> decltype(f()) {
  return withStack(kDeepGrowAt, kDeepSegmentBytes, std::forward<F>(f));
}

} // namespace cfm::rt::sched
