// manager.h — CloudManager: the procedure API's manager (runtime/model/manager.h) over one EC2
// cloud (ec2.h) and the manager's SQLite store (runtime/store): run_vm, terminate_vm,
// attach_volume, associate_address, reload, set_property, this_manager, this_cloud.
//
// Every method runs on the calling task and suspends it while the cloud answers; it returns
// false after rt::raise: kind "cloud" with the EC2 code (or the client's `Unavailable`,
// `InvalidReply`, the waiters' `IncorrectInstanceState`), "cloud" with code `no_mapping` when the
// configuration maps no image or instance type for the element's VMClass, "cloud" with code
// `not_found` for a system, element or VM the store does not have, "cloud" with code `store`
// when the store fails, "timeout" when the call's timeout ran out.
//
// Instance names: run_vm takes the element instance's index in one store transaction (the
// smallest free one, Store::claimElementInstance), so two tasks or processes of one manager
// never take the same; between managers the name carries the manager: the VM's Name tag is
// `<element>-<index>@<manager>`, so `web-3@a` and `web-3@b` stay apart (API.md: "the cloud in
// the name").
//
// Agents (docs/agent-protocol.md), when the configuration has [broker]: run_vm makes the VM's
// agent key and broker password before RunInstances, passes them in the user data (the
// contract's JSON, base64), keeps them in the store with the VM instance
// (Store::saveAgentCredentials), makes the agent's broker account once the instance id is known,
// and after `running` waits for the agent's first ping answer within the call's timeout;
// terminate_vm deletes the account and the credentials. run_agent_command and put_file go
// through the agent client (runtime/agent/client.h), connected on first use. Without [broker]
// they are the "agent" error `unreachable` ("... has no broker").
//
// Cloud events (events.cpp): publish_cloud_event writes the event into the store's history and
// outbox in one transaction (Store::publishEvent; the federation sends the outbox);
// wait_cloud_event reads the history from the run's start, keeps which events the run was given,
// and sleeps on the scheduler until an event is stored (by the run or, through eventsArrived(),
// by the federation) or the timeout passes.
#pragma once

#include "runtime/agent/client.h"
#include "runtime/cloud/config.h"
#include "runtime/cloud/ec2.h"
#include "runtime/model/manager.h"
#include "runtime/store/store.h"

#include "runtime/sched/scheduler.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace cfm::rt::cloud {

/// The codes of the manager's own "cloud" errors (see the file comment).
inline constexpr std::string_view kNoMappingCode = "no_mapping";
inline constexpr std::string_view kNotFoundCode = "not_found";
inline constexpr std::string_view kStoreCode = "store";

/// Calls without a timeout argument (attach_volume, associate_address) end within this.
inline constexpr int64_t kDefaultCallTimeoutMs = 10 * 60 * 1000;

/// A new agent client on CONFIG's broker (its own client id), connected and subscribed.
Result<std::unique_ptr<agent::AgentClient>> connectAgents(const ManagerConfig &config);

class CloudManager : public model::Manager {
public:
  /// A manager for `config` on `store` (which outlives it): reads the credentials file of the
  /// configuration and starts, or shares, the process's HttpClient.
  static Result<std::unique_ptr<CloudManager>> create(const ManagerConfig &config, store::Store &store,
                                                      RetryPolicy retry = {}, WaitPolicy wait = {});

  std::string managerName() const override { return config_.managerName; }
  std::string cloudName() const override { return config_.cloudName; }

  bool runVm(std::string_view systemId, std::string_view element, int64_t timeoutMs,
             model::VMInstance &vm) override;
  bool terminateVm(std::string_view vmId, int64_t timeoutMs) override;
  bool attachVolume(std::string_view vmId, int64_t sizeGb, std::string_view device, std::string_view volume,
                    std::string &volumeId) override;
  bool associateAddress(std::string_view vmId, std::string_view address, std::string &out) override;
  bool reload(std::string_view systemId, SystemState &out) override;
  bool setProperty(std::string_view systemId, std::string_view propertyId, std::string_view valueJson,
                   SystemState &out) override;

  bool runAgentCommand(std::string_view vmId, std::string_view command, int64_t timeoutMs,
                       const std::vector<std::pair<std::string, std::string>> &env,
                       CommandResult &out) override;
  bool putFile(std::string_view vmId, std::string_view path, std::string_view content,
               std::string_view mode) override;

