// parser.cpp — runs the lexer (lexer.h) and the ANTLR parser over one file and reports lexical
// and syntax errors in CFM's words; build_ast.cpp turns the parse tree into the AST.
#include "parse/parser.h"

#include "base/utf8.h"
#include "parse/lexer.h"
#include "parse/parse_internal.h"

#include <CfpLexer.h>
#include <CfpParser.h>
#include <antlr4-runtime.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>
#include <string>
#include <vector>

namespace cfm::parse {

using support::DiagKind;
using support::Loc;
using support::Range;

size_t findInvalidUtf8(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else
      return i;
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return i;
    i += len;
  }
  return std::string_view::npos;
}

namespace {

double secondsSince(std::chrono::steady_clock::time_point &t) {
  auto now = std::chrono::steady_clock::now();
  double s = std::chrono::duration<double>(now - t).count();
  t = now;
  return s;
}

/// Line and character column of byte `off` in `text` (for errors found before lexing).
Loc locOfByte(support::FileId file, std::string_view text, size_t off) {
  uint32_t line = 1, col = 1;
  for (size_t i = 0; i < off && i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      col = 1;
    } else if ((c & 0xC0) != 0x80)
      ++col;
  }
  return Loc{file, line, col};
}

std::string describeChar(const std::string &t) {
  // Printable characters are shown as themselves, others as U+XXXX.
  if (t.size() == 1 && (static_cast<unsigned char>(t[0]) < 0x20 || t[0] == 0x7F)) {
    char buf[16];
    snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(static_cast<unsigned char>(t[0])));
    return buf;
  }
  return "`" + t + "`";
}

/// Reports syntax errors in CFM's words. Mirrors DefaultErrorStrategy's bookkeeping (one report
/// per error-recovery episode, so one mistake gives one diagnostic) but not its messages.
class SyntaxErrors : public antlr4::DefaultErrorStrategy {
public:
  SyntaxErrors(TokenFacts &facts, support::DiagnosticEngine &diags, bool quietAtEof)
      : facts_(facts), diags_(diags), quietAtEof_(quietAtEof) {}
  int count = 0;

protected:
  void reportNoViableAlternative(antlr4::Parser *p, const antlr4::NoViableAltException &e) override {
    emit(p, e.getOffendingToken(), e.getExpectedTokens());
  }
  void reportInputMismatch(antlr4::Parser *p, const antlr4::InputMismatchException &e) override {
    emit(p, e.getOffendingToken(), e.getExpectedTokens());
  }
  void reportFailedPredicate(antlr4::Parser *p, const antlr4::FailedPredicateException &e) override {
    emit(p, e.getOffendingToken(), p->getExpectedTokens());
  }
  void reportUnwantedToken(antlr4::Parser *p) override {
    if (inErrorRecoveryMode(p)) return;
    beginErrorCondition(p);
    emit(p, p->getCurrentToken(), getExpectedTokens(p));
  }
  void reportMissingToken(antlr4::Parser *p) override {
    if (inErrorRecoveryMode(p)) return;
    beginErrorCondition(p);
    emit(p, p->getCurrentToken(), getExpectedTokens(p));
  }

private:
  TokenFacts &facts_;
  support::DiagnosticEngine &diags_;
  bool quietAtEof_;

  uint32_t lastLine_ = 0;

  /// `if P { x: 1 } {` — the most common way to trip over the record-literal rule.
  bool recordInCondition(antlr4::Parser *p, antlr4::Token *tok) {
    if (tok->getType() != cfm_grammar::CfpParser::ID) return false;
    antlr4::Token *next = p->getTokenStream()->get(tok->getTokenIndex() + 1);
    if (!next || next->getType() != cfm_grammar::CfpParser::LBRACE) return false;
    for (antlr4::RuleContext *c = p->getContext(); c; c = dynamic_cast<antlr4::RuleContext *>(c->parent))
      if (c->getRuleIndex() == cfm_grammar::CfpParser::RuleCond) return true;
    return false;
  }

