// check_calls.cpp — calls of user functions (named and default arguments), the built-in
// functions and the methods of LANGUAGE.md "Built-ins every program has".
#include "sema/checker.h"

namespace cfm::sema {

using ast::Builtin;
using support::DiagKind;

namespace {
struct BuiltinName {
  Builtin id;
  const char *name;
};
const BuiltinName kBuiltins[] = {
#define BUILTIN(id, name) {Builtin::id, name},
#include "ast/builtins.def"
};
Builtin findBuiltin(const std::string &n) {
  for (const auto &b : kBuiltins)
    if (n == b.name) return b.id;
  return Builtin::None;
}
// Built-ins with effects cannot run where no effects are allowed (constants, defaults); the
// procedure API's functions all act on (or ask) the manager.
bool effectful(Builtin b) {
  return b == Builtin::Print || b == Builtin::Sleep || b == Builtin::Now || b == Builtin::Fail ||
         b == Builtin::Wait || ast::apiSignature(b) != nullptr;
}
std::string plural(size_t n) { return n == 1 ? "" : "s"; }
} // namespace

const Type *Checker::exCall(ast::CallExpr *e, bool spawned) {
  const std::string &name = e->callee;
  e->spawned = spawned;
  auto fit = p_.fnByName.find(name);
  Builtin b = findBuiltin(name);
  if (lookup(name) && fit == p_.fnByName.end() && b == Builtin::None) {
    err(DiagKind::VariableNotFunction, e->loc(), name);
    for (auto &a : e->args) ex(a.value);
    return tc_.errorT;
  }
  if (fit != p_.fnByName.end()) return userCall(e, fit->second);
  if (b != Builtin::None) {
    e->builtin = b;
    if (restrict_ && effectful(b)) err(DiagKind::BuiltinRestricted, e->loc(), name, restrict_);
    return builtinCall(e, b);
  }
  if (p_.recordByName.count(name))
    err(DiagKind::RecordNotFunction, e->loc(), name);
  else if (!name.empty())
    err(DiagKind::UndefinedFunction, e->loc(), name);
  for (auto &a : e->args) ex(a.value);
  return tc_.errorT;
}

const Type *Checker::userCall(ast::CallExpr *e, FnInfo *f) {
  e->fn = f;
  if (restrict_) err(DiagKind::CallRestricted, e->loc(), f->name, restrict_);
  if (!e->spawned && fn_) fn_->calls.push_back(f);
  std::vector<ParamView> params;
  for (const ParamInfo &p : f->params) params.push_back({p.name, p.type, p.decl->defaultValue != nullptr});
  bindArgs(e, f->name, params);
  return f->ret;
}

/// A procedure API function (API.md "Cloud"): its arguments bound as a user function's are
/// (positional, then named; defaults from builtins.def), so the engines read `boundArgs`.
const Type *Checker::apiCall(ast::CallExpr *e, const ast::ApiSignature &sig) {
  if (fn_) fn_->waits = true; // the manager may suspend the task
  auto type = [&](ast::ApiType t) -> const Type * {
    auto record = [&](const char *n) -> const Type * {
      auto it = p_.recordByName.find(n);
      return it == p_.recordByName.end() ? tc_.errorT : tc_.record(it->second);
    };
    switch (t) {
    case ast::ApiType::Int: return tc_.intT;
    case ast::ApiType::String: return tc_.stringT;
    case ast::ApiType::Duration: return tc_.durationT;
    case ast::ApiType::Json: return tc_.jsonT;
    case ast::ApiType::Void: return tc_.voidT;
    case ast::ApiType::StringMap: return tc_.map(tc_.stringT, tc_.stringT);
    case ast::ApiType::BusinessSystem: return record("BusinessSystem");
    case ast::ApiType::VMInstance: return record("VMInstance");
    case ast::ApiType::CommandResult: return record("CommandResult");
    }
    return tc_.errorT;
  };
  std::vector<ParamView> params;
  for (const ast::ApiParam &p : sig.params) params.push_back({p.name, type(p.type), p.hasDefault});
  bindArgs(e, e->callee, params);
  return type(sig.ret);
}

/// Binds a call's arguments to `params` (LANGUAGE.md "Declarations": positional ones first,
/// then named ones; the rest take their defaults): `e->boundArgs` per parameter (nullptr: the
/// default), `e->evalOrder` the parameter indexes as written; reports what does not fit.
void Checker::bindArgs(ast::CallExpr *e, const std::string &fname, const std::vector<ParamView> &params) {
  e->boundArgs.assign(params.size(), nullptr);
  bool named = false;
  size_t npos = 0;
  for (ast::Arg &a : e->args) {
    size_t idx;
    if (a.name.empty()) {
      if (named) {
        err(DiagKind::PositionalAfterNamed, a.loc);
        ex(a.value);
        continue;
      }
      if (npos >= params.size()) {
        err(DiagKind::TooManyArgs, a.loc, fname, std::to_string(params.size()));
        ex(a.value);
        continue;
      }
      idx = npos++;
    } else {
      named = true;
      idx = params.size();
      for (size_t i = 0; i < params.size(); ++i)
        if (params[i].name == a.name) idx = i;
      if (idx == params.size()) {
        err(DiagKind::NoSuchParam, a.loc, fname, a.name);
        ex(a.value);
        continue;
      }
      if (e->boundArgs[idx]) {
        err(DiagKind::ArgGivenTwice, a.loc, a.name);
        ex(a.value);
        continue;
      }
    }
    e->boundArgs[idx] = a.value;
    e->evalOrder.push_back(static_cast<int>(idx));
    expect(a.value, params[idx].type,
           "for argument `" + std::string(params[idx].name) + "` of `" + fname + "`");
  }
  std::string missing;
  size_t count = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    if (e->boundArgs[i] || params[i].hasDefault) continue;
    missing += (count ? ", `" : "`") + std::string(params[i].name) + "`";
    ++count;
  }
  if (count)
    err(DiagKind::MissingArgs, e->loc(), plural(count), missing, fname, std::to_string(params.size()));
}