  // Cloud events (events.cpp; API.md "Cloud events"). The run's events are those the store
  // gained after the manager was made (one CloudManager serves one run).
  bool publishCloudEvent(std::string_view systemId, std::string_view name,
                         std::string_view dataJson) override;
  bool waitCloudEvent(std::string_view systemId, std::string_view name, int64_t timeoutMs,
                      const std::function<bool(std::string_view)> &accept, CloudEvent &out) override;
  /// Another part of the process (the federation node) stored new events: wakes the run's tasks
  /// waiting in wait_cloud_event. Any thread.
  void eventsArrived();
  /// Called on the run's thread after each event the run publishes is in the outbox (the
  /// federation sender's wake-up). Set before the run starts.
  void setOnPublished(std::function<void()> f) { onPublished_ = std::move(f); }
  /// Fencing (runtime/fed/README.md, "Ownership"): given a system's shared record, why this
  /// manager must not act on clouds for it ("" when it may). run_vm, terminate_vm,
  /// attach_volume and associate_address then fail with the "cloud" error `fenced` before any
  /// cloud call. Unset (no federation): never fenced. Set before the run starts.
  void setFence(std::function<std::string(const store::Store::SharedConfig &)> f) { fence_ = std::move(f); }
  /// Where the agent client comes from: SOURCE gives the process's shared one (cfmd keeps one
  /// connection to the broker for all its runs: a run's first agent call then needs no
  /// connection of its own); unset, the manager connects its own on first use.
  void setAgentSource(std::function<Result<agent::AgentClient *>()> source) {
    agentSource_ = std::move(source);
  }
  /// Where no federation node of this process calls eventsArrived() (a manager opened by `cfmc
  /// run` or `cfmc repl` beside the manager's daemon), a wait_cloud_event reads the store again
  /// every MS milliseconds (0, the default: only when woken).
  void setStorePollMs(int64_t ms) { storePollMs_ = ms; }
  /// Without a broker, publish_cloud_event fails (`not_connected`) once the outbox holds this many.
  static constexpr int64_t kMaxOutboxWithoutBroker = 100000;

  Ec2Client &client() { return *client_; }

private:
  CloudManager(ManagerConfig config, store::Store &store, std::unique_ptr<Ec2Client> client)
      : config_(std::move(config)), store_(store), client_(std::move(client)) {}

  /// The system key (its id) and record of VM `vmId` in the store; nullopt when it has none.
  struct StoredVm {
    std::string systemKey;
    model::VMInstance vm;
  };
  Result<std::optional<StoredVm>> findVm(std::string_view vmId);
  /// Applies `change` to VM `vmId`'s record, when the store has one.
  bool updateVm(std::string_view vmId, const std::function<void(model::VMInstance &)> &change);
  bool noBroker() const;
  /// Raises the "cloud" error `store` for a failed store call (manager.cpp, events.cpp).
  static bool failStore(const Error &e);
  /// The connected agent client, or nullptr after raising "agent" `unreachable`.
  agent::AgentClient *agents();
  /// The key (32 bytes) of VM `vmId`'s agent, or false after raising.
  bool agentKey(std::string_view vmId, std::string &key);
  /// The agent side of run_vm once the instance id is known: account, wait for ping.
  bool startAgent(const model::VMInstance &vm, const std::string &key, const std::string &password,
                  const Deadline &deadline);
  bool markElementInstances(const std::string &systemKey, std::string_view vmId, std::string_view state);
  /// True after raising "cloud" `fenced` when this manager must not act for system SYSTEMKEY;
  /// also true after raising `store` when the record cannot be read.
  bool fenced(const std::string &systemKey);
  /// fenced() for the system VM `vmId` belongs to (none known: not fenced).
  bool fencedVm(std::string_view vmId);
  std::function<std::string(const store::Store::SharedConfig &)> fence_;
  int64_t storePollMs_ = 0;
  std::function<Result<agent::AgentClient *>()> agentSource_;

  ManagerConfig config_;
  store::Store &store_;
  std::unique_ptr<Ec2Client> client_;
  std::mutex agentsMu_;
  std::unique_ptr<agent::AgentClient> agents_;

  // Cloud events: the store's last event when the run began; per (system, name) the arrival
  // order up to which every event was given to the run; those given beyond it; the tasks waiting.
  int64_t eventsStart_ = 0;
  std::map<std::pair<std::string, std::string>, int64_t> eventCursor_;
  std::set<int64_t> eventsGiven_;
  std::mutex eventsMu_;
  std::vector<std::shared_ptr<sched::Completion>> eventWaiters_;
  std::function<void()> onPublished_;
};

} // namespace cfm::rt::cloud
