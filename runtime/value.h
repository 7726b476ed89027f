// value.h — the runtime's value model (LANGUAGE.md "Types"), shared by both engines.
//
// Static typing lets values stay unboxed: every value is one 8-byte Slot — an int, a duration
// (milliseconds) or a bool in `i`, a float in `f`, anything else a pointer to a reference-counted
// heap object. What a slot holds is known from its static type; the runtime learns it from a
// TypeDesc, which the compiler builds once per type of the program (types.cpp).
//
// Lists, maps and records are values (copy on write): an object with more than one reference is
// copied before it is changed, so no two variables or tasks ever share one mutably. Reference
// counts are not atomic: all tasks of a program run on one scheduler thread (issue 4's design),
// and values cross threads only by copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cfm::rt {

enum class Kind : uint8_t { Int, Float, Bool, String, Duration, Void, Json, List, Map, Record, Task, Error };

struct Obj;

union Slot {
  int64_t i;
  double f;
  Obj *o;
};
static_assert(sizeof(Slot) == 8);

/// A runtime type: the kind, element types, and for records the field names and types.
struct TypeDesc {
  explicit TypeDesc(Kind k, const TypeDesc *e = nullptr, const TypeDesc *v = nullptr)
      : kind(k), elem(e), value(v) {}
  Kind kind;
  const TypeDesc *elem = nullptr;  // List, Task: the element / result; Map: the key
  const TypeDesc *value = nullptr; // Map: the value
  std::string_view name;           // Record: its name
  bool model = false;              // Record: a model object (prints as `Name(first field)`)
  std::vector<std::string_view> fieldNames;
  std::vector<const TypeDesc *> fieldTypes;
  /// True if slots of this type hold heap objects (strings, collections, json, records...).
  bool boxed() const {
    return kind != Kind::Int && kind != Kind::Float && kind != Kind::Bool && kind != Kind::Duration &&
           kind != Kind::Void;
  }
};

/// Header of every heap object.
struct Obj {
  uint32_t rc = 1;
  Kind kind;
  explicit Obj(Kind k) : kind(k) {}
};

void destroy(Obj *o); // frees an object whose count reached zero (and releases what it holds)

inline void retain(Obj *o) {
  if (o) ++o->rc;
}
inline void release(Obj *o) {
  if (o && --o->rc == 0) destroy(o);
}
inline void retainSlot(Slot s, const TypeDesc *t) {
  if (t->boxed()) retain(s.o);
}
inline void releaseSlot(Slot s, const TypeDesc *t) {
  if (t->boxed()) release(s.o);
}

