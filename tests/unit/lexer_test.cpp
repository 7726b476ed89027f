// lexer_test.cpp — the lexer's hard cases (grammar/CfpLexer.g4 and its decoding in the parse
// adapter): interpolation with nested strings and braces, triple-quoted strings, template bodies
// and their detection, durations, numbers, escapes, columns in characters, and every
// unterminated construct.
#include "test_support.h"

namespace cfm::testing {
namespace {

using ast::ExprKind;

ast::StringLit *stringInit(const frontend::Compilation &c, size_t n = 0) {
  ast::Expr *e = letInit(c, "main", n);
  EXPECT_NE(e, nullptr);
  EXPECT_EQ(e->kind, ExprKind::String);
  return static_cast<ast::StringLit *>(e);
}

TEST(Lexer, InterpolationHoldsNestedStringsAndBraces) {
  auto c = compile(R"(procedure main() { let s = "a${ {"k": "}"}["k"] }b${"${1}"}c"; })");
  ASSERT_TRUE(c->ok()) << messages(*c)[0];
  ast::StringLit *s = stringInit(*c);
  ASSERT_EQ(s->parts.size(), 5u);
  EXPECT_EQ(s->parts[0].text, "a");
  ASSERT_NE(s->parts[1].expr, nullptr);
  EXPECT_EQ(s->parts[1].expr->kind, ExprKind::Index);
  EXPECT_EQ(s->parts[2].text, "b");
  ASSERT_NE(s->parts[3].expr, nullptr);
  EXPECT_EQ(s->parts[3].expr->kind, ExprKind::String); // a string inside the interpolation
  EXPECT_EQ(s->parts[4].text, "c");
}

TEST(Lexer, Escapes) {
  auto c = compile(R"(procedure main() { let s = "\n\t\r\"\\\$\u{1F600}\u{e9}$x"; })");
  ASSERT_TRUE(c->ok()) << messages(*c)[0];
  ast::StringLit *s = stringInit(*c);
  ASSERT_EQ(s->parts.size(), 1u);
  EXPECT_EQ(s->parts[0].text, "\n\t\r\"\\$\xF0\x9F\x98\x80\xC3\xA9$x"); // a lone `$` is text
}

TEST(Lexer, TripleQuotedDropsFirstNewlineAndTakesOnlyDollarEscape) {
  auto c =
      compile("procedure main() { let s = \"\"\"\nline \\n ${1 + 1} \\${x} \"quoted\" \"\" end\n\"\"\"; }");
  ASSERT_TRUE(c->ok()) << messages(*c)[0];
  ast::StringLit *s = stringInit(*c);
  ASSERT_EQ(s->parts.size(), 3u);
  EXPECT_EQ(s->parts[0].text, "line \\n ");
  EXPECT_EQ(s->parts[2].text, " ${x} \"quoted\" \"\" end\n");
}

TEST(Lexer, TemplateBodyIsRawTextWithExpressionsAndTags) {
  auto c = compile("template t(xs: list<string>, m: map<string, int>) \"\"\"\n"
                   "a ${VAR} \\n {{ {\"k\": 1}[\"k\"] }}\n"
                   "{% for x in xs %}\n"
                   "  {{ x }}\n"
                   "{% end %}\n"
                   "\"\"\"\n");
  ASSERT_TRUE(c->ok()) << messages(*c)[0];
  ast::FnDecl *t = function(*c, "t");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->tplBody.size(), 4u);
  EXPECT_EQ(t->tplBody[0]->text, "a ${VAR} \\n "); // no escapes and no interpolation in templates
  EXPECT_EQ(t->tplBody[1]->kind, ast::TplKind::Expr);
  EXPECT_EQ(t->tplBody[1]->expr->kind, ExprKind::Index); // `}}` of the map did not end the tag
  EXPECT_EQ(t->tplBody[2]->text, "\n");
  ASSERT_EQ(t->tplBody[3]->kind, ast::TplKind::For);
  // The tag-only lines vanished with their newlines; the body line stays.
  ASSERT_EQ(t->tplBody[3]->body.size(), 3u);
  EXPECT_EQ(t->tplBody[3]->body[0]->text, "  ");
  EXPECT_EQ(t->tplBody[3]->body[2]->text, "\n");
}