/// Checks a built-in's argument list shape: no names, between lo and hi positional arguments.
bool Checker::plainArgs(ast::CallExpr *e, size_t lo, size_t hi, std::vector<ast::Expr *> &out) {
  for (ast::Arg &a : e->args) {
    // A named argument is reported, then counted as a positional one (no second error).
    if (!a.name.empty()) err(DiagKind::BuiltinNoNamed, a.loc, e->callee);
    out.push_back(a.value);
  }
  if (out.size() < lo || out.size() > hi) {
    err(DiagKind::Arity, e->loc(), e->callee, std::to_string(hi), plural(hi), std::to_string(out.size()));
    for (ast::Expr *a : out) ex(a);
    return false;
  }
  return true;
}

const Type *Checker::anyValue(ast::Expr *a) {
  const Type *t = ex(a);
  if (t == tc_.voidT) {
    errR(DiagKind::VoidValue, a->range);
    return tc_.errorT;
  }
  if (t == tc_.nullT) {
    errR(DiagKind::NullOnlyJson, a->range);
    return tc_.errorT;
  }
  return t;
}

const Type *Checker::builtinCall(ast::CallExpr *e, Builtin b) {
  std::vector<ast::Expr *> a;
  switch (b) {
  case Builtin::None:
#define METHOD(id, recv, name) case Builtin::id:
#include "ast/builtins.def"
    return tc_.errorT; // not a built-in function: the caller only sends those
  case Builtin::Print:
    if (plainArgs(e, 1, 1, a)) anyValue(a[0]);
    return tc_.voidT;
  case Builtin::Str:
    if (plainArgs(e, 1, 1, a)) anyValue(a[0]);
    return tc_.stringT;
  case Builtin::Int:
  case Builtin::Float:
    if (plainArgs(e, 1, 1, a)) {
      const Type *t = ex(a[0]);
      if (t != tc_.intT && t != tc_.floatT && t != tc_.stringT && !t->bad())
        errR(b == Builtin::Int ? DiagKind::IntConv : DiagKind::FloatConv, a[0]->range, t->str());
    }
    return b == Builtin::Int ? tc_.intT : tc_.floatT;
  case Builtin::Len:
    if (plainArgs(e, 1, 1, a)) {
      const Type *t = ex(a[0]);
      // LANGUAGE.md: len takes string bytes, a list, a map, or a json array or object.
      if (!(t == tc_.stringT || t == tc_.jsonT || t->is(TypeKind::List) || t->is(TypeKind::Map) || t->bad()))
        errR(DiagKind::LenArg, a[0]->range, t->str());
    }
    return tc_.intT;
  case Builtin::Sleep:
    if (fn_) fn_->waits = true;
    if (plainArgs(e, 1, 1, a)) expect(a[0], tc_.durationT, "for `sleep`");
    return tc_.voidT;
  case Builtin::Now: plainArgs(e, 0, 0, a); return tc_.intT;
  case Builtin::ParseJson:
    if (plainArgs(e, 1, 1, a)) expect(a[0], tc_.stringT, "for `parse_json`");
    return tc_.jsonT;
  case Builtin::ToJson:
    if (plainArgs(e, 1, 1, a)) {
      const Type *t = ex(a[0], tc_.jsonT);
      if (!jsonable(t)) errR(DiagKind::NotJsonable, a[0]->range, support::article(t->str()), t->str());
    }
    return tc_.stringT;
  case Builtin::Fail:
    if (plainArgs(e, 1, 1, a)) expect(a[0], tc_.stringT, "for `fail`");
    return tc_.voidT;
#define API(id, ...) case Builtin::id:
#include "ast/builtins.def"
    return apiCall(e, *ast::apiSignature(b));
  case Builtin::Wait: {
    if (fn_) fn_->waits = true;
    for (ast::Arg &arg : e->args) {
      if (arg.name.empty()) {
        a.push_back(arg.value);
      } else if (arg.name == "timeout" && !e->timeout) {
        e->timeout = arg.value;
        expect(arg.value, tc_.durationT, "for `timeout`");
      } else {
        if (arg.name != "timeout")
          err(DiagKind::WaitNoParam, arg.loc, arg.name);
        else
          err(DiagKind::ArgGivenTwice, arg.loc, arg.name);
        ex(arg.value);
      }
    }
    if (a.size() != 1) {
      err(DiagKind::WaitArity, e->loc(), std::to_string(a.size()));
      for (ast::Expr *x : a) ex(x);
      return tc_.errorT;
    }
    const Type *t = ex(a[0]);
    if (t->is(TypeKind::Task)) return t->a;
    if (t->is(TypeKind::List) && t->a->is(TypeKind::Task))
      return t->a->a == tc_.voidT ? tc_.voidT : tc_.list(t->a->a);
    if (!t->bad()) errR(DiagKind::WaitType, a[0]->range, t->str());
    return tc_.errorT;
  }
  }
  return tc_.errorT; // every case returns; an out-of-range value does not reach here
}

