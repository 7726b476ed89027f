// abi_test.cpp — the runtime's C ABI as generated code will use it: every function listed in
// abi.def resolves by name, and calls through plain C function pointers behave like the
// runtime's C++ functions (status codes, pending errors, new references).
#include "runtime/abi.h"

#include "runtime/value.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstring>
#include <string>

namespace {

TEST(RuntimeAbi, EveryListedFunctionResolves) {
#define ABI(ret, name, params) EXPECT_EQ(cfm_abi_lookup(#name), reinterpret_cast<void *>(&name)) << #name;
#include "runtime/abi.def"
#undef ABI
  EXPECT_EQ(cfm_abi_lookup("cfm_no_such_function"), nullptr);
}

TEST(RuntimeAbi, CheckedArithmeticThroughFunctionPointers) {
  using AddFn = cfm_status (*)(int64_t, int64_t, int64_t *);
  auto add = reinterpret_cast<AddFn>(cfm_abi_lookup("cfm_add_int"));
  ASSERT_NE(add, nullptr);
  int64_t out = 0;
  EXPECT_EQ(add(40, 2, &out), 0);
  EXPECT_EQ(out, 42);
  EXPECT_EQ(add(INT64_MAX, 1, &out), 1);
  cfm_error *e = cfm_take_error();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(std::string(cfm_str_data(cfm_error_kind(e)), static_cast<size_t>(cfm_str_len(cfm_error_kind(e)))),
            "overflow");
  cfm_release(reinterpret_cast<cfm_obj *>(e));
}

// JIT'd code reads record fields and list items at these offsets (runtime/abi.h).
TEST(RuntimeAbi, RecordFieldsAndListItemsAreWhereTheJitReadsThem) {
  using namespace cfm::rt;
  TypeDesc i(Kind::Int), list(Kind::List, &i);
  TypeDesc rec(Kind::Record);
  rec.fieldTypes = {&i, &i, &i};
  Record r(&rec);
  r.fields[2].i = 42;
  const char *base = reinterpret_cast<const char *>(&r);
  Slot *const *fields = reinterpret_cast<Slot *const *>(base + CFM_RECORD_FIELDS_OFFSET);
  EXPECT_EQ(*fields, r.fields.data());
  EXPECT_EQ((*fields)[2].i, 42);
  List l(&list);
  for (int64_t k = 0; k < 5; ++k) l.items.push_back(Slot{.i = k * 10});
  Slot *const *items =
      reinterpret_cast<Slot *const *>(reinterpret_cast<const char *>(&l) + CFM_LIST_ITEMS_OFFSET);
  EXPECT_EQ(*items, l.items.data());
  EXPECT_EQ((*items)[3].i, 30);
}

// JIT'd template code reads a string's length and bytes at these offsets, and writes a
// cfm_text's buffer in place between cfm_text_reserve calls (runtime/abi.h).
TEST(RuntimeAbi, StringBytesAndTextBufferAreWhereTheJitWritesThem) {
  cfm_str *s = cfm_str_new("héllo", 6);
  const char *base = reinterpret_cast<const char *>(s);
  EXPECT_EQ(*reinterpret_cast<const int64_t *>(base + CFM_STR_LEN_OFFSET), 6);
  EXPECT_EQ(base + CFM_STR_CHARS_OFFSET, cfm_str_data(s));
  EXPECT_EQ(std::string(base + CFM_STR_CHARS_OFFSET, 6), "héllo");

  cfm_text t{};
  cfm_text_init(&t, 0);
  ASSERT_NE(t.data, nullptr);
  EXPECT_EQ(t.len, 0);
  EXPECT_GT(t.cap, 0);
  // In place, as the JIT's runs do: reserve, copy, store the length.
  cfm_text_reserve(&t, 3);
  ASSERT_GE(t.cap - t.len, 3);
  std::memcpy(t.data + t.len, "ab:", 3);
  t.len += 3;
  cfm_text_append(&t, base + CFM_STR_CHARS_OFFSET, 6);
  cfm_slot i;
  i.i = INT64_MIN;
  cfm::rt::TypeDesc intT(cfm::rt::Kind::Int);
  cfm_text_value(&t, i, &intT);
  // Growth keeps what was written.
  std::string big(10000, 'x');
  cfm_text_append(&t, big.data(), static_cast<int64_t>(big.size()));
  EXPECT_GE(t.cap, t.len);
  cfm_str *out = cfm_text_finish(&t);
  EXPECT_EQ(t.data, nullptr);
  EXPECT_EQ(std::string(cfm_str_data(out), static_cast<size_t>(cfm_str_len(out))),
            "ab:héllo-9223372036854775808" + big);
  EXPECT_EQ(cfm_str_data(out)[cfm_str_len(out)], '\0');

  // A hint much longer than the text: the string is still exactly the text.
  cfm_text_init(&t, 1 << 20);
  cfm_text_append(&t, "x", 1);
  cfm_str *small = cfm_text_finish(&t);
  EXPECT_EQ(std::string(cfm_str_data(small)), "x");
  // Dropped unfinished, and dropped again (the error exit after nothing was begun).
  cfm_text_init(&t, 16);
  cfm_text_append(&t, "partial", 7);
  cfm_text_drop(&t);
  EXPECT_EQ(t.data, nullptr);
  cfm_text_drop(&t);
  for (cfm_str *x : {s, out, small}) cfm_release(reinterpret_cast<cfm_obj *>(x));
}

TEST(RuntimeAbi, StringsListsAndErrors) {
  cfm::rt::TypeDesc str(cfm::rt::Kind::String), list(cfm::rt::Kind::List, &str);
  cfm_str *a = cfm_str_new("ab", 2), *b = cfm_str_new("c", 1);
  cfm_str *ab = cfm_str_concat(a, b);
  EXPECT_EQ(cfm_str_len(ab), 3);
  EXPECT_LT(cfm_str_compare(a, b), 0);
  cfm_list *l = cfm_list_new(&list);
  cfm_slot s;
  s.o = reinterpret_cast<cfm_obj *>(ab);
  cfm_list_push(l, s); // the list takes the reference
  cfm_slot lv;
  lv.o = reinterpret_cast<cfm_obj *>(l);
  cfm_str *text = cfm_format(lv, &list);
  EXPECT_EQ(std::string(cfm_str_data(text)), "[\"abc\"]");
  cfm_slot got;
  EXPECT_EQ(cfm_list_get(l, 3, &got), 1);
  cfm_error *e = cfm_take_error();
  EXPECT_EQ(std::string(cfm_str_data(cfm_error_message(e))), "index 3 out of range (length 1)");
  EXPECT_EQ(cfm_raise_user(a), 1);
  cfm_error *u = cfm_take_error();
  EXPECT_EQ(std::string(cfm_str_data(cfm_error_kind(u))), "user");
  for (cfm_obj *o :
       {reinterpret_cast<cfm_obj *>(a), reinterpret_cast<cfm_obj *>(b), reinterpret_cast<cfm_obj *>(l),
        reinterpret_cast<cfm_obj *>(text), reinterpret_cast<cfm_obj *>(e), reinterpret_cast<cfm_obj *>(u)})
    cfm_release(o);
}

} // namespace
