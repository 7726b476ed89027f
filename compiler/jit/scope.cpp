// scope.cpp — what the JIT compiles today, decided before anything runs: a walk over the checked
// AST of every function, default argument and constant that names the first construct outside
// the JIT's scope (compiler/jit/README.md "What is compiled"). The driver then exits with 3 and
// points at `--engine interp`, which the conformance driver lists as SKIP.
#include "jit/jit.h"

#include <set>

namespace cfm::jit {

namespace {

using ast::Builtin;
using sema::TypeKind;

class ScopeWalk {
public:
  std::string why;

  void function(const sema::FnInfo &fi) {
    const ast::FnDecl *d = fi.decl;
    for (const ast::Param &p : d->params) {
      type(p.var->type, p.loc);
      if (p.defaultValue) expr(p.defaultValue);
    }
    if (fi.ret && !fi.ret->is(TypeKind::Void)) type(fi.ret, d->nameLoc);
    block(d->body);
    tplBody(d->tplBody);
  }

  void constant(const ast::ConstDecl *c) {
    type(c->var->type, c->nameLoc);
    expr(c->init);
  }

private:
  std::set<const sema::Type *> seen_;

  void fail(const std::string &what, support::Loc l) {
    if (why.empty()) why = what + " yet (line " + std::to_string(l.line) + ")";
  }

  /// The value types the JIT lowers: scalars, strings, caught errors, lists, maps and records.
  void type(const sema::Type *t, support::Loc l) {
    switch (t->kind) {
    case TypeKind::Int:
    case TypeKind::Float:
    case TypeKind::Bool:
    case TypeKind::String:
    case TypeKind::Duration:
    case TypeKind::ErrorValue: return;
    case TypeKind::List: return type(t->a, l);
    case TypeKind::Map: type(t->a, l); return type(t->b, l);
    case TypeKind::Record:
      if (!seen_.insert(t).second) return; // records may refer to themselves through lists
      for (const sema::FieldInfo &fi : t->record->fields) type(fi.type, l);
      return;
    case TypeKind::Task:
      if (!t->a->is(TypeKind::Void)) type(t->a, l);
      return;
    case TypeKind::Json:
    case TypeKind::Null: return;
    default: return fail("values of type `" + t->str() + "`", l);
    }
  }

  void tplBody(const ast::TplBody &body) {
    for (const ast::TplNode *n : body) {
      switch (n->kind) {
      case ast::TplKind::Text: break;
      case ast::TplKind::Expr: expr(n->expr); break;
      case ast::TplKind::For:
        forHead(n->head, n->range.begin);
        tplBody(n->body);
        break;
      case ast::TplKind::If:
        for (const auto &[cond, branch] : n->branches) {
          expr(cond);
          tplBody(branch);
        }
        tplBody(n->elseBody);
        break;
      }
    }
  }

  void forHead(const ast::ForHead &h, support::Loc l) {
    if (h.form == ast::ForForm::Bad) return fail("this `for`", l);
    type(h.v1->type, h.var1Loc);
    if (h.v2) type(h.v2->type, h.var2Loc);
    expr(h.iter);
    if (h.end) expr(h.end);
  }

  void block(const ast::Block &b) {
    for (const ast::Stmt *s : b) stmt(s);
  }

  void stmt(const ast::Stmt *s) {
    switch (s->kind) {
    case ast::StmtKind::Let: {
      auto *ls = static_cast<const ast::LetStmt *>(s);
      type(ls->var->type, ls->nameLoc);
      return expr(ls->init);
    }
    case ast::StmtKind::Assign: {
      auto *as = static_cast<const ast::AssignStmt *>(s);
      place(as->target);
      return expr(as->value);
    }
    case ast::StmtKind::Expr: return expr(static_cast<const ast::ExprStmt *>(s)->expr);
    case ast::StmtKind::If: {
      auto *is = static_cast<const ast::IfStmt *>(s);
      for (const ast::IfBranch &br : is->branches) {
        expr(br.cond);
        block(br.body);
      }
      return block(is->elseBody);
    }
    case ast::StmtKind::While: {
      auto *ws = static_cast<const ast::WhileStmt *>(s);
      expr(ws->cond);
      return block(ws->body);
    }
    case ast::StmtKind::For: {
      auto *fs = static_cast<const ast::ForStmt *>(s);
      forHead(fs->head, s->loc());
      return block(fs->body);
    }
    case ast::StmtKind::Break:
    case ast::StmtKind::Continue: return;
    case ast::StmtKind::Return: {
      auto *rs = static_cast<const ast::ReturnStmt *>(s);
      if (rs->value) expr(rs->value);
      return;
    }
    case ast::StmtKind::Throw: return expr(static_cast<const ast::ThrowStmt *>(s)->value);
    case ast::StmtKind::Try: {
      auto *ts = static_cast<const ast::TryStmt *>(s);
      block(ts->body);
      return block(ts->handler);
    }
    }
  }

