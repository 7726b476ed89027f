// lower.h — checked AST → LLVM IR (internal to compiler/jit: the only header with LLVM types).
//
// Conventions of the generated code (compiler/jit/README.md "Lowering"):
// - values have their natural LLVM types: int and duration i64, bool i1, float double, strings
//   and caught errors `ptr` to a runtime object; a `cfm_slot` crossing the ABI is an i64;
// - an expression's boxed value is an owned reference (as the interpreter's eval gives);
// - a CFM function `f` is `define internal {T, i1} @"fn.f"(i32 depth, params)` (`i1` alone for
//   void): the flag is set when it ends with an error pending in the runtime; nothing unwinds
//   through C++. `depth` is the frame's call depth, passed in a register rather than counted in
//   the task's memory (the interpreter's sched::tl.depth): a caller checks it against
//   kMaxCallDepth, and the stack pointer against the task's stack limit, before each call;
// - a failing operation records its line in the pending error (cfm_fail_at, once per frame),
//   releases the temporaries alive at that point and branches to the current handler: the
//   enclosing `catch`, or the function's error exit (which releases its variables and marks the
//   frame done, so that the caller's call line comes next in the trace).
#pragma once

#include "jitload/entry_run.h"
#include "sema/checker.h"
#include "support/source.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace cfm::jit {

/// What the module needs from its host beyond the C ABI: runtime type descriptors by symbol.
struct ModuleInfo {
  std::map<std::string, const sema::Type *> typeSymbols; // `cfm.type.<type>` → the type
  bool hasEntry = false;
};

/// The symbols the generated module defines for its host.
/// (Their names and signatures are in jitload/entry_run.h: cfmc's light path finds them too.)
inline constexpr const char *kInitSymbol = jitload::kModuleInit;
inline constexpr const char *kEntrySymbol = jitload::kModuleEntry;
inline constexpr const char *kFiniSymbol = jitload::kModuleFini;
/// The parameters every lowered CFM function takes before its own: the call depth (i32) and the
/// running task's stack limit (ptr).
inline constexpr unsigned kHiddenParams = 2;

/// For the REPL (jit::runForRepl): when `fn` returns normally at the top (called by cfm.entry),
/// the values of `vars` are stored, each retained, into the cfm_slot array that the pointer
/// global kCaptureSymbol points to (nothing when it is null).
struct ReplCapture {
  const sema::FnInfo *fn = nullptr;
  std::vector<const sema::Var *> vars;
};
inline constexpr const char *kCaptureSymbol = "cfm.capture";

/// Lowers every function and constant of `p` into `m`, and `cfm.entry` for `entry` if given;
/// `capture`: the REPL's variables to hand back (see ReplCapture).
ModuleInfo lowerProgram(const sema::Program &p, const support::SourceManager &sources,
                        const sema::FnInfo *entry, llvm::Module &m, const ReplCapture *capture = nullptr);

class Lowerer {
public:
  Lowerer(const sema::Program &p, const support::SourceManager &sources, llvm::Module &m);
  ModuleInfo run(const sema::FnInfo *entry, const ReplCapture *capture = nullptr);

private:
  using Value = llvm::Value;
  using BB = llvm::BasicBlock;

  const sema::Program &p_;
  const sema::TypeContext &T_;
  const support::SourceManager &sources_;
  llvm::Module &m_;
  llvm::LLVMContext &ctx_;
  llvm::IRBuilder<> b_;
  ModuleInfo info_;
  llvm::Type *i1_, *i8_, *i32_, *i64_, *f64_, *ptr_;
  llvm::StructType *tlType_, *pieceType_;
  llvm::GlobalVariable *out_ = nullptr, *sink_ = nullptr;
  std::unordered_map<const sema::FnInfo *, llvm::Function *> fns_;
  std::unordered_map<const sema::Var *, llvm::GlobalVariable *> consts_;
  std::vector<std::pair<llvm::GlobalVariable *, std::string>> literals_;
  std::unordered_map<std::string, llvm::GlobalVariable *> literalByText_;
  std::unordered_map<support::FileId, llvm::Constant *> fileNames_;
  const ReplCapture *capture_ = nullptr;       // the REPL's (lower.cpp "REPL capture")
  llvm::GlobalVariable *captureOut_ = nullptr; // kCaptureSymbol
  void captureVars();

