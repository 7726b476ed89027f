// repl_session.h — the evaluation core of a REPL session (`cfmc repl`, and the sessions cfmd holds for
// `cfmc repl --manager`; cfmd/README.md "REPL sessions"): declarations and variables that persist
// between inputs, values printed, `:type`, `:help`, `:load`, `:quit`, and `:doc` through a hook
// (the language server's engine is the front end's program, not this floor's). Everything it
// prints goes to the two streams it is given, exactly as the local REPL prints it. It knows
// nothing of terminals or sockets: cfmc/repl.cpp reads lines, cfmd/daemon/repl_host.cpp serves
// inputs over the control API.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace cfm::repl {

/// True while the text has an open bracket, string, template or block comment.
bool needsMore(const std::string &s);
/// `s` without leading and trailing blanks.
std::string trim(const std::string &s);

/// The text of `:help`.
extern const char *const kHelp;

class Session {
public:
  /// `jit`: each input runs with the JIT (at `optLevel`); an input the JIT does not compile runs
  /// in the interpreter instead, silently. `out`/`err`: where values, types and diagnostics go.
  Session(bool jit, int optLevel, FILE *out, FILE *err);
  ~Session();
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  /// Handles one complete input; returns false to end the session (`:quit`).
  bool handle(const std::string &raw);

  /// `:doc NAME` answers through this (nullopt: no such name); without it `:doc` says it is not
  /// available here.
  using DocHook = std::function<std::optional<std::string>(const std::string &name)>;
  void setDocHook(DocHook hook);
  /// Held while the front end compiles an input (cfmd serializes compiling across its runs).
  void setCompileMutex(std::mutex *mu);
  /// Refuse `:load` (a session whose files are on another machine) with this message.
  void refuseLoad(std::string why);

  /// The declarations accepted so far, oldest first, one text after another (for completion
  /// and `:doc`).
  std::string declarationsText() const;
  /// `procedure __repl(__in0: T0, ...) { let x = __in0; ... if true { `: what comes before an
  /// input on its first line when it runs.
  std::string procedureHeader() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace cfm::repl
