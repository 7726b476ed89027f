// collections.cpp — lists, maps and records with value semantics (LANGUAGE.md "Types": copy on
// write) and the methods of LANGUAGE.md "Built-ins". Maps keep insertion order; a hash index
// over the entries finds keys in constant time.
#include "runtime/collections.h"
#include "base/utf8.h"

#include <cstring>

namespace cfm::rt {

namespace {

uint32_t finish(uint64_t x) {
  // A finaliser, so that the low bits the index uses depend on every bit of the key.
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return static_cast<uint32_t>(x);
}

inline uint64_t load64(const char *p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
inline uint64_t load32(const char *p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

/// What a lookup compares before a string key's bytes (Map::Entry::head and headLen): the
/// first 8 bytes, zero after the end (read with overlapping loads: nothing past the string), and
/// the length if at most 8, else 9. Equal heads and tags up to 8 mean equal strings.
struct KeyHead {
  uint64_t head = 0;
  uint8_t tag = 0;
};
inline KeyHead keyHead(const Str *s) {
  const char *p = s->data();
  size_t n = static_cast<size_t>(s->len);
  KeyHead k;
  k.tag = static_cast<uint8_t>(n > 8 ? 9 : n);
  if (n >= 8)
    k.head = load64(p);
  else if (n >= 4)
    k.head = load32(p) | load32(p + n - 4) << (8 * (n - 4));
  else if (n > 0)
    k.head = static_cast<uint64_t>(static_cast<unsigned char>(p[0])) |
             static_cast<uint64_t>(static_cast<unsigned char>(p[n / 2])) << (8 * (n / 2)) |
             static_cast<uint64_t>(static_cast<unsigned char>(p[n - 1])) << (8 * (n - 1));
  return k;
}

/// A string's hash, computed once and kept in the string (Str::hash): a key looked up by `has`
/// and then indexed, or read back from the map, is not hashed again. A string of at most 8
/// bytes (most keys) is hashed from its head (keyHead, the word a lookup compares anyway) with
/// one 128-bit multiply whose halves are folded together, so that every byte reaches the low
/// bits the index uses. A longer one eight bytes at a time, each word multiplied in; the last
/// (partial) word is read with overlapping loads, and the length is mixed in, so strings that
/// differ only past a shared prefix or in length hash apart.
[[gnu::noinline]] uint32_t longStrHash(const Str *s) {
  const char *p = s->data();
  size_t n = static_cast<size_t>(s->len);
  uint64_t x = 0x9e3779b97f4a7c15ull ^ n;
  auto mix = [&x](uint64_t w) {
    x = (x ^ w) * 0xbf58476d1ce4e5b9ull;
    x ^= x >> 31;
  };
  size_t i = 0;
  for (; i + 8 <= n; i += 8) mix(load64(p + i));
  size_t rest = n - i;
  if (rest >= 4)
    mix(load32(p + i) | load32(p + n - 4) << 32);
  else if (rest > 0)
    mix(static_cast<unsigned char>(p[i]) |
        static_cast<uint64_t>(static_cast<unsigned char>(p[i + rest / 2])) << 8 |
        static_cast<uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16);
  return finish(x);
}

[[gnu::always_inline]] inline uint32_t strHash(const Str *s) {
  if (s->hash) return s->hash;
  uint32_t h;
  if (s->len <= 8) {
    KeyHead k = keyHead(s);
    unsigned __int128 prod = static_cast<unsigned __int128>(k.head ^ 0x9e3779b97f4a7c15ull) *
                             (0xbf58476d1ce4e5b9ull ^ static_cast<uint64_t>(k.tag) << 56);
    h = static_cast<uint32_t>(static_cast<uint64_t>(prod) ^ static_cast<uint64_t>(prod >> 64));
  } else {
    h = longStrHash(s);
  }
  s->hash = h ? h : 1; // 0 means "not computed yet"
  return s->hash;
}

inline uint32_t hashKey(const Map *m, Slot key) {
  return m->stringKeys ? strHash(static_cast<const Str *>(key.o)) : finish(static_cast<uint64_t>(key.i));
}

/// The N bytes at A and B are equal. Keys are mostly short: compared with a few loads instead of
/// a call to memcmp (overlapping loads cover every length from 1 to 16).
inline bool sameBytes(const char *a, const char *b, size_t n) {
  if (n >= 8) {
    if (n > 16) return std::memcmp(a, b, n) == 0;
    uint64_t a0, b0, a1, b1;
    std::memcpy(&a0, a, 8);
    std::memcpy(&b0, b, 8);
    std::memcpy(&a1, a + n - 8, 8);
    std::memcpy(&b1, b + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  if (n >= 4) {
    uint32_t a0, b0, a1, b1;
    std::memcpy(&a0, a, 4);
    std::memcpy(&b0, b, 4);
    std::memcpy(&a1, a + n - 4, 4);
    std::memcpy(&b1, b + n - 4, 4);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  if (n == 0) return true;
  return a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1];
}

/// A new live entry, with the key's head when the keys are strings.
inline Map::Entry makeEntry(const Map *m, Slot key, Slot value, uint32_t hash) {
  Map::Entry e{key, value, hash, true, 0, 0};
  if (m->stringKeys) {
    KeyHead k = keyHead(static_cast<const Str *>(key.o));
    e.headLen = k.tag;
    e.head = k.head;
  }
  return e;
}

/// KEY equals the entry's key (KH: a string key's head). Called only when the index slot
/// holds KEY's hash; a string is compared by identity first (a key read back from the
/// map, or used twice in a row, is the same object), then by its head (which decides for a key
/// of up to 8 bytes), then by length and bytes.
inline bool sameKey(const Map *m, const Map::Entry &e, Slot key, KeyHead kh) {
  if (!m->stringKeys) return e.key.i == key.i;
  if (e.key.o == key.o) return true;
  if (e.head != kh.head || e.headLen != kh.tag) return false;
  if (kh.tag <= 8) return true;
  const auto *a = static_cast<const Str *>(e.key.o), *b = static_cast<const Str *>(key.o);
  return a->len == b->len && sameBytes(a->data(), b->data(), static_cast<size_t>(a->len));
}

/// Remembers KEY as found at entry I (Map::lastKey): a string by a reference of its own.
void remember(const Map *m, Slot key, size_t i) {
  if (m->stringKeys) {
    retain(key.o);
    release(m->lastKey.o);
  }
  m->lastKey = key;
  m->lastEntry = static_cast<int64_t>(i);
}

void forget(const Map *m) {
  if (m->stringKeys) release(m->lastKey.o);
  m->lastKey.o = nullptr;
  m->lastEntry = -1;
}

/// The entry of KEY if it is the one remembered: the same string object (held, so the same
/// text) or the same int.
inline const Map::Entry *remembered(const Map *m, Slot key) {
  if (m->lastEntry >= 0 && m->lastKey.i == key.i) return &m->entries[static_cast<size_t>(m->lastEntry)];
  return nullptr;
}

/// The index's greatest load factor, 3/8 (kMaxLoadNum / kMaxLoadDen): after a growth the load is
/// 3/16 to 3/8, about 1.1 to 1.3 positions read a hit with linear probing. At one half (before)
/// 1,000 keys were at 0.49 in 2,048 positions; a hit read about 1.5, and each position past the
/// first was a branch the CPU mispredicted. An index position is 8 bytes: 21 to 43 bytes of index
/// an entry (16 to 32 at one half).
constexpr size_t kMaxLoadNum = 3, kMaxLoadDen = 8;
inline bool overLoaded(const Map *m) {
  return m->entries.size() * kMaxLoadDen >= m->index.size() * kMaxLoadNum;
}

void rebuildIndex(Map *m) {
  // Drop tombstones, then index the live entries at a load factor of at most 3/8 (kMaxLoadNum).
  if (static_cast<int64_t>(m->entries.size()) != m->count) {
    forget(m); // the entries move
    std::vector<Map::Entry> live;
    live.reserve(static_cast<size_t>(m->count));
    for (auto &e : m->entries)
      if (e.live) live.push_back(e);
    m->entries.swap(live);
  }
  size_t cap = 8;
  while (cap * kMaxLoadNum < (m->entries.size() + 1) * kMaxLoadDen) cap <<= 1;
  m->index.assign(cap, Map::Slot8{-1, 0});
  for (size_t i = 0; i < m->entries.size(); ++i) {
    size_t h = m->entries[i].hash & (cap - 1);
    while (m->index[h].entry >= 0) h = (h + 1) & (cap - 1);
    m->index[h] = {static_cast<int32_t>(i), m->entries[i].hash};
  }
}

/// Position in the index where `key` (whose hash is `h`) is, or the empty position where it
/// would go. The index refers only to live entries: a removal rebuilds it without the tombstone.
[[gnu::always_inline]] inline size_t probe(const Map *m, Slot key, uint32_t hash) {
  size_t mask = m->index.size() - 1;
  const Map::Slot8 *index = m->index.data();
  const Map::Entry *entries = m->entries.data();
  KeyHead kh = m->stringKeys ? keyHead(static_cast<const Str *>(key.o)) : KeyHead{};
  size_t h = hash & mask;
  for (int32_t i; (i = index[h].entry) >= 0; h = (h + 1) & mask)
    if (index[h].hash == hash && sameKey(m, entries[i], key, kh)) return h;
  return h;
}

std::string keyText(Slot key, const TypeDesc *kt) {
  return kt->kind == Kind::String ? quote(static_cast<const Str *>(key.o)->view()) : std::to_string(key.i);
}

} // namespace

// ---- copy on write ----

Obj *copyValue(const Obj *o) {
  switch (o->kind) {
  case Kind::List: {
    auto *src = static_cast<const List *>(o);
    List *l = new List(src->type);
    l->items = src->items;
    for (Slot s : l->items) retainSlot(s, l->type->elem);
    return l;
  }
  case Kind::Map: {
    auto *src = static_cast<const Map *>(o);
    Map *m = new Map(src->type);
    for (const Map::Entry &e : src->entries) {
      if (!e.live) continue;
      retainSlot(e.key, m->type->elem);
      retainSlot(e.value, m->type->value);
      m->entries.push_back(e);
    }
    m->count = static_cast<int64_t>(m->entries.size());
    rebuildIndex(m);
    return m;
  }
  case Kind::Record: {
    auto *src = static_cast<const Record *>(o);
    Record *r = new Record(src->type);
    r->fields = src->fields;
    for (size_t i = 0; i < r->fields.size(); ++i) retainSlot(r->fields[i], r->type->fieldTypes[i]);
    return r;
  }
  default: return const_cast<Obj *>(o); // immutable objects are shared
  }
}

Obj *uniqueCopy(Slot &place) {
  Obj *c = copyValue(place.o);
  release(place.o);
  place.o = c;
  return c;
}

// ---- lists ----

List *newList(const TypeDesc *t) { return new List(t); }

bool listGet(const List *l, int64_t i, Slot &out) {
  if (i < 0 || i >= static_cast<int64_t>(l->items.size()))
    return raise(ErrKind::Index, "index " + std::to_string(i) + " out of range (length " +
                                     std::to_string(l->items.size()) + ")");
  out = l->items[static_cast<size_t>(i)];
  return true;
}

bool listSet(List *l, int64_t i, Slot v) {
  if (i < 0 || i >= static_cast<int64_t>(l->items.size())) {
    releaseSlot(v, l->type->elem);
    return raise(ErrKind::Index, "index " + std::to_string(i) + " out of range (length " +
                                     std::to_string(l->items.size()) + ")");
  }
  Slot &s = l->items[static_cast<size_t>(i)];
  releaseSlot(s, l->type->elem);
  s = v;
  return true;
}

void listPush(List *l, Slot v) { l->items.push_back(v); }

bool listPop(List *l, Slot &out) {
  if (l->items.empty()) return raise(ErrKind::Index, "pop from an empty list");
  out = l->items.back();
  l->items.pop_back();
  return true;
}

List *listConcat(const List *a, const List *b) {
  List *l = new List(a->type);
  l->items.reserve(a->items.size() + b->items.size());
  for (Slot s : a->items) l->items.push_back(s);
  for (Slot s : b->items) l->items.push_back(s);
  for (Slot s : l->items) retainSlot(s, l->type->elem);
  return l;
}

bool listContains(const List *l, Slot v) {
  for (Slot s : l->items)
    if (equal(s, v, l->type->elem)) return true;
  return false;
}

Str *listJoin(const List *l, const Str *sep) {
  std::string out;
  for (size_t i = 0; i < l->items.size(); ++i) {
    if (i) out += sep->view();
    out += static_cast<const Str *>(l->items[i].o)->view();
  }
  return newStr(out);
}

// ---- maps ----

Map *newMap(const TypeDesc *t) {
  Map *m = new Map(t);
  m->index.assign(8, Map::Slot8{-1, 0});
  return m;
}

const Map::Entry *mapFind(const Map *m, Slot key) {
  if (const Map::Entry *e = remembered(m, key)) return e;
  if (m->index.empty()) return nullptr;
  size_t h = probe(m, key, hashKey(m, key));
  if (m->index[h].entry < 0) return nullptr;
  size_t i = static_cast<size_t>(m->index[h].entry);
  remember(m, key, i);
  return &m->entries[i];
}

bool mapGet(const Map *m, Slot key, Slot &out) {
  const Map::Entry *e = mapFind(m, key);
  if (!e) return raise(ErrKind::Key, "key " + keyText(key, m->type->elem) + " not found");
  out = e->value;
  return true;
}

void mapSet(Map *m, Slot key, Slot value) {
  uint32_t hash = hashKey(m, key);
  size_t h = probe(m, key, hash);
  if (m->index[h].entry >= 0) {
    Map::Entry &e = m->entries[static_cast<size_t>(m->index[h].entry)];
    releaseSlot(e.value, m->type->value);
    releaseSlot(key, m->type->elem); // the entry keeps its own key
    e.value = value;
    return;
  }
  m->entries.push_back(makeEntry(m, key, value, hash));
  ++m->count;
  if (overLoaded(m))
    rebuildIndex(m);
  else
    m->index[h] = {static_cast<int32_t>(m->entries.size() - 1), hash};
}

Slot *mapPlace(Map *m, Slot key, bool create) {
  if (const Map::Entry *e = remembered(m, key)) return const_cast<Slot *>(&e->value);
  uint32_t hash = hashKey(m, key);
  size_t h = probe(m, key, hash);
  if (m->index[h].entry >= 0) {
    size_t i = static_cast<size_t>(m->index[h].entry);
    remember(m, key, i);
    return &m->entries[i].value;
  }
  if (!create) {
    (void)raise(ErrKind::Key, "key " + keyText(key, m->type->elem) + " not found");
    return nullptr;
  }
  // A placeholder the caller overwrites; the map keeps its own reference to the key.
  retainSlot(key, m->type->elem);
  m->entries.push_back(makeEntry(m, key, Slot{0}, hash));
  ++m->count;
  if (overLoaded(m))
    rebuildIndex(m); // may drop tombstones: the new entry stays the last
  else
    m->index[h] = {static_cast<int32_t>(m->entries.size() - 1), hash};
  remember(m, key, m->entries.size() - 1);
  return &m->entries.back().value;
}

void mapRemove(Map *m, Slot key) {
  const Map::Entry *found = mapFind(m, key);
  if (!found) return; // LANGUAGE.md: remove of a missing key does nothing
  Map::Entry &e = m->entries[static_cast<size_t>(found - m->entries.data())];
  releaseSlot(e.key, m->type->elem);
  releaseSlot(e.value, m->type->value);
  e.live = false;
  --m->count;
  rebuildIndex(m); // forgets the remembered key
}

List *mapKeys(const Map *m, const TypeDesc *listOfKeys) {
  List *l = new List(listOfKeys);
  for (const Map::Entry &e : m->entries)
    if (e.live) {
      retainSlot(e.key, m->type->elem);
      l->items.push_back(e.key);
    }
  return l;
}

List *mapValues(const Map *m, const TypeDesc *listOfValues) {
  List *l = new List(listOfValues);
  for (const Map::Entry &e : m->entries)
    if (e.live) {
      retainSlot(e.value, m->type->value);
      l->items.push_back(e.value);
    }
  return l;
}

// ---- strings ----

List *strSplit(const Str *s, const Str *sep, const TypeDesc *listOfString) {
  List *l = new List(listOfString);
  std::string_view v = s->view(), d = sep->view();
  if (d.empty()) {
    // LANGUAGE.md: split("") gives the characters (UTF-8 sequences stay whole)
    size_t i = 0;
    while (i < v.size()) {
      size_t n = base::utf8SequenceLength(static_cast<unsigned char>(v[i]));
      l->items.push_back(Slot{.o = newStr(v.substr(i, n))});
      i += n;
    }
    return l;
  }
  size_t start = 0;
  while (true) {
    size_t p = v.find(d, start);
    if (p == std::string_view::npos) {
      l->items.push_back(Slot{.o = newStr(v.substr(start))});
      return l;
    }
    l->items.push_back(Slot{.o = newStr(v.substr(start, p - start))});
    start = p + d.size();
  }
}

Str *strTrim(const Str *s) {
  std::string_view v = s->view();
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!v.empty() && space(v.front())) v.remove_prefix(1);
  while (!v.empty() && space(v.back())) v.remove_suffix(1);
  return newStr(v);
}

Str *strUpper(const Str *s) {
  std::string o(s->view());
  for (char &c : o)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return newStr(o);
}

Str *strLower(const Str *s) {
  std::string o(s->view());
  for (char &c : o)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return newStr(o);
}

Str *strReplace(const Str *s, const Str *from, const Str *to) {
  std::string_view v = s->view(), a = from->view(), b = to->view();
  std::string o;
  if (a.empty()) {
    // As in Rust, Go and JavaScript: an empty pattern matches before every character and at
    // the end (UTF-8 sequences stay whole).
    o += b;
    size_t i = 0;
    while (i < v.size()) {
      size_t n = base::utf8SequenceLength(static_cast<unsigned char>(v[i]));
      o += v.substr(i, n);
      o += b;
      i += n;
    }
    return newStr(o);
  }
  size_t start = 0;
  while (true) {
    size_t p = v.find(a, start);
    if (p == std::string_view::npos) break;
    o += v.substr(start, p - start);
    o += b;
    start = p + a.size();
  }
  o += v.substr(start);
  return newStr(o);
}

} // namespace cfm::rt
