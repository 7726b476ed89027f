// client.h — the manager's agent client (docs/agent-protocol.md): one MQTT v5 connection to the
// broker as `manager-<name>` (net/mqtt), requests to a VM's agent signed with that VM's key
// (net/agent_proto: fresh id, nonce and timestamp), replies matched by correlation id and
// verified, and the broker accounts of agents made and deleted through the dynamic-security
// plugin's $CONTROL topic.
//
// Calls run on a scheduler task (runtime/sched): the request is published, then the task
// suspends on a sched::Completion that Paho's callback thread completes when the reply arrives
// — no thread waits per call (the publish itself waits for the broker's PUBACK, a loopback
// round trip). A request stays pending until answered: after every reconnection a thread of
// this client publishes the unanswered ones again, the identical bytes (same id, nonce and
// signature), so that the agent's exactly-once store answers a copy it has seen without running
// it again; a request whose first publish failed because the connection was down is sent that
// way too. Errors are raised as runtime errors (rt::raise): "agent" with code
// `unreachable` (refused by a connected broker, or no reply within the call's timeout + 10 s,
// also when the broker stayed away that long), `rejected` or
// `io` (the agent's answer), "timeout" (the agent's `timed_out`).
#pragma once

#include "base/result.h"
#include "net/agent_proto.h"
#include "net/mqtt.h"
#include "runtime/model/manager.h"
#include "runtime/sched/scheduler.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace cfm::rt::agent {

/// How much longer than a call's own timeout the manager waits for the reply.
inline constexpr int64_t kReplyGraceMs = 10000;

struct ClientOptions {
  std::string url;      ///< tcp://127.0.0.1:PORT
  std::string username; ///< manager-<name>
  std::string password;
  std::string clientId; ///< unique per process
};

class AgentClient {
public:
  /// Connects (retrying within `timeout`) and subscribes to the agents' replies and the
  /// plugin's responses.
  static Result<std::unique_ptr<AgentClient>> connect(const ClientOptions &options,
                                                      std::chrono::milliseconds timeout);
  ~AgentClient();

  /// Runs `command` on `instance`'s agent (key: the 32-byte key); on a task.
  bool runCommand(std::string_view instance, std::string_view key, std::string_view command,
                  const std::vector<std::pair<std::string, std::string>> &env, int64_t timeoutMs,
                  model::Manager::CommandResult &out);
  /// Writes a file through the agent; on a task.
  bool putFile(std::string_view instance, std::string_view key, std::string_view path,
               std::string_view content, uint32_t mode, int64_t timeoutMs);
  /// Asks the agent for a ping answer; on a task.
  bool ping(std::string_view instance, std::string_view key, int64_t timeoutMs);

  /// Makes the broker account of `instance`'s agent: client `instance` (password), role
  /// `agent-<instance>` with exactly its three topics; on a task. An account that exists is
  /// replaced.
  bool createAgentAccount(std::string_view instance, std::string_view password, int64_t timeoutMs);
  /// Deletes the account and the role (a missing one is no error); on a task.
  bool deleteAgentAccount(std::string_view instance, int64_t timeoutMs);

private:
  AgentClient() = default;
  void onMessage(const net::MqttMessage &m);
  /// Sends `req` (signed) and suspends until its verified reply; raises on failure.
  bool call(net::AgentRequest &req, std::string_view key, int64_t waitMs, net::AgentReply &reply);
  /// Publishes dynamic-security commands and suspends until the plugin's response; the
  /// commands' errors are returned in `errors` (one per command, "" when it succeeded).
  bool control(const std::string &commandsJson, size_t count, int64_t timeoutMs,
               std::vector<std::string> &errors);

  /// The resending thread: after each reconnection, publishes every pending request again.
  void resendMain();

  struct Pending {
    std::shared_ptr<sched::Completion> done;
    std::string instance, key;                       // replies are verified with the VM's key
    std::shared_ptr<const net::MqttMessage> request; // agent requests only: resent as they are
  };
  std::unique_ptr<net::MqttClient> mqtt_;
  std::thread resender_;
  std::condition_variable resendCv_;
  uint64_t reconnections_ = 0; // under mu_: the resender's cue
  bool stopping_ = false;      // under mu_
  std::string controlId_;      // the prefix of this client's $CONTROL correlation data
  std::mutex mu_;
  std::map<std::string, Pending> pending_; // by request id (or control correlation data)
  uint64_t controlSeq_ = 0;
};

} // namespace cfm::rt::agent
