// runtime_test.cpp — the runtime's value layer: printing (LANGUAGE.md "How values print"),
// checked arithmetic and conversions, lists and maps with copy on write, records, and json
// (parsing, writing, to_json, indexing, equality). Leaks show up in the ASan build.
#include "runtime/collections.h"

#include <gtest/gtest.h>

#include <iterator>
#include <string>
#include <vector>

namespace cfm::rt {
namespace {

// Type descriptors as the compiler will build them.
const TypeDesc kInt{Kind::Int};
const TypeDesc kFloat{Kind::Float};
const TypeDesc kStr{Kind::String};
const TypeDesc kDur{Kind::Duration};
const TypeDesc kJson{Kind::Json};
const TypeDesc kListInt{Kind::List, &kInt};
const TypeDesc kListStr{Kind::List, &kStr};
const TypeDesc kMapStrInt{Kind::Map, &kStr, &kInt};
const TypeDesc kMapIntStr{Kind::Map, &kInt, &kStr};

Slot I(int64_t v) { return Slot{.i = v}; }
Slot S(std::string_view s) { return Slot{.o = newStr(s)}; }

std::string errorMessage() {
  ErrorVal *e = takeError();
  std::string s = e ? std::string(e->errKind->view()) + ": " + std::string(e->message->view()) : "<none>";
  release(e);
  return s;
}

// The handles that free values on every path out (value.h): counts seen through a second reference.
TEST(RuntimeHandles, RefReleasesAtScopeEndAndTakeHandsOn) {
  Str *s = newStr("kept");
  retain(s); // our own reference, to watch the count
  {
    Ref<Str> r(s); // adopts one reference
    EXPECT_EQ(s->rc, 2u);
    Ref<Str> moved = std::move(r);
    EXPECT_FALSE(r);
    EXPECT_EQ(moved.get(), s);
  }
  EXPECT_EQ(s->rc, 1u);
  {
    Ref<Str> shared = Ref<Str>::share(s);
    EXPECT_EQ(s->rc, 2u);
    Str *out = shared.take();
    EXPECT_FALSE(shared);
    release(out);
  }
  EXPECT_EQ(s->rc, 1u);
  Ref<Str> r(newStr("a"));
  r.reset(newStr("b")); // frees "a"
  EXPECT_EQ(r->view(), "b");
  release(s);
}

TEST(RuntimeHandles, HeldSlotOwnsBoxedValuesOnly) {
  List *l = newList(&kListInt);
  retain(l);
  { HeldSlot h(&kListInt, Slot{.o = l}); }
  EXPECT_EQ(l->rc, 1u);
  {
    HeldSlot h(&kListInt, Slot{.o = l});
    retain(l);
    Slot taken = h.take(); // the holder gives its reference away
    release(taken.o);
  }
  EXPECT_EQ(l->rc, 1u);
  // An unboxed type or no type: the slot's bits are not a reference, whatever they hold.
  { HeldSlot i(&kInt, Slot{.o = l}); }
  { HeldSlot none(nullptr, Slot{.o = l}); }
  EXPECT_EQ(l->rc, 1u);
  release(l);
}

TEST(RuntimeFormat, Floats) {
  EXPECT_EQ(formatFloat(1.0), "1.0");
  EXPECT_EQ(formatFloat(0.1), "0.1");
  EXPECT_EQ(formatFloat(123456.5), "123456.5");
  EXPECT_EQ(formatFloat(2.5e-7), "2.5e-07");
  EXPECT_EQ(formatFloat(1e20), "1e+20");
  EXPECT_EQ(formatFloat(1e16), "1e+16");
  EXPECT_EQ(formatFloat(1e15), "1000000000000000.0");
  EXPECT_EQ(formatFloat(0.0001), "0.0001");
  EXPECT_EQ(formatFloat(0.00001), "1e-05");
  EXPECT_EQ(formatFloat(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(formatFloat(-2.5), "-2.5");
  EXPECT_EQ(formatFloat(-0.0), "-0.0");
  EXPECT_EQ(formatFloat(123456789012345680.0), "1.2345678901234568e+17");
  EXPECT_EQ(formatFloat(1.0 / 0.0), "inf");
  EXPECT_EQ(formatFloat(-1.0 / 0.0), "-inf");
  EXPECT_EQ(formatFloat(0.0 / 0.0), "nan");
}

TEST(RuntimeFormat, Durations) {
  EXPECT_EQ(formatDuration(0), "0ms");
  EXPECT_EQ(formatDuration(90000), "1m30s");
  EXPECT_EQ(formatDuration(1500), "1s500ms");
  EXPECT_EQ(formatDuration(7200000), "2h");
  EXPECT_EQ(formatDuration(3723004), "1h2m3s4ms");
  EXPECT_EQ(formatDuration(-5000), "-5s");
  EXPECT_EQ(formatDuration(INT64_MIN), "-2562047788015h12m55s808ms"); // no overflow
}

TEST(RuntimeFormat, CollectionsQuoteStringsInside) {
  List *l = newList(&kListStr);
  listPush(l, S("a\"b"));
  listPush(l, S("tab\t\x01"));
  EXPECT_EQ(format(Slot{.o = l}, &kListStr), "[\"a\\\"b\", \"tab\\t\\u0001\"]");
  Map *m = newMap(&kMapIntStr);
  mapSet(m, I(2), S("two"));
  mapSet(m, I(1), S("one"));
  EXPECT_EQ(format(Slot{.o = m}, &kMapIntStr), "{2: \"two\", 1: \"one\"}");
  Str *s = newStr("plain");
  EXPECT_EQ(format(Slot{.o = s}, &kStr), "plain");
  release(s);
  release(l);
  release(m);
}

TEST(RuntimeFormat, Records) {
  TypeDesc rec{Kind::Record};
  rec.name = "Endpoint";
  rec.fieldNames = {"host", "port"};
  rec.fieldTypes = {&kStr, &kInt};
  Record *r = new Record(&rec);
  r->fields[0] = S("h");
  r->fields[1] = I(1);
  EXPECT_EQ(format(Slot{.o = r}, &rec), "Endpoint { host: \"h\", port: 1 }");
  TypeDesc empty{Kind::Record};
  empty.name = "E";
  Record *e = new Record(&empty);
  EXPECT_EQ(format(Slot{.o = e}, &empty), "E {}");
  release(r);
  release(e);
}

TEST(RuntimeArith, OverflowAtTheLimits) {
  int64_t out = 0;
  EXPECT_TRUE(addInt(INT64_MAX - 1, 1, out));
  EXPECT_EQ(out, INT64_MAX);
  EXPECT_FALSE(addInt(INT64_MAX, 1, out));
  EXPECT_EQ(errorMessage().rfind("overflow: integer overflow", 0), 0u);
  EXPECT_FALSE(subInt(INT64_MIN, 1, out));
  clearError();
  EXPECT_FALSE(mulInt(INT64_MAX, 2, out));
  clearError();
  EXPECT_FALSE(negInt(INT64_MIN, out));
  clearError();
  EXPECT_FALSE(divInt(INT64_MIN, -1, out));
  clearError();
  EXPECT_TRUE(modInt(INT64_MIN, -1, out));
  EXPECT_EQ(out, 0);
}

TEST(RuntimeArith, DivisionTruncatesAndModTakesDividendSign) {
  int64_t out = 0;
  ASSERT_TRUE(divInt(-7, 2, out));
  EXPECT_EQ(out, -3);
  ASSERT_TRUE(modInt(-7, 3, out));
  EXPECT_EQ(out, -1);
  ASSERT_TRUE(modInt(7, -3, out));
  EXPECT_EQ(out, 1);
  EXPECT_FALSE(divInt(1, 0, out));
  EXPECT_EQ(errorMessage(), "division: division by zero");
  EXPECT_FALSE(modInt(1, 0, out));
  clearError();
}

TEST(RuntimeArith, Conversions) {
  int64_t i = 0;
  double f = 0;
  EXPECT_TRUE(intOfString("-9223372036854775808", i));
  EXPECT_EQ(i, INT64_MIN);
  EXPECT_FALSE(intOfString("9223372036854775808", i));
  EXPECT_EQ(errorMessage(), "conversion: cannot convert \"9223372036854775808\" to int");
  EXPECT_FALSE(intOfString("12x", i));
  clearError();
  EXPECT_FALSE(intOfString("", i));
  clearError();
  EXPECT_TRUE(intOfFloat(-3.99, i));
  EXPECT_EQ(i, -3);
  EXPECT_FALSE(intOfFloat(1e300, i));
  EXPECT_EQ(errorMessage(), "conversion: cannot convert 1e+300 to int");
  EXPECT_TRUE(floatOfString("2.5e3", f));
  EXPECT_EQ(f, 2500.0);
  EXPECT_FALSE(floatOfString("inf", f));
  clearError();
  EXPECT_FALSE(floatOfString("0x10", f));
  clearError();
  EXPECT_FALSE(floatOfString(" 1", f));
  clearError();
}

TEST(RuntimeCollections, ListCopyOnWrite) {
  Slot a{.o = newList(&kListInt)};
  listPush(static_cast<List *>(a.o), I(1));
  Slot b = a; // `var b = a;` shares until one of them changes
  retain(b.o);
  auto *bl = static_cast<List *>(unique(b));
  listPush(bl, I(2));
  EXPECT_EQ(format(a, &kListInt), "[1]");
  EXPECT_EQ(format(b, &kListInt), "[1, 2]");
  // A unique object is changed in place.
  EXPECT_EQ(unique(b), bl);
  release(a.o);
  release(b.o);
}

TEST(RuntimeCollections, ListOperations) {
  List *l = newList(&kListInt);
  for (int i = 0; i < 5; ++i) listPush(l, I(i));
  Slot v;
  ASSERT_TRUE(listGet(l, 4, v));
  EXPECT_EQ(v.i, 4);
  EXPECT_FALSE(listGet(l, 5, v));
  EXPECT_EQ(errorMessage(), "index: index 5 out of range (length 5)");
  EXPECT_FALSE(listGet(l, -1, v));
  clearError();
  ASSERT_TRUE(listSet(l, 0, I(10)));
  ASSERT_TRUE(listPop(l, v));
  EXPECT_EQ(v.i, 4);
  EXPECT_TRUE(listContains(l, I(10)));
  EXPECT_FALSE(listContains(l, I(4)));
  List *c = listConcat(l, l);
  EXPECT_EQ(format(Slot{.o = c}, &kListInt), "[10, 1, 2, 3, 10, 1, 2, 3]");
  List *e = newList(&kListInt);
  EXPECT_FALSE(listPop(e, v));
  EXPECT_EQ(errorMessage(), "index: pop from an empty list");
  List *words = newList(&kListStr);
  listPush(words, S("a"));
  listPush(words, S("b"));
  Str *sep = newStr("-");
  Str *j = listJoin(words, sep);
  EXPECT_EQ(j->view(), "a-b");
  for (Obj *o : std::initializer_list<Obj *>{l, c, e, words, sep, j}) release(o);
}

TEST(RuntimeCollections, MapsKeepInsertionOrderAndFindByKey) {
  Map *m = newMap(&kMapStrInt);
  for (int i = 0; i < 1000; ++i) mapSet(m, S("k" + std::to_string(i)), I(i));
  mapSet(m, S("k5"), I(-5)); // overwrite keeps the place
  Slot v;
  Str *k = newStr("k5");
  ASSERT_TRUE(mapGet(m, Slot{.o = k}, v));
  EXPECT_EQ(v.i, -5);
  mapRemove(m, Slot{.o = k});
  mapRemove(m, Slot{.o = k}); // a missing key: nothing happens
  EXPECT_FALSE(mapGet(m, Slot{.o = k}, v));
  EXPECT_EQ(errorMessage(), "key: key \"k5\" not found");
  EXPECT_EQ(m->count, 999);
  List *keys = mapKeys(m, &kListStr);
  EXPECT_EQ(static_cast<Str *>(keys->items[0].o)->view(), "k0");
  EXPECT_EQ(static_cast<Str *>(keys->items[5].o)->view(), "k6");
  EXPECT_EQ(keys->items.size(), 999u);
  release(k);
  release(keys);
  release(m);
}

TEST(RuntimeCollections, KeysAlikeInTheirFirstEightBytesStayApart) {
  // A lookup compares the first 8 bytes and the length kept in the entry (Map::Entry::head):
  // keys that agree there, or whose zero padding looks like their bytes, must still differ.
  using namespace std::string_literals;
  const std::string keys[] = {""s,
                              "a"s,
                              "a\0"s,
                              "a\0\0"s,
                              "\0"s,
                              "abcdefg"s,
                              "abcdefgh"s,
                              "abcdefgh\0"s,
                              "abcdefghi"s,
                              "abcdefghij"s,
                              "abcdefghiX"s,
                              "abcdefgh12345678x"s,
                              "abcdefgh12345678y"s};
  Map *m = newMap(&kMapStrInt);
  for (size_t i = 0; i < std::size(keys); ++i) mapSet(m, S(keys[i]), I(static_cast<int64_t>(i)));
  EXPECT_EQ(m->count, static_cast<int64_t>(std::size(keys)));
  for (size_t i = 0; i < std::size(keys); ++i) {
    Str *k = newStr(keys[i]); // a new object: compared by bytes, not by identity
    Slot v;
    ASSERT_TRUE(mapGet(m, Slot{.o = k}, v)) << i;
    EXPECT_EQ(v.i, static_cast<int64_t>(i));
    Slot *p = mapPlace(m, Slot{.o = k}, false);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->i, static_cast<int64_t>(i));
    release(k);
  }
  for (const std::string &absent :
       {"b"s, "abcdefgi"s, "abcdefghX"s, "abcdefgh12345678z"s, "abcdefgh\0\0"s, "a\0\0\0"s}) {
    Str *k = newStr(absent);
    EXPECT_EQ(mapFind(m, Slot{.o = k}), nullptr) << absent;
    release(k);
  }
  release(m);
}

TEST(RuntimeCollections, IndexKeepsHashesThroughGrowthRemovalAndCopy) {
  // Index slots carry the key's hash (Map::Slot8): after growth, removals (which rebuild the
  // index) and a copy, every key is still found and a removed one is not.
  Map *m = newMap(&kMapStrInt);
  Map *mi = newMap(&kMapIntStr);
  for (int i = 0; i < 5000; ++i) {
    mapSet(m, S("key" + std::to_string(i)), I(i));
    mapSet(mi, I(i * 7919), S(std::to_string(i)));
  }
  for (int i = 0; i < 5000; i += 3) {
    Str *k = newStr("key" + std::to_string(i));
    mapRemove(m, Slot{.o = k});
    release(k);
    mapRemove(mi, I(i * 7919));
  }
  Map *c = static_cast<Map *>(copyValue(m));
  for (int i = 0; i < 5000; ++i) {
    Str *k = newStr("key" + std::to_string(i));
    bool removed = i % 3 == 0;
    for (Map *x : {m, c}) {
      const Map::Entry *e = mapFind(x, Slot{.o = k});
      EXPECT_EQ(e == nullptr, removed) << i;
      if (e) {
        EXPECT_EQ(e->value.i, i);
      }
    }
    const Map::Entry *e = mapFind(mi, I(i * 7919));
    EXPECT_EQ(e == nullptr, removed) << i;
    if (e) {
      EXPECT_EQ(static_cast<Str *>(e->value.o)->view(), std::to_string(i));
    }
    release(k);
  }
  EXPECT_EQ(c->count, 3333);
  release(m);
  release(mi);
  release(c);
}

TEST(RuntimeValues, FreedShortStringsAreReusedWhole) {
  // Short strings freed go to a per-thread cache that newStr takes from (value.cpp): whatever
  // length was freed before, a new string has its own bytes and its NUL, and room for 8 bytes.
  std::vector<Str *> made;
  for (int round = 0; round < 3; ++round) {
    for (size_t n = 0; n <= 40; ++n) made.push_back(newStr(std::string(n, static_cast<char>('a' + n % 26))));
    for (size_t i = made.size(); i-- > 0;) {
      const Str *s = made[i];
      size_t n = i % 41;
      ASSERT_EQ(s->view(), std::string(n, static_cast<char>('a' + n % 26)));
      ASSERT_EQ(s->data()[n], '\0');
      EXPECT_EQ(s->hash, 0u);
      EXPECT_EQ(s->rc, 1u);
    }
    if (round < 2) {
      for (Str *s : made) release(s);
      made.clear();
    }
  }
  for (Str *s : made) release(s);
}

TEST(RuntimeCollections, MapEqualityIgnoresOrder) {
  Map *a = newMap(&kMapStrInt), *b = newMap(&kMapStrInt);
  mapSet(a, S("x"), I(1));
  mapSet(a, S("y"), I(2));
  mapSet(b, S("y"), I(2));
  mapSet(b, S("x"), I(1));
  EXPECT_TRUE(equal(Slot{.o = a}, Slot{.o = b}, &kMapStrInt));
  mapSet(b, S("x"), I(3));
  EXPECT_FALSE(equal(Slot{.o = a}, Slot{.o = b}, &kMapStrInt));
  Map *c = static_cast<Map *>(copyValue(a));
  EXPECT_TRUE(equal(Slot{.o = a}, Slot{.o = c}, &kMapStrInt));
  release(a);
  release(b);
  release(c);
}

TEST(RuntimeCollections, StringMethods) {
  Str *s = newStr("a,b,,c");
  Str *comma = newStr(","), *empty = newStr("");
  List *parts = strSplit(s, comma, &kListStr);
  EXPECT_EQ(format(Slot{.o = parts}, &kListStr), "[\"a\", \"b\", \"\", \"c\"]");
  Str *uni = newStr("日本");
  List *chars = strSplit(uni, empty, &kListStr);
  EXPECT_EQ(format(Slot{.o = chars}, &kListStr), "[\"日\", \"本\"]");
  Str *padded = newStr(" \t x y \n");
  Str *t = strTrim(padded);
  EXPECT_EQ(t->view(), "x y");
  Str *mixed = newStr("MiXé");
  Str *up = strUpper(mixed), *low = strLower(mixed);
  EXPECT_EQ(up->view(), "MIXé"); // ASCII only
  EXPECT_EQ(low->view(), "mixé");
  Str *dash = newStr("-");
  Str *r = strReplace(s, comma, dash);
  EXPECT_EQ(r->view(), "a-b--c");
  Str *x = newStr("x"), *ins = strReplace(dash, empty, x);
  EXPECT_EQ(ins->view(), "x-x"); // an empty pattern matches around every character
  release(x);
  release(ins);
  for (Obj *o :
       std::initializer_list<Obj *>{s, comma, empty, parts, uni, chars, padded, t, mixed, up, low, dash, r})
    release(o);
}

std::string jsonText(std::string_view in) {
  Json *j = nullptr;
  if (!parseJson(in, j)) return errorMessage();
  std::string out;
  writeJson(out, j);
  release(j);
  return out;
}

TEST(RuntimeJson, ParseAndWrite) {
  EXPECT_EQ(jsonText(R"( {"b": [1, 2.5, -0.0, 1e20, true, null], "a": {"z": "\u00e9\n"}} )"),
            R"({"b":[1,2.5,-0.0,1e+20,true,null],"a":{"z":"é\n"}})");
  EXPECT_EQ(jsonText(R"("\ud83d\ude00")"), "\"\xF0\x9F\x98\x80\"");
  EXPECT_EQ(jsonText(R"({"k": 1, "k": 2})"), R"({"k":2})");
  EXPECT_EQ(jsonText("12345678901234567890"), "1.2345678901234567e+19");
  EXPECT_EQ(jsonText("2.0"), "2.0");
}

TEST(RuntimeJson, RejectsBadInput) {
  for (const char *bad :
       {"{oops", "[1,]", "01", "\"\\ud800\"", "1e400", "\"tab\tin\"", "[1] 2", "", "nul", "{\"a\" 1}"}) {
    Json *j = nullptr;
    EXPECT_FALSE(parseJson(bad, j)) << bad;
    EXPECT_EQ(errorMessage().rfind("conversion: cannot convert to json: invalid JSON", 0), 0u) << bad;
  }
  std::string deep(10000, '[');
  Json *j = nullptr;
  EXPECT_FALSE(parseJson(deep, j)); // bounded depth, not a stack overflow
  clearError();
}

TEST(RuntimeJson, IndexingAndLen) {
  Json *j = nullptr;
  ASSERT_TRUE(parseJson(R"({"xs": [10, 20], "s": "text"})", j));
  Json *xs = nullptr, *x = nullptr, *s = nullptr, *missing = nullptr;
  ASSERT_TRUE(jsonIndexKey(j, "xs", xs));
  ASSERT_TRUE(jsonIndexInt(xs, 1, x));
  EXPECT_EQ(x->i, 20);
  EXPECT_FALSE(jsonIndexInt(xs, 2, missing));
  EXPECT_EQ(errorMessage(), "index: index 2 out of range (length 2)");
  EXPECT_FALSE(jsonIndexKey(j, "nope", missing));
  EXPECT_EQ(errorMessage(), "key: key \"nope\" not found");
  int64_t n = 0;
  ASSERT_TRUE(jsonLen(j, n));
  EXPECT_EQ(n, 2);
  ASSERT_TRUE(jsonIndexKey(j, "s", s));
  EXPECT_FALSE(jsonLen(s, n));
  clearError();
  // A JSON string standing alone prints as its text; inside a structure it is quoted.
  EXPECT_EQ(format(Slot{.o = s}, &kJson), "text");
  EXPECT_EQ(format(Slot{.o = j}, &kJson), R"({"xs":[10,20],"s":"text"})");
  for (Json *o : {j, xs, x, s}) release(o);
}

TEST(RuntimeJson, ToJsonAndEquality) {
  Map *m = newMap(&kMapIntStr);
  mapSet(m, I(1), S("one"));
  Json *a = toJson(Slot{.o = m}, &kMapIntStr);
  std::string out;
  writeJson(out, a);
  EXPECT_EQ(out, R"({"1":"one"})");
  Json *d = toJson(I(1500), &kDur);
  out.clear();
  writeJson(out, d);
  EXPECT_EQ(out, "1500");
  Json *b = nullptr, *one = jsonInt(1), *oneF = jsonFloat(1.0);
  ASSERT_TRUE(parseJson(R"({"1": "one"})", b));
  EXPECT_TRUE(jsonEqual(a, b));
  EXPECT_TRUE(jsonEqual(one, oneF));
  for (Obj *o : std::initializer_list<Obj *>{m, a, d, b, one, oneF}) release(o);
}

} // namespace
} // namespace cfm::rt
