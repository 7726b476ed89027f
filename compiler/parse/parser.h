// parser.h — the parse adapter: source text → ast::Module.
//
// Steps: check UTF-8 → lexer (lexer.h, hand-written to grammar/CfpLexer.g4; lexical errors become
// diagnostics) → nesting pre-scan (kMaxNesting, so that hostile input cannot exhaust the stack) →
// ANTLR parser (SLL first, full LL with our error strategy only when SLL fails) → AST builder
// (literal decoding, template-body structure, place checks). ANTLR types stay inside this folder.
#pragma once

#include "ast/ast.h"
#include "support/diagnostics.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cfm::parse {

/// Brackets, braces, blocks, interpolations and runs of prefix operators nest at most this deep.
constexpr int kMaxNesting = 256;
/// An expression tree (e.g. a chain of `+`) is at most this deep.
constexpr int kMaxExprDepth = 10000;

/// Wall time spent in each phase, in seconds (for `cfmc check --time`).
struct PhaseTimes {
  double lex = 0, parse = 0, build = 0, check = 0;
};

/// What a token of the source belongs to: the grammar construct that holds it (the rule, or the
/// alternative for statements, expressions and primaries). For tools that lay out or colour
/// source text (cfmc fmt, the language server) without seeing ANTLR types.
enum class SyntaxNode : uint8_t {
  Other,
  ImportDecl,
  ConstDecl,
  RecordDecl,
  Field,
  FnDecl,
  TemplateDecl,
  Params,
  Param,
  Type,
  Block,
  LetStmt,
  IfStmt,
  WhileStmt,
  ForStmt,
  BreakStmt,
  ContinueStmt,
  ReturnStmt,
  ThrowStmt,
  TryStmt,
  AsyncStmt,
  ExprStmt,
  MemberExpr,
  CallExpr,
  IndexExpr,
  UnaryExpr,
  AsyncExpr,
  BinaryExpr,
  Args,
  Arg,
  Literal, // a number, `true`, `false`, `null`
  Name,    // a name used as an expression
  ParenExpr,
  ListLit,
  MapLit,
  RecordLit,
  AsyncBlock,
  FieldInit,
  MapEntry,
  String,       // a whole string literal, "..." or """...""", interpolations included
  TemplateBody, // a template's whole body, from its opening `"""` to its closing one
};

/// One token of a file that parsed without syntax errors, in source order (end of input not
/// included). A string literal and a template body are one token each, whatever they hold.
/// Offsets are bytes into the file's text (a byte order mark included); comments and white
/// space are what lies between tokens.
struct SyntaxToken {
  uint32_t begin = 0, end = 0; // [begin, end)
  SyntaxNode node = SyntaxNode::Other;
};

struct ParseResult {
  std::unique_ptr<ast::Module> module; // always set; empty when the file could not be parsed
  bool hadErrors = false;              // lexical or syntax errors were reported
  PhaseTimes times;
};

/// Parses one loaded file. Never throws, never crashes on bad input: every problem is a
/// diagnostic. Deep recursion is bounded by kMaxNesting and kMaxExprDepth; callers run the
/// front end on a thread with a large stack (frontend::runWithLargeStack).
/// With `tokens`, also fills it with the file's tokens when the parse tree was built (no syntax
/// errors; other errors may have been reported).
ParseResult parseFile(support::FileId file, const support::SourceManager &sm,
                      support::DiagnosticEngine &diags, std::vector<SyntaxToken> *tokens = nullptr);

/// Checks that `text` is valid UTF-8; returns the byte offset of the first bad byte, or npos.
size_t findInvalidUtf8(std::string_view text);

/// Lexes valid UTF-8 `text` with both the hand-written lexer (lexer.h) and the one ANTLR generates
/// from grammar/CfpLexer.g4, and describes the first difference in tokens (type, channel, text,
/// line, column, start and stop), lexical errors or `unterminatedAtEof`; empty when there is
/// none. For the tests and the fuzz target that hold the two to each other.
std::string compareLexers(std::string_view text);

/// Walks the parser's token stream over `text` (lexer.h, TokenArray) and ANTLR's
/// CommonTokenStream over the generated lexer side by side, as a parser moves through them
/// (consume, seek back and forth, LT and LA from -3 to 3, get, index, size, getText), and
/// describes the first difference; empty when there is none.
std::string compareTokenStreams(std::string_view text);

} // namespace cfm::parse
