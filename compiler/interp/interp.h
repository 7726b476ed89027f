// interp.h — the interpreter engine: runs a checked program (LANGUAGE.md) on the runtime.
//
// The checked AST is compiled once into a tree of typed nodes (nodes.h): every variable is a
// frame slot chosen by the checker, every operator a node specialised for its static type, so
// nothing is looked up by name and no value carries a type tag at run time. Nodes call the
// same runtime functions the JIT will call (runtime/), so the two engines cannot drift apart.
#pragma once

#include "frontend/frontend.h"
#include "run/run.h"
#include "runtime/value.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace cfm::interp {

/// Runs `opts.proc` of a checked program (the run set-up of compiler/run). The exit status: 0,
/// or 1 after an uncaught error (`error: <message>` and one `  at <file>:<line>` per frame on
/// `opts.err`); an error when the run cannot start (no such procedure, a bad or missing
/// `--arg`: the message a program shows as `cfmc: error: <message>`, exit status 1).
Result<int> run(const frontend::Compilation &c, const run::RunOptions &opts);

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
