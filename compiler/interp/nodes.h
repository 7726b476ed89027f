// nodes.h — the interpreter's executable tree: typed expression nodes, statement nodes and
// assignable places, compiled from the checked AST by compile.cpp and run by exprs.cpp, stmts.cpp,
// calls.cpp, tasks.cpp and model.cpp.
//
// Conventions: `eval` returns false when it raised an error (pending in the runtime) and
// otherwise writes its value to `out`; a boxed value comes with a reference the caller owns.
// Statements return how control leaves them (Flow).
#pragma once

#include "runtime/collections.h"
#include "support/source.h"

#include <memory>
#include <string>
#include <vector>

namespace cfm::interp {

using rt::Slot;
using rt::TypeDesc;

struct Program;
struct FnCode;

struct Frame {
  Slot *slots;
  Program *prog;
  Slot ret{0};
  std::string *tplOut = nullptr; // the text a template is writing
};

enum class Flow : uint8_t { Normal, Break, Continue, Return, Error };

struct ENode {
  const TypeDesc *type;
  support::Loc loc;
  ENode(const TypeDesc *t, support::Loc l) : type(t), loc(l) {}
  virtual ~ENode() = default;
  virtual bool eval(Frame &f, Slot &out) = 0;
  /// The value in place, without a reference of its own, when the node can give it without
  /// evaluating anything that may fail or run code (a local variable, a field of one): valid
  /// while the frame's current statement runs. Null otherwise: then eval.
  virtual const Slot *borrow(Frame &) { return nullptr; }
};
using EPtr = std::unique_ptr<ENode>;

struct SNode {
  support::Loc loc;
  explicit SNode(support::Loc l) : loc(l) {}
  virtual ~SNode() = default;
  virtual Flow exec(Frame &f) = 0;
};
using SPtr = std::unique_ptr<SNode>;

/// An assignable place: a local variable and a path of index and field steps below it.
struct Place {
  enum class Step { ListIndex, MapKey, Field };
  int rootSlot;
  const TypeDesc *rootType;
  struct Part {
    Step step;
    EPtr index;                // ListIndex, MapKey
    int field = 0;             // Field
    const TypeDesc *container; // the type stepped into
    support::Loc loc;
  };
  std::vector<Part> parts;
  const TypeDesc *type; // of the place itself
};

struct FnCode {
  std::string name;
  const TypeDesc *ret = nullptr;
  std::vector<const TypeDesc *> slotTypes;
  std::vector<const TypeDesc *> paramTypes;
  std::vector<int> paramSlots;
  std::vector<EPtr> defaults; // per parameter, may be null
  std::vector<SPtr> body;
  bool isTemplate = false;
  bool isProcedure = false; // a scope of tasks (LANGUAGE.md "Concurrency")
  int frameSize = 0;
  int maxNest = 0;             // deepest nesting of nodes in the body (their eval recursion)
  size_t stackNeed = 0;        // machine stack a call needs before the runtime's margin
  std::vector<int> boxedSlots; // slots whose values hold references (released at return)
  /// A template's last text size: the next call reserves it (read and written relaxed, with
  /// std::atomic_ref, by the tasks that render it).
  size_t textHint = 0;
};

/// Records the current frame's line in the pending error's trace (once per frame); returns
/// false so that `return failAt(f, loc);` propagates.
bool failAt(Frame &f, support::Loc loc);

} // namespace cfm::interp
