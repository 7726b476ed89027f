// lexer.cpp — the hand-written lexer (lexer.h): grammar/CfpLexer.g4's rules as direct code,
// longest match first and the earlier rule on a tie, as ANTLR decides; and compareLexers(),
// which runs it and the generated lexer side by side.
#include "parse/lexer.h"

#include "base/utf8.h"
#include "parse/parser.h"

#include <CfpLexer.h>

#include <algorithm>
#include <sstream>

namespace cfm::parse {

using L = cfm_grammar::CfpLexer;

// ---- SourceStream ----

SourceStream::SourceStream(std::string_view utf8) {
  _data.reserve(utf8.size());
  size_t i = 0, n = utf8.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(utf8[i]);
    char32_t cp;
    size_t len;
    if (c < 0x80)
      cp = c, len = 1;
    else if ((c & 0xE0) == 0xC0)
      cp = c & 0x1F, len = 2;
    else if ((c & 0xF0) == 0xE0)
      cp = c & 0x0F, len = 3;
    else
      cp = c & 0x07, len = 4;
    for (size_t k = 1; k < len && i + k < n; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    _data.push_back(cp);
    i += len;
  }
  p = 0;
}

std::string SourceStream::getText(const antlr4::misc::Interval &iv) {
  if (iv.a < 0 || iv.b < 0) return {};
  size_t a = static_cast<size_t>(iv.a), b = std::min(static_cast<size_t>(iv.b), _data.size() - 1);
  std::string out;
  if (_data.empty() || a > b) return out;
  out.reserve(b - a + 1);
  for (size_t i = a; i <= b; ++i) {
    char32_t c = _data[i];
    if (c < 0x80)
      out.push_back(static_cast<char>(c));
    else
      base::appendUtf8(out, static_cast<uint32_t>(c));
  }
  return out;
}

// ---- Lexer ----

namespace {

bool isDigit(char32_t c) { return c >= '0' && c <= '9'; }
bool isLetter_(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isWord(char32_t c) { return isLetter_(c) || isDigit(c); }
bool isHex(char32_t c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/// The keyword spelled by [s, s + n), or ID.
size_t keyword(const char32_t *s, size_t n) {
  struct Kw {
    const char *text;
    size_t type;
  };
  static const Kw kws[] = {
      {"fn", L::FN},
      {"procedure", L::PROCEDURE},
      {"template", L::TEMPLATE},
      {"record", L::RECORD},
      {"import", L::IMPORT},
      {"const", L::CONST},
      {"let", L::LET},
      {"var", L::VAR},
      {"if", L::IF},
      {"else", L::ELSE},
      {"while", L::WHILE},
      {"for", L::FOR},
      {"in", L::IN},
      {"break", L::BREAK},
      {"continue", L::CONTINUE},
      {"return", L::RETURN},
      {"async", L::ASYNC},
      {"try", L::TRY},
      {"catch", L::CATCH},
      {"throw", L::THROW},
      {"true", L::TRUE_LIT},
      {"false", L::FALSE_LIT},
      {"null", L::NULL_LIT},
  };
  if (n < 2 || n > 9) return L::ID;
  for (const Kw &k : kws) {
    size_t i = 0;
    while (i < n && k.text[i] && static_cast<char32_t>(k.text[i]) == s[i]) ++i;
    if (i == n && k.text[i] == 0) return k.type;
  }
  return L::ID;
}

} // namespace

Lexer::Lexer(SourceStream &input) : input_(input), d_(input.codePoints()), n_(input.codePointCount()) {}

antlr4::TokenFactory<antlr4::CommonToken> *Lexer::getTokenFactory() {
  return antlr4::CommonTokenFactory::DEFAULT.get();
}

void Lexer::take(size_t k) {
  for (size_t e = pos_ + k; pos_ < e; ++pos_) {
    if (d_[pos_] == '\n') {
      ++line_;
      col_ = 0;
    } else
      ++col_;
  }
}

std::string Lexer::text() const {
  if (pos_ == startPos_) return {};
  return input_.getText(antlr4::misc::Interval(startPos_, pos_ - 1));
}

void Lexer::endOfInputInside() {
  for (size_t i = ctx_.size(); i-- > 0;) {
    const Open &o = ctx_[i];
    if (o.kind == Brace) continue;
    unterminatedAtEof = true;
    report(o.kind == Str || o.kind == TStr ? L::LE_UnterminatedString
           : o.kind == Tpl                 ? L::LE_UnterminatedTemplate
           : o.kind == Interp              ? L::LE_UnterminatedInterp
                                           : L::LE_UnterminatedTplPart,
           o.line, o.col, o.text);
    break;
  }
  ctx_.clear();
}

void Lexer::punct(size_t type) {
  if (type == L::LPAREN)
    ++parenDepth_;
  else if (type == L::RPAREN)
    --parenDepth_;
  else if (type == L::SEMI || type == L::LBRACE || type == L::RBRACE)
    pendingTemplate_ = false;
}

std::unique_ptr<antlr4::Token> Lexer::nextToken() { return std::make_unique<SourceToken>(next()); }

SourceToken Lexer::next() {
  for (;;) {
    startPos_ = pos_;
    startLine_ = line_;
    startCol_ = col_;
    if (pos_ >= n_) {
      SourceToken eof(this, antlr4::Token::EOF, n_, n_ - 1, line_, col_);
      if (!ctx_.empty()) endOfInputInside();
      return eof;
    }
    size_t type;
    bool skip = false;
    OpenKind mode = ctx_.empty() ? Brace : ctx_.back().kind;
    switch (mode) {
    case Str: type = lexString(); break;
    case TStr: type = lexTriple(); break;
    case Tpl: type = lexTemplate(); break;
    default: type = lexCode(skip);
    }
    if (skip) continue;
    if (pendingTemplate_) punct(type);
    return SourceToken(this, type, startPos_, pos_ - 1, startLine_, startCol_);
  }
}

// ---- SourceToken and TokenArray ----

std::string SourceToken::getText() const {
  // As CommonToken::getText without text of its own.
  size_t n = source_->getInputStream()->size();
  if (start_ < n && stop_ < n)
    return source_->getInputStream()->getText(antlr4::misc::Interval(start_, stop_));
  return "<EOF>";
}

antlr4::TokenSource *SourceToken::getTokenSource() const { return source_; }

antlr4::CharStream *SourceToken::getInputStream() const { return source_->getInputStream(); }

std::string SourceToken::toString() const {
  // CommonToken's format: [@index,start:stop='text',<type>,line:column]
  std::string t = getText();
  std::string shown;
  for (char c : t) {
    if (c == '\n')
      shown += "\\n";
    else if (c == '\r')
      shown += "\\r";
    else if (c == '\t')
      shown += "\\t";
    else
      shown += c;
  }
  return "[@" + std::to_string(static_cast<ssize_t>(getTokenIndex())) + "," + std::to_string(start_) + ":" +
         std::to_string(static_cast<ssize_t>(stop_)) + "='" + shown + "',<" +
         std::to_string(static_cast<ssize_t>(getType())) + ">," + std::to_string(line_) + ":" +
         std::to_string(col_) + "]";
}

TokenArray::TokenArray(Lexer &lexer) : lexer_(lexer) {
  // Tokens average more than two code points in any real file (a larger count just grows the
  // array); pages of the reserve that no token reaches are never touched.
  tokens_.reserve(lexer.getInputStream()->size() / 2 + 16);
  for (;;) {
    tokens_.push_back(lexer.next());
    tokens_.back().setTokenIndex(tokens_.size() - 1);
    if (tokens_.back().getType() == antlr4::Token::EOF) break;
  }
}

antlr4::Token *TokenArray::LT(ssize_t k) {
  // As CommonTokenStream's on a filled stream whose tokens are all on the default channel.
  if (k == 0) return nullptr;
  if (k < 0) return static_cast<size_t>(-k) > p_ ? nullptr : &tokens_[p_ + k];
  return &tokens_[std::min(p_ + static_cast<size_t>(k) - 1, tokens_.size() - 1)];
}

antlr4::Token *TokenArray::get(size_t index) const {
  if (index >= tokens_.size())
    throw antlr4::IndexOutOfBoundsException("token index " + std::to_string(index) + " out of range 0.." +
                                            std::to_string(tokens_.size() - 1));
  return const_cast<SourceToken *>(&tokens_[index]);
}

antlr4::TokenSource *TokenArray::getTokenSource() const { return &lexer_; }

std::string TokenArray::getText(const antlr4::misc::Interval &interval) {
  if (interval.a < 0 || interval.b < 0) return "";
  size_t stop = std::min(static_cast<size_t>(interval.b), tokens_.size() - 1);
  std::string out;
  for (size_t i = static_cast<size_t>(interval.a); i <= stop; ++i) {
    if (tokens_[i].getType() == antlr4::Token::EOF) break;
    out += tokens_[i].getText();
  }
  return out;
}

std::string TokenArray::getText() {
  return getText(antlr4::misc::Interval(0, static_cast<ssize_t>(size()) - 1));
}

std::string TokenArray::getText(antlr4::RuleContext *ctx) { return getText(ctx->getSourceInterval()); }

std::string TokenArray::getText(antlr4::Token *start, antlr4::Token *stop) {
  if (!start || !stop) return "";
  return getText(antlr4::misc::Interval(start->getTokenIndex(), stop->getTokenIndex()));
}

void TokenArray::consume() {
  if (p_ + 1 >= tokens_.size()) throw antlr4::IllegalStateException("cannot consume EOF");
  ++p_;
}

std::string TokenArray::getSourceName() const { return lexer_.getSourceName(); }

size_t Lexer::lexCode(bool &skip) {
  char32_t c = d_[pos_], c1 = at(pos_ + 1);
  auto op2 = [&](char32_t second, size_t two, size_t one) {
    if (c1 == second) {
      take(2);
      return two;
    }
    take(1);
    return one;
  };
  switch (c) {
  case ' ':
  case '\t':
  case '\r':
  case '\n':
  case '\f': {
    size_t e = pos_ + 1;
    while (e < n_ && (d_[e] == ' ' || d_[e] == '\t' || d_[e] == '\r' || d_[e] == '\n' || d_[e] == '\f')) ++e;
    takeTo(e);
    skip = true;
    return 0;
  }
  case '/': {
    if (c1 == '/') {
      size_t e = pos_ + 2;
      while (e < n_ && d_[e] != '\n') ++e;
      takeTo(e);
      skip = true;
      return 0;
    }
    if (c1 == '*') {
      size_t e = pos_ + 2;
      while (e + 1 < n_ && !(d_[e] == '*' && d_[e + 1] == '/')) ++e;
      skip = true;
      if (e + 1 < n_) {
        takeTo(e + 2);
        return 0;
      }
      takeTo(n_);
      lexError(L::LE_UnterminatedComment);
      unterminatedAtEof = true;
      return 0;
    }
    return op2('=', L::SLASH_ASSIGN, L::SLASH);
  }
  case '-':
    if (c1 == '>') {
      take(2);
      return L::ARROW;
    }
    return op2('=', L::MINUS_ASSIGN, L::MINUS);
  case '.': return op2('.', L::DOTDOT, L::DOT);
  case '=': return op2('=', L::EQ, L::ASSIGN);
  case '!': return op2('=', L::NE, L::BANG);
  case '<': return op2('=', L::LE, L::LT);
  case '>': return op2('=', L::GE, L::GT);
  case '+': return op2('=', L::PLUS_ASSIGN, L::PLUS);
  case '*': return op2('=', L::STAR_ASSIGN, L::STAR);
  case '&':
  case '|':
    if (c1 == c) {
      take(2);
      return c == '&' ? L::AND : L::OR;
    }
    break; // a bad character
  case '}':
    if (c1 == '}' && top(TplExpr)) {
      take(2);
      ctx_.pop_back();
      return L::TPL_EXPR_CLOSE;
    }
    take(1);
    if (top(Brace)) {
      ctx_.pop_back();
    } else if (top(Interp)) {
      ctx_.pop_back();
      return L::INTERP_CLOSE;
    }
    return L::RBRACE;
  case '%':
    if (c1 == '}' && top(TplTag)) {
      take(2);
      ctx_.pop_back();
      return L::TAG_CLOSE;
    }
    take(1);
    return L::PERCENT;
  case '(': take(1); return L::LPAREN;
  case ')': take(1); return L::RPAREN;
  case '[': take(1); return L::LBRACK;
  case ']': take(1); return L::RBRACK;
  case ',': take(1); return L::COMMA;
  case ';': take(1); return L::SEMI;
  case ':': take(1); return L::COLON;
  case '{':
    take(1);
    open(Brace);
    return L::LBRACE;
  case '"':
    if (c1 == '"' && at(pos_ + 2) == '"') {
      take(3);
      if (pendingTemplate_ && parenDepth_ == 0) {
        pendingTemplate_ = false;
        open(Tpl);
        return L::TPL_OPEN;
      }
      open(TStr);
      return L::TSTR_OPEN;
    }
    take(1);
    open(Str);
    return L::STR_OPEN;
  default:
    if (isLetter_(c)) {
      size_t e = pos_ + 1;
      while (e < n_ && isWord(d_[e])) ++e;
      size_t type = keyword(d_ + pos_, e - pos_);
      takeTo(e);
      if (type == L::TEMPLATE) {
        pendingTemplate_ = true;
        parenDepth_ = 0;
      }
      return type;
    }
    if (isDigit(c)) return lexNumber();
    break;
  }
  take(1);
  lexError(L::LE_UnexpectedChar);
  skip = true;
  return 0;
}

size_t Lexer::lexNumber() {
  const size_t p = pos_;
  auto decEnd = [&](size_t i) { // DEC from a digit at i
    size_t j = i + 1;
    while (j < n_ && (isDigit(d_[j]) || d_[j] == '_')) ++j;
    return j;
  };
  auto expEnd = [&](size_t i) -> size_t { // EXP at i, or 0
    if (at(i) != 'e' && at(i) != 'E') return 0;
    size_t j = i + 1;
    if (at(j) == '+' || at(j) == '-') ++j;
    return isDigit(at(j)) ? decEnd(j) : 0;
  };
  auto unitEnd = [&](size_t b) -> size_t { // b followed by a unit, or 0
    if (at(b) == 'm' && at(b + 1) == 's') return b + 2;
    if (at(b) == 's' || at(b) == 'm' || at(b) == 'h') return b + 1;
    return 0;
  };
  auto wordEnd = [&](size_t i) {
    while (i < n_ && isWord(d_[i])) ++i;
    return i;
  };
  // Where each rule's longest match ends (0: no match), in the grammar's order.
  size_t e1 = decEnd(p);
  size_t dur = unitEnd(e1), flt = 0, intl = e1, bad = 0;
  bool frac = at(e1) == '.' && isDigit(at(e1 + 1));
  if (frac) {
    size_t e2 = decEnd(e1 + 1), x = expEnd(e2);
    flt = x ? x : e2;
    dur = std::max({dur, unitEnd(e2), x ? unitEnd(x) : 0});
    // BAD_NUMBER's DEC '.' DEC, then a letter or `_` inside or right after the second DEC.
    bool tail = isLetter_(at(e2));
    for (size_t i = e1 + 2; i < e2 && !tail; ++i) tail = d_[i] == '_';
    if (tail) bad = wordEnd(e1 + 1);
  }
  if (size_t x = expEnd(e1)) {
    flt = std::max(flt, x);
    dur = std::max(dur, unitEnd(x));
  }
  {
    bool tail = isLetter_(at(e1));
    for (size_t i = p + 1; i < e1 && !tail; ++i) tail = d_[i] == '_';
    if (tail) bad = std::max(bad, wordEnd(p));
  }
  char32_t r = at(p + 1);
  if (d_[p] == '0' && (r == 'x' || r == 'X' || r == 'o' || r == 'O' || r == 'b' || r == 'B')) {
    auto valid = [&](char32_t c) {
      return r == 'x' || r == 'X'   ? isHex(c)
             : r == 'o' || r == 'O' ? (c >= '0' && c <= '7')
                                    : (c == '0' || c == '1');
    };
    size_t j = p + 2;
    while (at(j) == '_') ++j;
    if (valid(at(j))) {
      ++j;
      while (valid(at(j)) || at(j) == '_') ++j;
      intl = std::max(intl, j);
    }
    size_t h = p + 2;
    bool tail = false;
    while (isHex(at(h)) || at(h) == '_') tail |= !isDigit(d_[h++]);
    if (tail || isLetter_(at(h))) bad = std::max(bad, wordEnd(p + 2));
  }
  size_t end = dur, type = L::DURATION_LIT;
  if (flt > end) end = flt, type = L::FLOAT_LIT;
  if (intl > end) end = intl, type = L::INT_LIT;
  if (bad > end) end = bad, type = L::BAD_NUMBER;
  takeTo(end);
  if (type == L::BAD_NUMBER) {
    lexError(L::LE_BadNumberSuffix);
    type = L::INT_LIT;
  }
  return type;
}

size_t Lexer::lexString() {
  char32_t c = d_[pos_], c1 = at(pos_ + 1);
  switch (c) {
  case '"':
    take(1);
    ctx_.pop_back();
    return L::STR_CLOSE;
  case '\n':
    // A "..." string cannot hold a raw newline: report it at the string's start and close it.
    take(1);
    report(L::LE_UnterminatedString, ctx_.back().line, ctx_.back().col, "");
    ctx_.pop_back();
    return L::STR_CLOSE;
  case '$':
    if (c1 == '{') {
      take(2);
      open(Interp);
      return L::INTERP_OPEN;
    }
    take(1);
    return L::STR_TEXT;
  case '\\':
    switch (c1) {
    case 'n':
    case 't':
    case 'r':
    case '"':
    case '\\':
    case '$': take(2); return L::STR_ESC;
    case 'u': {
      if (at(pos_ + 2) == '{') {
        size_t j = pos_ + 3;
        while (isHex(at(j))) ++j;
        if (at(j) == '}') {
          takeTo(j + 1);
          size_t digits = j - (startPos_ + 3);
          size_t col = startCol_ + 1;
          if (digits == 0 || digits > 6) {
            report(L::LE_BadUnicodeEscape, startLine_, col, text());
          } else {
            unsigned long cp = 0;
            for (size_t i = startPos_ + 3; i < j; ++i) {
              char32_t h = d_[i];
              cp = cp * 16 + (isDigit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
            }
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
              report(L::LE_BadUnicodeScalar, startLine_, col, text());
          }
          return L::STR_UESC;
        }
      }
      take(2);
      lexError(L::LE_BadUnicodeEscape);
      return L::STR_TEXT;
    }
    case '\n':
    case kEof:
      take(1);
      lexError(L::LE_UnknownEscape);
      return L::STR_TEXT;
    default:
      take(2);
      lexError(L::LE_UnknownEscape);
      return L::STR_TEXT;
    }
  default: {
    size_t e = pos_ + 1;
    while (e < n_ && d_[e] != '"' && d_[e] != '\\' && d_[e] != '$' && d_[e] != '\n') ++e;
    takeTo(e);
    return L::STR_TEXT;
  }
  }
}

size_t Lexer::lexTriple() {
  char32_t c = d_[pos_], c1 = at(pos_ + 1);
  switch (c) {
  case '"':
    if (c1 == '"' && at(pos_ + 2) == '"') {
      take(3);
      ctx_.pop_back();
      return L::TSTR_CLOSE;
    }
    take(1);
    return L::TSTR_TEXT;
  case '\\':
    if (c1 == '$') {
      take(2);
      return L::TSTR_ESC;
    }
    take(1);
    return L::TSTR_TEXT;
  case '$':
    if (c1 == '{') {
      take(2);
      open(Interp);
      return L::INTERP_OPEN;
    }
    take(1);
    return L::TSTR_TEXT;
  default: {
    size_t e = pos_ + 1;
    while (e < n_ && d_[e] != '"' && d_[e] != '\\' && d_[e] != '$') ++e;
    takeTo(e);
    return L::TSTR_TEXT;
  }
  }
}

size_t Lexer::lexTemplate() {
  char32_t c = d_[pos_], c1 = at(pos_ + 1);
  switch (c) {
  case '"':
    if (c1 == '"' && at(pos_ + 2) == '"') {
      take(3);
      ctx_.pop_back();
      return L::TPL_CLOSE;
    }
    take(1);
    return L::TPL_TEXT;
  case '{':
    if (c1 == '{' || c1 == '%') {
      take(2);
      open(c1 == '{' ? TplExpr : TplTag);
      return c1 == '{' ? L::TPL_EXPR_OPEN : L::TPL_TAG_OPEN;
    }
    take(1);
    return L::TPL_TEXT;
  default: {
    size_t e = pos_ + 1;
    while (e < n_ && d_[e] != '"' && d_[e] != '{') ++e;
    takeTo(e);
    return L::TPL_TEXT;
  }
  }
}

// ---- the generated lexer as the oracle ----

namespace {

struct Lexed {
  std::vector<std::unique_ptr<antlr4::Token>> tokens;
  std::vector<std::string> errors;
  bool unterminatedAtEof = false;
};

template <class Lex> Lexed run(Lex &lex) {
  Lexed out;
  lex.onError = [&](int code, size_t line, size_t col, const std::string &t) {
    out.errors.push_back(std::to_string(code) + " at " + std::to_string(line) + ":" + std::to_string(col) +
                         " `" + t + "`");
  };
  for (;;) {
    out.tokens.push_back(lex.nextToken());
    if (out.tokens.back()->getType() == antlr4::Token::EOF) break;
  }
  out.unterminatedAtEof = lex.unterminatedAtEof;
  return out;
}

std::string show(const antlr4::Token *t) {
  std::ostringstream s;
  s << "type " << t->getType() << " channel " << t->getChannel() << " `" << t->getText() << "` at "
    << t->getLine() << ":" << t->getCharPositionInLine() << " [" << t->getStartIndex() << ", "
    << t->getStopIndex() << "]";
  return s.str();
}

} // namespace

std::string compareLexers(std::string_view text) {
  SourceStream a(text), b(text);
  cfm_grammar::CfpLexer generated(&a);
  generated.removeErrorListeners();
  Lexer hand(b);
  Lexed want = run(generated), got = run(hand);
  // One more EOF from each: the lexers must stay at end of input and report nothing more.
  want.tokens.push_back(generated.nextToken());
  got.tokens.push_back(hand.nextToken());
  size_t n = std::max(want.tokens.size(), got.tokens.size());
  for (size_t i = 0; i < n; ++i) {
    std::string w = i < want.tokens.size() ? show(want.tokens[i].get()) : "(none)";
    std::string g = i < got.tokens.size() ? show(got.tokens[i].get()) : "(none)";
    if (w != g) return "token " + std::to_string(i) + ": generated " + w + ", hand-written " + g;
  }
  n = std::max(want.errors.size(), got.errors.size());
  for (size_t i = 0; i < n; ++i) {
    std::string w = i < want.errors.size() ? want.errors[i] : "(none)";
    std::string g = i < got.errors.size() ? got.errors[i] : "(none)";
    if (w != g) return "error " + std::to_string(i) + ": generated " + w + ", hand-written " + g;
  }
  if (want.unterminatedAtEof != got.unterminatedAtEof)
    return std::string("unterminatedAtEof: generated ") + (want.unterminatedAtEof ? "true" : "false");
  return {};
}

namespace {

std::string showOrNull(const antlr4::Token *t) { return t ? show(t) : "(null)"; }

} // namespace

std::string compareTokenStreams(std::string_view text) {
  SourceStream a(text), b(text);
  cfm_grammar::CfpLexer generated(&a);
  generated.removeErrorListeners();
  antlr4::CommonTokenStream want(&generated);
  want.fill();
  Lexer hand(b);
  TokenArray got(hand);
  if (want.size() != got.size())
    return "size: CommonTokenStream " + std::to_string(want.size()) + ", TokenArray " +
           std::to_string(got.size());
  auto here = [&](size_t at) -> std::string {
    if (want.index() != got.index())
      return "index after position " + std::to_string(at) + ": CommonTokenStream " +
             std::to_string(want.index()) + ", TokenArray " + std::to_string(got.index());
    for (ssize_t k = -3; k <= 3; ++k) {
      std::string w = showOrNull(want.LT(k)), g = showOrNull(got.LT(k));
      if (w != g) return "LT(" + std::to_string(k) + ") at " + std::to_string(at) + ": " + w + " vs " + g;
      if (k != 0 && (want.LT(k) != nullptr) && want.LA(k) != got.LA(k))
        return "LA(" + std::to_string(k) + ") at " + std::to_string(at);
    }
    return {};
  };
  for (size_t i = 0; i < want.size(); ++i) {
    if (show(want.get(i)) != show(got.get(i))) return "get(" + std::to_string(i) + ")";
    if (want.get(i)->getTokenIndex() != got.get(i)->getTokenIndex())
      return "token index " + std::to_string(i);
  }
  // Forward through the stream, then seeks as prediction and error recovery make them.
  for (size_t i = 0;; ++i) {
    std::string d = here(i);
    if (!d.empty()) return d;
    if (want.LA(1) == antlr4::Token::EOF) break;
    want.consume();
    got.consume();
  }
  for (size_t i : {size_t{0}, want.size() / 2, want.size() - 1, want.size(), want.size() + 5}) {
    want.seek(i);
    got.seek(i);
    std::string d = here(i);
    if (!d.empty()) return "after seek: " + d;
  }
  if (want.getText() != got.getText()) return "getText()";
  size_t n = want.size();
  for (size_t x = 0; x < n; x += n / 7 + 1)
    for (size_t y = x; y < n + 2; y += n / 5 + 1)
      if (want.getText(antlr4::misc::Interval(x, y)) != got.getText(antlr4::misc::Interval(x, y)))
        return "getText(" + std::to_string(x) + ", " + std::to_string(y) + ")";
  return {};
}

} // namespace cfm::parse
