// jit.h — the JIT engine: lowers a checked program (sema::Program + its AST) to LLVM IR and runs
// it with LLVM's ORC LLJIT on the runtime's C ABI (runtime/abi.def), on the same scheduler and
// with the same results, error messages and traces as the interpreter (compiler/jit/README.md).
//
// This header is what the driver and tests include: no LLVM type appears in it.
#pragma once

#include "frontend/frontend.h"
#include "interp/interp.h"
#include "runtime/model/methods.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace cfm::jit {

struct JitOptions {
  int optLevel = 2;  // 0, 1 or 2: LLVM's new pass manager pipeline O0/O1/O2 (and codegen level)
  bool time = false; // print the time spent lowering, optimising and generating code on stderr
  bool cache = true; // the persistent object cache (`--no-cache` turns it off)
};

/// Exit status of a run or an IR dump when the program uses what the JIT does not compile yet.
constexpr int kUnsupported = 3;

/// The first construct of the program the JIT does not compile yet, as
/// `<construct> yet (line N)`; empty when it compiles the whole program. Walks the checked AST
/// (every function, default argument and constant) without running anything.
std::string unsupported(const sema::Program &p);

/// Runs `opts.proc` like interp::run (same exit statuses, output, uncaught error traces); 3 with
/// `cfmc: error: the JIT does not compile ... yet (line N); use --engine interp` on `opts.err`
/// when the program is outside what the JIT compiles.
int run(const frontend::Compilation &c, const interp::RunOptions &opts, const JitOptions &jo);

/// Writes the LLVM IR of the program (after the pipeline of `jo.optLevel`) with an entry for
/// procedure `proc` (if there is one) to `out`. Returns 0, or 3 as `run` does.
int emitLLVM(const frontend::Compilation &c, const std::string &proc, const JitOptions &jo, FILE *out,
             FILE *err);

/// For `cfmc repl --engine jit`, the contract of interp::runForRepl: runs procedure `proc` with
/// ready argument values (owned references, one per parameter, all given), then hands back the
/// final values of the variables `keep` (new references, in order) and their runtime types.
/// The code stays in the process's Session (`holder` is left empty); `c` must outlive the
/// values. 0, 1 after an uncaught error (printed on `err`), 3 when the JIT does not compile the
/// program (callers check `unsupported` first; the arguments are released either way).
int runForRepl(const frontend::Compilation &c, const std::string &proc, std::vector<rt::Slot> args,
               const std::vector<const sema::Var *> &keep, std::vector<rt::Slot> &kept,
               std::vector<const rt::TypeDesc *> &keptTypes, std::shared_ptr<void> &holder, FILE *out,
               FILE *err, const JitOptions &jo = {});

/// The JIT's entry point for template text that arrives at run time (a ConfigTemplate's, from
/// OVF): compiles `text` as the body of a template whose parameters are `names` of the language
/// types `types` (see runtime/model/methods.h), with the process's Session at `optLevel` (the
/// session's level if it exists already), and returns the callable — or `error` set to the
/// first compile error (`line N: message`, N counting the text's lines). Cached per text and
/// shape for the process. Call it on a scheduler task (the generated code checks the task's
/// stack), as `tpl.render(vars)` does.
const model::CompiledTemplate &compileTemplate(const std::string &name, std::string_view text,
                                               const std::vector<std::string> &names,
                                               const std::vector<std::string> &types, int optLevel = 2);

/// Makes compileTemplate the compiler of `tpl.render(vars)` in JIT'd code (the C ABI's
/// cfm_model_render); `run` does it.
void installTemplateCompiler(int optLevel);

} // namespace cfm::jit
