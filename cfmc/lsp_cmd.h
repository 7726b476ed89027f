// lsp_cmd.h — `cfmc lsp`: the language server (LSP 3.17 over stdin and stdout; compiler/lsp),
// which the editors' clients in editors/ start.
#pragma once

#include <string>
#include <vector>

namespace cfm::driver {

/// Runs `cfmc lsp [--debounce MS]`; returns the exit status (0 after shutdown and exit, 1 when
/// the client went away without them, 2 on bad usage).
int cmdLsp(const std::vector<std::string> &args, const char *version);

} // namespace cfm::driver
