// daemon_client.h — cfmc as a client of a manager's daemon (cfmd; API.md "Where procedures run"):
// `cfmc run --manager NAME FILE` through the daemon when its socket answers, and the commands
// `cfmc runs`, `cfmc logs RUN`, `cfmc cancel RUN`. They speak cfmd's control API
// (cfmd/control_api.h) over its Unix socket.
#pragma once

#include "cfmc/context.h"

#include <map>
#include <string>
#include <vector>

namespace cfm::driver {

/// What `cfmc run` asks a daemon to run.
struct DaemonRun {
  std::string file; // the root file, as given
  std::string proc = "main";
  std::map<std::string, std::string> args;
  std::string engine = "jit";
  bool detach = false;
  /// `--stored SYSTEM`: `file` names SYSTEM's procedure file in the manager's store
  /// (`cfmc procs`), which the daemon reads with its imports; nothing is sent.
  std::string storedSystem;
};

/// True when `t`'s daemon answers on its socket (then `cfmc run` goes through it).
bool daemonAnswers(const DaemonTarget &t);

/// Sends the root file and every file it imports (by the relative paths they are read by, so
/// that messages name them as a local run does; when one is absolute or above the working
/// folder, by paths relative to the root file's folder, and a file outside that folder is an
/// error) to the daemon and runs `r.proc` there: the run's
/// output comes to this process's stdout and stderr as it is written, and the exit status is
/// the run's. Ctrl-C asks the daemon to cancel the run (a second one leaves at once, 130).
/// With `detach` prints the run's id and returns 0 at once.
int runOnDaemon(const DaemonTarget &t, const DaemonRun &r);

/// `cfmc runs`, `cfmc logs`, `cfmc cancel` (their own options and --help).
int cmdRuns(const std::vector<std::string> &args);
int cmdLogs(const std::vector<std::string> &args);
int cmdCancel(const std::vector<std::string> &args);

} // namespace cfm::driver
