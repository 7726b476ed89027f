// collections.h — lists, maps, records and string methods (collections.cpp).
//
// Ownership: constructors return a new reference; getters (`listGet`, `mapGet`) lend the value
// (the caller retains it if it keeps it); setters and `push` take over the reference they are
// given. Mutating operations need a unique object: engines call `unique(place)` on the place
// (variable, element, field) first, which copies a shared object (copy on write).
#pragma once

#include "runtime/runtime.h"

namespace cfm::rt {

Obj *copyValue(const Obj *o);
Obj *uniqueCopy(Slot &place);
/// Makes the object in `place` unique (copies it if it is shared) and returns it.
inline Obj *unique(Slot &place) { return place.o->rc > 1 ? uniqueCopy(place) : place.o; }

List *newList(const TypeDesc *listType);
[[nodiscard]] bool listGet(const List *l, int64_t i, Slot &out);
[[nodiscard]] bool listSet(List *l, int64_t i, Slot v);
void listPush(List *l, Slot v);
[[nodiscard]] bool listPop(List *l, Slot &out);
List *listConcat(const List *a, const List *b);
bool listContains(const List *l, Slot v);
Str *listJoin(const List *l, const Str *sep);

Map *newMap(const TypeDesc *mapType);
const Map::Entry *mapFind(const Map *m, Slot key);
[[nodiscard]] bool mapGet(const Map *m, Slot key, Slot &out);
void mapSet(Map *m, Slot key, Slot value);
/// The value slot of KEY in M (unique) with one lookup: `m[k] op= v`, `m[k] = v` and `m[k].f = v`.
/// A missing key is inserted with a placeholder value (0) the caller overwrites if CREATE (the map
/// takes its own reference to the key), else raises the key error and gives null.
Slot *mapPlace(Map *m, Slot key, bool create);
/// mapPlace with its first step, the key found or inserted last (Map::lastKey: the same string
/// object or int), inline in its callers: `if m.has(k) { m[k] += 1 }` reaches the value without
/// a call into the map's lookup.
inline Slot *mapPlaceAgain(Map *m, Slot key, bool create) {
  if (m->lastEntry >= 0 && m->lastKey.i == key.i) return &m->entries[static_cast<size_t>(m->lastEntry)].value;
  return mapPlace(m, key, create);
}
void mapRemove(Map *m, Slot key);
List *mapKeys(const Map *m, const TypeDesc *listOfKeys);
List *mapValues(const Map *m, const TypeDesc *listOfValues);

List *strSplit(const Str *s, const Str *sep, const TypeDesc *listOfString);
Str *strTrim(const Str *s);
Str *strUpper(const Str *s);
Str *strLower(const Str *s);
Str *strReplace(const Str *s, const Str *from, const Str *to);
bool strContains(const Str *s, const Str *part);
bool strStartsWith(const Str *s, const Str *prefix);
bool strEndsWith(const Str *s, const Str *suffix);

} // namespace cfm::rt