  /// Set after an error whose recovery is known to derail the parser for the rest of its
  /// declaration; errors stay quiet until a declaration starts a line again.
  size_t resyncFrom_ = 0;
  bool resyncing_ = false;
  int reported_ = 0;

  bool stillResyncing(antlr4::Parser *p, antlr4::Token *tok) {
    if (!resyncing_) return false;
    auto *ts = p->getTokenStream();
    for (size_t i = resyncFrom_; i <= tok->getTokenIndex() && i < ts->size(); ++i) {
      antlr4::Token *t = ts->get(i);
      size_t ty = t->getType();
      bool decl = ty == cfm_grammar::CfpParser::FN || ty == cfm_grammar::CfpParser::PROCEDURE ||
                  ty == cfm_grammar::CfpParser::TEMPLATE || ty == cfm_grammar::CfpParser::RECORD ||
                  ty == cfm_grammar::CfpParser::CONST || ty == cfm_grammar::CfpParser::IMPORT;
      if (decl && t->getCharPositionInLine() == 0) {
        resyncing_ = false;
        return false;
      }
    }
    return true;
  }

  void emit(antlr4::Parser *p, antlr4::Token *tok, const antlr4::misc::IntervalSet &expected) {
    ++count;
    if (tok->getType() == antlr4::Token::EOF && quietAtEof_) return; // the lexer said why
    if (stillResyncing(p, tok)) return;
    if (recordInCondition(p, tok)) {
      Loc l = facts_.begin(tok);
      diags_.report(DiagKind::RecordInCondition, Range{l, facts_.end(tok)});
      lastLine_ = l.line;
      ++reported_;
      resyncing_ = true; // the record's braces were taken for the block: the rest is noise
      resyncFrom_ = tok->getTokenIndex();
      return;
    }
    std::string found = facts_.describe(tok);
    std::string want = facts_.describeSet(expected, p);
    Loc at = facts_.begin(tok);
    size_t rule = p->getContext() ? p->getContext()->getRuleIndex() : 0;
    if (rule == cfm_grammar::CfpParser::RuleFile || rule == cfm_grammar::CfpParser::RuleDecl) {
      // Between declarations only a declaration can start.
      if (tok->getType() != antlr4::Token::EOF) {
        ++reported_;
        diags_.report(DiagKind::ExpectedDeclaration, Range{at, facts_.end(tok)}, {found});
        lastLine_ = at.line;
        return;
      }
    }
    if (tok->getType() == antlr4::Token::EOF &&
        expected.contains(static_cast<size_t>(cfm_grammar::CfpParser::RBRACE))) {
      // After another syntax error an unclosed block at the end is almost always its echo.
      if (reported_ == 0) diags_.report(DiagKind::UnclosedBlock, Range{at, at});
      lastLine_ = at.line;
      return;
    }
    // Like clang and rustc: a missing `;` (or closer) at the end of a line is reported where it is
    // missing, right after the previous token.
    if (expected.contains(static_cast<size_t>(cfm_grammar::CfpParser::SEMI))) {
      antlr4::Token *prev = facts_.previous(tok);
      if (prev && prev->getLine() < tok->getLine()) at = facts_.end(prev);
      if (want.empty() || (prev && prev->getLine() < tok->getLine())) want = "`;`";
    }
    // A lexical error on this line already explains it (e.g. an unterminated string), and so does
    // an earlier syntax error on the same line: report one mistake once.
    if (facts_.lexErrorLines.count(at.line) || at.line == lastLine_) return;
    lastLine_ = at.line;
    ++reported_;
    if (want.empty())
      diags_.report(DiagKind::SyntaxUnexpected, Range{at, at}, {found});
    else
      diags_.report(DiagKind::SyntaxExpected, Range{at, at}, {want, found});
  }
};

