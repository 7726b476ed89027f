// ovf_cmd.h — `cfmc ovf validate|import|show|export`: OVF descriptors of business systems and the
// SQLite store they are imported into (README.md, "cfmc ovf").
#pragma once

#include <string>
#include <vector>

namespace cfm::driver {

/// Runs `cfmc ovf ARGS...`; returns the exit status (0 ok, 1 failure, 2 bad usage).
int cmdOvf(const std::vector<std::string> &args);

} // namespace cfm::driver
