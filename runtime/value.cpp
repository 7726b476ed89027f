// value.cpp — allocation and destruction of heap objects, and runtime errors.
#include "base/sanitizers.h"
#include "runtime/runtime.h"
#include "runtime/sched/scheduler.h"
#include "runtime/sched/stack.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace cfm::rt {

namespace {
/// Freed short strings, kept per thread for the next newStr of the same size class: a string
/// built, used as a key and dropped each iteration (`m["k${i}"] += 1`) does not go through the
/// allocator twice. Two classes, 32 and 48 bytes (jemalloc's): a string of at most 7 bytes and
/// one of at most 23. newStr allocates at least the class size for a short string, and every
/// other string is larger (a template's text buffer holds 64 bytes or more), so a freed string
/// fits the class of its length. Bounded (kStrCacheMax a class); the blocks are freed when the
/// thread ends. Off under AddressSanitizer, which must see every free.
constexpr bool kStrCache = !base::kAsan;
constexpr int64_t kStrClassLen[2] = {32 - static_cast<int64_t>(sizeof(Str)) - 1,
                                     48 - static_cast<int64_t>(sizeof(Str)) - 1};
constexpr uint32_t kStrCacheMax = 64;

struct FreeStr {
  FreeStr *next;
};
/// Trivially destructible, so that reaching it costs no guard; `owner` frees the blocks.
struct StrCache {
  FreeStr *head[2];
  uint32_t count[2];
  bool registered;
};
thread_local StrCache tStrCache{};

void drainStrCache() {
  for (int c = 0; c < 2; ++c) {
    while (FreeStr *f = tStrCache.head[c]) {
      tStrCache.head[c] = f->next;
      ::operator delete(f);
    }
    tStrCache.count[c] = kStrCacheMax; // full: a string freed later in the thread's exit is deleted
  }
}
struct StrCacheOwner {
  ~StrCacheOwner() { drainStrCache(); }
};
[[gnu::noinline]] void registerStrCache() {
  thread_local StrCacheOwner owner;
  (void)&owner;
  tStrCache.registered = true;
}

inline int strClass(int64_t len) { return len <= kStrClassLen[0] ? 0 : len <= kStrClassLen[1] ? 1 : -1; }
} // namespace

Str *allocStr(int64_t len) {
  int c = kStrCache ? strClass(len) : -1;
  void *mem;
  if (c >= 0 && tStrCache.head[c]) {
    FreeStr *f = tStrCache.head[c];
    tStrCache.head[c] = f->next;
    --tStrCache.count[c];
    mem = f;
  } else {
    // A short string takes its whole class, so that it can be reused for any string of it;
    // never less than kStrMinRoom bytes after the header.
    size_t room = c >= 0 ? static_cast<size_t>(kStrClassLen[c]) + 1 : static_cast<size_t>(len) + 1;
    mem = ::operator new(sizeof(Str) + std::max(room, kStrMinRoom));
  }
  Str *str = new (mem) Str();
  str->len = len;
  return str;
}

Str *newStr(std::string_view s) {
  Str *str = allocStr(static_cast<int64_t>(s.size()));
  copyBytes(str->data(), s.data(), s.size());
  str->data()[s.size()] = '\0';
  return str;
}

namespace {
/// Freed when memory runs out, so that stdio can still flush and write the message.
char *gReserve = nullptr;
} // namespace

void outOfMemory() {
  std::free(gReserve);
  gReserve = nullptr;
  std::cout.flush(); // cfmc unties iostreams from stdio (sync_with_stdio(false))
  std::cerr.flush();
  std::fflush(nullptr);
  static const char kMsg[] = "error: out of memory\n";
  ssize_t n = ::write(2, kMsg, sizeof kMsg - 1);
  (void)n;
  ::_exit(1);
}

void installOutOfMemoryHandler() {
  if (!gReserve) gReserve = static_cast<char *>(std::malloc(size_t(1) << 20));
  std::set_new_handler([] { outOfMemory(); });
}

