// check_stmts.cpp — statements, assignable places and the return-path rule
// (LANGUAGE.md "Statements", "Precise rules").
#include "sema/checker.h"

namespace cfm::sema {

using support::DiagKind;

/// Returns true if the block always ends (return, throw, fail, endless loop) — the
/// "missing return" rule of LANGUAGE.md.
bool Checker::block(ast::Block &b, bool newScope) {
  if (newScope) pushScope();
  bool ends = false;
  for (ast::Stmt *s : b)
    if (stmt(s)) ends = true;
  if (newScope) popScope();
  return ends;
}

void Checker::forHead(ast::ForHead &h) {
  if (h.end) {
    expect(h.iter, tc_.intT, "for the range start");
    expect(h.end, tc_.intT, "for the range end");
    h.form = ast::ForForm::Range;
    if (!h.var2.empty()) err(DiagKind::RangeLoopOneVar, h.var2Loc);
    h.v1 = declare(h.var1, tc_.intT, VarKind::Loop, h.var1Loc);
    return;
  }
  const Type *it = ex(h.iter);
  if (it->is(TypeKind::List)) {
    h.form = ast::ForForm::List;
    if (!h.var2.empty()) err(DiagKind::ListLoopOneVar, h.var2Loc);
    h.v1 = declare(h.var1, it->a, VarKind::Loop, h.var1Loc);
  } else if (it->is(TypeKind::Map)) {
    h.form = ast::ForForm::Map;
    if (h.var2.empty()) err(DiagKind::MapLoopTwoVars, h.var1Loc);
    h.v1 = declare(h.var1, it->a, VarKind::Loop, h.var1Loc);
    if (!h.var2.empty()) h.v2 = declare(h.var2, it->b, VarKind::Loop, h.var2Loc);
  } else {
    h.form = ast::ForForm::Bad;
    if (!it->bad()) errR(DiagKind::CannotIterate, h.iter->range, it->str());
    h.v1 = declare(h.var1, tc_.errorT, VarKind::Loop, h.var1Loc);
    if (!h.var2.empty()) h.v2 = declare(h.var2, tc_.errorT, VarKind::Loop, h.var2Loc);
  }
}

bool Checker::stmt(ast::Stmt *s) {
  switch (s->kind) {
  case ast::StmtKind::Let: {
    auto *l = static_cast<ast::LetStmt *>(s);
    const Type *t;
    if (l->annot) {
      t = resolveType(l->annot);
      if (t == tc_.voidT) {
        errR(DiagKind::VoidVariable, l->annot->range);
        t = tc_.errorT;
      }
      expect(l->init, t);
    } else {
      t = valueType(ex(l->init), l->init->range);
    }
    l->var = declare(l->name, t, l->isVar ? VarKind::Var : VarKind::Let, l->nameLoc);
    return false;
  }
  case ast::StmtKind::Assign: assign(static_cast<ast::AssignStmt *>(s)); return false;
  case ast::StmtKind::Expr: {
    ast::Expr *e = static_cast<ast::ExprStmt *>(s)->expr;
    ex(e);
    return e->kind == ast::ExprKind::Call && static_cast<ast::CallExpr *>(e)->builtin == ast::Builtin::Fail;
  }
  case ast::StmtKind::If: {
    auto *i = static_cast<ast::IfStmt *>(s);
    bool all = true;
    for (auto &br : i->branches) {
      expect(br.cond, tc_.boolT, "for the condition");
      if (!block(br.body)) all = false;
    }
    if (!i->hasElse) return false;
    return block(i->elseBody) && all;
  }
  case ast::StmtKind::While: {
    auto *w = static_cast<ast::WhileStmt *>(s);
    expect(w->cond, tc_.boolT, "for the condition");
    loops_.push_back(&w->hasBreak);
    block(w->body);
    loops_.pop_back();
    bool literalTrue = w->cond->kind == ast::ExprKind::Bool && static_cast<ast::BoolLit *>(w->cond)->value;
    return literalTrue && !w->hasBreak;
  }
  case ast::StmtKind::For: {
    auto *f = static_cast<ast::ForStmt *>(s);
    pushScope();
    forHead(f->head);
    loops_.push_back(&f->hasBreak);
    block(f->body);
    loops_.pop_back();
    popScope();
    return false;
  }
  case ast::StmtKind::Break:
  case ast::StmtKind::Continue: {
    const char *what = s->kind == ast::StmtKind::Break ? "break" : "continue";
    if (loops_.empty())
      err(DiagKind::OutsideLoop, s->loc(), what,
          inAsyncBlock_ ? " (an async block is a task of its own)" : "");
    else if (s->kind == ast::StmtKind::Break)
      *loops_.back() = true;
    return true;
  }
  case ast::StmtKind::Return: {
    auto *r = static_cast<ast::ReturnStmt *>(s);
    if (!fn_) return true;
    if (inAsyncBlock_) {
      if (r->value) {
        ex(r->value);
        err(DiagKind::AsyncReturnValue, r->loc());
      }
      return true;
    }
    const Type *ret = fn_->ret;
    if (!r->value) {
      if (ret != tc_.voidT && !ret->bad()) err(DiagKind::ReturnNeedsValue, r->loc(), ret->str());
    } else if (ret == tc_.voidT) {
      ex(r->value);
      errR(DiagKind::NoReturnValue, r->value->range, fn_->name);
    } else {
      expect(r->value, ret, "for the return value");
    }
    return true;
  }
  case ast::StmtKind::Throw:
    expect(static_cast<ast::ThrowStmt *>(s)->value, tc_.stringT, "for `throw`");
    return true;
  case ast::StmtKind::Try: {
    auto *t = static_cast<ast::TryStmt *>(s);
    bool a = block(t->body);
    pushScope();
    t->errVar = declare(t->errName, tc_.errorValueT, VarKind::Catch, t->errLoc);
    bool b = block(t->handler, false);
    popScope();
    return a && b;
  }
  }
  return false;
}

void Checker::assign(ast::AssignStmt *s) {
  const Type *tt = place(s->target, "assign to", true);
  if (s->op == '=') {
    expect(s->value, tt);
    return;
  }
  const Type *vt = ex(s->value, tt);
  const Type *res = arith(s->op, tt, vt, s->opLoc);
  if (!res->bad() && !tt->bad() && res != tt) {
    std::string op = std::string(1, s->op) + "=";
    err(DiagKind::CompoundChangesType, s->opLoc, op, tt->str(), res->str());
  }
  s->resultType = res;
}

namespace {
const char *whyReadOnly(VarKind k) {
  switch (k) {
  case VarKind::Let: return "it is declared with `let`";
  case VarKind::Param: return "parameters are read-only";
  case VarKind::Loop: return "loop variables are read-only";
  case VarKind::Catch: return "the caught error is read-only";
  default: return "it is read-only";
  }
}
} // namespace

void Checker::mutCheck(ast::NameExpr *e, Var *v, const char *action) {
  if (v->kind == VarKind::Const)
    errR(DiagKind::CannotMutate, e->range, action, e->name, "it is a constant");
  else if (!v->mutableVar())
    errR(DiagKind::CannotMutate, e->range, action, e->name, whyReadOnly(v->kind));
  else if (v->asyncLevel < level_)
    errR(DiagKind::CannotMutateInAsync, e->range, action, e->name);
}

/// For a mutating method call: the root variable must be mutable and no json may be on the way.
void Checker::rootCheck(ast::Expr *e, const char *action) {
  while (e->kind == ast::ExprKind::Index || e->kind == ast::ExprKind::Member) {
    ast::Expr *base = e->kind == ast::ExprKind::Index ? static_cast<ast::IndexExpr *>(e)->base
                                                      : static_cast<ast::MemberExpr *>(e)->base;
    if (base->type == tc_.jsonT) {
      errR(DiagKind::JsonPartReadOnly, e->range, action);
      return;
    }
    e = base;
  }
  if (e->kind == ast::ExprKind::Name) {
    auto *n = static_cast<ast::NameExpr *>(e);
    if (n->var) mutCheck(n, n->var, action);
  }
}

/// Types an assignable place (`x`, `xs[i]`, `m[k]`, `r.f`, nested) and, with `mutCheck`,
/// checks that its root variable may be changed here.
const Type *Checker::place(ast::Expr *e, const char *action, bool doMutCheck) {
  switch (e->kind) {
  case ast::ExprKind::Name: {
    auto *n = static_cast<ast::NameExpr *>(e);
    Var *v = lookup(n->name);
    if (!v) {
      errR(DiagKind::UndefinedName, n->range, n->name);
      return e->type = tc_.errorT;
    }
    n->var = v;
    capture(v);
    e->type = v->type;
    if (doMutCheck) mutCheck(n, v, action);
    return v->type;
  }
  case ast::ExprKind::Index: {
    auto *ix = static_cast<ast::IndexExpr *>(e);
    const Type *bt = place(ix->base, action, doMutCheck);
    if (bt->is(TypeKind::List)) {
      expect(ix->index, tc_.intT, "for the index");
      e->type = bt->a;
    } else if (bt->is(TypeKind::Map)) {
      expect(ix->index, bt->a, "for the key");
      e->type = bt->b;
    } else {
      ex(ix->index);
      if (bt == tc_.jsonT && !doMutCheck) return e->type = tc_.jsonT;
      if (bt == tc_.jsonT)
        err(DiagKind::JsonElemReadOnly, ix->bracketLoc, action);
      else if (!bt->bad())
        err(DiagKind::CannotIndexPlace, ix->bracketLoc, bt->str());
      e->type = tc_.errorT;
    }
    return e->type;
  }
  case ast::ExprKind::Member: {
    auto *m = static_cast<ast::MemberExpr *>(e);
    const Type *bt = place(m->base, action, doMutCheck);
    e->type = memberType(m, bt);
    if (bt == tc_.errorValueT && doMutCheck) err(DiagKind::CaughtErrorField, m->nameLoc, action);
    return e->type;
  }
  default: {
    const Type *t = ex(e);
    if (!t->bad()) errR(DiagKind::Temporary, e->range, action);
    return tc_.errorT;
  }
  }
}

} // namespace cfm::sema