/// Nesting depth as tokens go by: brackets, braces, interpolations, template parts and runs of
/// prefix operators. Checking it before the parser runs keeps hostile input (10,000 nested
/// parentheses) from exhausting the stack; kMaxNesting is the limit.
struct NestingMeter {
  int depth = 0, run = 0;
  /// Returns false once the limit is exceeded.
  bool step(size_t ty) {
    using L = cfm_grammar::CfpLexer;
    switch (ty) {
    case L::LPAREN:
    case L::LBRACK:
    case L::LBRACE:
    case L::INTERP_OPEN:
    case L::TPL_EXPR_OPEN:
    case L::TPL_TAG_OPEN:
    case L::STR_OPEN:
    case L::TSTR_OPEN:
      ++depth;
      run = 0;
      break;
    case L::RPAREN:
    case L::RBRACK:
    case L::RBRACE:
    case L::INTERP_CLOSE:
    case L::TPL_EXPR_CLOSE:
    case L::TAG_CLOSE:
    case L::STR_CLOSE:
    case L::TSTR_CLOSE:
      if (depth > 0) --depth;
      run = 0;
      break;
    case L::MINUS:
    case L::BANG:
    case L::ASYNC: ++run; break;
    default: run = 0;
    }
    return depth + run <= kMaxNesting;
  }
};

/// A lower bound on expression depth as tokens go by, so that a chain too deep for the AST
/// builder (kMaxExprDepth) is refused before the parser spends time and memory on it: a 4 MB
/// `1+1+…+1` would otherwise build a parse tree of millions of nested contexts first. In a
/// bracket-free stretch of an expression, the operators of one precedence level that no
/// looser operator separates nest as left operands of each other, so `n` of them put a leaf
/// `n + 1` levels deep; postfix `.`, calls and indexing are the tightest level. Only such runs
/// are counted, so the meter never refuses what the builder would accept; anything that ends an
/// expression (`;`, `,`, `{`, a keyword, ...) starts the count again.
struct ExprChainMeter {
  static constexpr int kLevels = 8; // 1 `||` ... 6 `*`, 7 postfix
  struct Counts {
    int n[kLevels] = {};
  };
  std::vector<Counts> levels{Counts{}};
  size_t prev = 0, prev2 = 0; // the two tokens before (0: none)

  static int precedence(size_t ty) {
    using L = cfm_grammar::CfpLexer;
    switch (ty) {
    case L::OR: return 1;
    case L::AND: return 2;
    case L::EQ:
    case L::NE: return 3;
    case L::LT:
    case L::LE:
    case L::GT:
    case L::GE: return 4;
    case L::PLUS:
    case L::MINUS: return 5;
    case L::STAR:
    case L::SLASH:
    case L::PERCENT: return 6;
    default: return 0;
    }
  }
  /// True when a token of type `ty` ends an operand (so a following `-` is binary and a
  /// following `(` or `[` a call or an index).
  static bool endsOperand(size_t ty) {
    using L = cfm_grammar::CfpLexer;
    switch (ty) {
    case L::ID:
    case L::INT_LIT:
    case L::FLOAT_LIT:
    case L::DURATION_LIT:
    case L::TRUE_LIT:
    case L::FALSE_LIT:
    case L::NULL_LIT:
    case L::STR_CLOSE:
    case L::TSTR_CLOSE:
    case L::RPAREN:
    case L::RBRACK: return true;
    default: return false;
    }
  }
  /// Counts an operator of level `p`; false when the run is deeper than kMaxExprDepth allows.
  bool count(int p) {
    Counts &c = levels.back();
    for (int q = p + 1; q < kLevels; ++q) c.n[q] = 0;
    return ++c.n[p] + 1 <= kMaxExprDepth;
  }
  bool step(size_t ty) {
    bool ok = advance(ty);
    prev2 = prev;
    prev = ty;
    return ok;
  }
  bool advance(size_t ty) {
    using L = cfm_grammar::CfpLexer;
    switch (ty) {
    case L::ID:
    case L::INT_LIT:
    case L::FLOAT_LIT:
    case L::DURATION_LIT:
    case L::TRUE_LIT:
    case L::FALSE_LIT:
    case L::NULL_LIT:
    case L::STR_OPEN:
    case L::TSTR_OPEN:
    case L::STR_TEXT:
    case L::TSTR_TEXT:
    case L::STR_ESC:
    case L::TSTR_ESC:
    case L::STR_UESC:
    case L::STR_CLOSE:
    case L::TSTR_CLOSE:
    case L::BANG: return true; // operands; runs of prefix operators are NestingMeter's
    case L::DOT: return count(7);
    case L::LPAREN:
    case L::LBRACK: {
      // A call or an index when it follows an operand; `.name(` is one method call, counted at `.`.
      bool method = ty == L::LPAREN && prev == L::ID && prev2 == L::DOT;
      bool ok = !endsOperand(prev) || method || count(7);
      levels.emplace_back();
      return ok;
    }
    case L::RPAREN:
    case L::RBRACK:
      if (levels.size() > 1) levels.pop_back();
      return true;
    default: {
      int p = precedence(ty);
      if (ty == L::MINUS && !endsOperand(prev)) return true; // unary minus
      if (p > 0) return count(p);
      levels.back() = Counts{}; // anything else ends the expression
      return true;
    }
    }
  }
};

} // namespace

