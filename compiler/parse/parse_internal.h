// parse_internal.h — shared between parser.cpp and build_ast.cpp; ANTLR types allowed here only.
#pragma once

#include "ast/ast.h"
#include "parse/parser.h"
#include "support/diagnostics.h"

#include <set>
#include <string>
#include <vector>

#include <CfpParser.h>

namespace cfm::parse {

class TokenArray; // lexer.h

/// Positions and human descriptions of the tokens of one file.
struct TokenFacts {
  support::FileId file;
  const TokenArray *tokens;
  std::set<uint32_t> lexErrorLines; // lines where the lexer reported an error
  support::Loc typedEnd;            // tokens from here on were generated (line 0: none were)
  support::Loc begin(const antlr4::Token *t) const;
  support::Loc end(const antlr4::Token *t) const;
  antlr4::Token *previous(const antlr4::Token *t) const;
  std::string describe(const antlr4::Token *t) const;
  /// "`;`", "`)` or `,`", "an expression"; empty when the set is too large to be useful.
  std::string describeSet(const antlr4::misc::IntervalSet &set, antlr4::Parser *p) const;
};

void reportLexError(support::DiagnosticEngine &diags, int code, support::Loc l, const std::string &t);

/// Builds `out` from a parse tree that has no syntax errors; reports the errors a grammar cannot
/// express (literal ranges, places, template structure).
void buildModule(cfm_grammar::CfpParser::FileContext *tree, const TokenFacts &facts,
                 support::DiagnosticEngine &diags, ast::Module &out);

/// The tokens of a parse tree with the constructs that hold them (parser.h, SyntaxToken);
/// `offset` is the number of bytes before `body` in the file's text (a byte order mark).
void collectSyntaxTokens(cfm_grammar::CfpParser::FileContext *tree, std::string_view body, uint32_t offset,
                         std::vector<SyntaxToken> &out);

} // namespace cfm::parse
