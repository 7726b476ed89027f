// lexer.h — the hand-written lexer of the procedure language: an antlr4::TokenSource that gives
// the generated parser exactly the tokens grammar/CfpLexer.g4 describes (types, text, line,
// column, start and stop indexes), the same lexical errors at the same places, and the same
// `unterminatedAtEof`, several times faster than the generated lexer. The generated lexer stays
// the specification: compareLexers() (parser.h) runs both and is what the unit tests and the
// fuzz target check. Private to the parse adapter (ANTLR types).
#pragma once

#include <antlr4-runtime.h>

#include <algorithm>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cfm::parse {

/// The character stream the parser reads: ANTLR's own converts UTF-8 with std::wstring_convert,
/// which dominated lexing; the text is known to be valid UTF-8 here, so a direct decoder does.
class SourceStream : public antlr4::ANTLRInputStream {
public:
  explicit SourceStream(std::string_view utf8);
  std::string getText(const antlr4::misc::Interval &iv) override;
  const char32_t *codePoints() const { return _data.data(); }
  size_t codePointCount() const { return _data.size(); }
};

class Lexer;

/// A token of the hand-written lexer: what CommonToken says about a token (its text is read from
/// the source when asked, as CommonToken's is when it holds none), in 48 bytes instead of 112
/// and without a heap allocation of its own when it lives in a TokenArray. Every token is on the
/// default channel (the lexer skips whitespace and comments).
class SourceToken final : public antlr4::Token {
public:
  SourceToken() = default;
  SourceToken(Lexer *source, size_t type, size_t start, size_t stop, size_t line, size_t col)
      : source_(source), start_(start), stop_(stop), type_(static_cast<uint32_t>(type)),
        line_(static_cast<uint32_t>(line)), col_(static_cast<uint32_t>(col)) {}

  std::string getText() const override;
  size_t getType() const override { return type_ == kEofType ? antlr4::Token::EOF : type_; }
  size_t getLine() const override { return line_; }
  size_t getCharPositionInLine() const override { return col_; }
  size_t getChannel() const override { return antlr4::Token::DEFAULT_CHANNEL; }
  size_t getTokenIndex() const override { return index_ == kNoIndex ? INVALID_INDEX : index_; }
  size_t getStartIndex() const override { return start_; }
  size_t getStopIndex() const override { return stop_; }
  antlr4::TokenSource *getTokenSource() const override;
  antlr4::CharStream *getInputStream() const override;
  std::string toString() const override;

  void setTokenIndex(size_t i) { index_ = static_cast<uint32_t>(i); }

private:
  static constexpr uint32_t kEofType = 0xFFFFFFFF; // antlr4::Token::EOF as size_t does not fit
  static constexpr uint32_t kNoIndex = 0xFFFFFFFF;
  Lexer *source_ = nullptr;
  size_t start_ = 0, stop_ = 0; // code point indexes; an EOF token's stop is start - 1
  uint32_t type_ = 0, line_ = 0, col_ = 0, index_ = kNoIndex;
};

/// The parser's token stream: all tokens of a file, lexed up front into one array (what
/// CommonTokenStream after fill() gives the parser, without a heap object per token).
class TokenArray final : public antlr4::TokenStream {
public:
  /// Lexes all of `lexer`'s input.
  explicit TokenArray(Lexer &lexer);
  const std::vector<SourceToken> &tokens() const { return tokens_; }

  antlr4::Token *LT(ssize_t k) override;
  antlr4::Token *get(size_t index) const override;
  antlr4::TokenSource *getTokenSource() const override;
  std::string getText(const antlr4::misc::Interval &interval) override;
  std::string getText() override;
  std::string getText(antlr4::RuleContext *ctx) override;
  std::string getText(antlr4::Token *start, antlr4::Token *stop) override;
  void consume() override;
  size_t LA(ssize_t i) override { return LT(i)->getType(); }
  ssize_t mark() override { return 0; }
  void release(ssize_t) override {}
  size_t index() override { return p_; }
  void seek(size_t index) override { p_ = std::min(index, tokens_.size() - 1); }
  size_t size() override { return tokens_.size(); }
  std::string getSourceName() const override;

private:
  Lexer &lexer_;
  std::vector<SourceToken> tokens_; // never empty: the last is EOF
  size_t p_ = 0;
};

/// Lexes a SourceStream as grammar/CfpLexer.g4 does (modes, the context stack of `${`, `{{`,
/// `{%` and `{`, the pending-template logic after `template`).
class Lexer final : public antlr4::TokenSource {
public:
  explicit Lexer(SourceStream &input);

  /// (code — CfpLexer::LexError, line, column from 1, the offending text), as CfpLexer::onError.
  std::function<void(int, size_t, size_t, const std::string &)> onError;
  /// True once the lexer reported an unterminated construct at end of input.
  bool unterminatedAtEof = false;

  std::unique_ptr<antlr4::Token> nextToken() override;
  /// The next token, as nextToken() gives it, without a heap allocation.
  SourceToken next();
  size_t getLine() const override { return line_; }
  size_t getCharPositionInLine() override { return col_; }
  antlr4::CharStream *getInputStream() override { return &input_; }
  std::string getSourceName() override { return input_.getSourceName(); }
  antlr4::TokenFactory<antlr4::CommonToken> *getTokenFactory() override;

private:
  enum OpenKind : uint8_t { Brace, Interp, TplExpr, TplTag, Str, TStr, Tpl };
  struct Open {
    OpenKind kind;
    size_t line, col;
    std::string text;
  };

  SourceStream &input_;
  const char32_t *d_;
  size_t n_;
  size_t pos_ = 0, line_ = 1, col_ = 0;                // where the next token starts
  size_t startPos_ = 0, startLine_ = 1, startCol_ = 0; // where the current token started
  std::vector<Open> ctx_;
  bool pendingTemplate_ = false;
  int parenDepth_ = 0;

  static constexpr char32_t kEof = 0xFFFFFFFF;
  char32_t at(size_t i) const { return i < n_ ? d_[i] : kEof; }
  void take(size_t k);
  void takeTo(size_t end) { take(end - pos_); }
  std::string text() const;

  size_t lexCode(bool &skip);
  size_t lexNumber();
  size_t lexString();
  size_t lexTriple();
  size_t lexTemplate();

  void report(int code, size_t line, size_t col, const std::string &t) {
    if (onError) onError(code, line, col, t);
  }
  void lexError(int code) { report(code, startLine_, startCol_ + 1, text()); }
  void open(OpenKind k) { ctx_.push_back(Open{k, startLine_, startCol_ + 1, text()}); }
  bool top(OpenKind k) const { return !ctx_.empty() && ctx_.back().kind == k; }
  void endOfInputInside();
  void punct(size_t type);
};

} // namespace cfm::parse