const Type *Checker::exMethodCall(ast::MethodCallExpr *e) {
  const std::string &name = e->name;
  ast::Expr *r = e->receiver;
  bool mutator = name == "push" || name == "pop" || name == "remove";
  const Type *rt;
  if (mutator && (r->kind == ast::ExprKind::Name || r->kind == ast::ExprKind::Index ||
                  r->kind == ast::ExprKind::Member)) {
    rt = place(r, "modify", false);
    r->type = rt;
    if (rt->is(TypeKind::List) || rt->is(TypeKind::Map)) rootCheck(r, "modify");
  } else {
    rt = ex(r);
    if (mutator && (rt->is(TypeKind::List) || rt->is(TypeKind::Map)))
      errR(DiagKind::MutateTemporary, r->range, name);
  }
  std::vector<ast::Expr *> args;
  for (ast::Arg &a : e->args) {
    if (!a.name.empty()) err(DiagKind::MethodNoNamed, a.loc);
    args.push_back(a.value);
  }
  auto arity = [&](size_t n) {
    if (args.size() != n) {
      err(DiagKind::Arity, e->nameLoc, name, std::to_string(n), plural(n), std::to_string(args.size()));
      for (ast::Expr *a : args) ex(a);
      return false;
    }
    return true;
  };
  if (rt->bad()) {
    for (ast::Expr *a : args) ex(a);
    return tc_.errorT;
  }
  if (rt->is(TypeKind::List)) {
    const Type *et = rt->a;
    if (name == "push") {
      if (!arity(1)) return tc_.errorT;
      expect(args[0], et, "for `push`");
      e->method = Builtin::ListPush;
      return tc_.voidT;
    }
    if (name == "pop") {
      if (!arity(0)) return tc_.errorT;
      e->method = Builtin::ListPop;
      return et;
    }
    if (name == "contains") {
      if (!arity(1)) return tc_.errorT;
      expect(args[0], et, "for `contains`");
      if (!equatable(et)) err(DiagKind::ContainsNotEq, e->nameLoc, et->str());
      e->method = Builtin::ListContains;
      return tc_.boolT;
    }
    if (name == "join") {
      if (!arity(1)) return tc_.errorT;
      expect(args[0], tc_.stringT, "for `join`");
      if (et != tc_.stringT) err(DiagKind::JoinNeedsStrings, e->nameLoc, rt->str());
      e->method = Builtin::ListJoin;
      return tc_.stringT;
    }
  } else if (rt->is(TypeKind::Map)) {
    const Type *kt = rt->a, *vt = rt->b;
    if (name == "has") {
      if (!arity(1)) return tc_.errorT;
      expect(args[0], kt, "for `has`");
      e->method = Builtin::MapHas;
      return tc_.boolT;
    }
    if (name == "keys") {
      if (!arity(0)) return tc_.errorT;
      e->method = Builtin::MapKeys;
      return tc_.list(kt);
    }
    if (name == "values") {
      if (!arity(0)) return tc_.errorT;
      e->method = Builtin::MapValues;
      return tc_.list(vt);
    }
    if (name == "remove") {
      if (!arity(1)) return tc_.errorT;
      expect(args[0], kt, "for `remove`");
      e->method = Builtin::MapRemove;
      return tc_.voidT;
    }
  } else if (rt == tc_.stringT) {
    struct Sig {
      const char *name;
      size_t n;
      Builtin id;
      const Type *ret;
    };
    const Sig sigs[] = {
        {"split", 1, Builtin::StrSplit, tc_.list(tc_.stringT)},
        {"trim", 0, Builtin::StrTrim, tc_.stringT},
        {"upper", 0, Builtin::StrUpper, tc_.stringT},
        {"lower", 0, Builtin::StrLower, tc_.stringT},
        {"contains", 1, Builtin::StrContains, tc_.boolT},
        {"starts_with", 1, Builtin::StrStartsWith, tc_.boolT},
        {"ends_with", 1, Builtin::StrEndsWith, tc_.boolT},
        {"replace", 2, Builtin::StrReplace, tc_.stringT},
    };
    for (const Sig &s : sigs) {
      if (name != s.name) continue;
      if (!arity(s.n)) return tc_.errorT;
      for (ast::Expr *a : args) expect(a, tc_.stringT, "for `" + name + "`");
      e->method = s.id;
      return s.ret;
    }
  } else if (rt == tc_.jsonT) {
    struct Sig {
      const char *name;
      Builtin id;
      const Type *ret;
    };
    const Sig sigs[] = {{"as_string", Builtin::JsonAsString, tc_.stringT},
                        {"as_int", Builtin::JsonAsInt, tc_.intT},
                        {"as_float", Builtin::JsonAsFloat, tc_.floatT},
                        {"as_bool", Builtin::JsonAsBool, tc_.boolT},
                        {"len", Builtin::JsonLen, tc_.intT}};
    for (const Sig &s : sigs) {
      if (name != s.name) continue;
      if (!arity(0)) return tc_.errorT;
      e->method = s.id;
      return s.ret;
    }
  } else if (rt == tc_.durationT && name == "ms") {
    if (!arity(0)) return tc_.errorT;
    e->method = Builtin::DurationMs;
    return tc_.intT;
  } else if (rt->is(TypeKind::Record) && rt->record->model) {
    // The model objects' methods (frontend/model_prelude.h).
    auto recordT = [&](const char *n) -> const Type * {
      auto it = p_.recordByName.find(n);
      return it == p_.recordByName.end() ? tc_.errorT : tc_.record(it->second);
    };
    struct Sig {
      const char *recv, *name;
      Builtin id;
      const Type *arg, *ret;
    };
    const Sig sigs[] = {
        {"BusinessSystem", "element", Builtin::ModelElement, tc_.stringT, recordT("BusinessSystemElement")},
        {"BusinessSystem", "vm_class", Builtin::ModelVmClass, tc_.stringT, recordT("VMClass")},
        {"BusinessSystem", "config_template", Builtin::ModelTemplate, tc_.stringT, recordT("ConfigTemplate")},
        {"BusinessSystem", "property", Builtin::ModelProperty, tc_.stringT, tc_.jsonT},
        {"BusinessSystem", "instances_of", Builtin::ModelInstancesOf, tc_.stringT,
         tc_.list(recordT("BusinessSystemElementInstance"))},
        {"VMClass", "property", Builtin::ModelProperty, tc_.stringT, tc_.jsonT},
        {"ConfigTemplate", "render", Builtin::ModelRender, tc_.jsonT, tc_.stringT},
    };
    for (const Sig &s : sigs) {
      if (rt->record->name != s.recv || name != s.name) continue;
      if (!arity(1)) return tc_.errorT;
      expect(args[0], s.arg, "for `" + name + "`");
      e->method = s.id;
      return s.ret;
    }
  }
  for (ast::Expr *a : args) ex(a);
  err(DiagKind::NoMethod, e->nameLoc, name, rt->str());
  return tc_.errorT;
}

} // namespace cfm::sema
