// engine.h — the JIT engine as a shared object loaded on first use (issue 18): the types the
// driver and the JIT share (JitOptions, JitStats), the entry table libcfm_jit_engine.so exports,
// and the loader that dlopens it. `cfmc` links this loader, not LLVM: its commands that do not
// run the JIT never map libLLVM (compiler/jitload/README.md).
//
// The table is C++ (both sides are built together from one tree, by one compiler); its entries
// return errors as values and never let an exception out. The engine's undefined symbols (the
// runtime, the front end, the model) are the executable's own: the program that loads it exports
// its symbols (CMake's ENABLE_EXPORTS), so both share one runtime.
#pragma once

#include "base/result.h"
#include "frontend/frontend.h"
#include "run/run.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace cfm::jit {

struct JitOptions {
  int optLevel = 2;  // 0, 1 or 2: LLVM's new pass manager pipeline O0/O1/O2 (and codegen level)
  bool cache = true; // the persistent object cache (`--no-cache` turns it off)
};

/// What compiling a program took and made (`cfmc run --time` prints it).
struct JitStats {
  int optLevel = 0;       // the level the module was compiled at
  double setupMs = 0;     // the session (the first use in a process sets up LLVM)
  double lowerMs = 0;     // AST to LLVM IR
  double optMs = 0;       // the pass pipeline
  double codegenMs = 0;   // IR to an object, or loading the cached object
  double linkMs = 0;      // linking the object into the process
  bool cacheHit = false;  // the object came from the persistent cache
  size_t objectBytes = 0; // the size of the object linked
};

/// Exit status of a run or an IR dump when the program uses what the JIT does not compile yet.
constexpr int kUnsupported = run::kUnsupported;

/// A program compiled for one procedure (jit.h).
class Compiled;

} // namespace cfm::jit

namespace cfm::jitload {

/// Bumped whenever the table below changes: a loader refuses an engine of another version.
constexpr unsigned kEngineVersion = 1;
/// The engine's file name; the loader looks for it in the folder of the running executable.
constexpr const char *kEngineFile = "libcfm_jit_engine.so";
/// The one symbol the engine exports for the loader (extern "C", returns `const Engine *`).
constexpr const char *kEntrySymbol = "cfm_jit_engine";
/// Environment variable naming the engine's path instead (tests; unusual installs).
constexpr const char *kEngineEnv = "CFM_JIT_ENGINE";

/// The entry table: the functions of jit.h the driver calls, with the same contracts.
struct Engine {
  unsigned version; // kEngineVersion of the engine's build
  std::string (*unsupported)(const sema::Program &p);
  std::string (*unsupportedMessage)(const std::string &construct);
  Result<std::shared_ptr<jit::Compiled>> (*compile)(const frontend::Compilation &c,
                                                    const run::RunOptions &opts, const jit::JitOptions &jo,
                                                    jit::JitStats *stats);
  Result<int> (*run)(jit::Compiled &program, const run::RunOptions &opts);
  Result<void> (*emitLLVM)(const frontend::Compilation &c, const std::string &proc, const jit::JitOptions &jo,
                           FILE *out, jit::JitStats *stats);
  int (*runForRepl)(const frontend::Compilation &c, const std::string &proc, std::vector<rt::Slot> args,
                    const std::vector<const sema::Var *> &keep, std::vector<rt::Slot> &kept,
                    std::vector<const rt::TypeDesc *> &keptTypes, std::shared_ptr<void> &holder, FILE *out,
                    FILE *err, const jit::JitOptions &jo);
};

/// The engine, loaded on the first call (once per process; later calls return the same table
/// or the same error): `$CFM_JIT_ENGINE`, else libcfm_jit_engine.so beside /proc/self/exe. An
/// Io error naming the path and the loader's reason when it is missing, does not load, or
/// lacks the entry; a Usage error when it is of another version.
Result<const Engine *> engine();

} // namespace cfm::jitload

/// The engine's entry (defined in compiler/jit/entry.cpp, the only symbol looked up by name).
extern "C" const cfm::jitload::Engine *cfm_jit_engine();
