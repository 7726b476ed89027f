// mqtt.cpp — the MQTT v5 client of mqtt.h on Paho MQTT C++ (async_client): every Paho call is
// wrapped so that its exceptions become Error values; a thread of this layer reconnects with
// exponential backoff after a lost connection and subscribes again.
#include "net/mqtt.h"

#include <mqtt/async_client.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <dirent.h>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <thread>

namespace cfm::net {

namespace {

/// True on a thread that is running one of this layer's callbacks (Paho's, or the reconnection
/// thread's): publish() and subscribe() refuse to wait there.
thread_local bool tInCallback = false;

struct CallbackScope {
  CallbackScope() { tInCallback = true; }
  ~CallbackScope() { tInCallback = false; }
};

Error mqttError(const std::string &what, const std::exception &e) {
  return Error{ErrorKind::Io, what + ": " + e.what()};
}

/// Turns Nagle's algorithm off on this process's TCP sockets connected to URI's host and port
/// (tcp://A.B.C.D:PORT): Paho C never sets TCP_NODELAY and gives no hook to, and with QoS 1 a
/// small message that follows an acknowledgement on the same socket otherwise waits for the
/// peer's delayed ACK, some 40 ms a round trip (bench/README.md, "Agents"). Every socket to the
/// broker is an MQTT connection, so all of them get it. Best effort: a URI with a host name, or
/// a socket that closes meanwhile, is left as it is.
void noDelayToBroker(const std::string &uri) {
  std::string rest = uri.rfind("tcp://", 0) == 0 ? uri.substr(6) : uri;
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos) return;
  in_addr host{};
  if (inet_pton(AF_INET, rest.substr(0, colon).c_str(), &host) != 1) return;
  int port = std::atoi(rest.c_str() + colon + 1);
  DIR *d = opendir("/proc/self/fd");
  if (!d) return;
  while (dirent *e = readdir(d)) {
    int fd = std::atoi(e->d_name);
    if (fd <= 2 || fd == dirfd(d)) continue;
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr *>(&peer), &len) != 0 || peer.sin_family != AF_INET)
      continue;
    if (peer.sin_addr.s_addr != host.s_addr || ntohs(peer.sin_port) != port) continue;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  closedir(d);
}

mqtt::properties propertiesOf(const MqttMessage &m) {
  mqtt::properties props;
  if (!m.responseTopic.empty()) props.add(mqtt::property(mqtt::property::RESPONSE_TOPIC, m.responseTopic));
  if (!m.correlationData.empty())
    props.add(mqtt::property(mqtt::property::CORRELATION_DATA, m.correlationData));
  for (const auto &[name, value] : m.userProperties)
    props.add(mqtt::property(mqtt::property::USER_PROPERTY, name, value));
  return props;
}

MqttMessage messageOf(const mqtt::message &m) {
  MqttMessage out;
  out.topic = m.get_topic();
  out.payload = m.get_payload_str();
  out.qos = m.get_qos();
  out.retain = m.is_retained();
  const mqtt::properties &props = m.get_properties();
  if (props.contains(mqtt::property::RESPONSE_TOPIC))
    out.responseTopic = mqtt::get<std::string>(props, mqtt::property::RESPONSE_TOPIC);
  if (props.contains(mqtt::property::CORRELATION_DATA))
    out.correlationData = mqtt::get<std::string>(props, mqtt::property::CORRELATION_DATA);
  size_t n = props.count(mqtt::property::USER_PROPERTY);
  for (size_t i = 0; i < n; ++i) {
    auto pair = mqtt::get<mqtt::string_pair>(props, mqtt::property::USER_PROPERTY, i);
    out.userProperties.emplace_back(std::get<0>(pair), std::get<1>(pair));
  }
  return out;
}

} // namespace

std::optional<std::string> MqttMessage::userProperty(std::string_view name) const {
  for (const auto &[n, v] : userProperties)
    if (n == name) return v;
  return std::nullopt;
}

