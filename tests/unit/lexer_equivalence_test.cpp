// lexer_equivalence_test.cpp — the hand-written lexer (compiler/parse/lexer.h) against the one
// ANTLR generates from grammar/CfpLexer.g4, through parse::compareLexers: every .cfp file of the
// conformance suite, the samples and the standard library, each of them cut short at many
// places (unterminated constructs everywhere), purpose-made edge cases, and random strings over
// the characters that matter to the lexer. Same tokens, same lexical errors, same
// `unterminatedAtEof`; and, through parse::compareTokenStreams, the parser's token array against
// ANTLR's CommonTokenStream.
#include "parse/parser.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace cfm::testing {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> cfpFiles() {
  std::vector<fs::path> out;
  for (const char *dir : {"tests/conformance", "tests/cloud", "samples", "stdlib", "bench/programs"}) {
    fs::path root = fs::path(CFM_SOURCE_DIR) / dir;
    if (!fs::exists(root)) continue;
    for (const auto &e : fs::recursive_directory_iterator(root))
      if (e.is_regular_file() && e.path().extension() == ".cfp") out.push_back(e.path());
  }
  return out;
}

std::string readFile(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(LexerEquivalence, EveryProgramOfTheTree) {
  std::vector<fs::path> files = cfpFiles();
  ASSERT_GT(files.size(), 100u);
  for (const fs::path &p : files) {
    std::string text = readFile(p);
    if (parse::findInvalidUtf8(text) != std::string_view::npos) continue; // never lexed
    EXPECT_EQ(parse::compareLexers(text), "") << p;
  }
}

// The parser reads the hand-written lexer's tokens through TokenArray (lexer.h), not ANTLR's
// CommonTokenStream: the same answers to every question a parser asks, on whole and cut files.
TEST(LexerEquivalence, TokenArrayActsAsCommonTokenStream) {
  for (const fs::path &p : cfpFiles()) {
    std::string text = readFile(p);
    if (parse::findInvalidUtf8(text) != std::string_view::npos) continue;
    EXPECT_EQ(parse::compareTokenStreams(text), "") << p;
    size_t cut = text.size() / 3;
    while (cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) ++cut;
    EXPECT_EQ(parse::compareTokenStreams(text.substr(0, cut)), "") << p << " cut short";
  }
  for (const char *c : {"", "fn", "\"${", "template t() \"\"\"{{ x", "/* open"})
    EXPECT_EQ(parse::compareTokenStreams(c), "") << "input: " << c;
}

TEST(LexerEquivalence, EveryProgramCutShort) {
  for (const fs::path &p : cfpFiles()) {
    std::string text = readFile(p);
    if (parse::findInvalidUtf8(text) != std::string_view::npos) continue;
    // 16 cuts a file, on character boundaries: inside strings, templates, comments, numbers.
    size_t step = text.size() / 16 + 1;
    for (size_t cut = step / 2; cut < text.size(); cut += step) {
      size_t c = cut;
      while (c < text.size() && (static_cast<unsigned char>(text[c]) & 0xC0) == 0x80) ++c;
      std::string part = text.substr(0, c);
      std::string diff = parse::compareLexers(part);
      EXPECT_EQ(diff, "") << p << " cut at byte " << c;
      if (!diff.empty()) break;
    }
  }
}

TEST(LexerEquivalence, EdgeCases) {
  const char *cases[] = {
      "",
      " ",
      "\n\n  \t\r\f",
      "/",
      "/*",
      "/*/",
      "/* a */ b /* c",
      "/* a **/",
      "/* ** / *",
      "a // comment",
      "a // comment\n b",
      "\"abc",
      "\"abc\ndef\"",
      "\"a\\",
      "\"a\\\n\"",
      "\"\\q\\u\\u{\\u{}\\u{110000}\\u{D800}\\u{1234567}\\u{1F600}\\u{12\"",
      "\"${\"",
      "\"${ {\"k\": \"}\"}[\"k\"] }b${\"${1}\"}c\"",
      "\"$ $x $\"",
      "\"\"\"",
      "\"\"\"a\"\"b\"\"\"\"",
      "\"\"\"\\$ \\n ${x} \\",
      "\"\"\" ${ \"\"\" ",
      "template",
      "template t() \"\"\"",
      "template t() \"\"\" {{ x }} {% for %} {",
      "template t() \"\"\" {{ {\"a\": 1} }} {% if x %}}} %} \"\"\"",
      "template t(a: string = \"\"\"x\"\"\") \"\"\"b\"\"\"",
      "template t(a = (1, (2))) \"\"\"b\"\"\"",
      "template t() ; \"\"\"b\"\"\"",
      "template t() { \"\"\"b\"\"\" }",
      "template t()) \"\"\"b\"\"\"",
      "template t( \"\"\"b\"\"\"",
      "template template \"\"\"b\"\"\"",
      "fn f() { template }",
      "{{ }} {% %} }} %}",
      "{ { } } }",
      "0 1 1_000 0x 0x_ 0xg 0x1F 0XfF_ 0o 0o8 0o17 0b 0b2 0b10_1 0b12 0_x",
      "1.5 1. 1.. 1..2 1.e5 1e 1e5 1e+5 1e-5_ 1E5x 1.5e3s 1.5_ 1_ 1__x",
      "5ms 5m 5s 5h 5msx 5mx 5x 5.5ms 1e3ms 1.5hx 2_s 0x5ms 0b1h",
      "a && b || c & d | e",
      "-> -= - == = != ! <= < >= > += + *= * /= / % . .. , ; : ( ) [ ]",
      "# @ ? ~ ` ^ \\ \x01 \x7f \xc3\xa9 \xf0\x9f\x98\x80",
      "let s = \"\xc3\xa9\xf0\x9f\x98\x80\"; let t = \"\"\"\xe2\x82\xac${x}\"\"\";",
      "fnx procedure_ templates record1 _ __ iff",
      "\"${ \"${ \"${ 1 }\" }\" }\"",
      "\"${ {",
      "x = \"\"\" ${ { \"",
      "template t() \"\"\" {% ",
      "template t() \"\"\" {{ \"abc",
  };
  for (const char *c : cases) EXPECT_EQ(parse::compareLexers(c), "") << "input: " << c;
}

TEST(LexerEquivalence, RandomStrings) {
  // Characters and fragments that steer the lexer: quotes, braces, `$`, `%`, backslashes, digits,
  // unit and radix letters, comment openers, `template`, parentheses, new lines.
  const std::vector<std::string> pieces = {
      "\"",       "\"\"\"", "{", "}", "{{", "}}", "{%", "%}", "$", "${", "\\", "\\u{",     "u",
      "\n",       " ",      "/", "*", "/*", "*/", "//", "0",  "1", "9",  "_",  ".",        "e",
      "E",        "+",      "-", "x", "b",  "o",  "m",  "s",  "h", "a",  "f",  "F",        "g",
      "template", "t",      "(", ")", ";",  "&",  "|",  "=",  "!", "<",  ">",  "\xc3\xa9", "#"};
  std::mt19937 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    int len = static_cast<int>(rng() % 24);
    for (int k = 0; k < len; ++k) s += pieces[rng() % pieces.size()];
    std::string diff = parse::compareLexers(s);
    ASSERT_EQ(diff, "") << "input: " << s;
  }
}

} // namespace
} // namespace cfm::testing
