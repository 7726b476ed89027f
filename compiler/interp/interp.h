// interp.h — the interpreter engine: runs a checked program (LANGUAGE.md) on the runtime.
//
// The checked AST is compiled once into a tree of typed nodes (nodes.h): every variable is a
// frame slot chosen by the checker, every operator a node specialised for its static type, so
// nothing is looked up by name and no value carries a type tag at run time. Nodes call the
// same runtime functions the JIT will call (runtime/), so the two engines cannot drift apart.
#pragma once

#include "frontend/frontend.h"
#include "runtime/value.h"

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cfm::interp {

struct RunOptions {
  std::string proc = "main";               // the procedure to run
  std::map<std::string, std::string> args; // --arg name=value
  std::string statePath;                   // --state DB: where model-typed --arg values come from
  FILE *out = stdout;                      // where print writes
  FILE *err = stderr;                      // uncaught errors and usage problems
};

/// Runs `opts.proc` of a checked program. Returns the exit status: 0, or 1 after an uncaught
/// error (`error: <message>` and one `  at <file>:<line>` per frame on `opts.err`) or a bad
/// `--arg`.
int run(const frontend::Compilation &c, const RunOptions &opts);

/// A `--arg` value for a procedure parameter of runtime type `t` (written `typeName`): a
/// literal of the type (LANGUAGE.md: `true`/`false`, `90s`, numbers, a string verbatim, json via
/// parse_json), or for a BusinessSystem the system of that name or id in the store at
/// `statePath`. A new reference in `out`; false with `why` (no error left pending). Both engines
/// read `--arg` values with it.
bool commandLineArg(const std::string &text, const rt::TypeDesc *t, const std::string &typeName,
                    const std::string &statePath, rt::Slot &out, std::string &why);

/// For the REPL: runs procedure `proc` with ready argument values (owned references, one per
/// parameter), then hands back the final values of the variables `keep` (new references, in
/// order) and their runtime types. The compiled program stays alive in `holder`: values it made
/// refer to its type descriptors. Returns 0, 1 (an uncaught error, reported on `err`) or 3 (the
/// program uses what the interpreter does not run yet).
int runForRepl(const frontend::Compilation &c, const std::string &proc, std::vector<rt::Slot> args,
               const std::vector<const sema::Var *> &keep, std::vector<rt::Slot> &kept,
               std::vector<const rt::TypeDesc *> &keptTypes, std::shared_ptr<void> &holder, FILE *out,
               FILE *err);

} // namespace cfm::interp