struct MqttClient::Impl {
  MqttOptions options;
  std::unique_ptr<mqtt::async_client> client;
  mqtt::connect_options connectOptions;                  // without properties (see attempt())
  std::unique_ptr<mqtt::connect_options> attemptOptions; // the last attempt's, with them

  MessageHandler onMessage;
  ConnectionHandler onConnection;

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::string, int>> filters; // subscribed so far, again after reconnecting
  bool lost = false;                                // set by Paho's thread, taken by the reconnection thread
  bool stopping = false;                            // disconnect() or the destructor
  bool autoReconnect = false;                       // after the first successful connect()
  std::atomic<bool> interrupted{false};
  std::atomic<bool> isConnected{false};
  std::atomic<uint64_t> losses{0}; // connections lost so far: publish() watches it
  std::thread reconnector;

  /// One connection attempt: true when connected.
  Result<void> attempt() {
    try {
      // Paho MQTT C++ 1.2 (Debian 12) copies connect_options without repointing the C struct at
      // the copy's properties (fixed upstream in 1.3, eclipse-paho/paho.mqtt.cpp#445): the
      // CONNECT properties are set on a fresh copy here, after every copy this code makes, and
      // that copy outlives the attempt (the client keeps one it was moved into).
      attemptOptions = std::make_unique<mqtt::connect_options>(connectOptions);
      attemptOptions->set_properties(mqtt::properties{
          mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL, int32_t(options.sessionExpirySeconds))});
      mqtt::token_ptr tok = client->connect(*attemptOptions);
      if (!tok->wait_for(options.attemptTimeout + std::chrono::seconds(1)))
        return Error{ErrorKind::Io, "connecting to " + options.uri + ": timed out"};
      noDelayToBroker(options.uri);
      isConnected = true;
      return {};
    } catch (const std::exception &e) {
      return mqttError("connecting to " + options.uri, e);
    }
  }

  /// Attempts until connected, stopped, interrupted or past DEADLINE (none when empty).
  Result<void> connectLoop(std::optional<std::chrono::steady_clock::time_point> deadline) {
    auto wait = options.reconnectMin;
    for (;;) {
      auto r = attempt();
      if (r) return r;
      std::unique_lock lock(mu);
      if (stopping || interrupted)
        return Error{ErrorKind::Io, "connecting to " + options.uri + ": interrupted"};
      auto until = std::chrono::steady_clock::now() + wait;
      if (deadline && until > *deadline) {
        if (std::chrono::steady_clock::now() >= *deadline) return r;
        until = *deadline;
      }
      cv.wait_until(lock, until, [&] { return stopping || interrupted.load(); });
      if (stopping || interrupted)
        return Error{ErrorKind::Io, "connecting to " + options.uri + ": interrupted"};
      wait = std::min(wait * 2, options.reconnectMax);
    }
  }

  Result<void> subscribeNow(const std::string &filter, int qos) {
    try {
      mqtt::token_ptr tok = client->subscribe(filter, qos);
      if (!tok->wait_for(std::chrono::seconds(30)))
        return Error{ErrorKind::Io, "subscribing to " + filter + ": timed out"};
      if (tok->get_reason_code() >= 0x80)
        return Error{ErrorKind::Io, "subscribing to " + filter + ": refused by the broker (reason code " +
                                        std::to_string(int(tok->get_reason_code())) + ")"};
      return {};
    } catch (const std::exception &e) {
      return mqttError("subscribing to " + filter, e);
    }
  }

  /// The reconnection thread: waits for a lost connection, reconnects, subscribes again.
  void reconnectMain() {
    for (;;) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || lost; });
        if (stopping) return;
        lost = false;
      }
      if (!connectLoop(std::nullopt)) return; // stopped
      std::vector<std::pair<std::string, int>> again;
      {
        std::lock_guard lock(mu);
        again = filters;
      }
      bool ok = true;
      for (const auto &[f, q] : again) ok = ok && subscribeNow(f, q);
      if (!ok) continue; // lost again meanwhile: connection_lost set `lost`
      if (onConnection) {
        CallbackScope scope;
        onConnection(MqttConnectionEvent::Reconnected, "");
      }
    }
  }

  void connectionLost(const std::string &cause) {
    ++losses;
    isConnected = false;
    {
      std::lock_guard lock(mu);
      if (stopping || !autoReconnect) return;
      lost = true;
    }
    cv.notify_all();
    if (onConnection) {
      CallbackScope scope;
      onConnection(MqttConnectionEvent::Lost, cause);
    }
  }
};

