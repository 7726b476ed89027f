// frontend.h — one compilation: load a file and its imports, parse them, check the program.
//
// This is the entry point every client of the front end uses (cfmc check, the REPL, the test
// driver, later the engines). Nothing here prints: diagnostics stay in the Compilation.
#pragma once

#include "ast/ast.h"
#include "base/result.h"
#include "parse/parser.h"
#include "sema/checker.h"
#include "support/diagnostics.h"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cfm::frontend {

struct Compilation {
  support::SourceManager sources;
  support::DiagnosticEngine diags{sources};
  std::vector<std::unique_ptr<ast::Module>> modules; // the root file first, then its imports
  sema::Program program;
  bool syntaxErrors = false;
  parse::PhaseTimes times; // summed over all files
  bool ok() const { return diags.errorCount() == 0; }
};

/// An import path that starts with this names a module of the standard library:
/// `import "std/retry.cfp";` reads `retry.cfp` in the stdlib folder, not beside the importer.
inline constexpr std::string_view kStdImportPrefix = "std/";

/// The standard library's folder (absolute, normalized): `$CFM_STDLIB` when it is set and not
/// empty, else `share/cfm/stdlib` beside the folder of the running program
/// (`build/bin/cfmc` → `build/share/cfm/stdlib`, which the build links to the source folder
/// `stdlib/`; installed, `PREFIX/bin/cfmc` → `PREFIX/share/cfm/stdlib`). The folder need not
/// exist: an import from it then says so, naming it.
std::string stdlibDir();

/// The path the loader reads for `import "importPath";` in the file `importer`: beside it, or for
/// `std/NAME` in `stdlib`; empty for a `std/` path that is not a plain relative name (`.`/`..`).
std::string importTarget(const std::string &importer, const std::string &importPath,
                         const std::string &stdlib);

/// Loads `path` (an error if it cannot be read), follows its imports (paths relative to the
/// importing file, `std/...` in the stdlib folder; each file once; cycles allowed), parses
/// everything and, when there were no syntax errors, type-checks the program. Diagnostics are
/// in the returned Compilation.
Result<std::unique_ptr<Compilation>> compileFile(const std::string &path);

/// Reads one source file of a program (the root, then each import) by the path the loader made
/// of it (an import's path joined to its importer's folder).
using SourceReader = std::function<Result<std::string>(const std::string &path)>;
/// compileFile with the files from `read` instead of the file system: cfmd compiles the files a
/// client sent; the client learns which files a program needs by recording what it reads.
Result<std::unique_ptr<Compilation>> compileFile(const std::string &path, const SourceReader &read);
/// The same with `std/...` imports read from `stdlib` instead of stdlibDir() (through `read`,
/// as `stdlib/NAME.cfp`): cfmd compiles a client's program against the stdlib files the client
/// sent, under the folder name the client read them from.
Result<std::unique_ptr<Compilation>> compileFile(const std::string &path, const SourceReader &read,
                                                 const std::string &stdlib);

/// The same for source text that is not in a file (REPL, tests); `path` names it in diagnostics.
std::unique_ptr<Compilation> compileText(const std::string &path, std::string text);

/// A source text that is not in a file: its name in diagnostics and traces, the text, and where
/// what the user typed ends when the rest was generated around it (support::SourceFile::typedEnd).
struct SourceText {
  std::string path;
  std::string text;
  size_t typedEnd = std::string::npos;
};
/// Several texts as one program: the first is the root (modules[0]); the others are loaded after
/// it as if it imported them, each keeping its own name and line numbers (the REPL: the current
/// input, and each earlier input that declared something).
std::unique_ptr<Compilation> compileTexts(std::vector<SourceText> texts);

/// A ConfigTemplate's text that arrived at run time, as a program of one template
/// `config_template` with parameters `names` of the language types `types`
/// (the header line, then the text), checked on a large stack and named
/// `<template NAME>`. nullptr with `error` set when it does not compile (`line N: message`, N
/// counting the text's own lines). Both engines' template compilers start here.
std::unique_ptr<Compilation> compileTemplate(const std::string &name, std::string_view text,
                                             const std::vector<std::string> &names,
                                             const std::vector<std::string> &types, std::string &error);

/// Runs `fn` on a thread with a `stackBytes` stack and waits for it: the front end recurses over
/// trees whose depth kMaxNesting/kMaxExprDepth bound, which needs more than a default stack.
void runWithLargeStack(const std::function<void()> &fn, size_t stackBytes = size_t(512) << 20);

/// Runs `fn` on the process's one front-end thread (a 512 MiB stack, made on first use and kept)
/// and waits for it; callers take turns. For a process that compiles again and again (`cfmc
/// lsp`): a fresh thread per compilation maps, faults in and unmaps its whole stack each time.
/// Only for front-end work that ends on its own — never to run a program, which may wait on
/// another caller (use runWithLargeStack). Thread-local state persists between calls.
void runOnFrontendThread(const std::function<void()> &fn);

} // namespace cfm::frontend
