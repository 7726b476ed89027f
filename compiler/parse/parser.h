// parser.h — the parse adapter: source text → ast::Module.
//
// Steps: check UTF-8 → ANTLR lexer (grammar/CfpLexer.g4, lexical errors become diagnostics) →
// nesting pre-scan (kMaxNesting, so that hostile input cannot exhaust the stack) → ANTLR parser
// (SLL first, full LL with our error strategy only when SLL fails) → AST builder (literal
// decoding, template-body structure, place checks). ANTLR types stay inside this folder.
#pragma once

#include "ast/ast.h"
#include "support/diagnostics.h"

#include <memory>

namespace cfm::parse {

/// Brackets, braces, blocks, interpolations and runs of prefix operators nest at most this deep.
constexpr int kMaxNesting = 256;
/// An expression tree (e.g. a chain of `+`) is at most this deep.
constexpr int kMaxExprDepth = 10000;

/// Wall time spent in each phase, in seconds (for `cfmc check --time`).
struct PhaseTimes {
  double lex = 0, parse = 0, build = 0, check = 0;
};

struct ParseResult {
  std::unique_ptr<ast::Module> module; // always set; empty when the file could not be parsed
  bool hadErrors = false;              // lexical or syntax errors were reported
  PhaseTimes times;
};

/// Parses one loaded file. Never throws, never crashes on bad input: every problem is a
/// diagnostic. Deep recursion is bounded by kMaxNesting and kMaxExprDepth; callers run the
/// front end on a thread with a large stack (frontend::runWithLargeStack).
ParseResult parseFile(support::FileId file, const support::SourceManager &sm,
                      support::DiagnosticEngine &diags);

/// Checks that `text` is valid UTF-8; returns the byte offset of the first bad byte, or npos.
size_t findInvalidUtf8(std::string_view text);

} // namespace cfm::parse