MqttClient::MqttClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<MqttClient>> MqttClient::create(const MqttOptions &options) {
  if (options.clientId.empty()) return Error{ErrorKind::Usage, "MQTT: a client id is required"};
  if (options.reconnectMin.count() <= 0 || options.reconnectMax < options.reconnectMin)
    return Error{ErrorKind::Usage, "MQTT: the reconnection backoff needs 0 < min <= max"};
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  try {
    // No client persistence: what must survive a restart is the caller's (the agent's SQLite).
    // Paho queues the publishes past what the broker lets be in flight, up to maxBufferedMessages
    // (100 by default; publishBatch queues more); never while disconnected (publish fails fast).
    mqtt::create_options co(MQTTVERSION_5);
    co.set_max_buffered_messages(65535);
    co.set_send_while_disconnected(false);
    impl->client = std::make_unique<mqtt::async_client>(options.uri, options.clientId, co, nullptr);
    mqtt::connect_options_builder b;
    b.mqtt_version(MQTTVERSION_5)
        .clean_start(options.cleanStart)
        .keep_alive_interval(std::chrono::seconds(options.keepAliveSeconds))
        .connect_timeout(std::chrono::duration_cast<std::chrono::seconds>(options.attemptTimeout +
                                                                          std::chrono::milliseconds(999)));
    if (!options.username.empty()) b.user_name(options.username);
    if (!options.password.empty()) b.password(options.password);
    if (options.will) {
      const MqttMessage &w = *options.will;
      b.will(mqtt::will_options(w.topic, mqtt::binary_ref(w.payload), w.qos, w.retain));
    }
    impl->connectOptions = b.finalize();
  } catch (const std::exception &e) {
    return mqttError("MQTT client for " + options.uri, e);
  }
  Impl *p = impl.get();
  impl->client->set_message_callback([p](mqtt::const_message_ptr m) {
    if (!m || !p->onMessage) return;
    CallbackScope scope;
    p->onMessage(messageOf(*m));
  });
  impl->client->set_connection_lost_handler(
      [p](const std::string &cause) { p->connectionLost(cause.empty() ? "connection lost" : cause); });
  impl->client->set_disconnected_handler([p](const mqtt::properties &, mqtt::ReasonCode rc) {
    p->connectionLost("the broker disconnected (reason code " + std::to_string(int(rc)) + ")");
  });
  return std::unique_ptr<MqttClient>(new MqttClient(std::move(impl)));
}

MqttClient::~MqttClient() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->reconnector.joinable()) impl_->reconnector.join();
  try {
    impl_->client->disable_callbacks();
    if (impl_->client->is_connected()) impl_->client->disconnect()->wait_for(std::chrono::seconds(5));
  } catch (const std::exception &) {
    // Going away: nothing left to tell.
  }
}

void MqttClient::onMessage(MessageHandler handler) { impl_->onMessage = std::move(handler); }
void MqttClient::onConnection(ConnectionHandler handler) { impl_->onConnection = std::move(handler); }

Result<void> MqttClient::connect(std::chrono::milliseconds timeout) {
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (timeout.count() > 0) deadline = std::chrono::steady_clock::now() + timeout;
  auto r = impl_->connectLoop(deadline);
  if (!r) return r;
  std::lock_guard lock(impl_->mu);
  if (!impl_->autoReconnect) {
    impl_->autoReconnect = true;
    impl_->reconnector = std::thread([p = impl_.get()] { p->reconnectMain(); });
  }
  return {};
}

