// manager_open.h — the manager `cfmc run --manager NAME|--config FILE` runs a procedure in (until
// the manager daemon exists, in-process): its configuration, its store and the cloud manager the
// engines reach through cfm::model::setCurrentManager (runtime/model/manager.h).
#pragma once

#include "base/result.h"
#include "runtime/cloud/config.h"
#include "runtime/model/manager.h"
#include "runtime/store/store.h"

#include <memory>
#include <string>

namespace cfm::driver {

/// A manager opened in this process. Members are destroyed in reverse order: the manager before
/// the store it uses.
struct OpenedManager {
  rt::cloud::ManagerConfig config;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<model::Manager> manager;
};

/// Reads the manager configuration at `configPath`, opens (creating it when missing) its store
/// and builds the manager on them. Errors name the file.
Result<std::unique_ptr<OpenedManager>> openManager(const std::string &configPath);

} // namespace cfm::driver
