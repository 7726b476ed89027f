// check_exprs.cpp — expressions (LANGUAGE.md "Types", "Expressions"): bidirectional inference,
// the json conversion rule, operators, literals, indexing, members and async blocks.
#include "sema/checker.h"

#include <algorithm>

namespace cfm::sema {

using support::DiagKind;

namespace {
bool isEmptyLiteral(const ast::Expr *e) {
  return (e->kind == ast::ExprKind::List && static_cast<const ast::ListLit *>(e)->elems.empty()) ||
         (e->kind == ast::ExprKind::Map && static_cast<const ast::MapLit *>(e)->entries.empty()) ||
         e->kind == ast::ExprKind::Null;
}
} // namespace

const Type *Checker::expect(ast::Expr *e, const Type *want, std::string_view what) {
  const Type *t = ex(e, want);
  return coerce(e, t, want, what);
}

const Type *Checker::coerce(ast::Expr *e, const Type *got, const Type *want, std::string_view what) {
  if (!want || got == want || got->bad() || want->bad()) return want ? want : got;
  if (want == tc_.jsonT && jsonable(got)) {
    e->toJson = true; // LANGUAGE.md: where a json is expected, any value converts as to_json
    return tc_.jsonT;
  }
  if (got == tc_.nullT) {
    errR(DiagKind::NullExpected, e->range, want->str());
    return want;
  }
  std::string extra;
  bool numeric = (got == tc_.intT || got == tc_.floatT) && (want == tc_.intT || want == tc_.floatT);
  if (numeric) extra = " (no implicit conversions: use `" + want->str() + "(...)`)";
  std::string w = what.empty() ? std::string() : " " + std::string(what);
  errR(DiagKind::TypeMismatch, e->range, want->str(), w, got->str(), extra);
  return want;
}

namespace {
/// Whether every leaf of t is one of the kinds `leafOk` accepts, looking through lists, map
/// values and record fields (recursive records are followed once).
bool allLeaves(const Type *t, bool (*leafOk)(TypeKind), std::vector<const RecordInfo *> &seen) {
  switch (t->kind) {
  case TypeKind::List: return allLeaves(t->a, leafOk, seen);
  case TypeKind::Map: return allLeaves(t->b, leafOk, seen);
  case TypeKind::Record: {
    if (std::find(seen.begin(), seen.end(), t->record) != seen.end()) return true;
    seen.push_back(t->record);
    bool ok = true;
    for (const FieldInfo &f : t->record->fields) ok = ok && allLeaves(f.type, leafOk, seen);
    seen.pop_back();
    return ok;
  }
  default: return leafOk(t->kind);
  }
}
bool scalarOrJson(TypeKind k) {
  return k == TypeKind::Int || k == TypeKind::Float || k == TypeKind::Bool || k == TypeKind::String ||
         k == TypeKind::Duration || k == TypeKind::Json || k == TypeKind::Error;
}
} // namespace

/// LANGUAGE.md: every type but void, Task and errors converts to json.
bool Checker::jsonable(const Type *t) {
  std::vector<const RecordInfo *> seen;
  return allLeaves(
      t, [](TypeKind k) { return scalarOrJson(k) || k == TypeKind::Null; }, seen);
}

/// `==` compares numbers, strings, durations, bools, json, and collections and records of them.
bool Checker::equatable(const Type *t) {
  std::vector<const RecordInfo *> seen;
  return allLeaves(t, scalarOrJson, seen);
}

const Type *Checker::ex(ast::Expr *e, const Type *hint) {
  const Type *t = tc_.errorT;
  switch (e->kind) {
  case ast::ExprKind::Int: t = tc_.intT; break;
  case ast::ExprKind::Float: t = tc_.floatT; break;
  case ast::ExprKind::Duration: t = tc_.durationT; break;
  case ast::ExprKind::Bool: t = tc_.boolT; break;
  case ast::ExprKind::Null: t = tc_.nullT; break;
  case ast::ExprKind::String: t = exString(static_cast<ast::StringLit *>(e)); break;
  case ast::ExprKind::Name: t = exName(static_cast<ast::NameExpr *>(e)); break;
  case ast::ExprKind::List: t = exList(static_cast<ast::ListLit *>(e), hint); break;
  case ast::ExprKind::Map: t = exMap(static_cast<ast::MapLit *>(e), hint); break;
  case ast::ExprKind::Record: t = exRecord(static_cast<ast::RecordLit *>(e)); break;
  case ast::ExprKind::Unary: t = exUnary(static_cast<ast::UnaryExpr *>(e), hint); break;
  case ast::ExprKind::Binary: t = exBinary(static_cast<ast::BinaryExpr *>(e), hint); break;
  case ast::ExprKind::Index: t = exIndex(static_cast<ast::IndexExpr *>(e)); break;
  case ast::ExprKind::Member: {
    auto *m = static_cast<ast::MemberExpr *>(e);
    t = memberType(m, ex(m->base));
    break;
  }
  case ast::ExprKind::Call: t = exCall(static_cast<ast::CallExpr *>(e), false); break;
  case ast::ExprKind::MethodCall: t = exMethodCall(static_cast<ast::MethodCallExpr *>(e)); break;
  case ast::ExprKind::AsyncCall: {
    auto *a = static_cast<ast::AsyncCallExpr *>(e);
    if (restrict_) err(DiagKind::AsyncNotAllowed, e->loc(), restrict_);
    if (fn_) fn_->asyncs = true;
    const Type *r = exCall(a->call, true);
    a->call->type = r;
    t = tc_.task(r);
    break;
  }
  case ast::ExprKind::AsyncBlock: t = exAsyncBlock(static_cast<ast::AsyncBlockExpr *>(e)); break;
  }
  e->type = t;
  return t;
}

const Type *Checker::exString(ast::StringLit *e) {
  for (ast::StrPart &p : e->parts) {
    if (!p.expr) continue;
    const Type *t = ex(p.expr);
    if (t == tc_.voidT)
      errR(DiagKind::InterpVoid, p.expr->range);
    else if (t == tc_.nullT)
      errR(DiagKind::NullOnlyJson, p.expr->range);
  }
  return tc_.stringT;
}

const Type *Checker::exName(ast::NameExpr *e) {
  Var *v = lookup(e->name);
  if (!v) {
    bool isFn = p_.fnByName.count(e->name) > 0;
    if (!isFn) {
#define BUILTIN(id, text) isFn = isFn || e->name == text;
#include "ast/builtins.def"
    }
    if (isFn)
      errR(DiagKind::FunctionNotValue, e->range, e->name);
    else if (p_.recordByName.count(e->name))
      errR(DiagKind::RecordNotValue, e->range, e->name);
    else
      errR(DiagKind::UndefinedName, e->range, e->name);
    return tc_.errorT;
  }
  e->var = v;
  capture(v);
  return v->type;
}

const Type *Checker::exList(ast::ListLit *e, const Type *hint) {
  if (hint == tc_.jsonT) {
    for (ast::Expr *el : e->elems) expect(el, tc_.jsonT);
    e->jsonLiteral = true;
    return tc_.jsonT;
  }
  const Type *et = hint && hint->is(TypeKind::List) ? hint->a : nullptr;
  if (e->elems.empty()) {
    if (!et) {
      errR(DiagKind::EmptyListType, e->range);
      return tc_.errorT;
    }
    return tc_.list(et);
  }
  if (!et) {
    // The first element that is not an empty literal decides; the others must match it.
    size_t first = 0;
    while (first < e->elems.size() && isEmptyLiteral(e->elems[first])) ++first;
    if (first == e->elems.size()) first = 0;
    et = valueType(ex(e->elems[first]), e->elems[first]->range);
    for (size_t i = 0; i < e->elems.size(); ++i)
      if (i != first) expect(e->elems[i], et, "for a list element");
  } else {
    for (ast::Expr *el : e->elems) expect(el, et, "for a list element");
  }
  return tc_.list(et);
}

const Type *Checker::exMap(ast::MapLit *e, const Type *hint) {
  if (hint == tc_.jsonT && !e->entries.empty() && e->entries[0].key->kind != ast::ExprKind::String)
    hint = nullptr; // e.g. `{1: "one"}` where a json is expected: a map<int, _>, converted
  if (hint == tc_.jsonT) {
    for (auto &en : e->entries) {
      expect(en.key, tc_.stringT, "for a json object key");
      expect(en.value, tc_.jsonT);
    }
    e->jsonLiteral = true;
    return tc_.jsonT;
  }
  const Type *kt = nullptr, *vt = nullptr;
  if (hint && hint->is(TypeKind::Map)) kt = hint->a, vt = hint->b;
  if (e->entries.empty()) {
    if (!kt) {
      errR(DiagKind::EmptyMapType, e->range);
      return tc_.errorT;
    }
    return tc_.map(kt, vt);
  }
  if (!kt) {
    kt = ex(e->entries[0].key);
    if (kt != tc_.stringT && kt != tc_.intT && !kt->bad()) {
      errR(DiagKind::BadMapKey, e->entries[0].key->range, kt->str());
      kt = tc_.errorT;
    }
    size_t first = 0;
    while (first < e->entries.size() && isEmptyLiteral(e->entries[first].value)) ++first;
    if (first == e->entries.size()) first = 0;
    vt = valueType(ex(e->entries[first].value), e->entries[first].value->range);
    for (size_t i = 0; i < e->entries.size(); ++i) {
      if (i) expect(e->entries[i].key, kt, "for a map key");
      if (i != first) expect(e->entries[i].value, vt, "for a map value");
    }
  } else {
    for (auto &en : e->entries) {
      expect(en.key, kt, "for a map key");
      expect(en.value, vt, "for a map value");
    }
  }
  return tc_.map(kt, vt);
}

const Type *Checker::exRecord(ast::RecordLit *e) {
  auto it = p_.recordByName.find(e->name);
  if (it == p_.recordByName.end()) {
    err(DiagKind::UnknownRecord, e->loc(), e->name);
    for (auto &f : e->fields) ex(f.value);
    return tc_.errorT;
  }
  RecordInfo *r = it->second;
  e->record = r;
  std::vector<bool> seen(r->fields.size(), false);
  for (auto &f : e->fields) {
    int idx = r->fieldIndex(f.name);
    if (idx < 0) {
      err(DiagKind::NoSuchField, f.loc, e->name, f.name);
      ex(f.value);
      continue;
    }
    if (seen[static_cast<size_t>(idx)]) err(DiagKind::FieldGivenTwice, f.loc, f.name);
    seen[static_cast<size_t>(idx)] = true;
    expect(f.value, r->fields[static_cast<size_t>(idx)].type, "for field `" + f.name + "`");
  }
  std::string missing;
  int count = 0;
  for (size_t i = 0; i < r->fields.size(); ++i) {
    if (seen[i]) continue;
    missing += (count ? ", `" : "`") + r->fields[i].name + "`";
    ++count;
  }
  if (count) err(DiagKind::MissingFields, e->loc(), count > 1 ? "s" : "", missing, e->name);
  return tc_.record(r);
}

const Type *Checker::exUnary(ast::UnaryExpr *e, const Type *hint) {
  const Type *t = ex(e->operand, e->op == '-' ? hint : nullptr);
  if (t->bad()) return tc_.errorT;
  if (e->op == '-') {
    if (t == tc_.intT || t == tc_.floatT || t == tc_.durationT) return t;
    err(DiagKind::UnaryMinusType, e->loc(), t->str());
    return tc_.errorT;
  }
  if (t == tc_.boolT) return t;
  err(DiagKind::UnaryNotType, e->loc(), t->str());
  return tc_.errorT;
}

const Type *Checker::arith(char op, const Type *l, const Type *r, support::Loc at) {
  if (l->bad() || r->bad()) return tc_.errorT;
  const Type *I = tc_.intT, *F = tc_.floatT, *D = tc_.durationT;
  switch (op) {
  case '+':
    if (l == r && (l == I || l == F || l == D || l == tc_.stringT || l->is(TypeKind::List))) return l;
    break;
  case '-':
    if (l == r && (l == I || l == F || l == D)) return l;
    break;
  case '*':
    if (l == r && (l == I || l == F)) return l;
    if ((l == D && r == I) || (l == I && r == D)) return D;
    break;
  case '/':
  case '%':
    if (l == r && (l == I || l == F)) return l;
    break;
  }
  std::string extra;
  if ((l == I && r == F) || (l == F && r == I))
    extra = " (no implicit conversions: use `float(x)` or `int(x)`)";
  err(DiagKind::BinaryOpTypes, at, std::string(1, op), l->str(), r->str(), extra);
  return tc_.errorT;
}

const Type *Checker::exBinary(ast::BinaryExpr *e, const Type *hint) {
  using ast::BinOp;
  BinOp op = e->op;
  if (op == BinOp::And || op == BinOp::Or) {
    std::string what = std::string("for `") + ast::binOpText(op) + "`";
    expect(e->lhs, tc_.boolT, what);
    expect(e->rhs, tc_.boolT, what);
    return tc_.boolT;
  }
  bool cmp = op == BinOp::Eq || op == BinOp::Ne || op == BinOp::Lt || op == BinOp::Le || op == BinOp::Gt ||
             op == BinOp::Ge;
  const Type *lt, *rt;
  if (cmp) {
    if (isEmptyLiteral(e->lhs) && !isEmptyLiteral(e->rhs)) {
      rt = ex(e->rhs);
      lt = ex(e->lhs, rt);
    } else {
      lt = ex(e->lhs);
      rt = ex(e->rhs, lt);
    }
    if (lt->bad() || rt->bad()) return tc_.boolT;
    if (lt != rt) {
      if ((op == BinOp::Eq || op == BinOp::Ne) && (lt == tc_.jsonT || rt == tc_.jsonT) &&
          (lt == tc_.nullT || rt == tc_.nullT)) {
        (lt == tc_.nullT ? e->lhs : e->rhs)->toJson = true;
        return tc_.boolT;
      }
      err(DiagKind::CannotCompare, e->opLoc, lt->str(), rt->str());
      return tc_.boolT;
    }
    if (op == BinOp::Eq || op == BinOp::Ne) {
      if (!equatable(lt)) err(DiagKind::NotEquatable, e->opLoc, lt->str(), ast::binOpText(op));
    } else if (lt != tc_.intT && lt != tc_.floatT && lt != tc_.stringT && lt != tc_.durationT) {
      err(DiagKind::NotOrderable, e->opLoc, ast::binOpText(op), lt->str());
    }
    return tc_.boolT;
  }
  const Type *lh = (op == BinOp::Add || op == BinOp::Sub) && hint && hint != tc_.jsonT ? hint : nullptr;
  if (isEmptyLiteral(e->lhs) && !isEmptyLiteral(e->rhs)) {
    rt = ex(e->rhs, lh);
    lt = ex(e->lhs, rt);
  } else {
    lt = ex(e->lhs, lh);
    rt = ex(e->rhs, lt->is(TypeKind::List) ? lt : nullptr);
  }
  return arith(ast::binOpText(op)[0], lt, rt, e->opLoc);
}

const Type *Checker::exIndex(ast::IndexExpr *e) {
  const Type *bt = ex(e->base);
  if (bt->is(TypeKind::List)) {
    expect(e->index, tc_.intT, "for the index");
    return bt->a;
  }
  if (bt->is(TypeKind::Map)) {
    expect(e->index, bt->a, "for the key");
    return bt->b;
  }
  if (bt == tc_.jsonT) {
    const Type *it = ex(e->index);
    if (it != tc_.stringT && it != tc_.intT && !it->bad())
      errR(DiagKind::JsonIndexType, e->index->range, it->str());
    return tc_.jsonT;
  }
  ex(e->index);
  if (!bt->bad()) err(DiagKind::CannotIndexValue, e->bracketLoc, bt->str());
  return tc_.errorT;
}

const Type *Checker::memberType(ast::MemberExpr *e, const Type *bt) {
  if (bt->is(TypeKind::Record)) {
    int idx = bt->record->fieldIndex(e->name);
    if (idx < 0) {
      err(DiagKind::NoSuchField, e->nameLoc, bt->record->name, e->name);
      return tc_.errorT;
    }
    return bt->record->fields[static_cast<size_t>(idx)].type;
  }
  if (bt == tc_.errorValueT) {
    if (e->name == "message" || e->name == "kind" || e->name == "code") return tc_.stringT;
    err(DiagKind::ErrorFields, e->nameLoc, e->name);
    return tc_.errorT;
  }
  if (!bt->bad()) err(DiagKind::NoField, e->nameLoc, bt->str(), e->name);
  return tc_.errorT;
}

/// LANGUAGE.md "Concurrency": the block sees copies of the variables around it, may not assign
/// them, and may only `return;`. Its captures are recorded for the engines.
const Type *Checker::exAsyncBlock(ast::AsyncBlockExpr *e) {
  if (restrict_) err(DiagKind::AsyncNotAllowed, e->loc(), restrict_);
  if (fn_) fn_->asyncs = true;
  auto savedLoops = std::move(loops_);
  bool savedIn = inAsyncBlock_;
  loops_.clear();
  inAsyncBlock_ = true;
  ablocks_.push_back(e);
  ++level_;
  block(e->body);
  --level_;
  ablocks_.pop_back();
  loops_ = std::move(savedLoops);
  inAsyncBlock_ = savedIn;
  return tc_.task(tc_.voidT);
}

} // namespace cfm::sema
