// abi_test.cpp — the runtime's C ABI as generated code will use it: every function listed in
// abi.def resolves by name, and calls through plain C function pointers behave like the
// runtime's C++ functions (status codes, pending errors, new references).
#include "runtime/abi.h"

#include "runtime/value.h"

#include <gtest/gtest.h>

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
