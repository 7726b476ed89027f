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
#include <string>
#include <string_view>
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

/// Immutable UTF-8 text.
struct Str : Obj {
  int64_t len;
  char *data() { return reinterpret_cast<char *>(this + 1); }
  const char *data() const { return reinterpret_cast<const char *>(this + 1); }
  std::string_view view() const { return {data(), static_cast<size_t>(len)}; }
  Str() : Obj(Kind::String), len(0) {}
};
Str *newStr(std::string_view s);

struct List : Obj {
  const TypeDesc *type; // list<T>
  std::vector<Slot> items;
  explicit List(const TypeDesc *t) : Obj(Kind::List), type(t) {}
};

/// A map keeps its entries in insertion order; an index finds them by key. Removing an entry
/// leaves a tombstone that compaction clears.
struct Map : Obj {
  const TypeDesc *type; // map<K, V>
  struct Entry {
    Slot key;
    Slot value;
    bool live;
  };
  std::vector<Entry> entries;
  std::vector<int32_t> index; // open addressing over entries; -1 empty
  int64_t count = 0;
  explicit Map(const TypeDesc *t) : Obj(Kind::Map), type(t) {}
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

/// A caught error (`catch err`): `err.kind`, `err.message`, and the frames it passed.
struct ErrorVal : Obj {
  Str *errKind;
  Str *message;
  std::vector<std::string> trace; // "file:line", innermost first
  bool lineRecorded = false;      // the innermost open frame's line is in `trace` already
  ErrorVal(Str *k, Str *m) : Obj(Kind::Error), errKind(k), message(m) {}
};

} // namespace cfm::rt