TEST(Lexer, TemplateKeywordWithStringDefaultStillFindsItsBody) {
  // The `"""` in the parameter list is a string; the body is the first `"""` after the `)`.
  auto c = compile("template t(sep: string = \"\"\",\"\"\") \"\"\"{{ sep }}\"\"\"\n"
                   "procedure main() { print(t()); }\n");
  EXPECT_TRUE(c->ok()) << (c->ok() ? "" : messages(*c)[0]);
}

TEST(Lexer, DurationsAreExactMilliseconds) {
  auto c = compile(
      "procedure main() { let a = 1.5m; let b = 500ms; let c = 2h; let d = 1_000s; let e = 1.5e3ms; }");
  ASSERT_TRUE(c->ok()) << messages(*c)[0];
  int64_t want[] = {90000, 500, 7200000, 1000000, 1500};
  for (size_t i = 0; i < 5; ++i) {
    ast::Expr *e = letInit(*c, "main", i);
    ASSERT_EQ(e->kind, ExprKind::Duration);
    EXPECT_EQ(static_cast<ast::DurationLit *>(e)->ms, want[i]) << i;
  }
}

TEST(Lexer, NumberForms) {
  auto c = compile("procedure main() { let a = 0x1F; let b = 0o644; let c = 0b101; let d = 1_000; "
                   "let e = -9223372036854775808; let f = 2e10; }");
  ASSERT_TRUE(c->ok()) << messages(*c)[0];
  int64_t want[] = {31, 420, 5, 1000, INT64_MIN};
  for (size_t i = 0; i < 5; ++i) {
    ast::Expr *e = letInit(*c, "main", i);
    ASSERT_EQ(e->kind, ExprKind::Int) << i;
    EXPECT_EQ(static_cast<ast::IntLit *>(e)->value, want[i]) << i;
  }
  EXPECT_EQ(static_cast<ast::FloatLit *>(letInit(*c, "main", 5))->value, 2e10);
}

TEST(Lexer, RangeIsNotAFloat) {
  auto c = compile("procedure main() { for i in 0..3 { print(i); } }");
  EXPECT_TRUE(c->ok());
}

struct BadInput {
  const char *name;
  const char *source;
  const char *diagnostic;
};

class LexicalErrors : public ::testing::TestWithParam<BadInput> {};

TEST_P(LexicalErrors, ReportedWhereTheyAre) {
  auto c = compile(GetParam().source);
  ASSERT_FALSE(c->ok());
  auto m = messages(*c);
  ASSERT_EQ(m.size(), 1u) << ::testing::PrintToString(m);
  EXPECT_EQ(m[0], GetParam().diagnostic);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LexicalErrors,
    ::testing::Values(
        BadInput{"UnterminatedString", "procedure main() { let s = \"abc; }\n",
                 "1:28: unterminated string literal"},
        BadInput{"UnterminatedTriple", "procedure main() { let s = \"\"\"abc; }\n",
                 "1:28: unterminated string literal"},
        BadInput{"UnterminatedInterpolation", "procedure main() { let s = \"a ${ 1 + ",
                 "1:31: unterminated `${` in string literal"},
        BadInput{"UnterminatedTemplate", "template t() \"\"\"\nabc",
                 "1:14: unterminated template body (missing closing `\"\"\"`)"},
        BadInput{"UnterminatedTemplateExpr", "template t() \"\"\"\n{{ x",
                 "2:1: unterminated `{{` in template"},
        BadInput{"UnterminatedComment", "procedure main() { /* no end", "1:20: unterminated block comment"},
        BadInput{"UnknownEscape", "procedure main() { let s = \"\\q\"; }",
                 "1:29: unknown escape sequence `\\q`"},
        BadInput{"SurrogateEscape", "procedure main() { let s = \"\\u{D800}\"; }",
                 "1:29: invalid unicode scalar value in `\\u{D800}`"},
        BadInput{"TooLongUnicodeEscape", "procedure main() { let s = \"\\u{1234567}\"; }",
                 "1:29: invalid unicode escape (expected `\\u{XXXX}`)"},
        BadInput{"NumberSuffix", "procedure main() { let d = 5days; }",
                 "1:29: invalid suffix `days` on number (durations take `ms`, `s`, `m` or `h`)"},
        BadInput{"FractionalMilliseconds", "procedure main() { let d = 0.5ms; }",
                 "1:28: duration `0.5ms` is not a whole number of milliseconds"},
        BadInput{"IntegerOutOfRange", "procedure main() { let x = 9223372036854775808; }",
                 "1:28: integer literal out of range for `int`"},
        BadInput{"FloatOutOfRange", "procedure main() { let x = 1e999; }",
                 "1:28: float literal out of range"},
        BadInput{"UnexpectedCharacter", "procedure main() { let x = 1 @ 2; }",
                 "1:30: unexpected character `@`"},
        // Columns count characters, not bytes.
        BadInput{"ColumnsCountCharacters", "procedure main() { let s = \"日本語\"; let t = \"\\z\"; }",
                 "1:44: unknown escape sequence `\\z`"},
        BadInput{"InvalidUtf8", "procedure main() { let s = \"ok\xff\"; }",
                 "1:31: source is not valid UTF-8"}),
    [](const ::testing::TestParamInfo<BadInput> &info) { return std::string(info.param.name); });

