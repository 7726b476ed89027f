// check_decls.cpp — top-level declarations, types, constants, functions and templates.
#include "sema/checker.h"

namespace cfm::sema {

using support::DiagKind;

namespace {
const char *const kBuiltinNames[] = {
#define BUILTIN(id, name) name,
#include "ast/builtins.def"
};
bool isBuiltinName(const std::string &n) {
  for (const char *b : kBuiltinNames)
    if (n == b) return true;
  return false;
}
bool isBuiltinTypeName(const std::string &n) {
  return n == "int" || n == "float" || n == "bool" || n == "string" || n == "duration" || n == "void" ||
         n == "json" || n == "list" || n == "map" || n == "Task";
}
} // namespace

bool check(Program &prog, support::DiagnosticEngine &diags) {
  size_t before = diags.errorCount();
  Checker(prog, diags).run();
  return diags.errorCount() == before;
}

Checker::Checker(Program &p, support::DiagnosticEngine &d) : p_(p), tc_(p.types), d_(d) {}

void Checker::run() {
  declareTopLevel();
  // Record fields, then signatures, then constants, then default values, then bodies: every
  // declaration can refer to every other, in any order (LANGUAGE.md "Declarations").
  for (RecordInfo &r : p_.records) {
    for (const ast::FieldDecl &f : r.decl->fields) {
      if (r.fieldIndex(f.name) >= 0) {
        err(DiagKind::FieldDeclaredTwice, f.loc, f.name);
        continue;
      }
      const Type *t = resolveType(f.type);
      if (t == tc_.voidT) errR(DiagKind::VoidField, f.type->range);
      r.fields.push_back({f.name, t});
    }
  }
  for (FnInfo &f : p_.functions) {
    std::vector<std::string> seen;
    for (ast::Param &prm : f.decl->params) {
      const Type *t = resolveType(prm.type);
      if (t == tc_.voidT) errR(DiagKind::VoidParam, prm.type->range);
      for (auto &s : seen)
        if (s == prm.name) err(DiagKind::ParamDeclaredTwice, prm.loc, prm.name);
      seen.push_back(prm.name);
      f.params.push_back({prm.name, t, &prm});
    }
    if (f.decl->fnKind == ast::FnKind::Template)
      f.ret = tc_.stringT;
    else
      f.ret = f.decl->ret ? resolveType(f.decl->ret) : tc_.voidT;
  }
  for (ast::Module *m : p_.modules)
    for (ast::Decl *d : m->decls)
      if (d->kind == ast::DeclKind::Const && consts_.count(d->name) && consts_[d->name] == d)
        checkConst(static_cast<ast::ConstDecl *>(d));
  for (FnInfo &f : p_.functions) {
    scope_.clear();
    restrict_ = "a default argument";
    fn_ = &f;
    for (ParamInfo &prm : f.params)
      if (prm.decl->defaultValue) expect(prm.decl->defaultValue, prm.type, "for the default value");
    restrict_ = nullptr;
  }
  for (FnInfo &f : p_.functions) checkFunction(&f);
}

void Checker::declareTopLevel() {
  std::unordered_map<std::string, bool> taken;
  // The model object types and the other types every program knows (frontend/model_prelude.h)
  // are built-in type names for the program.
  std::unordered_map<std::string, bool> builtinTypes;
  for (ast::Module *m : p_.modules)
    for (ast::Decl *d : m->decls)
      if (d->kind == ast::DeclKind::Record && static_cast<ast::RecordDecl *>(d)->builtin)
        builtinTypes[d->name] = true;
  for (ast::Module *m : p_.modules) {
    for (ast::Decl *d : m->decls) {
      if (d->kind == ast::DeclKind::Import) continue;
      bool builtin = d->kind == ast::DeclKind::Record && static_cast<ast::RecordDecl *>(d)->builtin;
      if (!builtin && builtinTypes.count(d->name)) {
        err(DiagKind::BuiltinTypeName, d->nameLoc, d->name);
        continue;
      }
      if (taken.count(d->name)) {
        err(DiagKind::AlreadyDeclared, d->nameLoc, d->name);
        continue;
      }
      if (d->kind == ast::DeclKind::Fn && isBuiltinName(d->name)) {
        err(DiagKind::BuiltinRedeclared, d->nameLoc, d->name);
        continue;
      }
      if (d->kind == ast::DeclKind::Record && isBuiltinTypeName(d->name)) {
        err(DiagKind::BuiltinTypeName, d->nameLoc, d->name);
        continue;
      }
      taken[d->name] = true;
      if (d->kind == ast::DeclKind::Record) {
        RecordInfo &r = p_.records.emplace_back();
        r.name = d->name;
        r.decl = static_cast<ast::RecordDecl *>(d);
        r.model = r.decl->model;
        p_.recordByName[r.name] = &r;
      } else if (d->kind == ast::DeclKind::Fn) {
        FnInfo &f = p_.functions.emplace_back();
        f.name = d->name;
        f.decl = static_cast<ast::FnDecl *>(d);
        f.decl->info = &f;
        p_.fnByName[f.name] = &f;
      } else if (d->kind == ast::DeclKind::Const) {
        consts_[d->name] = static_cast<ast::ConstDecl *>(d);
      }
    }
  }
}

const Type *Checker::resolveType(const ast::TypeRef *t) {
  const std::string &n = t->name;
  const auto &args = t->args;
  auto prim = [&](const Type *ty) {
    if (!args.empty()) errR(DiagKind::TypeTakesNoArgs, t->range, n);
    return ty;
  };
  if (n == "int") return prim(tc_.intT);
  if (n == "float") return prim(tc_.floatT);
  if (n == "bool") return prim(tc_.boolT);
  if (n == "string") return prim(tc_.stringT);
  if (n == "duration") return prim(tc_.durationT);
  if (n == "void") return prim(tc_.voidT);
  if (n == "json") return prim(tc_.jsonT);
  if (n == "list" || n == "Task") {
    if (args.size() != 1) {
      errR(DiagKind::TypeTakesOneArg, t->range, n);
      return tc_.errorT;
    }
    const Type *a = resolveType(args[0]);
    if (a == tc_.voidT && n == "list") {
      errR(DiagKind::ListOfVoid, args[0]->range);
      return tc_.errorT;
    }
    return n == "list" ? tc_.list(a) : tc_.task(a);
  }
  if (n == "map") {
    if (args.size() != 2) {
      errR(DiagKind::MapTakesTwoArgs, t->range);
      return tc_.errorT;
    }
    const Type *k = resolveType(args[0]);
    const Type *v = resolveType(args[1]);
    if (k != tc_.stringT && k != tc_.intT && !k->bad()) {
      errR(DiagKind::BadMapKey, args[0]->range, k->str());
      return tc_.errorT;
    }
    if (v == tc_.voidT) {
      errR(DiagKind::MapOfVoid, args[1]->range);
      return tc_.errorT;
    }
    return tc_.map(k, v);
  }
  auto it = p_.recordByName.find(n);
  if (it != p_.recordByName.end()) {
    if (!args.empty()) errR(DiagKind::RecordTakesNoArgs, t->range, n);
    return tc_.record(it->second);
  }
  errR(DiagKind::UnknownType, t->range, n);
  return tc_.errorT;
}

const Type *Checker::checkConst(ast::ConstDecl *c) {
  int &st = constState_[c];
  if (st == 2) return c->var->type;
  if (st == 1) {
    err(DiagKind::ConstCycle, c->nameLoc, c->name);
    return tc_.errorT;
  }
  st = 1;
  // The variable exists (with the error type) while its initialiser is checked, so that a
  // cycle is reported once, as a cycle, and not again as an undefined name.
  Var &v = p_.vars.emplace_back();
  v.name = c->name;
  v.type = tc_.errorT;
  v.kind = VarKind::Const;
  v.asyncLevel = -1;
  v.loc = c->nameLoc;
  c->var = &v;
  // A constant initialiser sees no local names and may not call functions or start tasks.
  auto savedScope = std::move(scope_);
  auto savedRestrict = restrict_;
  int savedLevel = level_;
  scope_.clear();
  restrict_ = "a constant initialiser";
  level_ = 0;
  const Type *t;
  if (c->annot) {
    t = resolveType(c->annot);
    expect(c->init, t);
  } else {
    t = valueType(ex(c->init), c->init->range);
  }
  scope_ = std::move(savedScope);
  restrict_ = savedRestrict;
  level_ = savedLevel;
  v.type = t;
  constState_[c] = 2;
  p_.constOrder.push_back(c);
  return t;
}

const Type *Checker::valueType(const Type *t, support::Range r) {
  if (t == tc_.voidT) {
    errR(DiagKind::VoidValue, r);
    return tc_.errorT;
  }
  if (t == tc_.nullT) {
    errR(DiagKind::NullNeedsJsonVar, r);
    return tc_.errorT;
  }
  return t;
}

void Checker::pushScope() { scope_.push(); }
void Checker::popScope() { scope_.pop(); }

Var *Checker::declare(const std::string &name, const Type *t, VarKind k, support::Loc l) {
  // Once per declaration, however many times the name was declared before it in the block.
  if (scope_.inInnermost(name)) err(DiagKind::RedeclaredInScope, l, name);
  Var &v = p_.vars.emplace_back();
  v.name = name;
  v.type = t;
  v.kind = k;
  v.asyncLevel = level_;
  v.slot = slots_++;
  v.loc = l;
  scope_.add(&v);
  return &v;
}

Var *Checker::lookup(const std::string &name) {
  if (Var *v = scope_.find(name)) return v;
  auto it = consts_.find(name);
  if (it != consts_.end()) {
    checkConst(it->second);
    return it->second->var;
  }
  return nullptr;
}

void Checker::capture(Var *v) {
  if (!v || v->kind == VarKind::Const) return;
  for (int l = v->asyncLevel; l < level_; ++l) {
    auto &caps = ablocks_[static_cast<size_t>(l)]->captures;
    bool have = false;
    for (Var *c : caps) have = have || c == v;
    if (!have) caps.push_back(v);
  }
}

void Checker::checkFunction(FnInfo *f) {
  fn_ = f;
  level_ = 0;
  ablocks_.clear();
  loops_.clear();
  inAsyncBlock_ = false;
  scope_.clear();
  slots_ = 0;
  pushScope();
  for (size_t i = 0; i < f->params.size(); ++i) {
    ParamInfo &prm = f->params[i];
    bool dup = false; // already reported as `parameter declared twice`
    for (size_t j = 0; j < i; ++j) dup = dup || f->params[j].name == prm.name;
    prm.decl->var =
        dup ? f->params[i - 1].decl->var : declare(prm.name, prm.type, VarKind::Param, prm.decl->loc);
  }
  if (f->decl->fnKind == ast::FnKind::Template) {
    checkTemplateBody(f->decl->tplBody);
  } else {
    bool ends = block(f->decl->body, false);
    if (f->ret != tc_.voidT && !f->ret->bad() && !ends)
      err(DiagKind::MissingReturn, f->decl->endLoc, f->name, f->ret->str());
  }
  popScope();
  f->frameSize = slots_;
}

void Checker::checkTemplateBody(ast::TplBody &body) {
  for (ast::TplNode *n : body) {
    switch (n->kind) {
    case ast::TplKind::Text: break;
    case ast::TplKind::Expr: {
      const Type *t = ex(n->expr);
      if (t == tc_.voidT)
        errR(DiagKind::TemplateVoid, n->expr->range);
      else if (t == tc_.nullT)
        errR(DiagKind::NullOnlyJson, n->expr->range);
      break;
    }
    case ast::TplKind::For:
      pushScope();
      forHead(n->head);
      checkTemplateBody(n->body);
      popScope();
      break;
    case ast::TplKind::If:
      for (auto &br : n->branches) {
        expect(br.first, tc_.boolT, "for the condition");
        pushScope();
        checkTemplateBody(br.second);
        popScope();
      }
      if (n->hasElse) {
        pushScope();
        checkTemplateBody(n->elseBody);
        popScope();
      }
      break;
    }
  }
}

} // namespace cfm::sema
