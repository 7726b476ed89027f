// program.h — the interpreter's compiled program: functions, constants, runtime types.
#pragma once

#include "interp/nodes.h"
#include "sema/checker.h"

#include <cstdio>
#include <unordered_map>

namespace cfm::interp {

/// Runtime type descriptors for the checker's types, built once per program.
class TypeTable {
public:
  const TypeDesc *get(const sema::Type *t);

private:
  std::unordered_map<const sema::Type *, std::unique_ptr<TypeDesc>> map_;
};

struct Program {
  Program() = default;
  Program(const Program &) = delete;
  Program &operator=(const Program &) = delete;
  ~Program() {
    for (size_t i = 0; i < globals.size(); ++i) rt::releaseSlot(globals[i], globalTypes[i]);
  }
  const support::SourceManager *sources = nullptr;
  TypeTable types;
  std::unordered_map<const sema::FnInfo *, std::unique_ptr<FnCode>> fns;
  std::vector<Slot> globals; // constants, in sema::Program::constOrder
  std::vector<const TypeDesc *> globalTypes;
  std::unordered_map<const sema::Var *, int> globalIndex;
  FILE *out = stdout;
  // The REPL keeps a procedure's variables after it returned: their final values (new
  // references) are copied out of its frame when it ends at the top level.
  const FnCode *captureFn = nullptr;
  std::vector<int> captureSlots;
  std::vector<Slot> captured;
  const TypeDesc *listOfString = nullptr;
  const TypeDesc *stringType = nullptr;
  const TypeDesc *errorType = nullptr;
};

/// Compiles every function and constant of a checked program. Returns false with `why` set if
/// the program uses what this engine does not run yet (tasks).
bool compileProgram(const sema::Program &sp, Program &p, std::string &why);

/// Evaluates the constants in order into `p.globals`; on an error `where` is the constant.
bool evalConstants(const sema::Program &sp, Program &p, support::Loc &where);

/// Calls `fn` with the arguments in `args` (owned references, one per parameter).
bool callFunction(Program &p, FnCode *fn, Slot *args, Slot &result, support::Loc callLoc, Frame *caller);

} // namespace cfm::interp
