// program.h — the interpreter's compiled program: functions, constants, runtime types.
#pragma once

#include "interp/nodes.h"
#include "run/types.h"
#include "sema/checker.h"

#include <cstdio>
#include <unordered_map>

namespace cfm::interp {

struct TemplateCache; // model.cpp: the ConfigTemplates a run compiled

struct Program {
  Program() = default;
  Program(const Program &) = delete;
  Program &operator=(const Program &) = delete;
  ~Program() {
    for (size_t i = 0; i < globals.size(); ++i) rt::releaseSlot(globals[i], globalTypes[i]);
  }
  const support::SourceManager *sources = nullptr;
  run::TypeTable types;
  std::unordered_map<const sema::FnInfo *, std::unique_ptr<FnCode>> fns;
  std::vector<Slot> globals; // constants, in sema::Program::constOrder
  std::vector<const TypeDesc *> globalTypes;
  std::unordered_map<const sema::Var *, int> globalIndex;
  FILE *out = stdout;
  // The run's ConfigTemplates, compiled on first render (model.cpp); a template's own program
  // points at the cache of the run that compiled it. Freed with the run's program.
  TemplateCache *templates = nullptr;
  std::shared_ptr<TemplateCache> ownTemplates;
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
