// local_cmd.h — `cfmc local up|status|down|kill`: the local federation on this machine (API.md
// "The local federation"; docs/local-federation.md). So far its clouds: one `cfm-cloud` per cloud,
// the AWS profiles, each manager's configuration and the context file. The broker and the
// managers' daemons come with later issues (local_cmd.cpp marks where they start and stop).
#pragma once

#include <string>
#include <vector>

namespace cfm::driver {

/// Runs `cfmc local ARGS...`; returns the exit status (0 ok, 1 failure, 2 bad usage).
int cmdLocal(const std::vector<std::string> &args);

} // namespace cfm::driver
