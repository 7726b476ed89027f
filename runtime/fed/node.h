// node.h — the federation transport of one manager (issue 15; API.md "Cloud events",
// "Protocols"): cloud events between managers over MQTT v5, exactly once. A sender drains this
// manager's store outbox with QoS 1 and marks each event sent on the broker's PUBACK; a receiver
// with a persistent session stores each event once (Store::receiveEvent) and asks the source to
// resend a missing seq range; resend requests are answered from this manager's history.
//
// Presence: the node keeps a retained `cfm/v1/managers/<name>/presence` (online, with a heartbeat
// every heartbeatMs that also carries, per system, the highest seq of this manager's events that
// left its outbox, so receivers notice a lost tail), and registers an offline one as its Last Will.
// Peers seen coming (online after offline or never seen) and going (offline, or no heartbeat for
// lostAfterMs while this node is connected) are recorded as `manager_joined` / `manager_lost`
// events in this manager's own history for every system it follows, with source "@<manager>"
// (each manager observes them itself, so they are not sent to the others).
//
// Configuration: with a codec (NodeOptions::config), each followed system's configuration is
// shared as a retained `cfm/v1/systems/<id>/config`, versioned; config_share.h has the rule, and
// every change of a system's version is recorded as `config_changed` ({"version"}) like the
// presence events.
//
// Threads: one worker thread of the node does all the store and broker work; Paho's callback
// thread only queues messages for it. kick() and the destructor may be called from any thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "runtime/fed/config_share.h"

namespace cfm::fed {

struct NodeOptions {
  std::string manager; ///< this manager's name (the source of its events; the client id)
  std::string cloud;   ///< its cloud's name
  std::string brokerHost = "127.0.0.1";
  int brokerPort = 1883;
  std::string brokerUri;             ///< "tcp://host:port"; when set, instead of brokerHost and brokerPort
  std::string username, password;    ///< empty: none
  std::string storePath;             ///< the manager's store file; the node opens its own connection
  std::vector<std::string> followed; ///< system ids whose events it receives; empty: all
  int heartbeatMs = 1000;            ///< presence heartbeat period
  int lostAfterMs = 3500;            ///< a peer without heartbeat this long (while we are connected) is lost
  int paceMs = 0;                    ///< a pause after each outbox batch sent (pacing a sender; tests use it)
  /// Configuration sharing: the system as text and back (cfmd: OVF). Empty: not shared.
  ConfigCodec config;
  /// Where the node's log lines go (bad payloads, broker trouble); none: dropped.
  std::function<void(const std::string &)> logger;
};

class Node {
public:
  /// Opens the store, connects to the broker (waiting up to CONNECTTIMEOUTMS; 0: in the
  /// background, the worker connecting until it succeeds or the node is destroyed), subscribes
  /// and starts the worker thread.
  static Result<std::unique_ptr<Node>> start(NodeOptions options, int connectTimeoutMs = 30000);
  ~Node(); ///< stops the worker and disconnects (normal disconnect)
  Node(const Node &) = delete;
  Node &operator=(const Node &) = delete;

  /// Wakes the sender after the manager published into the outbox (thread-safe).
  void kick();
  /// Whether the node has heard from the broker since it started (its subscriptions' retained
  /// messages, configurations among them, have arrived): fenceReason's SYNCED.
  bool synced() const;
  /// Called on the node's thread after new events were stored in the history.
  void onEvents(std::function<void()> callback);

  struct Impl;

private:
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The source of the events a manager records from its own observations (manager_joined/lost).
std::string observerSource(const std::string &manager);

/// The topic of an event: cfm/v1/systems/<system>/events/<name>.
std::string eventTopic(const std::string &system, const std::string &name);

} // namespace cfm::fed
