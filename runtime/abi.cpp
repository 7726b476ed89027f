// abi.cpp — the C ABI over the runtime's C++ functions. Every function only converts between C
// and C++ types and forwards, so an engine calling either cannot behave differently.
#include "runtime/abi.h"

#include "runtime/collections.h"
#include "runtime/sched/scheduler.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

using namespace cfm::rt;

// A string's bytes follow the object (Str::data); JIT'd template code copies them from there
// (CFM_STR_CHARS_OFFSET): a field added to Str must move the offset too.
static_assert(sizeof(Str) == CFM_STR_CHARS_OFFSET, "CFM_STR_CHARS_OFFSET is not where Str's bytes start");

namespace {
cfm_status status(bool ok) { return ok ? 0 : 1; }

// A template's text (cfm_text) is written into the character array of a string that is not yet
// finished: `cap` bytes and one for the NUL after the Str header (newStr's layout), so that
// cfm_text_finish only sets the length.
constexpr int64_t kTextMinCap = 64;
constexpr int64_t kTextSlack = 64; // unused room a finished string keeps, and an eighth of its length
char *newTextBuffer(int64_t cap) {
  void *mem = ::operator new(sizeof(Str) + static_cast<size_t>(cap) + 1);
  return (new (mem) Str())->data();
}
void freeTextBuffer(char *data) {
  Str *s = reinterpret_cast<Str *>(data) - 1;
  s->~Str();
  ::operator delete(s);
}
/// The N bytes at P (N at most 8) in the low bytes of a word, zero above (overlapping loads:
/// nothing past P + N is read).
inline uint64_t loadShort(const char *p, size_t n) {
  uint32_t a, b;
  if (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  }
  if (n >= 4) {
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    return a | static_cast<uint64_t>(b) << (8 * (n - 4));
  }
  if (n == 0) return 0;
  return static_cast<uint64_t>(static_cast<unsigned char>(p[0])) |
         static_cast<uint64_t>(static_cast<unsigned char>(p[n / 2])) << (8 * (n / 2)) |
         static_cast<uint64_t>(static_cast<unsigned char>(p[n - 1])) << (8 * (n - 1));
}

/// cfm_str_build's result if it is at most 8 bytes of text, string and int pieces, else null
/// (nothing allocated). The bytes are gathered little-endian in one word and stored at once; every string has
/// room for 8 bytes after its header (value.h kStrMinRoom), and the zero bytes above the text are its NUL.
Str *buildShort(const cfm_piece *pieces, int64_t count) {
  uint64_t word = 0;
  size_t len = 0;
  for (int64_t i = 0; i < count; ++i) {
    const cfm_piece &p = pieces[i];
    uint64_t bytes;
    size_t n;
    if (!p.type || p.type->kind == Kind::String) {
      const char *text = p.text;
      n = static_cast<size_t>(p.len);
      if (p.type) {
        const Str *str = static_cast<const Str *>(Slot{.i = p.value}.o);
        text = str->data();
        n = static_cast<size_t>(str->len);
      }
      if (n > 8 - len) return nullptr;
      bytes = loadShort(text, n);
    } else if (p.type->kind == Kind::Int) {
      bool neg = p.value < 0;
      uint64_t u = neg ? 0 - static_cast<uint64_t>(p.value) : static_cast<uint64_t>(p.value);
      // Digits by division, least significant first, each shifted in below the ones before:
      // the last one shifted in is the first. (A branchless split into byte lanes with a few
      // multiplies measured slower for the short numbers keys hold: a longer chain of latency.)
      // A number with more digits than there is room for gives up before dividing.
      static constexpr uint64_t kFits[9] = {0, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
      size_t room = 8 - len - (neg ? 1 : 0); // len <= 8; wraps around (huge) when negative
      if (room > 8 || u >= kFits[room]) return nullptr;
      bytes = 0;
      n = 0;
      do {
        bytes = bytes << 8 | ('0' + u % 10);
        u /= 10;
        ++n;
      } while (u != 0);
      if (neg) {
        bytes = bytes << 8 | '-';
        ++n;
      }
    } else {
      return nullptr;
    }
    if (n == 0) continue;
    word |= bytes << (8 * len); // len < 8: n >= 1 bytes fit after it
    len += n;
  }
  Str *s = allocStr(static_cast<int64_t>(len));
  std::memcpy(s->data(), &word, 8);
  if (len == 8) s->data()[8] = '\0';
  return s;
}
} // namespace

// See abi.h: cfm_slot, an 8-byte union, is returned with C linkage on purpose.
#ifdef __clang__
#pragma clang diagnostic ignored "-Wreturn-type-c-linkage"
#endif

extern "C" {

void cfm_retain(cfm_obj *o) { retain(o); }
void cfm_release(cfm_obj *o) { release(o); }
cfm_obj *cfm_unique(cfm_slot *place) { return unique(*place); }

cfm_status cfm_raise_user(const cfm_str *message) { return status(raiseUser(std::string(message->view()))); }
cfm_error *cfm_take_error(void) { return takeError(); }
const cfm_str *cfm_error_kind(const cfm_error *e) { return e->errKind; }
const cfm_str *cfm_error_message(const cfm_error *e) { return e->message; }
const cfm_str *cfm_error_code(const cfm_error *e) { return e->code; }
void cfm_fail_at(const char *file, int64_t line) { recordTraceLine(file, line); }
void cfm_frame_done(void) { frameDone(); }
void cfm_stack_overflow(void) { (void)raiseStackOverflow(); }

cfm_status cfm_add_int(int64_t a, int64_t b, int64_t *out) { return status(addInt(a, b, *out)); }
cfm_status cfm_sub_int(int64_t a, int64_t b, int64_t *out) { return status(subInt(a, b, *out)); }
cfm_status cfm_mul_int(int64_t a, int64_t b, int64_t *out) { return status(mulInt(a, b, *out)); }
cfm_status cfm_div_int(int64_t a, int64_t b, int64_t *out) { return status(divInt(a, b, *out)); }
cfm_status cfm_mod_int(int64_t a, int64_t b, int64_t *out) { return status(modInt(a, b, *out)); }
cfm_status cfm_neg_int(int64_t a, int64_t *out) { return status(negInt(a, *out)); }
double cfm_mod_float(double a, double b) { return modFloat(a, b); }
cfm_status cfm_int_of_string(const cfm_str *s, int64_t *out) { return status(intOfString(s->view(), *out)); }
cfm_status cfm_int_of_float(double f, int64_t *out) { return status(intOfFloat(f, *out)); }
cfm_status cfm_float_of_string(const cfm_str *s, double *out) {
  return status(floatOfString(s->view(), *out));
}

cfm_str *cfm_str_new(const char *data, int64_t len) {
  return newStr(std::string_view(data, static_cast<size_t>(len)));
}
int64_t cfm_str_len(const cfm_str *s) { return s->len; }
const char *cfm_str_data(const cfm_str *s) { return s->data(); }
cfm_str *cfm_str_concat(const cfm_str *a, const cfm_str *b) { return concat(a, b); }
int64_t cfm_str_compare(const cfm_str *a, const cfm_str *b) { return a->view().compare(b->view()); }
cfm_str *cfm_format(cfm_slot v, const cfm_type *t) { return newStr(format(v, t)); }
int64_t cfm_equal(cfm_slot a, cfm_slot b, const cfm_type *t) { return equal(a, b, t); }
void cfm_print(void *file, cfm_slot v, const cfm_type *t) { printValue(static_cast<FILE *>(file), v, t); }
cfm_str *cfm_str_build(const cfm_piece *pieces, int64_t n) {
  // A result of at most 8 bytes (most keys: "k${i}", "${a}-${b}") is put together in a register
  // and written with one store: no stack buffer to copy from, and the lookup that reads the new
  // key's bytes next (collections.cpp keyHead) gets them forwarded from that one store (a wide
  // load from several narrow stores, as a copy of to_chars' digits makes, waits for them to
  // reach the cache).
  if (Str *s = buildShort(pieces, n)) return s;
  // Other interpolations of short text, strings and ints ("${host}:${port}"): built in a buffer
  // on the stack and copied once into the new string, without format()'s dispatch.
  char small[256];
  size_t used = 0;
  bool fits = true;
  for (int64_t i = 0; i < n && fits; ++i) {
    const cfm_piece &p = pieces[i];
    std::string_view text;
    if (!p.type)
      text = {p.text, static_cast<size_t>(p.len)};
    else if (p.type->kind == Kind::String)
      text = static_cast<const Str *>(Slot{.i = p.value}.o)->view();
    else if (p.type->kind == Kind::Int && sizeof small - used >= 20) {
      auto r = std::to_chars(small + used, small + sizeof small, p.value);
      used = static_cast<size_t>(r.ptr - small);
      continue;
    } else {
      fits = false;
      break;
    }
    if (text.size() > sizeof small - used) {
      fits = false;
      break;
    }
    copyBytes(small + used, text.data(), text.size());
    used += text.size();
  }
  if (fits) return newStr({small, used});
  std::string s;
  for (int64_t i = 0; i < n; ++i) {
    const cfm_piece &p = pieces[i];
    if (p.type)
      format(s, Slot{.i = p.value}, p.type);
    else
      s.append(p.text, static_cast<size_t>(p.len));
  }
  return newStr(s);
}
void cfm_text_init(cfm_text *t, int64_t hint) {
  t->cap = std::max<int64_t>(hint, kTextMinCap);
  t->data = newTextBuffer(t->cap);
  t->len = 0;
}
void cfm_text_reserve(cfm_text *t, int64_t more) {
  if (t->cap - t->len >= more) return;
  int64_t cap = std::max(t->cap * 2, t->len + more);
  char *data = newTextBuffer(cap);
  if (t->len) std::memcpy(data, t->data, static_cast<size_t>(t->len));
  freeTextBuffer(t->data);
  t->data = data;
  t->cap = cap;
}
void cfm_text_append(cfm_text *t, const char *data, int64_t len) {
  cfm_text_reserve(t, len);
  if (len) std::memcpy(t->data + t->len, data, static_cast<size_t>(len));
  t->len += len;
}
void cfm_text_value(cfm_text *t, cfm_slot v, const cfm_type *type) {
  if (type->kind == Kind::String) {
    std::string_view s = static_cast<const Str *>(v.o)->view();
    return cfm_text_append(t, s.data(), static_cast<int64_t>(s.size()));
  }
  if (type->kind == Kind::Int) {
    cfm_text_reserve(t, 20);
    auto r = std::to_chars(t->data + t->len, t->data + t->cap, v.i);
    t->len = r.ptr - t->data;
    return;
  }
  std::string s;
  format(s, v, type);
  cfm_text_append(t, s.data(), static_cast<int64_t>(s.size()));
}
cfm_str *cfm_text_finish(cfm_text *t) {
  Str *s;
  if (t->cap - t->len > kTextSlack + t->len / 8) {
    // More room than text (the hint was for a longer one, or growth doubled, or the text is
    // short): a string of the right size instead of the buffer.
    s = newStr({t->data, static_cast<size_t>(t->len)});
    freeTextBuffer(t->data);
  } else {
    s = reinterpret_cast<Str *>(t->data) - 1;
    s->len = t->len;
    t->data[t->len] = '\0';
  }
  t->data = nullptr;
  t->len = t->cap = 0;
  return s;
}
void cfm_text_drop(cfm_text *t) {
  if (t->data) freeTextBuffer(t->data);
  t->data = nullptr;
  t->len = t->cap = 0;
}
cfm_str *cfm_str_trim(const cfm_str *s) { return strTrim(s); }
cfm_str *cfm_str_upper(const cfm_str *s) { return strUpper(s); }
cfm_str *cfm_str_lower(const cfm_str *s) { return strLower(s); }
cfm_str *cfm_str_replace(const cfm_str *s, const cfm_str *from, const cfm_str *to) {
  return strReplace(s, from, to);
}
int64_t cfm_str_contains(const cfm_str *s, const cfm_str *part) { return strContains(s, part); }
int64_t cfm_str_starts_with(const cfm_str *s, const cfm_str *prefix) { return strStartsWith(s, prefix); }
int64_t cfm_str_ends_with(const cfm_str *s, const cfm_str *suffix) { return strEndsWith(s, suffix); }

cfm_list *cfm_list_new(const cfm_type *listType) { return newList(listType); }
int64_t cfm_list_len(const cfm_list *l) { return static_cast<int64_t>(l->items.size()); }
cfm_status cfm_list_get(const cfm_list *l, int64_t i, cfm_slot *out) { return status(listGet(l, i, *out)); }
cfm_status cfm_list_set(cfm_list *l, int64_t i, cfm_slot v) { return status(listSet(l, i, v)); }
void cfm_list_push(cfm_list *l, cfm_slot v) { listPush(l, v); }
cfm_status cfm_list_pop(cfm_list *l, cfm_slot *out) { return status(listPop(l, *out)); }
cfm_list *cfm_list_concat(const cfm_list *a, const cfm_list *b) { return listConcat(a, b); }
int64_t cfm_list_contains(const cfm_list *l, cfm_slot v) { return listContains(l, v); }
cfm_str *cfm_list_join(const cfm_list *l, const cfm_str *sep) { return listJoin(l, sep); }
cfm_list *cfm_str_split(const cfm_str *s, const cfm_str *sep, const cfm_type *listOfString) {
  return strSplit(s, sep, listOfString);
}

cfm_map *cfm_map_new(const cfm_type *mapType) { return newMap(mapType); }
cfm_status cfm_map_get(const cfm_map *m, cfm_slot key, cfm_slot *out) { return status(mapGet(m, key, *out)); }
void cfm_map_set(cfm_map *m, cfm_slot key, cfm_slot value) { mapSet(m, key, value); }
int64_t cfm_map_has(const cfm_map *m, cfm_slot key) { return mapFind(m, key) != nullptr; }
void cfm_map_remove(cfm_map *m, cfm_slot key) { mapRemove(m, key); }
int64_t cfm_map_len(const cfm_map *m) { return m->count; }
cfm_list *cfm_map_keys(const cfm_map *m, const cfm_type *listOfKeys) { return mapKeys(m, listOfKeys); }
cfm_list *cfm_map_values(const cfm_map *m, const cfm_type *listOfValues) {
  return mapValues(m, listOfValues);
}
int64_t cfm_map_entries(const cfm_map *m) { return static_cast<int64_t>(m->entries.size()); }
int64_t cfm_map_entry(const cfm_map *m, int64_t i, cfm_slot *key, cfm_slot *value) {
  const Map::Entry &e = m->entries[static_cast<size_t>(i)];
  *key = e.key;
  *value = e.value;
  return e.live;
}

cfm_record *cfm_record_new(const cfm_type *recordType) { return new Record(recordType); }
void cfm_record_set(cfm_record *r, int64_t field, cfm_slot v) { r->fields[static_cast<size_t>(field)] = v; }
cfm_slot cfm_record_get(const cfm_record *r, int64_t field) { return r->fields[static_cast<size_t>(field)]; }

// The steps of interp's resolvePlace, one at a time.
cfm_slot *cfm_place_index(cfm_slot *place, int64_t i) {
  List *l = static_cast<List *>(unique(*place));
  Slot unused;
  if (!listGet(l, i, unused)) return nullptr; // raises the index error
  return &l->items[static_cast<size_t>(i)];
}
cfm_slot *cfm_place_key(cfm_slot *place, cfm_slot key, int64_t create) {
  return mapPlaceAgain(static_cast<Map *>(unique(*place)), key, create != 0); // null: the key error
}
cfm_slot *cfm_place_field(cfm_slot *place, int64_t field) {
  return &static_cast<Record *>(unique(*place))->fields[static_cast<size_t>(field)];
}

cfm_json *cfm_to_json(cfm_slot v, const cfm_type *t) { return toJson(v, t); }
cfm_status cfm_parse_json(const cfm_str *text, cfm_json **out) {
  return status(parseJson(text->view(), *out));
}
cfm_status cfm_json_index_key(const cfm_json *j, const cfm_str *key, cfm_json **out) {
  return status(jsonIndexKey(j, key->view(), *out));
}
cfm_status cfm_json_index_int(const cfm_json *j, int64_t i, cfm_json **out) {
  return status(jsonIndexInt(j, i, *out));
}

cfm_json *cfm_json_null(void) { return jsonNull(); }
cfm_json *cfm_json_array_new(void) {
  Json *j = new Json();
  j->j = Json::J::Array;
  return j;
}
void cfm_json_array_push(cfm_json *array, cfm_json *item) { array->items.push_back(item); }
cfm_json *cfm_json_object_new(void) {
  Json *j = new Json();
  j->j = Json::J::Object;
  return j;
}
void cfm_json_object_set(cfm_json *object, cfm_str *key, cfm_json *value) {
  jsonObjectSet(object, key, value);
}
cfm_str *cfm_to_json_text(cfm_slot v, const cfm_type *t) { return toJsonText(v, t); }
cfm_status cfm_json_as(const cfm_json *j, int64_t which, cfm_slot *out) {
  return status(jsonAs(j, static_cast<JsonAs>(which), *out));
}

void *cfm_task_local(void) { return &sched::tl; }
int64_t cfm_cancelling(void) { return sched::cancelling(); }
void cfm_open_scope(void) { sched::openScope(); }
cfm_status cfm_close_scope(int64_t failing) { return status(sched::closeScope(failing != 0)); }
cfm_status cfm_sleep(int64_t ms) { return status(sched::sleep(ms)); }
cfm_obj *cfm_spawn(const cfm_type *resultType, cfm_task_entry entry, void *env, cfm_env_drop drop) {
  return sched::spawn(resultType, entry, env, drop);
}
void *cfm_env_new(int64_t bytes) { return std::calloc(1, static_cast<size_t>(bytes)); }
void cfm_env_free(void *env) { std::free(env); }
cfm_status cfm_wait(cfm_obj *task, int64_t timeoutMs, cfm_slot *out) {
  return status(sched::wait(task, timeoutMs, *out));
}
cfm_status cfm_wait_list(const cfm_list *tasks, const cfm_type *listType, int64_t timeoutMs, cfm_slot *out) {
  return status(sched::waitList(tasks, listType, timeoutMs, *out));
}
int64_t cfm_now_ms(void) { return nowMs(); }

} // extern "C"
