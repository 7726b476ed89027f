// context.h — the local federation's context file (`<dir>/context.json`, written by `cfmc local
// up`): the clouds it started (config, endpoint, region, pid, state folder), the broker (url, pid,
// folder) and the managers' configurations. `cfmc local status|down|kill` read it, and `cfmc run --manager
// NAME` / `cfmc ovf import --manager NAME` find manager NAME's configuration in it. docs/local-federation.md
// describes the format.
#pragma once

#include "base/result.h"

#include <optional>
#include <string>
#include <vector>

namespace cfm::driver {

struct ContextCloud {
  std::string name, config, endpoint, region, stateDir;
  long pid = 0;
};

struct ContextManager {
  std::string name, config, cloud;
  std::string socket; // its cfmd's control socket; "" : the configuration's (cfmc/daemon_client.h)
  long pid = 0;       // its cfmd (cfmc local up); 0: none recorded
};

/// The federation's MQTT broker (mosquitto; docs/local-federation.md "The broker").
struct ContextBroker {
  std::string url, dir, config; // tcp://127.0.0.1:PORT, DIR/broker, DIR/broker/mosquitto.conf
  long pid = 0;
};

struct Context {
  std::string path; // the file read or to write
  std::string dir;  // the folder of the federation's files
  std::vector<ContextCloud> clouds;
  std::vector<ContextManager> managers;
  std::optional<ContextBroker> broker; // null in a context written before the broker existed
};

/// The context file to use: `given` (--context) when not empty, else $CFM_CONTEXT, else
/// ./.cfm/context.json.
std::string contextPath(const std::string &given);

/// Reads and checks a context file; errors name the file.
Result<Context> readContext(const std::string &path);
/// The file's JSON text (version 1; "broker" null when there is none).
std::string contextJson(const Context &c);

/// Manager `name` of the context, or the error `no manager named `x` in FILE (managers: a, b)`.
Result<const ContextManager *> findManager(const Context &c, const std::string &name);
/// Cloud `name` of the context, or the error `no cloud named `x` in FILE (clouds: a, b)`.
Result<const ContextCloud *> findCloud(const Context &c, const std::string &name);

/// Where a command's manager configuration comes from: --config FILE, else --manager NAME,
/// else $CFM_MANAGER, looked up in the context file (--context, $CFM_CONTEXT, ./.cfm/context.json).
struct ManagerChoice {
  std::string config, manager, context; // as given on the command line ("" : not given)
};
/// The configuration file to use; "" when no manager was asked for (neither option nor
/// $CFM_MANAGER). Both --config and --manager is a usage error.
Result<std::string> managerConfigPath(const ManagerChoice &choice);

/// The manager's daemon (cfmd) as a client finds it: its name and control socket (the context
/// entry's `socket`, else the configuration's `[manager] socket`, else cfmd.sock beside its
/// store). A Usage error when no manager was asked for.
struct DaemonTarget {
  std::string name, socket, config;
};
Result<DaemonTarget> daemonTarget(const ManagerChoice &choice);

} // namespace cfm::driver
