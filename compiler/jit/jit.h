// jit.h — the JIT engine: lowers a checked program (sema::Program + its AST) to LLVM IR and runs
// it with LLVM's ORC LLJIT on the runtime's C ABI (runtime/abi.def), on the same scheduler and
// with the same results, error messages and traces as the interpreter (compiler/jit/README.md).
//
// This header is what tests and the engine's entry (entry.cpp) include: no LLVM type appears in
// it. The driver reaches these functions through the entry table of libcfm_jit_engine.so
// (jitload/engine.h), loaded on first use.
#pragma once

#include "frontend/frontend.h"
#include "jitload/engine.h"
#include "run/run.h"
#include "runtime/model/methods.h"

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cfm::jit {

// JitOptions, JitStats and kUnsupported are in jitload/engine.h (the driver sees them without
// linking the JIT).

/// The first construct of the program the JIT does not compile yet, as
/// `<construct> yet (line N)`; empty when it compiles the whole program. Walks the checked AST
/// (every function, default argument and constant) without running anything.
std::string unsupported(const sema::Program &p);

/// `the JIT does not compile <construct> yet (line N); use --engine interp`: the message for a
/// program `unsupported` names a construct of (exit status kUnsupported).
std::string unsupportedMessage(const std::string &construct);

/// A program compiled for one procedure: its own module in the process's JIT, removed (code,
/// data, type descriptors freed) when the last handle goes. It may run any number of times, one
/// run after the other, each on any thread (every run starts a scheduler of its own there).
/// The compilation it was made from must outlive it.
class Compiled;

/// Compiles `c` for running `opts.proc` at `jo.optLevel` (after checking, as run::findProcedure
/// does, that the procedure exists and has every `--arg` name). An error when it cannot: the
/// message a program shows as `cfmc: error: <message>` (the program checks `unsupported` first
/// for exit status kUnsupported).
Result<std::shared_ptr<Compiled>> compile(const frontend::Compilation &c, const run::RunOptions &opts,
                                          const JitOptions &jo, JitStats *stats = nullptr);

/// Runs the compiled procedure (`opts.proc` is not looked at; the `--arg` names are checked
/// against the procedure) like interp::run (same exit statuses, output, uncaught error traces,
/// errors for a bad or missing `--arg`). The ConfigTemplates it renders are compiled for this
/// run at the program's level and freed when it ends.
Result<int> run(Compiled &program, const run::RunOptions &opts);

/// compile, then run.
Result<int> run(const frontend::Compilation &c, const run::RunOptions &opts, const JitOptions &jo,
                JitStats *stats = nullptr);

/// Writes the LLVM IR of the program (after the pipeline of `jo.optLevel`) with an entry for
/// procedure `proc` (if there is one) to `out`; an error as `compile` has. `stats` gets the
/// lowering and optimisation times.
Result<void> emitLLVM(const frontend::Compilation &c, const std::string &proc, const JitOptions &jo,
                      FILE *out, JitStats *stats = nullptr);

/// How many modules (programs, REPL inputs, ConfigTemplates) the process's JIT holds now.
size_t liveModules();

/// For `cfmc repl --engine jit`, the contract of interp::runForRepl: runs procedure `proc` with
/// ready argument values (owned references, one per parameter, all given), then hands back the
/// final values of the variables `keep` (new references, in order) and their runtime types.
/// `holder` gets the input's module when it keeps values (they refer to its type descriptors);
/// otherwise the module is freed before the call returns. `c` must outlive the values. 0, 1 after an uncaught
/// error (printed on `err`), 3 when the JIT does not compile the program (callers check `unsupported` first;
/// the arguments are released either way).
int runForRepl(const frontend::Compilation &c, const std::string &proc, std::vector<rt::Slot> args,
               const std::vector<const sema::Var *> &keep, std::vector<rt::Slot> &kept,
               std::vector<const rt::TypeDesc *> &keptTypes, std::shared_ptr<void> &holder, FILE *out,
               FILE *err, const JitOptions &jo = {});

/// The ConfigTemplates one run compiles (text arriving at run time, from OVF): each text is
/// compiled on first use, per text and shape, as the body of a template whose parameters are
/// `names` of the language types `types` (see runtime/model/methods.h), at the run's level,
/// into a module of its own that writes to `out` (the run's output). Destroying the cache
/// releases the modules' literals and removes the modules: it lives no longer than its run.
/// Nothing in it refers to a thread; use it on one scheduler thread at a time.
class TemplateCache {
public:
  explicit TemplateCache(int optLevel, FILE *out = stdout);
  TemplateCache(const TemplateCache &) = delete;
  TemplateCache &operator=(const TemplateCache &) = delete;
  ~TemplateCache();

  /// The compiled template — or `error` set to the first compile error (`line N: message`, N
  /// counting the text's lines). Call it on a scheduler task (the generated code checks the
  /// task's stack), as `tpl.render(vars)` does.
  const model::CompiledTemplate &compile(const std::string &name, std::string_view text,
                                         const std::vector<std::string> &names,
                                         const std::vector<std::string> &types);

  /// As a model::TemplateCompiler (for model::AbiTemplateScope); valid while the cache lives.
  model::TemplateCompiler compiler();

private:
  struct Entry;
  int optLevel_;
  FILE *out_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
};

} // namespace cfm::jit