Result<void> MqttClient::subscribe(const std::string &filter, int qos) {
  if (tInCallback) return Error{ErrorKind::Usage, "MQTT: subscribe() called from a callback"};
  if (qos < 0 || qos > 1) return Error{ErrorKind::Usage, "MQTT: QoS must be 0 or 1"};
  {
    std::lock_guard lock(impl_->mu);
    auto it = std::find_if(impl_->filters.begin(), impl_->filters.end(),
                           [&](const auto &f) { return f.first == filter; });
    if (it == impl_->filters.end())
      impl_->filters.emplace_back(filter, qos);
    else
      it->second = qos;
  }
  return impl_->subscribeNow(filter, qos);
}

namespace {

mqtt::message_ptr pahoMessage(const MqttMessage &m) {
  return mqtt::message_ptr_builder()
      .topic(m.topic)
      .payload(mqtt::binary_ref(m.payload))
      .qos(m.qos)
      .retained(m.retain)
      .properties(propertiesOf(m))
      .finalize();
}

} // namespace

Result<void> MqttClient::publish(const MqttMessage &m, std::chrono::milliseconds timeout) {
  BatchResult r = publishBatch({m}, timeout);
  if (r.error) return *r.error;
  return {};
}

MqttClient::BatchResult MqttClient::publishBatch(const std::vector<MqttMessage> &messages,
                                                 std::chrono::milliseconds timeout) {
  BatchResult out;
  if (tInCallback) {
    out.error = Error{ErrorKind::Usage, "MQTT: publish() called from a callback"};
    return out;
  }
  for (const MqttMessage &m : messages)
    if (m.qos < 0 || m.qos > 1) {
      out.error = Error{ErrorKind::Usage, "MQTT: QoS must be 0 or 1"};
      return out;
    }
  if (messages.empty()) return out;
  std::vector<mqtt::delivery_token_ptr> tokens;
  tokens.reserve(messages.size());
  uint64_t losses = impl_->losses.load();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t i = 0;
  try {
    // A window of messages in flight: Paho C 1.3 stalls when far more publishes are queued than
    // the broker's Receive Maximum lets be in flight (mosquitto's is 20).
    constexpr size_t kWindow = 16;
    for (; i < messages.size(); ++i) {
      while (tokens.size() < messages.size() && tokens.size() < i + kWindow)
        tokens.push_back(impl_->client->publish(pahoMessage(messages[tokens.size()])));
      const std::string &topic = messages[i].topic;
      while (!tokens[i]->wait_for(std::chrono::milliseconds(50))) {
        if (impl_->losses.load() != losses) {
          out.error = Error{ErrorKind::Io,
                            "publishing on " + topic + ": connection lost before the broker acknowledged"};
          return out;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
          out.error = Error{ErrorKind::Io, "publishing on " + topic + ": timed out"};
          return out;
        }
      }
      if (tokens[i]->get_reason_code() >= 0x80) {
        out.error = Error{ErrorKind::Io, "publishing on " + topic + ": refused by the broker (reason code " +
                                             std::to_string(int(tokens[i]->get_reason_code())) + ")"};
        return out;
      }
      out.acknowledged = i + 1;
    }
  } catch (const std::exception &e) {
    out.error = mqttError("publishing on " + messages[std::min(i, messages.size() - 1)].topic, e);
  }
  return out;
}

Result<void> MqttClient::disconnect() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->reconnector.joinable() && impl_->reconnector.get_id() != std::this_thread::get_id())
    impl_->reconnector.join();
  try {
    impl_->isConnected = false;
    if (!impl_->client->is_connected()) return {};
    if (!impl_->client->disconnect()->wait_for(std::chrono::seconds(10)))
      return Error{ErrorKind::Io, "disconnecting from " + impl_->options.uri + ": timed out"};
    return {};
  } catch (const std::exception &e) {
    return mqttError("disconnecting from " + impl_->options.uri, e);
  }
}

void MqttClient::interrupt() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->interrupted = true;
  }
  impl_->cv.notify_all();
}

bool MqttClient::connected() const { return impl_->isConnected.load(); }

} // namespace cfm::net
