// lexer.h — the hand-written lexer of the procedure language: an antlr4::TokenSource that gives
// the generated parser exactly the tokens grammar/CfpLexer.g4 describes (types, text, line,
// column, start and stop indexes), the same lexical errors at the same places, and the same
// `unterminatedAtEof`, several times faster than the generated lexer. The generated lexer stays
// the specification: compareLexers() (parser.h) runs both and is what the unit tests and the
// fuzz target check. Private to the parse adapter (ANTLR types).
#pragma once

#include <antlr4-runtime.h>

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