void destroy(Obj *o) {
  if (o->kind == Kind::String) { // the most common, and it holds nothing: no deep-stack check
    Str *s = static_cast<Str *>(o);
    int c = kStrCache ? strClass(s->len) : -1;
    s->~Str();
    if (c >= 0 && tStrCache.count[c] < kStrCacheMax) {
      if (!tStrCache.registered) [[unlikely]]
        registerStrCache();
      auto *f = reinterpret_cast<FreeStr *>(s);
      f->next = tStrCache.head[c];
      tStrCache.head[c] = f;
      ++tStrCache.count[c];
      return;
    }
    // Not a sized delete: a template's output is a string made in place in its text buffer
    // (abi.cpp cfm_text_value), whose allocation may be larger than its length says; jemalloc
    // given the wrong size corrupts its heap (cfmd crashed in later runs).
    ::operator delete(s);
    return;
  }
  // Values nest without bound (a json built level by level, a recursive record): the walk goes
  // on on a new stack segment when this one is nearly full (sched/stack.h).
  if (sched::deepStackLow()) [[unlikely]]
    return sched::deep([o] { destroy(o); });
  switch (o->kind) {
  case Kind::List: {
    List *l = static_cast<List *>(o);
    for (Slot s : l->items) releaseSlot(s, l->type->elem);
    delete l;
    return;
  }
  case Kind::Map: {
    Map *m = static_cast<Map *>(o);
    for (const Map::Entry &e : m->entries) {
      if (!e.live) continue;
      releaseSlot(e.key, m->type->elem);
      releaseSlot(e.value, m->type->value);
    }
    if (m->stringKeys) release(m->lastKey.o);
    delete m;
    return;
  }
  case Kind::Record: {
    Record *r = static_cast<Record *>(o);
    for (size_t i = 0; i < r->fields.size(); ++i) releaseSlot(r->fields[i], r->type->fieldTypes[i]);
    delete r;
    return;
  }
  case Kind::Json: {
    Json *j = static_cast<Json *>(o);
    release(j->s);
    for (Json *x : j->items) release(x);
    for (Str *k : j->keys) release(k);
    delete j;
    return;
  }
  case Kind::Error: {
    ErrorVal *e = static_cast<ErrorVal *>(o);
    release(e->errKind);
    release(e->message);
    release(e->code);
    delete e;
    return;
  }
  case Kind::Task: sched::destroyTask(o); return;
  default: delete o;
  }
}

namespace {
// The pending error of the running task. One scheduler thread runs all tasks (value.h); the
// scheduler saves and restores it when it switches tasks.
thread_local ErrorVal *tPending = nullptr;
const char *const kErrTexts[] = {
#define RTERR(id, text) text,
#include "runtime/errors.def"
#undef RTERR
};
} // namespace

const char *errKindText(ErrKind k) { return kErrTexts[static_cast<int>(k)]; }

bool raise(ErrKind k, std::string message) { return raise(k, std::string(), std::move(message)); }

bool raise(ErrKind k, std::string code, std::string message) {
  clearError();
  tPending = new ErrorVal(newStr(errKindText(k)), newStr(message), newStr(code));
  return false;
}

bool raiseStackOverflow() { return raise(ErrKind::Stack, "stack overflow (calls nested too deeply)"); }

bool raiseUser(std::string message) { return raise(ErrKind::User, std::move(message)); }

ErrorVal *pendingError() { return tPending; }

ErrorVal *takeError() {
  ErrorVal *e = tPending;
  tPending = nullptr;
  return e;
}

void printUncaught(FILE *err) {
  ErrorVal *e = takeError();
  if (!e) return;
  std::string s = "error: " + std::string(e->message->view()) + "\n";
  // A deep recursion passes thousands of frames: a run of one frame is cut after its third
  // line, and a trace still longer keeps its innermost and outermost frames (as Python does).
  std::vector<std::string> lines;
  const std::vector<std::string> &tr = e->trace;
  for (size_t i = 0; i < tr.size();) {
    size_t j = i;
    while (j < tr.size() && tr[j] == tr[i]) ++j;
    for (size_t k = i; k < j && k < i + kTraceRepeatsShown; ++k) lines.push_back("  at " + tr[k] + "\n");
    if (j - i > kTraceRepeatsShown)
      lines.push_back("  [the frame above repeated " + std::to_string(j - i - kTraceRepeatsShown) +
                      " more times]\n");
    i = j;
  }
  if (lines.size() > 2 * kTraceEndsShown + 1) {
    size_t cut = lines.size() - 2 * kTraceEndsShown;
    lines.erase(lines.begin() + kTraceEndsShown, lines.end() - kTraceEndsShown);
    lines.insert(lines.begin() + kTraceEndsShown, "  [" + std::to_string(cut) + " more lines]\n");
  }
  for (const std::string &l : lines) s += l;
  fputs(s.c_str(), err);
  release(e);
}

void raiseError(ErrorVal *e) {
  clearError();
  tPending = e;
}

void clearError() {
  release(tPending);
  tPending = nullptr;
}

} // namespace cfm::rt
