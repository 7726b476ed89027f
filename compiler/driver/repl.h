// repl.h — `cfmc repl`: the interactive session (line editing, history, continuation lines,
// declarations and variables that persist between inputs, values printed, :type, :help,
// :load, :quit). Without a terminal on standard input it reads the same input without prompts.
#pragma once

namespace cfm::driver {

int runRepl(bool useLineEditing);

} // namespace cfm::driver
