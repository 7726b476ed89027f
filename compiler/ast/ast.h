// ast.h — CFM's own syntax tree (the parse adapter builds it; ANTLR types never appear here).
//
// Nodes live in an Arena owned by their Module and are never freed one by one. The checker
// annotates them in place (`type`, resolved symbols, the json conversion mark), so the checked
// tree is the same tree: the interpreter and the LLVM lowering read those annotations.
// Node kinds are listed once in ast_kinds.def.
#pragma once

#include "support/source.h"

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace cfm::sema {
class Type;
struct Var;
struct FnInfo;
struct RecordInfo;
} // namespace cfm::sema

namespace cfm::ast {

using support::Loc;
using support::Range;

/// A bump allocator that also runs destructors when it dies.
class Arena {
public:
  Arena() = default;
  Arena(const Arena &) = delete;
  Arena &operator=(const Arena &) = delete;
  ~Arena();
  template <typename T, typename... A> T *make(A &&...args) {
    void *p = allocate(sizeof(T), alignof(T));
    T *obj = new (p) T(std::forward<A>(args)...);
    if constexpr (!std::is_trivially_destructible_v<T>)
      dtors_.push_back({obj, [](void *o) { static_cast<T *>(o)->~T(); }});
    return obj;
  }

private:
  void *allocate(size_t size, size_t align);
  struct Dtor {
    void *obj;
    void (*fn)(void *);
  };
  std::vector<std::unique_ptr<char[]>> blocks_;
  char *cur_ = nullptr;
  size_t left_ = 0;
  std::vector<Dtor> dtors_;
};

enum class ExprKind {
#define EXPR(k) k,
#include "ast/ast_kinds.def"
};
enum class StmtKind {
#define STMT(k) k,
#include "ast/ast_kinds.def"
};

enum class BinOp { Or, And, Eq, Ne, Lt, Le, Gt, Ge, Add, Sub, Mul, Div, Mod };
const char *binOpText(BinOp op);

struct Expr {
  ExprKind kind;
  Range range;
  const sema::Type *type = nullptr; // set by the checker
  bool toJson = false;              // the checker applied the json conversion rule here
  Expr(ExprKind k, Range r) : kind(k), range(r) {}
  Loc loc() const { return range.begin; }
};

struct IntLit : Expr {
  int64_t value;
  IntLit(Range r, int64_t v) : Expr(ExprKind::Int, r), value(v) {}
};
struct FloatLit : Expr {
  double value;
  FloatLit(Range r, double v) : Expr(ExprKind::Float, r), value(v) {}
};
struct DurationLit : Expr {
  int64_t ms;
  DurationLit(Range r, int64_t v) : Expr(ExprKind::Duration, r), ms(v) {}
};
struct BoolLit : Expr {
  bool value;
  BoolLit(Range r, bool v) : Expr(ExprKind::Bool, r), value(v) {}
};
struct NullLit : Expr {
  explicit NullLit(Range r) : Expr(ExprKind::Null, r) {}
};
/// A string literal: text pieces and interpolated expressions in order (expr == nullptr: text).
struct StrPart {
  std::string text;
  Expr *expr = nullptr;
};
struct StringLit : Expr {
  std::vector<StrPart> parts;
  explicit StringLit(Range r) : Expr(ExprKind::String, r) {}
};
struct NameExpr : Expr {
  std::string name;
  sema::Var *var = nullptr; // resolved variable, parameter or constant
  NameExpr(Range r, std::string n) : Expr(ExprKind::Name, r), name(std::move(n)) {}
};
struct ListLit : Expr {
  std::vector<Expr *> elems;
  bool jsonLiteral = false; // elements are json values (expected type was `json`)
  explicit ListLit(Range r) : Expr(ExprKind::List, r) {}
};
struct MapEntry {
  Expr *key;
  Expr *value;
};
struct MapLit : Expr {
  std::vector<MapEntry> entries;
  bool jsonLiteral = false;
  explicit MapLit(Range r) : Expr(ExprKind::Map, r) {}
};
struct FieldInit {
  std::string name;
  Loc loc;
  Expr *value;
};
struct RecordLit : Expr {
  std::string name;
  std::vector<FieldInit> fields;
  sema::RecordInfo *record = nullptr;
  RecordLit(Range r, std::string n) : Expr(ExprKind::Record, r), name(std::move(n)) {}
};
struct UnaryExpr : Expr {
  char op; // '-' or '!'
  Expr *operand;
  UnaryExpr(Range r, char o, Expr *e) : Expr(ExprKind::Unary, r), op(o), operand(e) {}
};
struct BinaryExpr : Expr {
  BinOp op;
  Loc opLoc;
  Expr *lhs, *rhs;
  BinaryExpr(Range r, BinOp o, Loc ol, Expr *l, Expr *rr)
      : Expr(ExprKind::Binary, r), op(o), opLoc(ol), lhs(l), rhs(rr) {}
};
struct IndexExpr : Expr {
  Expr *base, *index;
  Loc bracketLoc;
  IndexExpr(Range r, Expr *b, Expr *i, Loc bl)
      : Expr(ExprKind::Index, r), base(b), index(i), bracketLoc(bl) {}
};
struct MemberExpr : Expr {
  Expr *base;
  std::string name;
  Loc nameLoc;
  MemberExpr(Range r, Expr *b, std::string n, Loc nl)
      : Expr(ExprKind::Member, r), base(b), name(std::move(n)), nameLoc(nl) {}
};
struct Arg {
  std::string name; // empty: positional
  Loc loc;          // of the name, or of the value
  Expr *value;
};
/// Which built-in a call or method call resolved to (ast/builtins.def).
enum class Builtin : uint16_t {
  None,
#define BUILTIN(id, name) id,
#define METHOD(id, recv, name) id,
#include "ast/builtins.def"
};
/// Ends a switch over Builtin for the cases that cannot reach it (the checker sends them
/// elsewhere): such switches list every case, with no `default:`, so that a new built-in in
/// builtins.def fails to compile until every switch handles it. Reaching this is a bug.
[[noreturn]] void unreachableBuiltin(Builtin b, const char *where);

/// The types the procedure API's signatures use (builtins.def API).
enum class ApiType : uint8_t {
  Int,
  String,
  Duration,
  Json,
  Void,
  StringMap,
  BusinessSystem,
  VMInstance,
  CommandResult
};
/// The default of a map parameter: the empty map (the engines pass no map at all, a null
/// reference, which the runtime's API functions read as empty).
struct EmptyDefault {};
/// A parameter of an API function: required, or with a constant default (an int or a duration
/// in ms, a string, or the empty map).
struct ApiParam {
  const char *name;
  ApiType type;
  bool hasDefault = false;
  int64_t defaultInt = 0;
  const char *defaultText = nullptr;
  bool defaultEmpty = false;
  constexpr ApiParam(const char *n, ApiType t) : name(n), type(t) {}
  constexpr ApiParam(const char *n, ApiType t, int64_t d)
      : name(n), type(t), hasDefault(true), defaultInt(d) {}
  constexpr ApiParam(const char *n, ApiType t, const char *d)
      : name(n), type(t), hasDefault(true), defaultText(d) {}
  constexpr ApiParam(const char *n, ApiType t, EmptyDefault)
      : name(n), type(t), hasDefault(true), defaultEmpty(true) {}
};
/// An API function's signature (API.md "Cloud"): what the checker binds arguments to, and
/// where the engines find the defaults of the parameters a call leaves out.
struct ApiSignature {
  Builtin id;
  ApiType ret;
  std::vector<ApiParam> params;
};
/// The signature of API function b, or nullptr when b is not one.
const ApiSignature *apiSignature(Builtin b);
struct CallExpr : Expr {
  std::string callee;
  std::vector<Arg> args;
  Builtin builtin = Builtin::None;
  sema::FnInfo *fn = nullptr;    // user function
  std::vector<Expr *> boundArgs; // per parameter: the argument, or nullptr (default)
  std::vector<int> evalOrder;    // parameter indexes in the order written
  Expr *timeout = nullptr;       // `wait(..., timeout: d)`
  bool spawned = false;          // the call of an `async f(...)`
  CallExpr(Range r, std::string c) : Expr(ExprKind::Call, r), callee(std::move(c)) {}
};
struct MethodCallExpr : Expr {
  Expr *receiver;
  std::string name;
  Loc nameLoc;
  std::vector<Arg> args;
  Builtin method = Builtin::None;
  MethodCallExpr(Range r, Expr *recv, std::string n, Loc nl)
      : Expr(ExprKind::MethodCall, r), receiver(recv), name(std::move(n)), nameLoc(nl) {}
};
struct Stmt;
using Block = std::vector<Stmt *>;
struct AsyncCallExpr : Expr {
  CallExpr *call;
  AsyncCallExpr(Range r, CallExpr *c) : Expr(ExprKind::AsyncCall, r), call(c) {}
};
struct AsyncBlockExpr : Expr {
  Block body;
  std::vector<sema::Var *> captures; // variables of enclosing scopes the block copies
  explicit AsyncBlockExpr(Range r) : Expr(ExprKind::AsyncBlock, r) {}
};

// ---- statements ----
struct Stmt {
  StmtKind kind;
  Range range;
  Stmt(StmtKind k, Range r) : kind(k), range(r) {}
  Loc loc() const { return range.begin; }
};
struct TypeRef {
  std::string name;
  Range range;
  std::vector<TypeRef *> args;
};
struct LetStmt : Stmt {
  bool isVar;
  std::string name;
  Loc nameLoc;
  TypeRef *annot;
  Expr *init;
  sema::Var *var = nullptr;
  LetStmt(Range r, bool v, std::string n, Loc nl, TypeRef *t, Expr *e)
      : Stmt(StmtKind::Let, r), isVar(v), name(std::move(n)), nameLoc(nl), annot(t), init(e) {}
};
struct AssignStmt : Stmt {
  char op; // '=', '+', '-', '*', '/'
  Loc opLoc;
  Expr *target, *value;
  const sema::Type *resultType = nullptr; // of `target op value` for compound assignment
  AssignStmt(Range r, char o, Loc ol, Expr *t, Expr *v)
      : Stmt(StmtKind::Assign, r), op(o), opLoc(ol), target(t), value(v) {}
};
struct ExprStmt : Stmt {
  Expr *expr;
  ExprStmt(Range r, Expr *e) : Stmt(StmtKind::Expr, r), expr(e) {}
};
struct IfBranch {
  Expr *cond;
  Block body;
};
struct IfStmt : Stmt {
  std::vector<IfBranch> branches;
  Block elseBody;
  bool hasElse = false;
  explicit IfStmt(Range r) : Stmt(StmtKind::If, r) {}
};
struct WhileStmt : Stmt {
  Expr *cond;
  Block body;
  bool hasBreak = false;
  WhileStmt(Range r, Expr *c) : Stmt(StmtKind::While, r), cond(c) {}
};
enum class ForForm { Range, List, Map, Bad };
struct ForHead {
  std::string var1, var2; // var2 empty: one variable
  Loc var1Loc, var2Loc;
  Expr *iter = nullptr;
  Expr *end = nullptr; // non-null: `for i in iter..end`
  ForForm form = ForForm::Bad;
  sema::Var *v1 = nullptr, *v2 = nullptr;
};
struct ForStmt : Stmt {
  ForHead head;
  Block body;
  bool hasBreak = false;
  explicit ForStmt(Range r) : Stmt(StmtKind::For, r) {}
};
struct JumpStmt : Stmt { // Break or Continue
  JumpStmt(StmtKind k, Range r) : Stmt(k, r) {}
};
struct ReturnStmt : Stmt {
  Expr *value;
  ReturnStmt(Range r, Expr *v) : Stmt(StmtKind::Return, r), value(v) {}
};
struct ThrowStmt : Stmt {
  Expr *value;
  ThrowStmt(Range r, Expr *v) : Stmt(StmtKind::Throw, r), value(v) {}
};
struct TryStmt : Stmt {
  Block body;
  std::string errName;
  Loc errLoc;
  Block handler;
  sema::Var *errVar = nullptr;
  explicit TryStmt(Range r) : Stmt(StmtKind::Try, r) {}
};

// ---- template bodies ----
enum class TplKind { Text, Expr, For, If };
struct TplNode;
using TplBody = std::vector<TplNode *>;
struct TplNode {
  TplKind kind;
  Range range;
  std::string text;                                      // Text
  ast::Expr *expr = nullptr;                             // Expr
  ForHead head;                                          // For
  TplBody body;                                          // For
  std::vector<std::pair<ast::Expr *, TplBody>> branches; // If
  TplBody elseBody;                                      // If
  bool hasElse = false;
  TplNode(TplKind k, Range r) : kind(k), range(r) {}
};

// ---- declarations ----
enum class DeclKind { Import, Const, Record, Fn };
enum class FnKind { Fn, Procedure, Template };
struct Decl {
  DeclKind kind;
  std::string name; // empty for Import
  Loc nameLoc;
  Range range;
  Decl(DeclKind k, Range r) : kind(k), range(r) {}
};
struct ImportDecl : Decl {
  std::string path;
  explicit ImportDecl(Range r) : Decl(DeclKind::Import, r) {}
};
struct ConstDecl : Decl {
  TypeRef *annot = nullptr;
  Expr *init = nullptr;
  sema::Var *var = nullptr;
  explicit ConstDecl(Range r) : Decl(DeclKind::Const, r) {}
};
struct FieldDecl {
  std::string name;
  Loc loc;
  TypeRef *type;
};
struct RecordDecl : Decl {
  std::vector<FieldDecl> fields;
  bool model = false;   // one of the model object types of frontend/model_prelude.h
  bool builtin = false; // a type every program knows (frontend/model_prelude.h: models and others)
  explicit RecordDecl(Range r) : Decl(DeclKind::Record, r) {}
};
struct Param {
  std::string name;
  Loc loc;
  TypeRef *type;
  Expr *defaultValue = nullptr;
  sema::Var *var = nullptr;
};
struct FnDecl : Decl {
  FnKind fnKind = FnKind::Fn;
  std::vector<Param> params;
  TypeRef *ret = nullptr;
  Block body;      // Fn, Procedure
  Loc endLoc;      // the closing `}` (or the template's closing `"""`)
  TplBody tplBody; // Template
  sema::FnInfo *info = nullptr;
  explicit FnDecl(Range r) : Decl(DeclKind::Fn, r) {}
};

/// One source file's declarations.
struct Module {
  support::FileId file = 0;
  std::vector<Decl *> decls;
  Arena arena;
};

} // namespace cfm::ast
