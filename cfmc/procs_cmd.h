// procs_cmd.h — `cfmc procs put|list|show|rm`: a business system's procedure files in a
// manager's store, through its daemon's control API (cfmd/daemon/procs_api.h), shared with the
// other managers as part of the system's configuration (runtime/fed/README.md).
#pragma once

#include <string>
#include <vector>

namespace cfm::driver {

int cmdProcs(const std::vector<std::string> &args);

} // namespace cfm::driver
