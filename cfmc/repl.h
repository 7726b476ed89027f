// repl.h — `cfmc repl`: the interactive session (line editing, history, continuation lines,
// declarations and variables that persist between inputs, values printed, :type, :doc, :help,
// :load, :quit; Tab completion from the language server's engine). Without a terminal on
// standard input it reads the same input without prompts.
#pragma once

#include "cfmc/context.h"

namespace cfm::driver {

/// `jit`: run each input with the JIT (`--engine jit`, the default of `cfmc repl`, at
/// `optLevel`); an input the JIT does not compile runs in the interpreter instead, silently.
int runRepl(bool useLineEditing, bool jit = false, int optLevel = 2);

/// `cfmc repl --manager NAME` with NAME's daemon answering on `t`'s socket: a session held by
/// the daemon evaluates every input (cfmc/repl_remote.h); completion and `:doc` stay here.
int runReplOnDaemon(const DaemonTarget &t, bool useLineEditing);

/// `cfmc repl` with a manager chosen: through its daemon when it answers (the REPL's status);
/// without one, an error naming how to start it (1), or -1 with `inProcess` (the caller opens
/// the manager in this process). `--in-process` beside a daemon that answers is refused (1).
int replManagerChoice(const ManagerChoice &choice, bool inProcess, bool useLineEditing);

} // namespace cfm::driver
