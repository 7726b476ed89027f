// syntax_tokens.cpp — the tokens of a parse tree with the constructs that hold them
// (parser.h, SyntaxToken), for tools that lay out or colour source text without ANTLR types.
#include "parse/parse_internal.h"

#include <CfpParser.h>
#include <antlr4-runtime.h>

#include <utility>
#include <vector>

namespace cfm::parse {

namespace {

using P = cfm_grammar::CfpParser;

SyntaxNode nodeOf(antlr4::ParserRuleContext *c) {
  switch (c->getRuleIndex()) {
  case P::RuleImportDecl: return SyntaxNode::ImportDecl;
  case P::RuleConstDecl: return SyntaxNode::ConstDecl;
  case P::RuleRecordDecl: return SyntaxNode::RecordDecl;
  case P::RuleField: return SyntaxNode::Field;
  case P::RuleFnDecl: return SyntaxNode::FnDecl;
  case P::RuleTemplateDecl: return SyntaxNode::TemplateDecl;
  case P::RuleParams: return SyntaxNode::Params;
  case P::RuleParam: return SyntaxNode::Param;
  case P::RuleType: return SyntaxNode::Type;
  case P::RuleBlock: return SyntaxNode::Block;
  case P::RuleArgs: return SyntaxNode::Args;
  case P::RuleArg: return SyntaxNode::Arg;
  case P::RuleFieldInit: return SyntaxNode::FieldInit;
  case P::RuleMapEntry: return SyntaxNode::MapEntry;
  case P::RuleString: return SyntaxNode::String;
  case P::RuleStmt:
    if (dynamic_cast<P::LetStmtContext *>(c)) return SyntaxNode::LetStmt;
    if (dynamic_cast<P::IfStmtContext *>(c)) return SyntaxNode::IfStmt;
    if (dynamic_cast<P::WhileStmtContext *>(c)) return SyntaxNode::WhileStmt;
    if (dynamic_cast<P::ForStmtContext *>(c)) return SyntaxNode::ForStmt;
    if (dynamic_cast<P::BreakStmtContext *>(c)) return SyntaxNode::BreakStmt;
    if (dynamic_cast<P::ContinueStmtContext *>(c)) return SyntaxNode::ContinueStmt;
    if (dynamic_cast<P::ReturnStmtContext *>(c)) return SyntaxNode::ReturnStmt;
    if (dynamic_cast<P::ThrowStmtContext *>(c)) return SyntaxNode::ThrowStmt;
    if (dynamic_cast<P::TryStmtContext *>(c)) return SyntaxNode::TryStmt;
    if (dynamic_cast<P::AsyncStmtContext *>(c)) return SyntaxNode::AsyncStmt;
    return SyntaxNode::ExprStmt;
  case P::RuleExpr:
    if (dynamic_cast<P::MemberExprContext *>(c)) return SyntaxNode::MemberExpr;
    if (dynamic_cast<P::CallExprContext *>(c)) return SyntaxNode::CallExpr;
    if (dynamic_cast<P::IndexExprContext *>(c)) return SyntaxNode::IndexExpr;
    if (dynamic_cast<P::UnaryExprContext *>(c)) return SyntaxNode::UnaryExpr;
    if (dynamic_cast<P::AsyncExprContext *>(c)) return SyntaxNode::AsyncExpr;
    if (dynamic_cast<P::BinaryExprContext *>(c)) return SyntaxNode::BinaryExpr;
    return SyntaxNode::Other;
  case P::RulePrimary:
    if (dynamic_cast<P::NameExprContext *>(c)) return SyntaxNode::Name;
    if (dynamic_cast<P::RecordLitContext *>(c)) return SyntaxNode::RecordLit;
    if (dynamic_cast<P::ParenExprContext *>(c)) return SyntaxNode::ParenExpr;
    if (dynamic_cast<P::ListLitContext *>(c)) return SyntaxNode::ListLit;
    if (dynamic_cast<P::MapLitContext *>(c)) return SyntaxNode::MapLit;
    if (dynamic_cast<P::AsyncBlockContext *>(c)) return SyntaxNode::AsyncBlock;
    if (dynamic_cast<P::StringLitContext *>(c)) return SyntaxNode::Other;
    return SyntaxNode::Literal;
  default: return SyntaxNode::Other;
  }
}

struct Collector {
  std::vector<uint32_t> byteOf; // code point index -> byte offset in the file
  std::vector<SyntaxToken> &out;

  void span(const antlr4::Token *first, const antlr4::Token *last, SyntaxNode node) {
    size_t a = first->getStartIndex(), b = last->getStopIndex() + 1;
    if (a >= byteOf.size() || b >= byteOf.size() || b < a) return;
    out.push_back(SyntaxToken{byteOf[a], byteOf[b], node});
  }

  // Depth first, left to right, with an explicit stack: parse trees nest as deep as
  // kMaxExprDepth allows.
  void walk(antlr4::tree::ParseTree *root, SyntaxNode rootParent) {
    std::vector<std::pair<antlr4::tree::ParseTree *, SyntaxNode>> stack;
    stack.emplace_back(root, rootParent);
    while (!stack.empty()) {
      auto [t, parent] = stack.back();
      stack.pop_back();
      if (auto *term = dynamic_cast<antlr4::tree::TerminalNode *>(t)) {
        const antlr4::Token *tok = term->getSymbol();
        if (tok->getType() != antlr4::Token::EOF) span(tok, tok, parent);
        continue;
      }
      auto *ctx = dynamic_cast<antlr4::ParserRuleContext *>(t);
      if (!ctx) continue;
      SyntaxNode node = nodeOf(ctx);
      if (node == SyntaxNode::String) {
        span(ctx->getStart(), ctx->getStop(), SyntaxNode::String);
        continue;
      }
      if (auto *tpl = dynamic_cast<P::TemplateDeclContext *>(ctx)) {
        template_(tpl);
        continue;
      }
      for (size_t i = ctx->children.size(); i-- > 0;) stack.emplace_back(ctx->children[i], node);
    }
  }

  /// A template's header token by token, then its body from `"""` to `"""` as one token.
  void template_(P::TemplateDeclContext *tpl) {
    const antlr4::Token *open = nullptr;
    for (auto *child : tpl->children) {
      auto *term = dynamic_cast<antlr4::tree::TerminalNode *>(child);
      if (term && term->getSymbol()->getType() == P::TPL_OPEN) {
        open = term->getSymbol();
        break;
      }
      walk(child, SyntaxNode::TemplateDecl);
    }
    if (open && tpl->close) span(open, tpl->close, SyntaxNode::TemplateBody);
  }
};

} // namespace

void collectSyntaxTokens(P::FileContext *tree, std::string_view body, uint32_t offset,
                         std::vector<SyntaxToken> &out) {
  Collector c{{}, out};
  // Token indexes count code points; the tools want bytes.
  c.byteOf.reserve(body.size() + 1);
  for (size_t i = 0; i < body.size(); ++i)
    if ((static_cast<unsigned char>(body[i]) & 0xC0) != 0x80)
      c.byteOf.push_back(static_cast<uint32_t>(i) + offset);
  c.byteOf.push_back(static_cast<uint32_t>(body.size()) + offset);
  c.walk(tree, SyntaxNode::Other);
}

} // namespace cfm::parse