  void expr(const ast::Expr *e) {
    if (!why.empty()) return;
    if (!e->type->is(TypeKind::Void)) type(e->type, e->loc());
    switch (e->kind) {
    case ast::ExprKind::Int:
    case ast::ExprKind::Float:
    case ast::ExprKind::Duration:
    case ast::ExprKind::Bool:
    case ast::ExprKind::Name: return;
    case ast::ExprKind::Null: return;
    case ast::ExprKind::String:
      for (const ast::StrPart &p : static_cast<const ast::StringLit *>(e)->parts)
        if (p.expr) expr(p.expr);
      return;
    case ast::ExprKind::List: {
      auto *l = static_cast<const ast::ListLit *>(e);
      for (const ast::Expr *x : l->elems) expr(x);
      return;
    }
    case ast::ExprKind::Map: {
      auto *m = static_cast<const ast::MapLit *>(e);
      for (const ast::MapEntry &en : m->entries) {
        expr(en.key);
        expr(en.value);
      }
      return;
    }
    case ast::ExprKind::Record:
      for (const ast::FieldInit &fi : static_cast<const ast::RecordLit *>(e)->fields) expr(fi.value);
      return;
    case ast::ExprKind::Unary: return expr(static_cast<const ast::UnaryExpr *>(e)->operand);
    case ast::ExprKind::Binary: {
      auto *b = static_cast<const ast::BinaryExpr *>(e);
      expr(b->lhs);
      return expr(b->rhs);
    }
    case ast::ExprKind::Index: {
      auto *ix = static_cast<const ast::IndexExpr *>(e);
      expr(ix->base);
      return expr(ix->index);
    }
    case ast::ExprKind::Member: return expr(static_cast<const ast::MemberExpr *>(e)->base);
    case ast::ExprKind::Call: return call(static_cast<const ast::CallExpr *>(e));
    case ast::ExprKind::MethodCall: return method(static_cast<const ast::MethodCallExpr *>(e));
    case ast::ExprKind::AsyncCall: {
      const ast::CallExpr *c = static_cast<const ast::AsyncCallExpr *>(e)->call;
      return call(c);
    }
    case ast::ExprKind::AsyncBlock: return block(static_cast<const ast::AsyncBlockExpr *>(e)->body);
    }
  }

  /// An assignable place: a variable and index and field steps below it.
  void place(const ast::Expr *e) {
    if (!why.empty()) return;
    type(e->type, e->loc());
    if (e->kind == ast::ExprKind::Index) {
      auto *ix = static_cast<const ast::IndexExpr *>(e);
      if (!ix->base->type->is(TypeKind::List) && !ix->base->type->is(TypeKind::Map))
        return fail("json", e->loc());
      place(ix->base);
      return expr(ix->index);
    }
    if (e->kind == ast::ExprKind::Member) return place(static_cast<const ast::MemberExpr *>(e)->base);
    expr(e);
  }

  void call(const ast::CallExpr *c) {
    if (c->fn) {
      for (const ast::Expr *a : c->boundArgs)
        if (a) expr(a);
      return;
    }
    switch (c->builtin) {
    case Builtin::Print:
    case Builtin::Str:
    case Builtin::Fail:
    case Builtin::Int:
    case Builtin::Float:
    case Builtin::Sleep: break;
    case Builtin::Len:
    case Builtin::Now:
    case Builtin::ParseJson:
    case Builtin::ToJson: break;
    case Builtin::Wait:
      if (c->timeout) expr(c->timeout);
      break;
#define API(id, ...) case Builtin::id:
#include "ast/builtins.def"
      break;
    case Builtin::None:
#define METHOD(id, recv, name) case Builtin::id:
#include "ast/builtins.def"
      ast::unreachableBuiltin(c->builtin, "the JIT scope's calls");
    }
    for (const ast::Arg &a : c->args) expr(a.value);
  }

  void method(const ast::MethodCallExpr *m) {
    switch (m->method) {
    case Builtin::StrTrim:
    case Builtin::StrUpper:
    case Builtin::StrLower:
    case Builtin::StrContains:
    case Builtin::StrStartsWith:
    case Builtin::StrEndsWith:
    case Builtin::StrReplace:
    case Builtin::StrSplit:
    case Builtin::DurationMs:
    case Builtin::ListContains:
    case Builtin::ListJoin:
    case Builtin::MapHas:
    case Builtin::MapKeys:
    case Builtin::MapValues:
    case Builtin::JsonAsString:
    case Builtin::JsonAsInt:
    case Builtin::JsonAsFloat:
    case Builtin::JsonAsBool:
    case Builtin::JsonLen:
    case Builtin::ModelElement:
    case Builtin::ModelVmClass:
    case Builtin::ModelTemplate:
    case Builtin::ModelProperty:
    case Builtin::ModelInstancesOf:
    case Builtin::ModelRender: break;
    case Builtin::ListPush:
    case Builtin::ListPop:
    case Builtin::MapRemove:
      place(m->receiver);
      for (const ast::Arg &a : m->args) expr(a.value);
      return;
    case ast::Builtin::None:
#define BUILTIN(id, name) case ast::Builtin::id:
#include "ast/builtins.def"
      ast::unreachableBuiltin(m->method, "the JIT scope's methods");
    }
    expr(m->receiver);
    for (const ast::Arg &a : m->args) expr(a.value);
  }
};

} // namespace

std::string unsupported(const sema::Program &p) {
  ScopeWalk w;
  for (const ast::ConstDecl *c : p.constOrder) w.constant(c);
  for (const sema::FnInfo &fi : p.functions) w.function(fi);
  return w.why;
}

} // namespace cfm::jit
