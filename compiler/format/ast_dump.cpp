// ast_dump.cpp — the position-free dump of a syntax tree (ast_dump.h).
#include "format/ast_dump.h"

#include "format/formatter.h"

#include <cstdio>
#include <string>

namespace cfm::format {

namespace {

class Dumper {
public:
  std::string out;

  void str(std::string_view s) {
    out += '"';
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
      } else
        out += static_cast<char>(c);
    }
    out += '"';
  }
  void word(std::string_view w) {
    out += ' ';
    out += w;
  }

  void type(const ast::TypeRef *t) {
    if (!t) {
      out += " _";
      return;
    }
    out += " (type ";
    out += t->name;
    for (const ast::TypeRef *a : t->args) type(a);
    out += ')';
  }

  void args(const std::vector<ast::Arg> &as) {
    out += " (args";
    for (const ast::Arg &a : as) {
      out += " (arg ";
      out += a.name.empty() ? "_" : a.name;
      expr(a.value);
      out += ')';
    }
    out += ')';
  }

  void expr(const ast::Expr *e) {
    if (!e) {
      out += " _";
      return;
    }
    out += " (";
    switch (e->kind) {
    case ast::ExprKind::Int:
      out += "int " + std::to_string(static_cast<const ast::IntLit *>(e)->value);
      break;
    case ast::ExprKind::Float: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "float %.17g", static_cast<const ast::FloatLit *>(e)->value);
      out += buf;
      break;
    }
    case ast::ExprKind::Duration:
      out += "duration " + std::to_string(static_cast<const ast::DurationLit *>(e)->ms);
      break;
    case ast::ExprKind::Bool: out += static_cast<const ast::BoolLit *>(e)->value ? "true" : "false"; break;
    case ast::ExprKind::Null: out += "null"; break;
    case ast::ExprKind::String: {
      out += "string";
      for (const ast::StrPart &p : static_cast<const ast::StringLit *>(e)->parts) {
        if (p.expr) {
          out += " (interp";
          expr(p.expr);
          out += ')';
        } else {
          out += ' ';
          str(p.text);
        }
      }
      break;
    }
    case ast::ExprKind::Name: out += "name " + static_cast<const ast::NameExpr *>(e)->name; break;
    case ast::ExprKind::List:
      out += "list";
      for (const ast::Expr *x : static_cast<const ast::ListLit *>(e)->elems) expr(x);
      break;
    case ast::ExprKind::Map:
      out += "map";
      for (const ast::MapEntry &me : static_cast<const ast::MapLit *>(e)->entries) {
        out += " (entry";
        expr(me.key);
        expr(me.value);
        out += ')';
      }
      break;
    case ast::ExprKind::Record: {
      auto *r = static_cast<const ast::RecordLit *>(e);
      out += "record " + r->name;
      for (const ast::FieldInit &f : r->fields) {
        out += " (field " + f.name;
        expr(f.value);
        out += ')';
      }
      break;
    }
    case ast::ExprKind::Unary: {
      auto *u = static_cast<const ast::UnaryExpr *>(e);
      out += "unary ";
      out += u->op;
      expr(u->operand);
      break;
    }
    case ast::ExprKind::Binary: {
      auto *b = static_cast<const ast::BinaryExpr *>(e);
      out += "binary ";
      out += ast::binOpText(b->op);
      expr(b->lhs);
      expr(b->rhs);
      break;
    }
    case ast::ExprKind::Index: {
      auto *x = static_cast<const ast::IndexExpr *>(e);
      out += "index";
      expr(x->base);
      expr(x->index);
      break;
    }
    case ast::ExprKind::Member: {
      auto *m = static_cast<const ast::MemberExpr *>(e);
      out += "member " + m->name;
      expr(m->base);
      break;
    }
    case ast::ExprKind::Call: {
      auto *c = static_cast<const ast::CallExpr *>(e);
      out += "call " + c->callee;
      args(c->args);
      break;
    }
    case ast::ExprKind::MethodCall: {
      auto *c = static_cast<const ast::MethodCallExpr *>(e);
      out += "method " + c->name;
      expr(c->receiver);
      args(c->args);
      break;
    }
    case ast::ExprKind::AsyncCall:
      out += "async";
      expr(static_cast<const ast::AsyncCallExpr *>(e)->call);
      break;
    case ast::ExprKind::AsyncBlock:
      out += "async-block";
      block(static_cast<const ast::AsyncBlockExpr *>(e)->body);
      break;
    }
    out += ')';
  }

  void block(const ast::Block &b) {
    out += " (block";
    for (const ast::Stmt *s : b) stmt(s);
    out += ')';
  }

  void head(const ast::ForHead &h) {
    out += ' ' + h.var1;
    if (!h.var2.empty()) out += ' ' + h.var2;
    expr(h.iter);
    if (h.end) expr(h.end);
  }

  void stmt(const ast::Stmt *s) {
    out += " (";
    switch (s->kind) {
    case ast::StmtKind::Let: {
      auto *l = static_cast<const ast::LetStmt *>(s);
      out += (l->isVar ? "var " : "let ") + l->name;
      type(l->annot);
      expr(l->init);
      break;
    }
    case ast::StmtKind::Assign: {
      auto *a = static_cast<const ast::AssignStmt *>(s);
      out += "assign ";
      out += a->op;
      expr(a->target);
      expr(a->value);
      break;
    }
    case ast::StmtKind::Expr:
      out += "expr";
      expr(static_cast<const ast::ExprStmt *>(s)->expr);
      break;
    case ast::StmtKind::If: {
      auto *i = static_cast<const ast::IfStmt *>(s);
      out += "if";
      for (const ast::IfBranch &b : i->branches) {
        expr(b.cond);
        block(b.body);
      }
      if (i->hasElse) {
        out += " else";
        block(i->elseBody);
      }
      break;
    }
    case ast::StmtKind::While: {
      auto *w = static_cast<const ast::WhileStmt *>(s);
      out += "while";
      expr(w->cond);
      block(w->body);
      break;
    }
    case ast::StmtKind::For: {
      auto *f = static_cast<const ast::ForStmt *>(s);
      out += "for";
      head(f->head);
      block(f->body);
      break;
    }
    case ast::StmtKind::Break: out += "break"; break;
    case ast::StmtKind::Continue: out += "continue"; break;
    case ast::StmtKind::Return:
      out += "return";
      expr(static_cast<const ast::ReturnStmt *>(s)->value);
      break;
    case ast::StmtKind::Throw:
      out += "throw";
      expr(static_cast<const ast::ThrowStmt *>(s)->value);
      break;
    case ast::StmtKind::Try: {
      auto *t = static_cast<const ast::TryStmt *>(s);
      out += "try";
      block(t->body);
      out += " catch " + t->errName;
      block(t->handler);
      break;
    }
    }
    out += ')';
  }

  void tpl(const ast::TplBody &body) {
    out += " (tpl";
    for (const ast::TplNode *n : body) {
      switch (n->kind) {
      case ast::TplKind::Text:
        out += ' ';
        str(n->text);
        break;
      case ast::TplKind::Expr:
        out += " (=";
        expr(n->expr);
        out += ')';
        break;
      case ast::TplKind::For:
        out += " (for";
        head(n->head);
        tpl(n->body);
        out += ')';
        break;
      case ast::TplKind::If:
        out += " (if";
        for (const auto &[cond, b] : n->branches) {
          expr(cond);
          tpl(b);
        }
        if (n->hasElse) {
          out += " else";
          tpl(n->elseBody);
        }
        out += ')';
        break;
      }
    }
    out += ')';
  }

  void decl(const ast::Decl *d) {
    out += '(';
    switch (d->kind) {
    case ast::DeclKind::Import:
      out += "import ";
      str(static_cast<const ast::ImportDecl *>(d)->path);
      break;
    case ast::DeclKind::Const: {
      auto *c = static_cast<const ast::ConstDecl *>(d);
      out += "const " + c->name;
      type(c->annot);
      expr(c->init);
      break;
    }
    case ast::DeclKind::Record: {
      auto *r = static_cast<const ast::RecordDecl *>(d);
      out += "record " + r->name;
      for (const ast::FieldDecl &f : r->fields) {
        out += " (field " + f.name;
        type(f.type);
        out += ')';
      }
      break;
    }
    case ast::DeclKind::Fn: {
      auto *f = static_cast<const ast::FnDecl *>(d);
      out += f->fnKind == ast::FnKind::Fn          ? "fn "
             : f->fnKind == ast::FnKind::Procedure ? "procedure "
                                                   : "template ";
      out += f->name;
      out += " (params";
      for (const ast::Param &p : f->params) {
        out += " (" + p.name;
        type(p.type);
        expr(p.defaultValue);
        out += ')';
      }
      out += ')';
      type(f->ret);
      if (f->fnKind == ast::FnKind::Template)
        tpl(f->tplBody);
      else
        block(f->body);
      break;
    }
    }
    out += ")\n";
  }
};

} // namespace

std::string dumpModule(const ast::Module &m) {
  Dumper d;
  for (const ast::Decl *decl : m.decls) d.decl(decl);
  return std::move(d.out);
}

} // namespace cfm::format
