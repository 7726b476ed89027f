// build_ast.cpp — parse tree → AST (compiler/parse's adapter; ANTLR types end here).
//
// Besides copying structure it decodes literals (integer ranges, exact durations, escapes),
// applies the template whitespace rule (LANGUAGE.md "Templates": a line holding only one tag
// produces no output), pairs template tags with `{% end %}`, and reports what the grammar
// accepts but the language does not (assignment to a non-place, calls of non-names).
#include "base/utf8.h"
#include "parse/parse_internal.h"
#include "parse/parser.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <typeinfo>

namespace cfm::parse {

using namespace cfm_grammar;
using support::DiagKind;
using support::Loc;
using support::Range;

namespace {

std::string stripUnderscores(const std::string &s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s)
    if (c != '_') o += c;
  return o;
}

constexpr unsigned __int128 kTwo63 = static_cast<unsigned __int128>(1) << 63;

/// Value of an integer literal (decimal, 0x, 0o, 0b); saturates past 2^64.
unsigned __int128 intValue(const std::string &text) {
  std::string s = stripUnderscores(text);
  unsigned base = 10;
  size_t i = 0;
  if (s.size() > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    base = 16, i = 2;
  else if (s.size() > 1 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
    base = 8, i = 2;
  else if (s.size() > 1 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
    base = 2, i = 2;
  unsigned __int128 v = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    unsigned d = c <= '9' ? unsigned(c - '0') : unsigned((c | 0x20) - 'a' + 10);
    v = v * base + d;
    if (v > (static_cast<unsigned __int128>(1) << 64)) return v; // out of range already
  }
  return v;
}

/// A pending template piece before the whitespace rule and tag pairing.
struct Piece {
  enum Kind { Text, Expr, Tag } kind;
  std::string text;
  CfpParser::TplPartContext *expr = nullptr; // a `{{ }}` part
  CfpParser::TplTagContext *tag = nullptr;
  Range range;
};

/// LANGUAGE.md "Templates": a line that holds only one `{% %}` tag and white space produces no
/// output — the white space before the tag, the tag and the line's newline all vanish.
void applyWhitespaceRule(std::vector<Piece> &ps, bool lineStart) {
  size_t n = ps.size();
  std::vector<bool> cutTail(n, false), cutHead(n, false);
  auto blank = [](std::string_view s) {
    for (char c : s)
      if (c != ' ' && c != '\t' && c != '\r') return false;
    return true;
  };
  for (size_t i = 0; i < n; ++i) {
    if (ps[i].kind != Piece::Tag) continue;
    bool left;
    if (i == 0) {
      left = lineStart;
    } else if (ps[i - 1].kind != Piece::Text) {
      left = false;
    } else {
      const std::string &pv = ps[i - 1].text;
      size_t nl = pv.rfind('\n');
      if (nl != std::string::npos)
        left = blank(std::string_view(pv).substr(nl + 1));
      else
        left = i - 1 == 0 && lineStart && blank(pv);
    }
    if (!left) continue;
    bool right;
    if (i == n - 1) {
      right = true;
    } else if (ps[i + 1].kind != Piece::Text) {
      right = false;
    } else {
      const std::string &nv = ps[i + 1].text;
      size_t nl = nv.find('\n');
      if (nl != std::string::npos)
        right = blank(std::string_view(nv).substr(0, nl));
      else
        right = i + 1 == n - 1 && blank(nv);
    }
    if (right) {
      if (i > 0) cutTail[i - 1] = true;
      if (i + 1 < n) cutHead[i + 1] = true;
    }
  }
  std::vector<Piece> out;
  for (size_t j = 0; j < n; ++j) {
    Piece &p = ps[j];
    if (p.kind == Piece::Text && (cutTail[j] || cutHead[j])) {
      size_t s = 0, e = p.text.size();
      if (cutHead[j]) {
        size_t nl = p.text.find('\n');
        s = nl != std::string::npos ? nl + 1 : p.text.size();
      }
      if (cutTail[j]) {
        size_t nl = p.text.rfind('\n');
        e = nl != std::string::npos ? nl + 1 : 0;
      }
      p.text = s < e ? p.text.substr(s, e - s) : std::string();
      if (p.text.empty()) continue;
    }
    out.push_back(std::move(p));
  }
  ps = std::move(out);
}

class Builder {
public:
  Builder(const TokenFacts &f, support::DiagnosticEngine &d, ast::Module &m)
      : f_(f), d_(d), m_(m), a_(m.arena) {}

  void file(CfpParser::FileContext *ctx) {
    for (auto *dc : ctx->decls) {
      if (ast::Decl *dd = decl(dc)) m_.decls.push_back(dd);
    }
  }

private:
  /// A literal's range or precision error; on a line where the lexer already reported an error
  /// (the AST is built after lexical errors too) it is left out, so one mistake gives one error.
  void literalError(DiagKind k, Range r, std::string_view arg = {}) {
    if (f_.lexErrorLines.count(r.begin.line)) return;
    if (arg.empty())
      d_.report(k, r);
    else
      d_.report(k, r, {arg});
  }

  const TokenFacts &f_;
  support::DiagnosticEngine &d_;
  ast::Module &m_;
  ast::Arena &a_;
  int depth_ = 0;

  Loc at(antlr4::Token *t) const { return f_.begin(t); }
  Loc at(antlr4::tree::TerminalNode *n) const { return f_.begin(n->getSymbol()); }
  Range range(antlr4::ParserRuleContext *c) const {
    return Range{f_.begin(c->getStart()), f_.end(c->getStop())};
  }
  Range range(antlr4::Token *t) const { return Range{f_.begin(t), f_.end(t)}; }
  Range range(antlr4::tree::TerminalNode *n) const { return range(n->getSymbol()); }
  Range span(Loc b, antlr4::ParserRuleContext *last) const { return Range{b, f_.end(last->getStop())}; }

  // Everything below reads the grammar's labels (CfpParser.g4: `init=expr` is the field `init`
  // of the context, `# letStmt` the class LetStmtContext), never a child by position, and
  // dispatches on the exact context type by comparing type_info addresses: ANTLR's accessors
  // (`ID()`, `expr(i)`) and dynamic_cast cost a third of the build time, label fields nothing.
  template <typename T> static bool is(const antlr4::tree::ParseTree *c) { return &typeid(*c) == &typeid(T); }
  template <typename T> static T *as(antlr4::tree::ParseTree *c) { return static_cast<T *>(c); }

  // ---- declarations ----
  ast::Decl *decl(CfpParser::DeclContext *c) {
    if (auto *i = c->imp) {
      auto *d = a_.make<ast::ImportDecl>(range(i));
      ast::StringLit *s = string(i->path);
      if (s->parts.size() != 1 || s->parts[0].expr) {
        d_.report(DiagKind::ImportNotPlain, s->range);
        return nullptr;
      }
      d->path = s->parts[0].text;
      d->nameLoc = s->loc();
      return d;
    }
    if (auto *k = c->cnst) {
      auto *d = a_.make<ast::ConstDecl>(range(k));
      d->name = k->name->getText();
      d->nameLoc = at(k->name);
      d->annot = k->annot ? type(k->annot) : nullptr;
      d->init = expr(k->init);
      return d;
    }
    if (auto *r = c->rec) {
      auto *d = a_.make<ast::RecordDecl>(range(r));
      d->name = r->name->getText();
      d->nameLoc = at(r->name);
      for (auto *fc : r->fields) d->fields.push_back({fc->name->getText(), at(fc->name), type(fc->ftype)});
      return d;
    }
    if (auto *fn = c->fn) {
      auto *d = a_.make<ast::FnDecl>(range(fn));
      d->fnKind = fn->kw->getType() == CfpParser::PROCEDURE ? ast::FnKind::Procedure : ast::FnKind::Fn;
      d->name = fn->name->getText();
      d->nameLoc = at(fn->name);
      params(fn->sig, d->params);
      d->ret = fn->ret ? type(fn->ret) : nullptr;
      d->body = block(fn->body);
      d->endLoc = at(fn->body->close);
      return d;
    }
    auto *t = c->tpl;
    auto *d = a_.make<ast::FnDecl>(range(t));
    d->fnKind = ast::FnKind::Template;
    d->name = t->name->getText();
    d->nameLoc = at(t->name);
    params(t->sig, d->params);
    d->endLoc = at(t->close);
    d->tplBody = templateBody(t);
    return d;
  }

  void params(CfpParser::ParamsContext *c, std::vector<ast::Param> &out) {
    for (auto *p : c->items) {
      ast::Param prm;
      prm.name = p->name->getText();
      prm.loc = at(p->name);
      prm.type = type(p->ptype);
      prm.defaultValue = p->dflt ? expr(p->dflt) : nullptr;
      out.push_back(prm);
    }
  }

  ast::TypeRef *type(CfpParser::TypeContext *c) {
    auto *t = a_.make<ast::TypeRef>();
    t->name = c->name->getText();
    t->range = range(c->name);
    for (auto *a : c->targs) t->args.push_back(type(a));
    return t;
  }

  // ---- statements ----
  ast::Block block(CfpParser::BlockContext *c) {
    ast::Block b;
    b.reserve(c->stmts.size());
    for (auto *st : c->stmts) b.push_back(stmt(st));
    return b;
  }

  void forHead(ast::ForHead &h, antlr4::Token *id1, antlr4::Token *id2, ast::Expr *it, ast::Expr *end) {
    h.var1 = id1->getText();
    h.var1Loc = at(id1);
    if (id2) {
      h.var2 = id2->getText();
      h.var2Loc = at(id2);
    }
    h.iter = it;
    h.end = end;
  }

  ast::Expr *condExpr(CfpParser::CondContext *c) { return expr(c->value); }

  ast::Stmt *stmt(CfpParser::StmtContext *c) {
    Range r = range(c);
    if (is<CfpParser::ExprStmtContext>(c)) {
      auto *s = as<CfpParser::ExprStmtContext>(c);
      ast::Expr *lhs = expr(s->lhs);
      if (!s->aop) return a_.make<ast::ExprStmt>(r, lhs);
      ast::Expr *rhs = expr(s->rhs);
      if (lhs->kind != ast::ExprKind::Name && lhs->kind != ast::ExprKind::Index &&
          lhs->kind != ast::ExprKind::Member)
        d_.report(DiagKind::CannotAssignExpr, lhs->range);
      std::string op = s->aop->getText();
      return a_.make<ast::AssignStmt>(r, op[0] == '=' ? '=' : op[0], at(s->aop), lhs, rhs);
    }
    if (is<CfpParser::LetStmtContext>(c)) {
      auto *s = as<CfpParser::LetStmtContext>(c);
      ast::TypeRef *t = s->annot ? type(s->annot) : nullptr;
      return a_.make<ast::LetStmt>(r, s->kw->getType() == CfpParser::VAR, s->name->getText(), at(s->name), t,
                                   expr(s->init));
    }
    if (is<CfpParser::IfStmtContext>(c)) {
      auto *s = as<CfpParser::IfStmtContext>(c);
      auto *node = a_.make<ast::IfStmt>(r);
      // The conditions and their blocks were visited in source order; keep that order.
      for (size_t i = 0; i < s->tests.size(); ++i) {
        ast::Expr *test = condExpr(s->tests[i]);
        node->branches.push_back({test, block(s->bodies[i])});
      }
      if (s->elseBody) {
        node->hasElse = true;
        node->elseBody = block(s->elseBody);
      }
      return node;
    }
    if (is<CfpParser::ForStmtContext>(c)) {
      auto *s = as<CfpParser::ForStmtContext>(c);
      auto *node = a_.make<ast::ForStmt>(r);
      ast::Expr *it = condExpr(s->iter);
      forHead(node->head, s->var1, s->var2, it, s->iterEnd ? condExpr(s->iterEnd) : nullptr);
      node->body = block(s->body);
      return node;
    }
    if (is<CfpParser::WhileStmtContext>(c)) {
      auto *s = as<CfpParser::WhileStmtContext>(c);
      auto *node = a_.make<ast::WhileStmt>(r, condExpr(s->test));
      node->body = block(s->body);
      return node;
    }
    if (is<CfpParser::ReturnStmtContext>(c)) {
      auto *s = as<CfpParser::ReturnStmtContext>(c);
      return a_.make<ast::ReturnStmt>(r, s->value ? expr(s->value) : nullptr);
    }
    if (is<CfpParser::BreakStmtContext>(c)) return a_.make<ast::JumpStmt>(ast::StmtKind::Break, r);
    if (is<CfpParser::ContinueStmtContext>(c)) return a_.make<ast::JumpStmt>(ast::StmtKind::Continue, r);
    if (is<CfpParser::ThrowStmtContext>(c))
      return a_.make<ast::ThrowStmt>(r, expr(as<CfpParser::ThrowStmtContext>(c)->value));
    if (is<CfpParser::TryStmtContext>(c)) {
      auto *s = as<CfpParser::TryStmtContext>(c);
      auto *node = a_.make<ast::TryStmt>(r);
      node->body = block(s->body);
      node->errName = s->errName->getText();
      node->errLoc = at(s->errName);
      node->handler = block(s->handler);
      return node;
    }
    auto *s = as<CfpParser::AsyncStmtContext>(c);
    auto *ab = a_.make<ast::AsyncBlockExpr>(r);
    ab->body = block(s->body);
    return a_.make<ast::ExprStmt>(r, ab);
  }

  // ---- expressions ----
  struct DepthGuard {
    int &d;
    explicit DepthGuard(int &x) : d(x) { ++d; }
    ~DepthGuard() { --d; }
  };

  ast::Expr *expr(CfpParser::ExprContext *c) {
    DepthGuard g(depth_);
    Range r = range(c);
    if (depth_ > kMaxExprDepth) {
      if (depth_ == kMaxExprDepth + 1)
        d_.report(DiagKind::NestingTooDeep, r.begin, {std::to_string(kMaxExprDepth)});
      return a_.make<ast::IntLit>(r, 0);
    }
    if (is<CfpParser::PrimaryExprContext>(c)) return primary(as<CfpParser::PrimaryExprContext>(c)->atom);
    if (is<CfpParser::BinaryExprContext>(c)) {
      auto *b = as<CfpParser::BinaryExprContext>(c);
      ast::Expr *l = expr(b->lhs);
      ast::Expr *rr = expr(b->rhs);
      return a_.make<ast::BinaryExpr>(r, binOp(b->op->getType()), at(b->op), l, rr);
    }
    if (is<CfpParser::MemberExprContext>(c)) {
      auto *m = as<CfpParser::MemberExprContext>(c);
      ast::Expr *base = expr(m->target);
      if (m->callArgs) {
        auto *mc = a_.make<ast::MethodCallExpr>(r, base, m->name->getText(), at(m->name));
        mc->args = args(m->callArgs);
        return mc;
      }
      return a_.make<ast::MemberExpr>(r, base, m->name->getText(), at(m->name));
    }
    if (is<CfpParser::CallExprContext>(c)) {
      auto *k = as<CfpParser::CallExprContext>(c);
      ast::Expr *callee = expr(k->target);
      auto *call = a_.make<ast::CallExpr>(r, callee->kind == ast::ExprKind::Name
                                                 ? static_cast<ast::NameExpr *>(callee)->name
                                                 : std::string());
      call->range.begin = callee->range.begin;
      if (callee->kind != ast::ExprKind::Name) d_.report(DiagKind::OnlyNamedCalls, at(k->open));
      call->args = args(k->callArgs);
      return call;
    }
    if (is<CfpParser::IndexExprContext>(c)) {
      auto *x = as<CfpParser::IndexExprContext>(c);
      ast::Expr *base = expr(x->target);
      return a_.make<ast::IndexExpr>(r, base, expr(x->subscript), at(x->open));
    }
    if (is<CfpParser::UnaryExprContext>(c)) {
      auto *u = as<CfpParser::UnaryExprContext>(c);
      char op = u->op->getType() == CfpParser::MINUS ? '-' : '!';
      // `-9223372036854775808` is the one literal that only exists negated.
      if (op == '-' && is<CfpParser::PrimaryExprContext>(u->operand)) {
        auto *prim = as<CfpParser::PrimaryExprContext>(u->operand)->atom;
        if (is<CfpParser::IntLitContext>(prim) &&
            intValue(as<CfpParser::IntLitContext>(prim)->lit->getText()) == kTwo63)
          return a_.make<ast::IntLit>(r, INT64_MIN);
      }
      return a_.make<ast::UnaryExpr>(r, op, expr(u->operand));
    }
    auto *ac = as<CfpParser::AsyncExprContext>(c);
    ast::Expr *inner = expr(ac->operand);
    if (inner->kind != ast::ExprKind::Call) {
      d_.report(DiagKind::AsyncNeedsCall, at(ac->kw));
      return inner;
    }
    return a_.make<ast::AsyncCallExpr>(r, static_cast<ast::CallExpr *>(inner));
  }

  static ast::BinOp binOp(size_t t) {
    switch (t) {
    case CfpParser::OR: return ast::BinOp::Or;
    case CfpParser::AND: return ast::BinOp::And;
    case CfpParser::EQ: return ast::BinOp::Eq;
    case CfpParser::NE: return ast::BinOp::Ne;
    case CfpParser::LT: return ast::BinOp::Lt;
    case CfpParser::LE: return ast::BinOp::Le;
    case CfpParser::GT: return ast::BinOp::Gt;
    case CfpParser::GE: return ast::BinOp::Ge;
    case CfpParser::PLUS: return ast::BinOp::Add;
    case CfpParser::MINUS: return ast::BinOp::Sub;
    case CfpParser::STAR: return ast::BinOp::Mul;
    case CfpParser::SLASH: return ast::BinOp::Div;
    default: return ast::BinOp::Mod;
    }
  }

  std::vector<ast::Arg> args(CfpParser::ArgsContext *c) {
    std::vector<ast::Arg> out;
    out.reserve(c->items.size());
    for (auto *a : c->items) {
      if (a->name) {
        out.push_back({a->name->getText(), at(a->name), expr(a->value)});
      } else {
        ast::Expr *v = expr(a->value);
        out.push_back({std::string(), v->loc(), v});
      }
    }
    return out;
  }

  ast::Expr *primary(CfpParser::PrimaryContext *c) {
    Range r = range(c);
    if (is<CfpParser::NameExprContext>(c))
      return a_.make<ast::NameExpr>(r, as<CfpParser::NameExprContext>(c)->name->getText());
    if (is<CfpParser::IntLitContext>(c)) {
      unsigned __int128 v = intValue(as<CfpParser::IntLitContext>(c)->lit->getText());
      if (v > static_cast<unsigned __int128>(INT64_MAX)) {
        literalError(DiagKind::IntOutOfRange, r);
        v = 0;
      }
      return a_.make<ast::IntLit>(r, static_cast<int64_t>(v));
    }
    if (is<CfpParser::StringLitContext>(c)) return string(as<CfpParser::StringLitContext>(c)->str);
    if (is<CfpParser::FloatLitContext>(c)) {
      std::string s = stripUnderscores(as<CfpParser::FloatLitContext>(c)->lit->getText());
      double v = std::strtod(s.c_str(), nullptr);
      if (std::isinf(v)) {
        literalError(DiagKind::FloatOutOfRange, r);
        v = 0;
      }
      return a_.make<ast::FloatLit>(r, v);
    }
    if (is<CfpParser::DurationLitContext>(c))
      return duration(as<CfpParser::DurationLitContext>(c)->lit->getText(), r);
    if (is<CfpParser::BoolLitContext>(c))
      return a_.make<ast::BoolLit>(r,
                                   as<CfpParser::BoolLitContext>(c)->lit->getType() == CfpParser::TRUE_LIT);
    if (is<CfpParser::NullLitContext>(c)) return a_.make<ast::NullLit>(r);
    if (is<CfpParser::RecordLitContext>(c)) {
      auto *rl = as<CfpParser::RecordLitContext>(c);
      auto *n = a_.make<ast::RecordLit>(r, rl->name->getText());
      for (auto *fi : rl->inits) n->fields.push_back({fi->name->getText(), at(fi->name), expr(fi->value)});
      return n;
    }
    if (is<CfpParser::ParenExprContext>(c)) return expr(as<CfpParser::ParenExprContext>(c)->inner);
    if (is<CfpParser::ListLitContext>(c)) {
      auto *n = a_.make<ast::ListLit>(r);
      for (auto *e : as<CfpParser::ListLitContext>(c)->elems) n->elems.push_back(expr(e));
      return n;
    }
    if (is<CfpParser::MapLitContext>(c)) {
      auto *n = a_.make<ast::MapLit>(r);
      for (auto *e : as<CfpParser::MapLitContext>(c)->entries) {
        ast::Expr *k = expr(e->key);
        n->entries.push_back({k, expr(e->value)});
      }
      return n;
    }
    auto *n = a_.make<ast::AsyncBlockExpr>(r);
    n->body = block(as<CfpParser::AsyncBlockContext>(c)->body);
    return n;
  }

  /// LANGUAGE.md "Lexical": a duration is a whole number of milliseconds; `1.5m` is 90000 ms.
  ast::Expr *duration(const std::string &text, Range r) {
    bool ms = text.size() >= 2 && text.compare(text.size() - 2, 2, "ms") == 0;
    std::string unit = ms ? "ms" : text.substr(text.size() - 1);
    size_t u = text.size() - unit.size();
    int64_t unitMs = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60000 : 3600000;
    std::string num = stripUnderscores(text.substr(0, u));
    // value = mantissa * 10^exp10, exactly
    unsigned __int128 mant = 0;
    int exp10 = 0;
    bool overflow = false;
    size_t i = 0;
    for (; i < num.size() && std::isdigit(static_cast<unsigned char>(num[i])); ++i) {
      mant = mant * 10 + unsigned(num[i] - '0');
      if (mant > (static_cast<unsigned __int128>(1) << 100)) overflow = true, mant /= 10, ++exp10;
    }
    if (i < num.size() && num[i] == '.') {
      for (++i; i < num.size() && std::isdigit(static_cast<unsigned char>(num[i])); ++i) {
        if (mant < (static_cast<unsigned __int128>(1) << 100)) {
          mant = mant * 10 + unsigned(num[i] - '0');
          --exp10;
        } else if (num[i] != '0') {
          overflow = true; // more precision than any duration has
        }
      }
    }
    if (i < num.size() && (num[i] == 'e' || num[i] == 'E')) exp10 += std::atoi(num.c_str() + i + 1);
    unsigned __int128 v = mant * static_cast<unsigned __int128>(unitMs);
    bool whole = true;
    if (exp10 < 0) {
      for (int k = 0; k < -exp10 && v != 0; ++k) {
        if (v % 10 != 0) whole = false;
        v /= 10;
      }
    } else {
      for (int k = 0; k < exp10 && v != 0; ++k) {
        v *= 10;
        if (v > static_cast<unsigned __int128>(INT64_MAX)) {
          overflow = true;
          break;
        }
      }
    }
    if (!whole) {
      literalError(DiagKind::DurationNotWholeMs, r, {text});
      return a_.make<ast::DurationLit>(r, 0);
    }
    if (overflow || v > static_cast<unsigned __int128>(INT64_MAX)) {
      literalError(DiagKind::DurationOutOfRange, r);
      return a_.make<ast::DurationLit>(r, 0);
    }
    return a_.make<ast::DurationLit>(r, static_cast<int64_t>(v));
  }

  ast::StringLit *string(CfpParser::StringContext *c) {
    auto *s = a_.make<ast::StringLit>(range(c));
    auto text = [&](const std::string &t) {
      if (s->parts.empty() || s->parts.back().expr) s->parts.push_back({});
      s->parts.back().text += t;
    };
    for (CfpParser::StrPartContext *p : c->parts) {
      // An interpolation sets `value`, every other part `chunk` (CfpParser.g4, strPart).
      size_t kind = p->value ? size_t{CfpParser::INTERP_OPEN} : p->chunk->getType();
      if (kind == CfpParser::STR_TEXT || kind == CfpParser::TSTR_TEXT) {
        text(p->chunk->getText());
      } else if (kind == CfpParser::STR_ESC || kind == CfpParser::TSTR_ESC) {
        char e = p->chunk->getText()[1];
        text(std::string(1, e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e));
      } else if (kind == CfpParser::STR_UESC) {
        std::string t = p->chunk->getText();
        std::string cp;
        // The lexer has reported malformed escapes (the AST is built after lexical errors too):
        // decode defensively and put U+FFFD for anything that is not a scalar value.
        uint32_t v = 0;
        bool ok = t.size() > 4 && t.size() <= 10;
        for (size_t k = 3; ok && k + 1 < t.size(); ++k) {
          char h = t[k];
          ok = std::isxdigit(static_cast<unsigned char>(h)) != 0;
          v = v * 16 + static_cast<uint32_t>(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
        }
        if (!ok || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) v = 0xFFFD;
        base::appendUtf8(cp, v);
        text(cp);
      } else {
        s->parts.push_back({std::string(), expr(p->value)});
      }
    }
    // LANGUAGE.md: a newline right after the opening `"""` is dropped.
    if (c->open->getType() == CfpParser::TSTR_OPEN && !s->parts.empty() && !s->parts[0].expr) {
      std::string &t = s->parts[0].text;
      if (t.rfind("\r\n", 0) == 0)
        t.erase(0, 2);
      else if (!t.empty() && t[0] == '\n')
        t.erase(0, 1);
    }
    if (s->parts.empty()) s->parts.push_back({});
    return s;
  }

  // ---- template bodies ----
  ast::TplBody templateBody(CfpParser::TemplateDeclContext *t) {
    std::vector<Piece> ps;
    for (CfpParser::TplPartContext *p : t->parts) {
      // Text sets `chunk`, `{{ }}` sets `value`, `{% %}` sets `tag` (CfpParser.g4, tplPart).
      if (p->chunk) {
        std::string s = p->chunk->getText();
        if (!ps.empty() && ps.back().kind == Piece::Text)
          ps.back().text += s;
        else
          ps.push_back({Piece::Text, s, nullptr, nullptr, range(p)});
      } else if (p->value) {
        ps.push_back({Piece::Expr, {}, p, nullptr, range(p)});
      } else {
        ps.push_back({Piece::Tag, {}, nullptr, p->tag, range(p)});
      }
    }
    bool lineStart = false;
    if (!ps.empty() && ps[0].kind == Piece::Text) {
      std::string &s = ps[0].text;
      if (s.rfind("\r\n", 0) == 0)
        s.erase(0, 2), lineStart = true;
      else if (!s.empty() && s[0] == '\n')
        s.erase(0, 1), lineStart = true;
      if (s.empty()) ps.erase(ps.begin());
    }
    applyWhitespaceRule(ps, lineStart);

    ast::TplBody root;
    struct Open {
      ast::TplNode *node;
      ast::TplBody *body;
    };
    std::vector<Open> stack{{nullptr, &root}};
    for (Piece &p : ps) {
      ast::TplBody &cur = *stack.back().body;
      if (p.kind == Piece::Text) {
        auto *n = a_.make<ast::TplNode>(ast::TplKind::Text, p.range);
        n->text = std::move(p.text);
        cur.push_back(n);
        continue;
      }
      if (p.kind == Piece::Expr) {
        auto *n = a_.make<ast::TplNode>(ast::TplKind::Expr, p.range);
        n->expr = expr(p.expr->value);
        cur.push_back(n);
        continue;
      }
      if (is<CfpParser::TagForContext>(p.tag)) {
        auto *f = as<CfpParser::TagForContext>(p.tag);
        auto *n = a_.make<ast::TplNode>(ast::TplKind::For, p.range);
        ast::Expr *it = expr(f->iter);
        forHead(n->head, f->var1, f->var2, it, f->iterEnd ? expr(f->iterEnd) : nullptr);
        cur.push_back(n);
        stack.push_back({n, &n->body});
      } else if (is<CfpParser::TagIfContext>(p.tag)) {
        auto *n = a_.make<ast::TplNode>(ast::TplKind::If, p.range);
        n->branches.push_back({expr(as<CfpParser::TagIfContext>(p.tag)->test), {}});
        cur.push_back(n);
        stack.push_back({n, &n->branches.back().second});
      } else if (is<CfpParser::TagElseIfContext>(p.tag) || is<CfpParser::TagElseContext>(p.tag)) {
        ast::TplNode *top = stack.back().node;
        if (!top || top->kind != ast::TplKind::If || top->hasElse) {
          d_.report(DiagKind::TplElseWithoutIf, p.range);
          continue;
        }
        if (is<CfpParser::TagElseIfContext>(p.tag)) {
          top->branches.push_back({expr(as<CfpParser::TagElseIfContext>(p.tag)->test), {}});
          stack.back().body = &top->branches.back().second;
        } else {
          top->hasElse = true;
          stack.back().body = &top->elseBody;
        }
      } else {
        auto *w = as<CfpParser::TagWordContext>(p.tag);
        // Any word but `for`/`if`/`else` parses here, so that `{% while x %}` gets a clear message.
        std::string word = w->word->getText();
        if (word != "end") {
          d_.report(DiagKind::TplUnknownTag, p.range, {"`" + word + "`"});
          continue;
        }
        if (!w->rest.empty())
          d_.report(DiagKind::SyntaxUnexpected, at(w->rest[0]),
                    {"`" + w->rest[0]->getText() + "` after `end`"});
        if (stack.size() == 1)
          d_.report(DiagKind::TplEndWithoutOpen, p.range);
        else
          stack.pop_back();
      }
    }
    for (size_t i = 1; i < stack.size(); ++i)
      d_.report(DiagKind::TplUnclosed, stack[i].node->range,
                {stack[i].node->kind == ast::TplKind::For ? "for" : "if"});
    return root;
  }
};

} // namespace

void buildModule(CfpParser::FileContext *tree, const TokenFacts &facts, support::DiagnosticEngine &diags,
                 ast::Module &out) {
  Builder(facts, diags, out).file(tree);
}

} // namespace cfm::parse
