// checker_test.cpp — the type checker (compiler/sema): inferred and annotated types, generics of
// the built-in containers, the json conversion rule, records, named and default arguments,
// Task<T>, captures of async blocks, the return-path rule, and one diagnostic per mistake.
#include "test_support.h"

#include "sema/types.h"

namespace cfm::testing {
namespace {

std::string typeOf(const frontend::Compilation &c, size_t n) {
  ast::Expr *e = letInit(c, "main", n);
  return e && e->type ? e->type->str() : "<none>";
}

TEST(Checker, InfersTypesOfLetFromInitialisers) {
  auto c = compile(R"(
record Endpoint { host: string, port: int }
fn f(x: int) -> Task<int> { return async g(x); }
fn g(x: int) -> int { return x; }
procedure main() {
  let a = 1 + 2 * 3;
  let b = [1.5, 2.0];
  let c = {"a": [1], "b": []};
  let d = Endpoint { host: "h", port: 1 };
  let e = 90s * 2;
  let f2 = f(1);
  let g2 = [f(1), f(2)];
  let h = wait(g2);
  let i = parse_json("{}")["k"];
  let j = {1: "one"}.keys();
  let k = "a,b".split(",");
  let l = async { print(1); };
}
)");
  ASSERT_TRUE(c->ok()) << messages(*c)[0];
  const char *want[] = {"int",      "list<float>", "map<string, list<int>>", "Endpoint",
                        "duration", "Task<int>",   "list<Task<int>>",        "list<int>",
                        "json",     "list<int>",   "list<string>",           "Task<void>"};
  for (size_t i = 0; i < std::size(want); ++i) EXPECT_EQ(typeOf(*c, i), want[i]) << "let #" << i;
}

TEST(Checker, JsonConversionRuleMarksTheConvertedExpression) {
  auto c = compile(R"(
record P { x: int }
procedure main() {
  let j: json = {"n": 3, "tags": ["a"], "p": P { x: 1 }, "none": null};
  let k: json = 5;
}
)");
  ASSERT_TRUE(c->ok()) << messages(*c)[0];
  auto *m = static_cast<ast::MapLit *>(letInit(*c, "main", 0));
  EXPECT_TRUE(m->jsonLiteral);
  EXPECT_TRUE(m->entries[0].value->toJson);
  EXPECT_TRUE(static_cast<ast::ListLit *>(m->entries[1].value)->jsonLiteral);
  EXPECT_TRUE(m->entries[2].value->toJson);
  EXPECT_TRUE(letInit(*c, "main", 1)->toJson);
}

TEST(Checker, NamedAndDefaultArgumentsBindToParameters) {
  auto c = compile(R"(
fn f(a: int, b: string = "x", c: bool = true) -> int { return a; }
procedure main() { let r = f(1, c: false); }
)");
  ASSERT_TRUE(c->ok()) << messages(*c)[0];
  auto *call = static_cast<ast::CallExpr *>(letInit(*c, "main", 0));
  ASSERT_EQ(call->boundArgs.size(), 3u);
  EXPECT_NE(call->boundArgs[0], nullptr);
  EXPECT_EQ(call->boundArgs[1], nullptr); // the default is evaluated at the call
  EXPECT_NE(call->boundArgs[2], nullptr);
  EXPECT_EQ(call->evalOrder, (std::vector<int>{0, 2}));
}

TEST(Checker, AsyncBlocksRecordTheirCaptures) {
  auto c = compile(R"(
procedure main() {
  let a = 1;
  var b = "x";
  let unused = 2;
  let t = async { print(a); print(b); };
  wait(t);
}
)");
  ASSERT_TRUE(c->ok()) << messages(*c)[0];
  auto *blk = static_cast<ast::AsyncBlockExpr *>(letInit(*c, "main", 3));
  ASSERT_EQ(blk->captures.size(), 2u);
  EXPECT_EQ(blk->captures[0]->name, "a");
  EXPECT_EQ(blk->captures[1]->name, "b");
}

TEST(Checker, ForwardReferencesAndRecursion) {
  auto c = compile(R"(
procedure main() { print(fib(10)); print(LIMIT); }
fn fib(n: int) -> int { if n < 2 { return n; } return fib(n - 1) + fib(n - 2); }
const LIMIT = BASE * 2;
const BASE = 21;
)");
  EXPECT_TRUE(c->ok()) << (c->ok() ? "" : messages(*c)[0]);
}

TEST(Checker, ReturnPathRule) {
  auto c = compile(R"(
fn a(x: int) -> int { if x > 0 { return 1; } else { return 2; } }
fn b() -> int { while true { } }
fn c() -> int { fail("no"); }
fn d() -> int { try { return 1; } catch e { throw e.message; } }
fn e(x: int) -> int { if x > 0 { return 1; } }
fn f() -> int { while true { break; } }
)");
  auto m = messages(*c);
  ASSERT_EQ(m.size(), 2u) << ::testing::PrintToString(m);
  EXPECT_EQ(m[0], "6:46: missing `return` at the end of `e` (it returns `int`)");
  EXPECT_EQ(m[1], "7:39: missing `return` at the end of `f` (it returns `int`)");
}

TEST(Checker, OneMistakeGivesOneDiagnostic) {
  // `x`'s initialiser is wrong; every later use of `x` must stay silent.
  auto c = compile(R"(
procedure main() {
  let x = 1 + "a";
  let y = x * 2;
  print(x.field);
  print(len(x));
}
)");
  auto m = messages(*c);
  ASSERT_EQ(m.size(), 1u) << ::testing::PrintToString(m);
  EXPECT_EQ(m[0], "3:13: operator `+` cannot be applied to `int` and `string`");
}

TEST(Checker, EveryIndependentErrorIsReported) {
  auto c = compile(R"(
procedure main() {
  let a: int = "s";
  b = 1;
  let c = [];
  print(nope(1));
  let d = 1 < "x";
}
)");
  auto m = messages(*c);
  ASSERT_EQ(m.size(), 5u) << ::testing::PrintToString(m);
  EXPECT_EQ(m[0], "3:16: expected `int`, found `string`");
  EXPECT_EQ(m[1], "4:3: undefined name `b`");
  EXPECT_EQ(m[2], "5:11: cannot infer the type of an empty list; annotate it (`let xs: list<int> = [];`)");
  EXPECT_EQ(m[3], "6:9: undefined function `nope`");
  EXPECT_EQ(m[4], "7:13: cannot compare `int` with `string`");
}

TEST(Checker, AsyncCaptureRule) {
  auto c = compile(R"(
procedure main() {
  var n = 0;
  let t = async { n += 1; };
  let u = async { return 5; };
  wait(t);
}
)");
  auto m = messages(*c);
  ASSERT_EQ(m.size(), 2u) << ::testing::PrintToString(m);
  EXPECT_EQ(m[0], "4:19: cannot assign to `n` inside an async block: the block has its own copy of it");
  EXPECT_EQ(m[1], "5:19: an async block cannot return a value");
}

TEST(Checker, ImportsJoinOneNamespace) {
  // compileText has no directory to import from; a missing import is reported at the import.
  auto c = compile("import \"nowhere/lib.cfp\";\nprocedure main() {}\n");
  auto m = messages(*c);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_NE(m[0].find("1:1: cannot import `nowhere/lib.cfp`"), std::string::npos) << m[0];
}

TEST(Checker, LenAcceptsJsonAsLanguageMdSays) {
  // refcfp.py rejects `len` of a json value; LANGUAGE.md lists "json array or object".
  auto c = compile("procedure main() { let j = parse_json(\"[1]\"); print(len(j)); print(j.len()); }");
  EXPECT_TRUE(c->ok()) << (c->ok() ? "" : messages(*c)[0]);
}

} // namespace
} // namespace cfm::testing
