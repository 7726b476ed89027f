// manager_host.h — what cfmd holds of its manager (cfmd/README.md "Runs, threads and what is
// shared"): the configuration, the federation node when the configuration has [broker]
// (runtime/fed/node.h), and one manager per run. A run gets its own store connection (SQLite
// connections serve one thread at a time) and its own CloudManager (its wait_cloud_event cursor
// is the run's, from the run's start, as API.md says), made the current manager of the run's
// thread only (model::setThreadManager), so runs use the procedure API concurrently. The node's
// arrivals wake every run's waits; a run's publish wakes the node's sender. One agent client (one
// broker connection) serves every run's agent calls.
#pragma once

#include "base/result.h"
#include "runtime/cloud/config.h"
#include "runtime/store/store.h"

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace cfm::rt::cloud {
class CloudManager;
}
namespace cfm::fed {
class Node;
}
namespace cfm::rt::agent {
class AgentClient;
}

namespace cfm::cfmd {

class ManagerHost {
public:
  /// Reads the configuration, opens (creating or upgrading) the store and, with [broker],
  /// starts the federation node (it keeps connecting in the background when the broker is not
  /// there yet). LOG receives the node's log lines.
  static Result<std::unique_ptr<ManagerHost>> open(const std::string &configPath,
                                                   std::function<void(const std::string &)> log);
  ~ManagerHost();

  const rt::cloud::ManagerConfig &config() const { return config_; }

  /// One run's manager: destroyed (and forgotten by the host) when the run ends.
  struct RunManager {
    std::unique_ptr<store::Store> store;
    std::unique_ptr<rt::cloud::CloudManager> manager;
    ManagerHost *host = nullptr;
    ~RunManager();
  };
  Result<std::unique_ptr<RunManager>> forRun();

private:
  ManagerHost() = default;
  void eventsArrived(); // the node's thread

  rt::cloud::ManagerConfig config_;
  std::unique_ptr<store::Store> store_; // opened first: creates and migrates the store
  std::unique_ptr<fed::Node> node_;
  std::mutex mu_;
  std::set<rt::cloud::CloudManager *> live_;
  std::mutex agentsMu_;
  std::unique_ptr<rt::agent::AgentClient> agents_; // shared by every run's manager, made on first use
};

} // namespace cfm::cfmd
