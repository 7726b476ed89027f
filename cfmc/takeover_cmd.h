// takeover_cmd.h — `cfmc takeover SYS --manager NAME`: manager NAME becomes the owner of business
// system SYS at the next epoch (issue 15: ownership with fencing; runtime/fed/README.md,
// "Ownership"), and `cfmc owner SYS`, which shows a manager's record of who owns it.
#pragma once

#include <string>
#include <vector>

namespace cfm::driver {

/// Runs `cfmc takeover ARGS...`; returns the exit status (0 ok, 1 failure, 2 bad usage).
int cmdTakeover(const std::vector<std::string> &args);
/// Runs `cfmc owner ARGS...`; returns the exit status (0 ok, 1 failure, 2 bad usage).
int cmdOwner(const std::vector<std::string> &args);

} // namespace cfm::driver