/// One owned reference to a heap object, released when the handle goes out of scope — on every
/// path out, error returns included. `Ref<List>(newList(t))` adopts the reference a constructor
/// returned; `take()` hands it on (to a slot, a container, the caller) and leaves the handle empty.
template <class T = Obj> class Ref {
public:
  Ref() = default;
  explicit Ref(T *adopted) : p_(adopted) {}
  Ref(Ref &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Ref &operator=(Ref &&o) noexcept {
    reset(std::exchange(o.p_, nullptr));
    return *this;
  }
  Ref(const Ref &) = delete;
  Ref &operator=(const Ref &) = delete;
  ~Ref() { release(p_); }
  /// A new reference to p (its count goes up); the handle releases it.
  static Ref share(T *p) {
    retain(p);
    return Ref(p);
  }
  T *get() const { return p_; }
  T *operator->() const { return p_; }
  explicit operator bool() const { return p_ != nullptr; }
  [[nodiscard]] T *take() { return std::exchange(p_, nullptr); }
  void reset(T *adopted = nullptr) { release(std::exchange(p_, adopted)); }

private:
  T *p_ = nullptr;
};

/// A slot of a known static type that owns what it holds: released when it goes out of scope
/// unless taken. It adopts a value once the value exists (after an evaluation succeeded: a
/// failed one leaves nothing to own) and hands it on with `take()`.
class HeldSlot {
public:
  HeldSlot(const TypeDesc *t, Slot adopted) : s_(adopted), t_(t) {}
  HeldSlot(const HeldSlot &) = delete;
  HeldSlot &operator=(const HeldSlot &) = delete;
  ~HeldSlot() {
    if (t_ && t_->boxed()) release(s_.o); // no type: nothing to own
  }
  const Slot &get() const { return s_; }
  [[nodiscard]] Slot take() {
    Slot s = s_;
    s_.i = 0;
    return s;
  }

private:
  Slot s_;
  const TypeDesc *t_;
};

/// Copies N bytes from S to D (no overlap). Short runs (most keys and interpolations) are moved
/// with fixed-size, overlapping loads and stores instead of a call to memcpy.
inline void copyBytes(char *d, const char *s, size_t n) {
  if (n > 16) {
    std::memcpy(d, s, n);
  } else if (n >= 8) {
    std::memcpy(d, s, 8);
    std::memcpy(d + n - 8, s + n - 8, 8);
  } else if (n >= 4) {
    std::memcpy(d, s, 4);
    std::memcpy(d + n - 4, s + n - 4, 4);
  } else if (n > 0) {
    d[0] = s[0];
    d[n / 2] = s[n / 2];
    d[n - 1] = s[n - 1];
  }
}

/// Immutable UTF-8 text. `hash` memoises the bytes' hash for map keys (collections.cpp's
/// hashKey): 0 until a map first hashes the string, never 0 after (the text cannot change).
struct Str : Obj {
  int64_t len;
  mutable uint32_t hash = 0;
  char *data() { return reinterpret_cast<char *>(this + 1); }
  const char *data() const { return reinterpret_cast<const char *>(this + 1); }
  std::string_view view() const { return {data(), static_cast<size_t>(len)}; }
  Str() : Obj(Kind::String), len(0) {}
};
Str *newStr(std::string_view s);
/// Bytes every string has room for after its header, whatever its length (a short string may
/// be read or written 8 bytes at a time).
constexpr size_t kStrMinRoom = 8;
/// A string of LEN bytes whose bytes and the NUL after them the caller writes (value.cpp).
Str *allocStr(int64_t len);

struct List : Obj {
  const TypeDesc *type; // list<T>
  std::vector<Slot> items;
  explicit List(const TypeDesc *t) : Obj(Kind::List), type(t) {}
};

/// A map keeps its entries in insertion order; an index finds them by key. Removing an entry
/// leaves a tombstone that compaction clears.
struct Map : Obj {
  const TypeDesc *type; // map<K, V>
  bool stringKeys;      // K is string (else an int-like key compared by value)
  struct Entry {
    Slot key;
    Slot value;
    uint32_t hash; // of the key (collections.cpp), for rebuilding the index
    bool live;
    // A string key's first bytes, so that a lookup compares a short key without reading the
    // key string (one dependent load less; collections.cpp keyHead): `head` holds the first 8
    // bytes (zero after the end), `headLen` the length if at most 8, else 9. Unused for ints.
    uint8_t headLen;
    uint64_t head;
  };
  std::vector<Entry> entries;
  /// A position of the index: the entry and its key's hash, so that probing past a key of
  /// another hash reads no entry.
  struct Slot8 {
    int32_t entry; // -1: empty
    uint32_t hash;
  };
  std::vector<Slot8> index; // open addressing over entries, linear probing
  int64_t count = 0;
  // The last key found or inserted and its entry (collections.cpp, mapFind and mapPlace): `if
  // m.has(k) { m[k] += 1 }` looks k up once. A string key is held by a reference of its own
  // (so that the same address is the same text); -1: none. Cleared when entries move.
  mutable Slot lastKey{0};
  mutable int64_t lastEntry = -1;
  explicit Map(const TypeDesc *t) : Obj(Kind::Map), type(t), stringKeys(t->elem->kind == Kind::String) {}
};

struct Record : Obj {
  const TypeDesc *type;
  std::vector<Slot> fields;
  explicit Record(const TypeDesc *t) : Obj(Kind::Record), type(t), fields(t->fieldTypes.size(), Slot{0}) {}
};

/// A JSON value (immutable). Objects keep their keys in insertion order.
struct Json : Obj {
  enum class J : uint8_t { Null, Bool, Int, Float, String, Array, Object } j = J::Null;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  Str *s = nullptr;
  std::vector<Json *> items; // Array, and Object values
  std::vector<Str *> keys;   // Object keys
  Json() : Obj(Kind::Json) {}
};

/// A caught error (`catch err`): `err.kind`, `err.message`, `err.code` (API.md "Errors": the
/// EC2 error code of a "cloud" error, ...; "" for the errors of LANGUAGE.md) and the frames it
/// passed.
struct ErrorVal : Obj {
  Str *errKind;
  Str *message;
  Str *code;                      // never null: "" when the error has no code
  std::vector<std::string> trace; // "file:line", innermost first
  bool lineRecorded = false;      // the innermost open frame's line is in `trace` already
  ErrorVal(Str *k, Str *m, Str *c) : Obj(Kind::Error), errKind(k), message(m), code(c) {}
};

} // namespace cfm::rt
