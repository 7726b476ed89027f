// mqtt.h — a small MQTT v5 client (QoS 0/1) over Eclipse Paho MQTT C++, for cfm-agent and the
// manager's agent client (docs/agent-protocol.md): connect with retries, subscribe, publish that
// returns once the broker's PUBACK arrived, a Last Will, reconnection with exponential backoff
// that subscribes again to every filter, and callbacks for messages and for the connection.
//
// Errors are values: no Paho exception leaves this layer, and no Paho header is included here
// (the client is a pimpl), so that users do not compile against it.
//
// Threads: the message and connection callbacks run on Paho's callback thread (or on this
// layer's reconnection thread for "reconnected"). They must not block for long and must not call
// connect() or disconnect(); publish() and subscribe() from a callback are refused (they would
// wait for an answer that the same thread has to deliver) — hand the message to a thread of your own.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace cfm::net {

/// One MQTT v5 application message, as published or as received.
struct MqttMessage {
  std::string topic;
  std::string payload; ///< bytes
  int qos = 1;         ///< 0 or 1
  bool retain = false;
  std::string responseTopic;   ///< the v5 property; empty when absent
  std::string correlationData; ///< the v5 property (bytes); empty when absent
  std::vector<std::pair<std::string, std::string>> userProperties;

  /// The first user property named NAME, if any.
  std::optional<std::string> userProperty(std::string_view name) const;
};

struct MqttOptions {
  std::string uri; ///< "tcp://127.0.0.1:1883"
  std::string clientId;
  std::string username; ///< empty: none
  std::string password; ///< empty: none
  bool cleanStart = true;
  uint32_t sessionExpirySeconds = 0; ///< how long the broker keeps the session after a disconnect
  int keepAliveSeconds = 30;
  std::optional<MqttMessage> will; ///< the Last Will (topic, payload, qos, retain)
  /// Waits between connection attempts: from min, doubled each failure, up to max.
  std::chrono::milliseconds reconnectMin{100};
  std::chrono::milliseconds reconnectMax{5000};
  /// How long one connection attempt may take before it counts as failed.
  std::chrono::milliseconds attemptTimeout{10000};
};

/// What the connection callback is told.
enum class MqttConnectionEvent {
  Lost,        ///< the connection dropped; the client is reconnecting
  Reconnected, ///< connected again after Lost, and subscribed again to every filter
};

class MqttClient {
public:
  using MessageHandler = std::function<void(const MqttMessage &)>;
  using ConnectionHandler = std::function<void(MqttConnectionEvent, const std::string &cause)>;

  /// A client for OPTIONS; nothing is sent until connect(). Refuses a malformed URI or options.
  static Result<std::unique_ptr<MqttClient>> create(const MqttOptions &options);
  ~MqttClient(); ///< disconnects (without sending the Will's cancellation) and stops the threads
  MqttClient(const MqttClient &) = delete;
  MqttClient &operator=(const MqttClient &) = delete;

  /// Set before connect(): called on Paho's thread for every message received.
  void onMessage(MessageHandler handler);
  /// Set before connect(): called when the connection is lost and when it is back.
  void onConnection(ConnectionHandler handler);

  /// Connects, retrying with the backoff while the server is down or refuses (bad credentials
  /// too: an account may be made just after), until TIMEOUT has passed (zero: no limit) or
  /// interrupt() is called. After it succeeds, lost connections are re-established by the client.
  Result<void> connect(std::chrono::milliseconds timeout);
  /// Subscribes to FILTER with QOS (0 or 1) and waits for the SUBACK; the filter is subscribed
  /// again after every reconnection.
  Result<void> subscribe(const std::string &filter, int qos);
  /// Publishes MESSAGE and waits until the broker acknowledged it (PUBACK for QoS 1, written for
  /// QoS 0) or TIMEOUT passed. Fails at once when not connected, and as soon as the connection
  /// is lost before the acknowledgement (the message may or may not have arrived: publish again
  /// after the reconnection if it matters).
  Result<void> publish(const MqttMessage &message,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));
  /// Publishes MESSAGES pipelined (Paho keeps as many in flight as the broker allows) and waits
  /// for their acknowledgements in order. Returns how many of them, from the first, were
  /// acknowledged before the first failure (all of them when ERROR is empty); a failure is what
  /// publish() would report for that message, and the messages after it may or may not have arrived.
  struct BatchResult {
    size_t acknowledged = 0;
    std::optional<Error> error;
  };
  BatchResult publishBatch(const std::vector<MqttMessage> &messages,
                           std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));
  /// Sends DISCONNECT (normal: the broker does not send the Will) and stops reconnecting.
  Result<void> disconnect();
  /// Makes a connect() in progress return an error soon, from any thread (not a signal handler).
  void interrupt();
  bool connected() const;

  struct Impl;

private:
  explicit MqttClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace cfm::net
