// open.h — a manager opened in one process: its configuration, its store and the CloudManager the
// engines reach through cfm::model::setCurrentManager (runtime/model/manager.h). `cfmc run
// --manager NAME|--config FILE` opens one in-process when no daemon answers; `cfmd` opens one for
// its whole life.
#pragma once

#include "base/result.h"
#include "runtime/cloud/config.h"
#include "runtime/model/manager.h"
#include "runtime/store/store.h"

#include <memory>
#include <string>

namespace cfm::rt::cloud {

/// A manager opened in this process. Members are destroyed in reverse order: the manager before
/// the store it uses.
struct OpenedManager {
  ManagerConfig config;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<model::Manager> manager;
};

/// How often a manager opened in-process reads the store again while a wait_cloud_event waits.
constexpr int64_t kInProcessEventPollMs = 1000;

/// Reads the manager configuration at `configPath`, opens (creating it when missing) its store
/// and builds the manager on them. Errors name the file.
Result<std::unique_ptr<OpenedManager>> openManager(const std::string &configPath);

} // namespace cfm::rt::cloud
