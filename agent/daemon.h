// daemon.h — cfm-agent's main loop (docs/agent-protocol.md): connects out to the broker with its
// instance's credentials, keeps a retained presence (Last Will "down"), verifies every request
// (signature, instance, version, the 60 s window, nonce and id reuse; a refusal is answered
// `rejected` and nothing runs), answers each id exactly once (state.h), runs exec and put_file on
// worker threads, at most max_concurrent at once (the rest wait in order), and answers ping.
//
// Threads: Paho's callback thread only queues events; this loop (the caller of run()) owns the
// SQLite state and publishes every reply; each running request has a worker thread that reports
// back through the same queue. A reply that cannot be published (the broker is away) is kept
// and published again once reconnected; the manager resends unanswered requests too.
#pragma once

#include "base/result.h"
#include "net/agent_proto.h"

#include <memory>
#include <string>

namespace cfm::agent {

constexpr const char *kAgentVersion = "0.1.0";

struct Config {
  std::string instance;
  std::string root;     ///< the VM root (absolute)
  std::string stateDir; ///< agent.db lives here
  net::AgentUserData userData;
};

class Daemon {
public:
  static Result<std::unique_ptr<Daemon>> create(const Config &config);
  ~Daemon();
  /// Runs until stop(); then publishes presence "down" and disconnects. Errors are fatal ones
  /// (the state cannot be written).
  Result<void> run();
  /// Asks run() to end, from any thread (the signal thread).
  void stop();

  struct Impl;

private:
  explicit Daemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Writes "cfm-agent: MESSAGE" to stderr (one write, so lines from threads do not mix).
void logLine(const std::string &message);

} // namespace cfm::agent
