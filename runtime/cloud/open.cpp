// open.cpp — opening a manager (open.h): the configuration (config.h), the store it names and the
// CloudManager on both; shared by `cfmc run --manager/--config` and `cfmd`.
#include "runtime/cloud/open.h"

#include "runtime/cloud/manager.h"

namespace cfm::rt::cloud {

namespace {

/// The one place the manager is constructed.
Result<std::unique_ptr<model::Manager>> makeManager(const ManagerConfig &config, store::Store &store) {
  auto m = CloudManager::create(config, store);
  if (!m) return m.takeError();
  // No federation node in this process: events another process (the manager's daemon) stores
  // reach the waits by reading the store again each second.
  (*m)->setStorePollMs(kInProcessEventPollMs);
  return std::unique_ptr<model::Manager>(std::move(*m));
}

} // namespace

Result<std::unique_ptr<OpenedManager>> openManager(const std::string &configPath) {
  auto opened = std::make_unique<OpenedManager>();
  auto config = readManagerConfig(configPath);
  if (!config) return config.takeError();
  opened->config = std::move(*config);
  auto st = store::Store::open(opened->config.storePath);
  if (!st) return st.takeError();
  opened->store = std::move(*st);
  auto m = makeManager(opened->config, *opened->store);
  if (!m) return m.takeError();
  opened->manager = std::move(*m);
  return opened;
}

} // namespace cfm::rt::cloud
