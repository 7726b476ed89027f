// run.h — the run set-up both engines share (compiler/interp, compiler/jit): what a run is asked
// to do (RunOptions), the call-depth limit, finding the procedure and checking the `--arg` names,
// converting command-line values to the procedure's parameter types (LANGUAGE.md "Precise
// rules": `--arg name=value`), and the first task a run starts on its scheduler.
//
// Nothing here prints: problems are errors (base/result.h) whose message the program that runs
// an engine shows as `cfmc: error: <message>`. That program also owns the store: model-typed
// `--arg` values come through the loader it gives (RunOptions::loadSystem).
#pragma once

#include "base/result.h"
#include "runtime/value.h"
#include "sema/checker.h"

#include <cstdio>
#include <functional>
#include <map>
#include <string>

namespace cfm::run {

/// Calls may nest this deep; one more is the catchable `stack overflow` error (kind "stack").
constexpr int kMaxCallDepth = 10000;

/// Exit status when the program uses what an engine does not run yet (`jit::unsupported`).
constexpr int kUnsupported = 3;

/// Loads the business system named (or with the id) `key` as a value of the model type `type`:
/// a new reference, or why not (the message after `--arg NAME: `).
using SystemLoader = std::function<Result<rt::Obj *>(const std::string &key, const rt::TypeDesc *type)>;

struct RunOptions {
  std::string proc = "main";               // the procedure to run
  std::map<std::string, std::string> args; // --arg name=value
  SystemLoader loadSystem;                 // model-typed --arg values (empty: no --state given)
  FILE *out = stdout;                      // where print writes
  FILE *err = stderr;                      // the program's uncaught errors and their traces
};

/// The procedure `opts.proc` of `p`, after checking that it has a parameter for every `--arg`
/// name; otherwise `no procedure `P` in FILE` (`mainFile`: the path of the program's first
/// file) or `procedure `P` has no parameter `N``.
Result<const sema::FnInfo *> findProcedure(const sema::Program &p, const RunOptions &opts,
                                           const std::string &mainFile);

/// Whether `proc` has a parameter for every `--arg` name of `opts`; otherwise `procedure `P`
/// has no parameter `N``.
Result<void> checkArgNames(const sema::FnInfo &proc, const RunOptions &opts);

/// The value of parameter `param` (of runtime type `t`) given as `--arg param=text`: a literal
/// of the type (`true`/`false`, `90s`, numbers, a string verbatim, json via parse_json), or for
/// a BusinessSystem the one `opts.loadSystem` loads. A new reference (no error left pending),
/// or `--arg NAME: why`.
Result<rt::Slot> commandLineArg(const sema::ParamInfo &param, const std::string &text, const rt::TypeDesc *t,
                                const RunOptions &opts);

/// `procedure `P` needs --arg N=<T>`: parameter `param` of `proc` has neither a value nor a default.
Error missingArg(const sema::FnInfo &proc, const sema::ParamInfo &param);

/// Why procedure `opts.proc` of `p` cannot be run from the command line ("" when it can): a
/// parameter without a default, or given with `--arg`, whose type `--arg` cannot give (a
/// `Task`, a list, a record, ...). cfmc and cfmd check this before a run.
std::string commandLineProblem(const sema::Program &p, const RunOptions &opts);

/// Runs `body` as the first task of a new scheduler on this thread (every procedure runs as a
/// task) and returns when every task has ended; false leaves the error pending.
bool onMainTask(std::function<bool()> &body);

} // namespace cfm::run