  // ---- the function being lowered ----
  struct Loop {
    BB *breakTo, *continueTo;
  };
  struct Fn {
    llvm::Function *f = nullptr;
    const sema::FnInfo *info = nullptr;
    BB *allocas = nullptr; // entry block: allocas and their zero stores
    BB *errTarget = nullptr, *retBB = nullptr;
    llvm::AllocaInst *retSlot = nullptr;
    Value *depth = nullptr;      // i32: how many calls deep this frame runs (interp's sched::tl.depth)
    Value *limit = nullptr;      // ptr: the running task's stack limit (sched::tl.stackLimit), passed
                                 // down with the depth so that no thread's address is built in
    Value *cannotCall = nullptr; // i1: too deep, or too little stack left for one more frame
    Value *text = nullptr;       // a template's output (a cfm_text in the frame)
    llvm::GlobalVariable *textHint = nullptr; // i64: the length of the template's last output
    llvm::AllocaInst *scratch = nullptr;      // the `out` of an ABI call on a failure path
    std::unordered_map<const sema::Var *, llvm::AllocaInst *> locals;
    std::vector<llvm::AllocaInst *> boxedLocals;
    std::vector<Loop> loops;
    std::vector<Value *> temps; // owned boxed values alive in the expression being lowered
  };
  Fn fn_;

  // types and ABI (lower.cpp)
  llvm::Type *ty(const sema::Type *t);
  bool boxed(const sema::Type *t) const;
  /// The type of e's value as its consumer sees it: json where the checker applied the json
  /// conversion (e->type is then the type before it).
  const sema::Type *vt(const ast::Expr *e) const { return e->toJson ? T_.jsonT : e->type; }
  llvm::FunctionCallee abi(const char *name);
  Value *typeDesc(const sema::Type *t);
  Value *toSlot(Value *v, const sema::Type *t);
  Value *fromSlot(Value *slot, const sema::Type *t);
  /// The slot (i64) at INDEX of the cfm_slot array whose pointer is at OFFSET in object OBJ: a
  /// record's field, a list's item (runtime/abi.h, CFM_RECORD_FIELDS_OFFSET), read without a call.
  Value *slotAt(Value *obj, int64_t offset, Value *index);
  Value *fileName(support::FileId f);
  llvm::AllocaInst *entryAlloca(llvm::Type *t, const std::string &name, bool zero);
  llvm::AllocaInst *local(const sema::Var *v);
  llvm::AllocaInst *scratch() {
    if (!fn_.scratch) fn_.scratch = entryAlloca(i64_, "scratch", false);
    return fn_.scratch;
  }
  void retain(Value *v);
  void release(Value *v);
  void releaseIf(Value *v, const sema::Type *t) {
    if (boxed(t)) release(v);
  }
  /// Starts a block after a terminator so that lowering can go on (dead code is dropped later).
  void continueDead();
  BB *block(const std::string &name);

  // errors and frames (lower.cpp)
  /// At the current (fresh) block: records `loc`'s line, releases the live temporaries and
  /// branches to the handler.
  void failHere(support::Loc loc);
  /// Branches to a failure path when `failed` (i1) is true; `loc` is recorded on that path.
  void checkFailed(Value *failed, support::Loc loc);
  Value *status(Value *st) { return b_.CreateICmpNE(st, llvm::ConstantInt::get(i32_, 0)); }
  /// A boxed value stays owned by the code being lowered until `dropTemps(mark)`: a failure
  /// before then releases it.
  void pushTemp(Value *v, const sema::Type *t) {
    if (boxed(t)) fn_.temps.push_back(v);
  }
  size_t tempMark() const { return fn_.temps.size(); }
  void dropTemps(size_t mark) { fn_.temps.resize(mark); }
  void stackCheck(const sema::FnInfo *callee, support::Loc loc);

  // declarations (lower.cpp)
  void declareFunction(const sema::FnInfo &fi);
  void defineFunction(const sema::FnInfo &fi);
  void defineInit();
  void defineEntry(const sema::FnInfo &proc);
  void defineFini();
  void beginFunction(llvm::Function *f, const sema::FnInfo *info);

