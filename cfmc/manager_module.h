// manager_module.h — what `cfmc` reaches through libcfm_manager_module.so, the shared object that
// holds the cloud driver, the agent client, the network clients (libcurl, Paho MQTT, libcrypto)
// the local broker's secrets and `cfmc demo`, loaded on first use (issue 18: commands that do not talk to a
// cloud or a broker start without mapping those libraries). The entry table, its version, and
// `managerModule()`, the loader (manager_load.cpp): dlopen($CFM_MANAGER_MODULE or <folder of
// /proc/self/exe>/libcfm_manager_module.so, RTLD_NOW) once per process, every failure an error
// value. Each entry catches what might be thrown (manager_module.cpp): no exception crosses the
// table. The module's references to the store, the model and the runtime bind to cfmc's own
// (cfmc exports its symbols, as for the JIT engine, compiler/jitload).
#pragma once

#include "base/result.h"
#include "cfmc/local_broker.h"
#include "runtime/cloud/open.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace cfm::driver {

/// Bumped whenever the table or a type it passes changes.
constexpr int kManagerModuleVersion = 1;
constexpr const char *kManagerModuleFile = "libcfm_manager_module.so";
constexpr const char *kManagerModuleEnv = "CFM_MANAGER_MODULE";
constexpr const char *kManagerModuleEntry = "cfm_manager_module";

struct ManagerModule {
  int version;
  /// runtime/cloud/open.h's openManager.
  Result<std::unique_ptr<rt::cloud::OpenedManager>> (*openManager)(const std::string &configPath);
  /// local_broker.h's writeBrokerFiles and brokerAnswers.
  Result<BrokerFiles> (*writeBrokerFiles)(const std::string &dir, const std::vector<std::string> &managers);
  Result<void> (*brokerAnswers)(const BrokerFiles &b, std::chrono::milliseconds timeout);
  /// `cfmc demo` (demo_cmd.h's cmdDemo; its load generator speaks HTTP with libcurl).
  int (*demo)(const std::vector<std::string> &args);
};

/// The module, loaded on the first call (once per process; later calls return the same result).
Result<const ManagerModule *> managerModule();

/// `cfmc demo` through the module: prints the load error and returns 1 when it cannot be loaded.
int cmdDemoInModule(const std::vector<std::string> &args);

/// openManager through the module (its load error when it cannot be loaded).
Result<std::unique_ptr<rt::cloud::OpenedManager>> openManagerInModule(const std::string &configPath);

} // namespace cfm::driver
