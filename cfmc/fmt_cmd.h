// fmt_cmd.h — `cfmc fmt [--check] [--diff] FILE|DIR|-...`: lays procedure files out in CFM's one
// canonical layout (compiler/format, docs/fmt.md), in place, or checks that they are.
#pragma once

#include <string>
#include <vector>

namespace cfm::driver {

/// Runs `cfmc fmt ARGS...`; returns the exit status (0 ok, 1 a file would change under --check
/// or could not be formatted, 2 bad usage).
int cmdFmt(const std::vector<std::string> &args);

} // namespace cfm::driver