// ---- TokenFacts: positions and descriptions of tokens ----

Loc TokenFacts::begin(const antlr4::Token *t) const {
  return Loc{file, static_cast<uint32_t>(t->getLine()),
             static_cast<uint32_t>(t->getCharPositionInLine() + 1)};
}

Loc TokenFacts::end(const antlr4::Token *t) const {
  Loc b = begin(t);
  if (t->getType() == antlr4::Token::EOF) return b;
  // Tokens that span lines (strings, comments are skipped) end somewhere we need not be exact.
  size_t len = t->getStopIndex() >= t->getStartIndex() ? t->getStopIndex() - t->getStartIndex() + 1 : 0;
  b.col += static_cast<uint32_t>(len);
  return b;
}

antlr4::Token *TokenFacts::previous(const antlr4::Token *t) const {
  size_t i = t->getTokenIndex();
  return i > 0 && i - 1 < tokens->tokens().size() ? tokens->get(i - 1) : nullptr;
}

std::string TokenFacts::describe(const antlr4::Token *t) const {
  using L = cfm_grammar::CfpLexer;
  if (typedEnd.line != 0) {
    Loc b = begin(t);
    if (b.line > typedEnd.line || (b.line == typedEnd.line && b.col >= typedEnd.col)) return "end of input";
  }
  switch (t->getType()) {
  case antlr4::Token::EOF: return "end of input";
  case L::INT_LIT:
  case L::FLOAT_LIT:
  case L::DURATION_LIT: return "a number";
  case L::STR_OPEN:
  case L::TSTR_OPEN:
  case L::TPL_OPEN: return "a string literal";
  case L::STR_TEXT:
  case L::TSTR_TEXT:
  case L::TPL_TEXT: return "text";
  default: {
    std::string s = t->getText();
    if (s.size() > 40) s = s.substr(0, 40) + "...";
    return "`" + s + "`";
  }
  }
}

