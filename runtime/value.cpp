// value.cpp — allocation and destruction of heap objects, and runtime errors.
#include "runtime/runtime.h"
#include "runtime/sched/scheduler.h"
#include "runtime/sched/stack.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <unistd.h>

#include <cstring>
#include <new>

namespace cfm::rt {

Str *newStr(std::string_view s) {
  void *mem = ::operator new(sizeof(Str) + s.size() + 1);
  Str *str = new (mem) Str();
  str->len = static_cast<int64_t>(s.size());
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
    s->~Str();
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
