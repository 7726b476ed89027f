// format_test.cpp — the source formatter (compiler/format, `cfmc fmt`): the layout rules of
// docs/fmt.md on small cases, comments in every kind of place, strings and template bodies kept,
// idempotence, and files that are refused.
#include "format/ast_dump.h"
#include "format/formatter.h"

#include <gtest/gtest.h>

#include <string>

namespace {

std::string fmt(const std::string &text) {
  cfm::Result<std::string> r = cfm::format::formatSource("t.cfp", text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return "<error>";
  // Every result is a fixed point with the same tree.
  cfm::Result<std::string> again = cfm::format::formatSource("t.cfp", *r);
  EXPECT_TRUE(again.ok());
  if (again.ok()) {
    EXPECT_EQ(*again, *r) << "not idempotent";
  }
  EXPECT_EQ(cfm::format::dumpSource("t.cfp", text).value(), cfm::format::dumpSource("t.cfp", *r).value());
  return *r;
}

TEST(Format, Basics) {
  // A block of one statement written on one line stays on one line; two statements do not.
  EXPECT_EQ(fmt("fn f(a:int,b:int)->int{return a*2+b;}\nprocedure main(){print(f(1,2));}\n"),
            "fn f(a: int, b: int) -> int { return a * 2 + b; }\nprocedure main() { print(f(1, 2)); }\n");
  EXPECT_EQ(
      fmt("fn f(a:int)->int{let b=a*2;return b;}\nprocedure main(){\nprint(f(1));}\n"),
      "fn f(a: int) -> int {\n  let b = a * 2;\n  return b;\n}\nprocedure main() {\n  print(f(1));\n}\n");
  EXPECT_EQ(fmt("const   N:int=-1;"), "const N: int = -1;\n");
  EXPECT_EQ(fmt(""), "");
  EXPECT_EQ(fmt("\n\n"), "");
}

TEST(Format, Operators) {
  EXPECT_EQ(fmt("fn f(a: int) {\n  let x = a- -a;\n  let y = !(a<3)&&a>=1;\n  var z=a;z+=1;z = z%2;\n}\n"),
            "fn f(a: int) {\n  let x = a - -a;\n  let y = !(a < 3) && a >= 1;\n  var z = a;\n  z += 1;\n  z "
            "= z % 2;\n}\n");
  EXPECT_EQ(
      fmt("fn f(m: map<string,list<int>>)->list<list<int>>{for i in 0 .. 3{}\nreturn [m[\"a\"]];}"),
      "fn f(m: map<string, list<int>>) -> list<list<int>> {\n  for i in 0..3 {}\n  return [m[\"a\"]];\n}\n");
}

TEST(Format, Literals) {
  EXPECT_EQ(fmt("record P{x:int,y:int}\nfn f()->P{let m={ \"a\" : 1 ,\"b\":2};let e={};let l=[ ];return "
                "P{x:1,y:0x_FF};}"),
            "record P { x: int, y: int }\nfn f() -> P {\n  let m = {\"a\": 1, \"b\": 2};\n  let e = {};\n  "
            "let l = [];\n"
            "  return P { x: 1, y: 0x_FF };\n}\n");
}

TEST(Format, NestedBlocks) {
  EXPECT_EQ(
      fmt("procedure main(){if true{while false{break;}}else if false{try{throw \"x\";}catch e{print(e);}}"
          "else{let t=async{return 1;};print(wait(t));}}"),
      "procedure main() {\n"
      "  if true {\n    while false { break; }\n"
      "  } else if false {\n    try { throw \"x\"; } catch e { print(e); }\n"
      "  } else {\n    let t = async { return 1; };\n    print(wait(t));\n  }\n"
      "}\n");
  EXPECT_EQ(fmt("procedure main(){if true{while false{\nbreak;}}else if false{try{\nthrow \"x\";}catch "
                "e{\nprint(e);}}"
                "else{let t=async{\nreturn 1;};print(wait(t));}}"),
            "procedure main() {\n"
            "  if true {\n    while false {\n      break;\n    }\n"
            "  } else if false {\n    try {\n      throw \"x\";\n    } catch e {\n      print(e);\n    }\n"
            "  } else {\n    let t = async {\n      return 1;\n    };\n    print(wait(t));\n  }\n"
            "}\n");
  // `} else {` joined when written on two lines, `fn f()\n{` too.
  EXPECT_EQ(fmt("fn f()\n{\n  if true {\n  }\n  else\n  {\n  }\n}\n"), "fn f() {\n  if true {} else {}\n}\n");
}

TEST(Format, Comments) {
  std::string in = "// head\n\n\n/* block */ import \"x.cfp\"; // after import\n"
                   "fn f(a: int, // first\n      b: int /* second */) {\n"
                   "    // own line\n  let x = a; // trailing\n\n\n  // before else\n"
                   "  if a > b { /* inline */ } // after if\n  else { // after else brace\n  }\n"
                   "  print(x, /* mid */ b);\n  // last in block\n}\n// end of file";
  std::string want = "// head\n\n/* block */ import \"x.cfp\"; // after import\n"
                     "fn f(a: int, // first\n  b: int /* second */) {\n"
                     "  // own line\n  let x = a; // trailing\n\n  // before else\n"
                     "  if a > b { /* inline */ } // after if\n  else { // after else brace\n  }\n"
                     "  print(x, /* mid */ b);\n  // last in block\n}\n// end of file\n";
  EXPECT_EQ(fmt(in), want);
}

TEST(Format, CommentsInEmptyAndOpenPlaces) {
  EXPECT_EQ(fmt("fn f() {\n  // only a comment\n}\n"), "fn f() {\n  // only a comment\n}\n");
  EXPECT_EQ(fmt("fn f() {\n  print(\n    1, // one\n    2\n  );\n}\n"),
            "fn f() {\n  print(\n    1, // one\n    2\n  );\n}\n");
  EXPECT_EQ(fmt("/* a\n   b */\nfn f() {}\n"), "/* a\n   b */\nfn f() {}\n");
}

TEST(Format, StringsKeptVerbatim) {
  std::string s =
      "procedure main() {\n  let x = 1;\n  print(\"a${ x+1 }b\\n\\u{1F600} ${ {\"k\": x}[\"k\"] }\");\n"
      "  let t = \"\"\"\n    kept   as is ${x}\n\"\"\";\n  print(t);\n}\n";
  EXPECT_EQ(fmt(s), s);
  // Re-indenting the statement never touches the string's lines.
  EXPECT_EQ(fmt("procedure main() {\nif true {\nprint(\"\"\"\n  two\n   three\"\"\");\n}\n}\n"),
            "procedure main() {\n  if true {\n    print(\"\"\"\n  two\n   three\"\"\");\n  }\n}\n");
}

TEST(Format, TemplateBodyVerbatim) {
  std::string body =
      "\"\"\"\nupstream {{ name }} {\n{% for s in servers %}\n    server {{s}};\n{% end %}\n}\n\"\"\"";
  EXPECT_EQ(fmt("template t( name:string,servers:list<string> )" + body + "\n"),
            "template t(name: string, servers: list<string>) " + body + "\n");
}

TEST(Format, LongLinesKeepTheirBreaks) {
  std::string in = "procedure main() {\n  let r = run_vm(\"web\",\n      image: \"debian\",\n"
                   "      count: 3);\n  let total = 1 +\n2 +\n    3;\n  let xs = [\n1,\n2,\n];\n}\n";
  std::string want =
      "procedure main() {\n  let r = run_vm(\"web\",\n    image: \"debian\",\n"
      "    count: 3);\n  let total = 1 +\n    2 +\n    3;\n  let xs = [\n    1,\n    2,\n  ];\n}\n";
  EXPECT_EQ(fmt(in), want);
  EXPECT_EQ(fmt("fn f() {\n  g(1, {\n    \"a\": 1,\n  });\n  h(x)\n    .m()\n    .n();\n}\n"),
            "fn f() {\n  g(1, {\n    \"a\": 1,\n  });\n  h(x)\n    .m()\n    .n();\n}\n");
}

TEST(Format, CrlfAndBom) {
  EXPECT_EQ(fmt("fn f() {\r\n  return;\r\n}\r\n"), "fn f() {\n  return;\n}\n");
  EXPECT_EQ(fmt("\xEF\xBB\xBF"
                "fn f(){}"),
            "\xEF\xBB\xBF"
            "fn f() {}\n");
}

TEST(Format, DeepExpressions) {
  std::string e = "1";
  for (int i = 0; i < 5000; ++i) e += "+1";
  std::string out = fmt("const X = " + e + ";\n");
  EXPECT_EQ(out.size(), std::string("const X = 1").size() + 5000 * 4 + 2);
}

TEST(Format, SyntaxErrorsAreRefused) {
  cfm::Result<std::string> r = cfm::format::formatSource("bad.cfp", "fn f( {\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, cfm::ErrorKind::Syntax);
  EXPECT_NE(r.error().message.find("bad.cfp:1:"), std::string::npos) << r.error().message;
  ASSERT_TRUE(r.error().loc.has_value());
  EXPECT_EQ(r.error().loc->line, 1);
  cfm::Result<std::string> u = cfm::format::formatSource("u.cfp", "fn f() { /* open");
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().kind, cfm::ErrorKind::Syntax);
  cfm::Result<std::string> b = cfm::format::formatSource("b.cfp", "fn f() {}\n\xff");
  ASSERT_FALSE(b.ok());
}

TEST(Format, AstDumpIgnoresPositionsOnly) {
  auto a = cfm::format::dumpSource("a.cfp", "fn f() -> int { return 1 + 2; }");
  auto b = cfm::format::dumpSource("b.cfp", "fn f()->int{\n\n return (1+2);}");
  auto c = cfm::format::dumpSource("c.cfp", "fn f() -> int { return 1 + 3; }");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
}

} // namespace