std::string TokenFacts::describeSet(const antlr4::misc::IntervalSet &set, antlr4::Parser *p) const {
  using L = cfm_grammar::CfpLexer;
  std::vector<ssize_t> types = set.toList();
  // Anything that can start an expression: say "an expression" rather than listing tokens.
  if (set.contains(size_t(L::ID)) && set.contains(size_t(L::INT_LIT)) && set.contains(size_t(L::LPAREN)))
    return "an expression";
  if (types.size() > 4) return "";
  std::vector<std::string> names;
  for (ssize_t ty : types) {
    if (ty == static_cast<ssize_t>(antlr4::Token::EOF)) {
      names.push_back("end of input");
      continue;
    }
    if (ty == L::ID) {
      names.push_back("a name");
      continue;
    }
    if (ty == L::TPL_OPEN) {
      names.push_back("a `\"\"\"` template body");
      continue;
    }
    if (ty == L::STR_OPEN || ty == L::TSTR_OPEN) {
      names.push_back("a string literal");
      continue;
    }
    std::string lit = p->getVocabulary().getLiteralName(static_cast<size_t>(ty));
    if (lit.size() >= 2 && lit.front() == '\'') lit = lit.substr(1, lit.size() - 2);
    // Tokens whose lexer rules carry actions have no literal name in the vocabulary.
    if (lit.empty() && ty == L::LBRACE) lit = "{";
    if (lit.empty() && ty == L::RBRACE) lit = "}";
    if (ty == L::TAG_CLOSE) lit = "%}";
    if (ty == L::TPL_EXPR_CLOSE) lit = "}}";
    if (ty == L::INTERP_CLOSE) lit = "}";
    if (lit.empty()) lit = p->getVocabulary().getSymbolicName(static_cast<size_t>(ty));
    names.push_back("`" + lit + "`");
  }
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

ParseResult parseFile(support::FileId file, const support::SourceManager &sm,
                      support::DiagnosticEngine &diags, std::vector<SyntaxToken> *syntaxTokens) {
  ParseResult result;
  result.module = std::make_unique<ast::Module>();
  result.module->file = file;
  const std::string &text = sm.file(file).text();

  size_t bad = findInvalidUtf8(text);
  if (bad != std::string_view::npos) {
    Loc l = locOfByte(file, text, bad);
    diags.report(DiagKind::InvalidUtf8, Range{l, l});
    result.hadErrors = true;
    return result;
  }
  std::string_view body = text;
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3); // a UTF-8 byte order mark

  size_t before = diags.errorCount();
  auto clock = std::chrono::steady_clock::now();
  SourceStream input(body);
  Lexer lexer(input); // the hand-written lexer; grammar/CfpLexer.g4 is its specification
  std::set<uint32_t> lexLines;
  lexer.onError = [&](int code, size_t line, size_t col, const std::string &t) {
    Loc l{file, static_cast<uint32_t>(line), static_cast<uint32_t>(col)};
    reportLexError(diags, code, l, t);
    lexLines.insert(l.line);
  };
  // (Lexing on a thread of its own, ahead of the parser, was tried: ANTLR 4.9's ATN simulators
  // share static locks, and the contention made both slower than one after the other.)
  TokenArray tokens(lexer);
  result.times.lex = secondsSince(clock);
  TokenFacts facts{file, &tokens, std::move(lexLines), {}};
  if (sm.file(file).typedEnd() != std::string::npos)
    facts.typedEnd = locOfByte(file, text, sm.file(file).typedEnd());
  NestingMeter meter;
  ExprChainMeter chain;
  for (const SourceToken &t : tokens.tokens()) {
    bool nestingOk = meter.step(t.getType());
    if (nestingOk && chain.step(t.getType())) continue;
    Loc l = facts.begin(&t);
    diags.report(DiagKind::NestingTooDeep, Range{l, l},
                 {std::to_string(nestingOk ? kMaxExprDepth : kMaxNesting)});
    result.hadErrors = true;
    return result;
  }

  cfm_grammar::CfpParser parser(&tokens);
  parser.removeErrorListeners();
  // build_ast reads only the grammar's labels, start and stop tokens and parents, which the
  // parser sets either way; the children lists (a terminal node per token and a vector per
  // context) are for collectSyntaxTokens' walk alone.
  parser.setBuildParseTree(syntaxTokens != nullptr);
  cfm_grammar::CfpParser::FileContext *tree = nullptr;
  // Stage 1: SLL prediction, bail out at the first error (fast path for correct files).
  parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
      antlr4::atn::PredictionMode::SLL);
  parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  try {
    tree = parser.file();
  } catch (antlr4::ParseCancellationException &) {
    tree = nullptr;
  }
  int syntaxErrors = 0;
  if (!tree) {
    // Stage 2: full LL with error reporting and recovery.
    parser.reset();
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
        antlr4::atn::PredictionMode::LL);
    auto strategy = std::make_shared<SyntaxErrors>(facts, diags, lexer.unterminatedAtEof);
    parser.setErrorHandler(strategy);
    try {
      tree = parser.file();
    } catch (std::exception &) {
      tree = nullptr;
    }
    syntaxErrors = strategy->count;
    if (syntaxErrors == 0 && !tree) syntaxErrors = 1;
  }
  result.times.parse = secondsSince(clock);
  // Lexical errors alone still build the AST, so that literal errors elsewhere are reported too;
  // hadErrors keeps such a module from being type checked.
  if (syntaxErrors > 0) {
    result.hadErrors = true;
    return result;
  }
  buildModule(tree, facts, diags, *result.module);
  result.times.build = secondsSince(clock);
  if (syntaxTokens)
    collectSyntaxTokens(tree, body, static_cast<uint32_t>(text.size() - body.size()), *syntaxTokens);
  result.hadErrors = diags.errorCount() > before;
  return result;
}

