// events_cmd.h — `cfmc events SYS`: a business system's cloud-event history as one manager holds
// it (API.md "Cloud events"), read from the manager's store, optionally followed.
#pragma once

#include <string>
#include <vector>

namespace cfm::driver {

/// Runs `cfmc events ARGS...`; returns the exit status (0 ok, 1 failure, 2 bad usage).
int cmdEvents(const std::vector<std::string> &args);

} // namespace cfm::driver