  // statements (lower.cpp)
  void stmts(const ast::Block &b);
  void stmt(const ast::Stmt *s);
  void store(llvm::AllocaInst *slot, Value *v, const sema::Type *t);
  void assign(const ast::AssignStmt *s);
  void ifStmt(const ast::IfStmt *s);
  void whileStmt(const ast::WhileStmt *s);
  void forStmt(const ast::ForStmt *s);
  void forLoop(const ast::ForHead &h, const std::function<void()> &body);
  void tryStmt(const ast::TryStmt *s);
  /// A place below a variable: its index and field steps, outermost first.
  struct PlaceStep {
    const ast::Expr *x; // the IndexExpr or MemberExpr
    Value *key = nullptr;
    bool borrowed = false; // key is a variable's value, not a reference of its own
  };
  std::vector<PlaceStep> placeSteps(const ast::Expr *e, const ast::NameExpr *&root);
  /// Evaluates the steps' keys left to right (pushed as temporaries); a key that is a variable
  /// is borrowed (read without a reference of its own).
  void placeKeys(std::vector<PlaceStep> &steps);
  /// Walks to the slot the place names (ptr to a cfm_slot), making containers unique; fails at
  /// the failing step's location. `create`: a last map step inserts a missing key.
  Value *placeSlot(const ast::NameExpr *root, std::vector<PlaceStep> &steps, bool create);
  void releaseKeys(std::vector<PlaceStep> &steps);

  // templates (lower_template.cpp)
  /// A piece of a run of template output: constant text, or a string or int value (borrowed,
  /// or owned and released once the run is written).
  struct TplPiece {
    enum Kind { Text, Str, Int } kind;
    std::string text;
    Value *v = nullptr;
    bool owned = false;
  };
  llvm::Function *intChars_ = nullptr; // cfm.tpl.int
  llvm::Function *intChars();
  void templateBegin(const sema::FnInfo &fi);
  Value *templateEnd();
  Value *templateBorrow(const ast::Expr *e);
  void templateBody(const ast::TplBody &body);
  void templateRun(std::vector<TplPiece> &run);

  // expressions (lower_exprs.cpp)
  Value *expr(const ast::Expr *e); // with the json conversion the checker marked
  Value *exprRaw(const ast::Expr *e);
  Value *jsonLit(const ast::Expr *e); // a list or map literal whose elements are json
  Value *jsonMethod(const ast::MethodCallExpr *m);

  // tasks (lower_tasks.cpp)
  int taskCount_ = 0;
  Value *asyncCall(const ast::AsyncCallExpr *a);
  Value *asyncBlock(const ast::AsyncBlockExpr *a);
  Value *asyncBuiltin(const ast::AsyncCallExpr *a);
  /// `wait(...)`; `given`: its arguments evaluated already, in c->args order (`async wait`).
  Value *waitCall(const ast::CallExpr *c, const std::vector<Value *> *given = nullptr);
  /// `i8 (ptr env, ptr result)` and `void (ptr env)`: a task's entry and its env's drop.
  llvm::Function *taskFunction(const std::string &name, bool drop);
  void defineEnvDrop(llvm::Function *drop, const std::vector<const sema::Type *> &slots);
  Value *literal(const std::string &text);
  Value *stringLit(const ast::StringLit *s);
  Value *name(const ast::NameExpr *n);
  Value *unary(const ast::UnaryExpr *u);
  Value *binary(const ast::BinaryExpr *b);
  Value *logical(const ast::BinaryExpr *b);
  /// `a op b` with the operator of `op` ('+', '-', '*', '/', '%', or a comparison BinOp) on
  /// operands of type t; consumes boxed operands. Fails at `loc` like the interpreter.
  Value *arith(char op, Value *a, Value *b, const sema::Type *t, support::Loc loc);
  Value *compare(ast::BinOp op, Value *a, Value *b, const sema::Type *t);
  Value *checkedInt(char op, Value *a, Value *b, support::Loc loc);
  Value *call(const ast::CallExpr *c);
  Value *userCall(const ast::CallExpr *c);
  /// A built-in call; `given` is its argument evaluated already (`async builtin(arg)`).
  Value *builtin(const ast::CallExpr *c, Value *given = nullptr);
  /// A procedure API call; `given`: its arguments evaluated already, in c->args order (`async`).
  Value *apiCall(const ast::CallExpr *c, const std::vector<Value *> *given = nullptr);
  Value *method(const ast::MethodCallExpr *m);
  Value *modelMethod(const ast::MethodCallExpr *m, const std::vector<Value *> &v);
  Value *member(const ast::MemberExpr *m);
  Value *listLit(const ast::ListLit *l);
  Value *mapLit(const ast::MapLit *m);
  Value *recordLit(const ast::RecordLit *r);
  Value *index(const ast::IndexExpr *ix);
  Value *mutatingMethod(const ast::MethodCallExpr *m);
};

} // namespace cfm::jit