void reportLexError(support::DiagnosticEngine &diags, int code, Loc l, const std::string &t) {
  using L = cfm_grammar::CfpLexer;
  Range r{l, l};
  switch (code) {
  case L::LE_UnterminatedString: diags.report(DiagKind::UnterminatedString, r); break;
  case L::LE_UnterminatedTemplate: diags.report(DiagKind::UnterminatedTemplate, r); break;
  case L::LE_UnterminatedInterp: diags.report(DiagKind::UnterminatedInterp, r); break;
  case L::LE_UnterminatedTplPart: diags.report(DiagKind::UnterminatedTemplatePart, r, {t}); break;
  case L::LE_UnterminatedComment: diags.report(DiagKind::UnterminatedBlockComment, r); break;
  case L::LE_UnknownEscape: diags.report(DiagKind::UnknownEscape, r, {t}); break;
  case L::LE_BadUnicodeEscape: diags.report(DiagKind::InvalidUnicodeEscape, r); break;
  case L::LE_BadUnicodeScalar: diags.report(DiagKind::InvalidUnicodeScalar, r, {t}); break;
  case L::LE_BadNumberSuffix: {
    // The token is number + suffix; report the suffix where it starts, as written.
    size_t i = 0;
    bool radix = t.size() > 1 && t[0] == '0' && std::string("xXoObB").find(t[1]) != std::string::npos;
    bool digits = false;
    if (radix) {
      // Digits valid for the radix (`0b12` has the digit 1 and the suffix `2`).
      const char *valid = t[1] == 'x' || t[1] == 'X'   ? "0123456789abcdefABCDEF"
                          : t[1] == 'o' || t[1] == 'O' ? "01234567"
                                                       : "01";
      i = 2;
      while (i < t.size() && (std::strchr(valid, t[i]) || t[i] == '_')) digits |= t[i++] != '_';
    } else {
      while (i < t.size() && (isdigit(static_cast<unsigned char>(t[i])) || t[i] == '_' || t[i] == '.')) ++i;
    }
    if (radix && !digits) {
      diags.report(DiagKind::NumberNoDigits, r);
      break;
    }
    Loc s{l.file, l.line, l.col + static_cast<uint32_t>(i)};
    diags.report(DiagKind::BadNumberSuffix, Range{s, s}, {t.substr(i)});
    break;
  }
  case L::LE_NoDigits: diags.report(DiagKind::NumberNoDigits, r); break;
  case L::LE_UnexpectedChar: diags.report(DiagKind::UnexpectedChar, r, {describeChar(t)}); break;
  default: diags.report(DiagKind::SyntaxUnexpected, r, {"`" + t + "`"});
  }
}

} // namespace cfm::parse
