// repl.h — `cfmc repl`: the interactive session (line editing, history, continuation lines,
// declarations and variables that persist between inputs, values printed, :type, :doc, :help,
// :load, :quit; Tab completion from the language server's engine). Without a terminal on
// standard input it reads the same input without prompts.
#pragma once

namespace cfm::driver {

/// `jit`: run each input with the JIT (`--engine jit`, the default of `cfmc repl`, at
/// `optLevel`); an input the JIT does not compile runs in the interpreter instead, silently.
int runRepl(bool useLineEditing, bool jit = false, int optLevel = 2);

} // namespace cfm::driver
