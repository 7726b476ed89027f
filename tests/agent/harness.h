// harness.h — what the cfm-agent tests share: a mosquitto of their own on a free loopback port
// (generated configuration, stopped by PID), cfm-agent started as a real process (user data
// file, state directory, root), and a test manager that signs requests with net/agent_proto,
// sends them through net/mqtt and collects the replies by id.
#pragma once

#include "net/agent_proto.h"
#include "net/mqtt.h"

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cfm::agenttest {

namespace fs = std::filesystem;

/// A fresh directory under the build's temporary folder, removed when destroyed.
struct TempDir {
  TempDir();
  ~TempDir();
  fs::path path;
};

/// A free TCP port on 127.0.0.1 (bound and released; the broker binds it right after).
int freePort();

/// Starts ARGS (argv[0] a path) with stdin /dev/null and stdout+stderr appended to LOG; -1 on failure.
pid_t spawn(const std::vector<std::string> &args, const fs::path &log);
/// Sends SIG to PID and reaps it (its wait status in STATUS); PID becomes -1.
void stopPid(pid_t &pid, int sig, int *status = nullptr);

/// mosquitto on 127.0.0.1:<port>, anonymous clients allowed (the dynamic-security set-up is the
/// manager side's), no persistence: killing it loses every session.
class Broker {
public:
  /// EXTRA: more mosquitto.conf lines (a bridge: tests/fed/bridge_test.cpp).
  explicit Broker(const fs::path &dir, int port = 0, std::string extra = "");
  ~Broker();
  void start();
  void kill(); ///< SIGKILL by PID, reaped
  std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

private:
  fs::path dir_;
  int port_;
  std::string extra_;
  pid_t pid_ = -1;
};

/// cfm-agent as a child process.
class Agent {
public:
  struct Config {
    std::string instance = "i-0123456789abcdef0";
    std::string brokerUri;
    std::string keyHex;
    int maxConcurrent = 8;
    /// Agent: a `cfm_agent` member; NoAgentMember: JSON without it; Script: not JSON (a
    /// cloud-init script); Missing: --user-data names no file.
    enum class UserData { Agent, NoAgentMember, Script, Missing } userData = UserData::Agent;
    bool defaultStateDir = false; ///< no --state: ROOT/var/lib/cfm-agent, parents missing
  };
  Agent(const fs::path &dir, Config config);
  ~Agent();
  void start();
  void stop(int sig = SIGTERM); ///< sends SIG by PID and reaps; returns once it exited
  int exitStatus() const { return status_; }
  const fs::path &root() const { return root_; }
  const fs::path &state() const { return state_; }
  pid_t pid() const { return pid_; }
  std::string log() const; ///< its stderr so far

private:
  fs::path dir_, root_, state_, userData_;
  Config config_;
  pid_t pid_ = -1;
  int status_ = -1;
};

/// A manager as the agent sees one: signs requests with KEY and collects replies.
class TestManager {
public:
  TestManager(const std::string &brokerUri, const std::string &instance, const std::string &keyHex);
  ~TestManager();

  /// A request ready to send (fresh id and nonce, ts now).
  net::AgentRequest request(net::AgentOp op);
  net::AgentRequest exec(const std::string &command, int64_t timeoutMs = 60000);
  /// The exact bytes and signature of REQ.
  struct Wire {
    std::string id;
    std::string payload;
    std::string sig; ///< "" to send unsigned
  };
  Wire wire(const net::AgentRequest &req) const;
  /// Publishes W on the agent's request topic (QoS 1); false when the broker did not take it.
  bool send(const Wire &w, const std::string &topic = "");
  /// Waits for the reply to ID (the first one; later ones are counted); fails the test on timeout.
  std::optional<net::AgentReply> await(const std::string &id,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(60));
  /// Sends and waits.
  std::optional<net::AgentReply> call(const net::AgentRequest &req,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(60));
  /// How many replies arrived for ID so far.
  int replies(const std::string &id);
  /// Replies whose signature did not verify (must stay 0).
  int badSignatures() const { return badSignatures_; }
  /// The retained presence last seen ("" when none).
  std::string presenceState();
  bool waitPresence(const std::string &state, std::chrono::milliseconds timeout);
  net::MqttClient &client() { return *client_; }
  bool reconnected() const { return reconnects_ > 0; }

private:
  std::string instance_, key_;
  std::unique_ptr<net::MqttClient> client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<net::AgentReply>> replies_;
  std::string presence_;
  int badSignatures_ = 0;
  int reconnects_ = 0;
};

/// The agent key of the tests, 64 hex digits.
std::string testKeyHex();
/// Milliseconds since the epoch.
int64_t nowMs();
/// Reads a whole file ("" when missing).
std::string readFile(const fs::path &p);
/// Polls COND (every 20 ms) until it holds or TIMEOUT passes; returns its last value.
template <typename F> bool eventually(F cond, std::chrono::milliseconds timeout = std::chrono::seconds(30));

} // namespace cfm::agenttest

#include <thread>

template <typename F> bool cfm::agenttest::eventually(F cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return cond();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}