TEST(Lexer, ByteOrderMarkIsIgnored) {
  auto c = compile("\xEF\xBB\xBFprocedure main() { print(1); }");
  EXPECT_TRUE(c->ok());
}

TEST(Parser, RecordLiteralCannotStandInConditionHead) {
  auto c = compile("record P { x: int }\nprocedure main() {\n  let a = P { x: 1 };\n  if a == P { x: 1 } { "
                   "print(1); }\n}\n");
  ASSERT_FALSE(c->ok());
  auto m = messages(*c);
  ASSERT_GE(m.size(), 1u);
  EXPECT_EQ(m[0],
            "4:11: a record literal cannot stand directly in the head of `if`, `while` or `for`; wrap it in "
            "parentheses");
  auto ok =
      compile("record P { x: int }\nprocedure main() {\n  let a = P { x: 1 };\n"
              "  if a == (P { x: 1 }) { print(1); }\n  if f(P { x: 1 }) {}\n  for p in [P { x: 2 }] {}\n}\n"
              "fn f(p: P) -> bool { return p.x == 1; }\n");
  EXPECT_TRUE(ok->ok()) << (ok->ok() ? "" : messages(*ok)[0]);
}

TEST(Parser, MissingSemicolonIsReportedAtTheEndOfTheLine) {
  auto c = compile("procedure main() {\n  let x = 1\n  print(x);\n}\n");
  auto m = messages(*c);
  ASSERT_EQ(m.size(), 1u) << ::testing::PrintToString(m);
  EXPECT_EQ(m[0], "2:12: expected `;`, found `print`");
}

TEST(Parser, NestingLimitAndOnePast) {
  auto nested = [](int depth) {
    return "procedure main() { let x = " + std::string(static_cast<size_t>(depth), '(') + "1" +
           std::string(static_cast<size_t>(depth), ')') + "; }";
  };
  // The block's `{` counts as one level.
  EXPECT_TRUE(compile(nested(parse::kMaxNesting - 1))->ok());
  auto c = compile(nested(parse::kMaxNesting));
  ASSERT_FALSE(c->ok());
  EXPECT_NE(messages(*c)[0].find("nesting too deep (limit 256)"), std::string::npos);
}

TEST(Parser, ExpressionDepthLimitAndOnePast) {
  auto chain = [](int terms) {
    std::string s = "procedure main() { let x = 1";
    for (int i = 1; i < terms; ++i) s += " + 1";
    return s + "; }";
  };
  EXPECT_TRUE(compile(chain(parse::kMaxExprDepth))->ok());
  auto c = compile(chain(parse::kMaxExprDepth + 2));
  ASSERT_FALSE(c->ok());
  EXPECT_NE(messages(*c)[0].find("nesting too deep (limit 10000)"), std::string::npos);
}

} // namespace
} // namespace cfm::testing
