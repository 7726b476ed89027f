// demo_cmd.h — `cfmc demo`: CFM's main job shown end to end (issue 16, docs/demo.md): a local
// federation of two clouds, the web3 sample started in cloud a with its standby in cloud b, a
// load generator writing and reading rows through its load balancer, a scale-out that cloud a's
// quota sends into cloud b, then the disaster (`cfmc local kill a`) and the recovery in b, with
// the RTO and RPO measured; everything stopped at the end, whatever happens.
#pragma once

#include <string>
#include <vector>

namespace cfm::driver {

/// Runs `cfmc demo ARGS...`; 0 only when the system recovered with RPO 0, 1 otherwise, 2 on bad
/// usage.
int cmdDemo(const std::vector<std::string> &args);

} // namespace cfm::driver
