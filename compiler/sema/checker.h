// checker.h — name resolution and static type checking (LANGUAGE.md "Types", "Precise rules").
//
// The checker walks every module's declarations of one program (imports flattened into one
// namespace), resolves names, infers and checks types bidirectionally (an expected type flows
// into empty literals, json literals and `-` operands), and annotates the AST in place. It
// reports every error it finds; the Error type sentinel keeps one mistake from cascading.
// Implementation: check_decls.cpp (declarations, consts, functions, templates),
// check_stmts.cpp (statements, places, control flow), check_exprs.cpp (expressions),
// check_calls.cpp (user calls, built-ins and methods).
#pragma once

#include "ast/ast.h"
#include "sema/symbols.h"
#include "sema/types.h"
#include "support/diagnostics.h"

#include <deque>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cfm::sema {

/// Everything the checker produced; owns the types and symbols the annotated AST points to.
struct Program {
  std::vector<ast::Module *> modules; // not owned
  TypeContext types;
  std::deque<Var> vars;
  std::deque<RecordInfo> records;
  std::deque<FnInfo> functions;
  std::unordered_map<std::string, FnInfo *> fnByName;
  std::unordered_map<std::string, RecordInfo *> recordByName;
  std::vector<ast::ConstDecl *> constOrder; // constants in evaluation order
};

/// Checks `prog.modules`; returns false if errors were reported.
bool check(Program &prog, support::DiagnosticEngine &diags);

/// The local names in scope: a stack of declarations, innermost last, with a mark where each
/// block begins, and for each name the positions of its declarations on the stack, so that a
/// lookup and the redeclaration check take constant time whatever the number of names (issue
/// 12: every check is linear in the file's size).
class LocalScopes {
public:
  void clear() {
    stack_.clear();
    marks_.clear();
    byName_.clear();
  }
  void push() { marks_.push_back(stack_.size()); }
  void pop() {
    size_t mark = marks_.back();
    marks_.pop_back();
    while (stack_.size() > mark) {
      auto it = byName_.find(stack_.back()->name);
      it->second.pop_back();
      if (it->second.empty()) byName_.erase(it);
      stack_.pop_back();
    }
  }
  void add(Var *v) {
    byName_[v->name].push_back(stack_.size());
    stack_.push_back(v);
  }
  /// The innermost declaration of `name`, or nullptr.
  Var *find(const std::string &name) const {
    auto it = byName_.find(name);
    return it == byName_.end() ? nullptr : stack_[it->second.back()];
  }
  /// True when the innermost block already declares `name`.
  bool inInnermost(const std::string &name) const {
    auto it = byName_.find(name);
    return it != byName_.end() && it->second.back() >= (marks_.empty() ? 0 : marks_.back());
  }

private:
  std::vector<Var *> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<std::string, std::vector<size_t>> byName_; // positions on stack_, ascending
};

class Checker {
public:
  Checker(Program &p, support::DiagnosticEngine &d);
  void run();

private:
  friend struct ScopeGuard;
  Program &p_;
  TypeContext &tc_;
  support::DiagnosticEngine &d_;
  std::unordered_map<std::string, ast::ConstDecl *> consts_;
  std::unordered_map<ast::ConstDecl *, int> constState_; // 1 busy, 2 done
  // scope state
  LocalScopes scope_;
  FnInfo *fn_ = nullptr;
  const char *restrict_ = nullptr; // "a constant initialiser", "a default argument"
  int level_ = 0;                  // async-block depth
  std::vector<ast::AsyncBlockExpr *> ablocks_;
  std::vector<bool *> loops_; // hasBreak flags of the enclosing loops
  bool inAsyncBlock_ = false;
  int slots_ = 0;

  template <typename... A> void err(support::DiagKind k, support::Loc l, const A &...args) {
    d_.report(k, l, {std::string_view(args)...});
  }
  template <typename... A> void errR(support::DiagKind k, support::Range r, const A &...args) {
    d_.report(k, r, {std::string_view(args)...});
  }

  // check_decls.cpp
  void declareTopLevel();
  const Type *resolveType(const ast::TypeRef *t);
  const Type *checkConst(ast::ConstDecl *c);
  void checkFunction(FnInfo *f);
  void checkTemplateBody(ast::TplBody &body);
  const Type *valueType(const Type *t, support::Range r);
  void pushScope();
  void popScope();
  Var *declare(const std::string &name, const Type *t, VarKind k, support::Loc l);
  Var *lookup(const std::string &name);
  void capture(Var *v);

  // check_stmts.cpp
  bool block(ast::Block &b, bool newScope = true);
  bool stmt(ast::Stmt *s);
  void forHead(ast::ForHead &h);
  void assign(ast::AssignStmt *s);
  const Type *place(ast::Expr *e, const char *action, bool mutCheck);
  void mutCheck(ast::NameExpr *e, Var *v, const char *action);
  void rootCheck(ast::Expr *e, const char *action);

  // check_exprs.cpp
  const Type *ex(ast::Expr *e, const Type *hint = nullptr);
  const Type *expect(ast::Expr *e, const Type *want, std::string_view what = {});
  const Type *coerce(ast::Expr *e, const Type *got, const Type *want, std::string_view what = {});
  bool jsonable(const Type *t);
  bool equatable(const Type *t);
  const Type *arith(char op, const Type *l, const Type *r, support::Loc at);
  const Type *exName(ast::NameExpr *e);
  const Type *exList(ast::ListLit *e, const Type *hint);
  const Type *exMap(ast::MapLit *e, const Type *hint);
  const Type *exRecord(ast::RecordLit *e);
  const Type *exUnary(ast::UnaryExpr *e, const Type *hint);
  const Type *exBinary(ast::BinaryExpr *e, const Type *hint);
  const Type *exIndex(ast::IndexExpr *e);
  const Type *memberType(ast::MemberExpr *e, const Type *base);
  const Type *exAsyncBlock(ast::AsyncBlockExpr *e);
  const Type *exString(ast::StringLit *e);

  // check_calls.cpp
  const Type *exCall(ast::CallExpr *e, bool spawned);
  const Type *userCall(ast::CallExpr *e, FnInfo *f);
  const Type *builtinCall(ast::CallExpr *e, ast::Builtin b);
  const Type *apiCall(ast::CallExpr *e, const ast::ApiSignature &sig);
  /// A parameter as argument binding sees it (a user function's or an API function's).
  struct ParamView {
    std::string_view name;
    const Type *type;
    bool hasDefault;
  };
  void bindArgs(ast::CallExpr *e, const std::string &fname, const std::vector<ParamView> &params);
  const Type *exMethodCall(ast::MethodCallExpr *e);
  bool plainArgs(ast::CallExpr *e, size_t lo, size_t hi, std::vector<ast::Expr *> &out);
  const Type *anyValue(ast::Expr *a);
};

} // namespace cfm::sema
