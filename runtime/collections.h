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
/// Makes the object in `place` unique (copies it if it is shared) and returns it.
Obj *unique(Slot &place);

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
