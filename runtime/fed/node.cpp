// node.cpp — the federation node: the worker thread that drains the outbox, stores received
// events once, fetches gaps and answers resend requests (node.h; runtime/fed/README.md).
#include "runtime/fed/node.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "net/mqtt.h"
#include "runtime/store/store.h"

namespace cfm::fed {

namespace {

using Json = nlohmann::json;
constexpr size_t kMaxPayload = 256 * 1024;
constexpr size_t kMaxName = 256;
constexpr size_t kOutboxBatch = 256;

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool shortString(const Json &j, const char *key, std::string &out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return false;
  out = it->get<std::string>();
  return !out.empty() && out.size() <= kMaxName && out.find_first_of("/+#") == std::string::npos;
}

bool positiveInt(const Json &j, const char *key, int64_t &out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return false;
  out = it->get<int64_t>();
  return out > 0;
}

net::MqttMessage qos1(std::string topic, std::string payload) {
  net::MqttMessage m;
  m.topic = std::move(topic);
  m.payload = std::move(payload);
  m.qos = 1;
  return m;
}

std::string encodeEvent(const store::Store::CloudEventRow &ev) {
  Json data = Json::parse(ev.dataJson, nullptr, false);
  if (data.is_discarded()) data = nullptr;
  Json j{{"v", 1},
         {"system", ev.system},
         {"name", ev.name},
         {"data", data},
         {"source", ev.source},
         {"seq", ev.seq},
         {"published_at", ev.publishedAt}};
  return j.dump();
}

/// Decodes an event payload strictly; nullopt-like false with WHY when it is not one.
bool decodeEvent(const std::string &payload, store::Store::CloudEventRow &ev, std::string &why) {
  if (payload.size() > kMaxPayload) return why = "payload too large", false;
  Json j = Json::parse(payload, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return why = "not a JSON object", false;
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer() || v->get<int64_t>() != 1) return why = "v is not 1", false;
  if (!shortString(j, "system", ev.system) || !shortString(j, "name", ev.name) ||
      !shortString(j, "source", ev.source))
    return why = "system, name or source missing or malformed", false;
  if (!positiveInt(j, "seq", ev.seq) || !positiveInt(j, "published_at", ev.publishedAt))
    return why = "seq or published_at missing or not a positive integer", false;
  auto d = j.find("data");
  ev.dataJson = d == j.end() ? "null" : d->dump();
  return true;
}

struct Resend {
  std::string system;
  int64_t from = 0, to = 0;
};

bool decodeResend(const std::string &payload, Resend &r, std::string &why) {
  if (payload.size() > 4096) return why = "payload too large", false;
  Json j = Json::parse(payload, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return why = "not a JSON object", false;
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer() || v->get<int64_t>() != 1) return why = "v is not 1", false;
  if (!shortString(j, "system", r.system) || !positiveInt(j, "from", r.from) || !positiveInt(j, "to", r.to) ||
      r.to < r.from)
    return why = "system, from or to missing or malformed", false;
  return true;
}

} // namespace

std::string eventTopic(const std::string &system, const std::string &name) {
  return "cfm/v1/systems/" + system + "/events/" + name;
}

struct Node::Impl {
  NodeOptions opt;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<net::MqttClient> client;
  std::string resendTopic;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<net::MqttMessage> inbox;
  bool kicked = false, stopping = false;
  std::function<void()> onEvents;
  std::thread worker;

  void log(const std::string &line) {
    if (opt.logger) opt.logger("fed " + opt.manager + ": " + line);
  }

  bool follows(const std::string &system) const {
    if (opt.followed.empty()) return true;
    for (const auto &s : opt.followed)
      if (s == system) return true;
    return false;
  }

  void run() {
    for (;;) {
      std::deque<net::MqttMessage> batch;
      {
        std::unique_lock lock(mu);
        cv.wait_for(lock, std::chrono::milliseconds(500),
                    [&] { return stopping || kicked || !inbox.empty(); });
        if (stopping) return;
        kicked = false;
        batch.swap(inbox);
      }
      bool stored = false;
      for (const auto &m : batch) stored |= handle(m);
      if (stored) {
        std::function<void()> cb;
        {
          std::lock_guard lock(mu);
          cb = onEvents;
        }
        if (cb) cb();
      }
      drainOutbox();
    }
  }

  /// Handles one received message; true when an event was newly stored.
  bool handle(const net::MqttMessage &m) {
    std::string why;
    if (m.topic == resendTopic) {
      Resend r;
      if (!decodeResend(m.payload, r, why)) return log("dropped resend request: " + why), false;
      answerResend(r);
      return false;
    }
    store::Store::CloudEventRow ev;
    if (!decodeEvent(m.payload, ev, why)) return log("dropped message on " + m.topic + ": " + why), false;
    if (m.topic != eventTopic(ev.system, ev.name))
      return log("dropped event on the wrong topic " + m.topic), false;
    if (ev.source == opt.manager || !follows(ev.system)) return false;
    ev.receivedAt = nowMs();
    auto fresh = store->receiveEvent(ev);
    if (!fresh) return log("could not store an event: " + fresh.error().message), false;
    auto st = store->seqState(ev.system, ev.source);
    if (st && st->contiguous < st->highest)
      askResend(ev.system, ev.source, st->contiguous + 1, st->highest - 1);
    return *fresh;
  }

  void askResend(const std::string &system, const std::string &source, int64_t from, int64_t to) {
    Json j{{"v", 1}, {"system", system}, {"from", from}, {"to", to}};
    net::MqttMessage msg = qos1("cfm/v1/managers/" + source + "/resend", j.dump());
    if (auto r = client->publish(msg, std::chrono::milliseconds(10000)); !r)
      log("could not ask " + source + " to resend: " + r.error().message);
  }

  void answerResend(const Resend &r) {
    auto evs = store->eventsOfSource(r.system, opt.manager, r.from, r.to);
    if (!evs) return log("could not read the history to resend: " + evs.error().message);
    for (const auto &ev : *evs) {
      net::MqttMessage msg = qos1(eventTopic(ev.system, ev.name), encodeEvent(ev));
      if (auto p = client->publish(msg, std::chrono::milliseconds(10000)); !p)
        return log("resend interrupted: " + p.error().message);
    }
  }

  void drainOutbox() {
    for (;;) {
      if (!client->connected()) return;
      auto out = store->outbox(kOutboxBatch);
      if (!out) return log("could not read the outbox: " + out.error().message);
      if (out->empty()) return;
      for (const auto &ev : *out) {
        {
          std::lock_guard lock(mu);
          if (stopping) return;
        }
        net::MqttMessage msg = qos1(eventTopic(ev.system, ev.name), encodeEvent(ev));
        if (auto p = client->publish(msg, std::chrono::milliseconds(10000)); !p)
          return log("publish failed, will retry: " + p.error().message);
        if (auto s = store->markSent(ev.id); !s)
          return log("could not mark an event sent: " + s.error().message);
      }
    }
  }
};

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Node>> Node::start(NodeOptions options, int connectTimeoutMs) {
  auto impl = std::make_unique<Impl>();
  impl->opt = std::move(options);
  if (impl->opt.manager.empty() || impl->opt.manager.find_first_of("/+#") != std::string::npos)
    return Error{ErrorKind::Usage, "fed: the manager name must be non-empty without / + #"};
  auto st = store::Store::open(impl->opt.storePath);
  if (!st) return st.error();
  impl->store = std::move(*st);
  net::MqttOptions mo;
  mo.uri = "tcp://" + impl->opt.brokerHost + ":" + std::to_string(impl->opt.brokerPort);
  mo.clientId = "cfm-manager-" + impl->opt.manager;
  mo.username = impl->opt.username;
  mo.password = impl->opt.password;
  mo.cleanStart = false;
  mo.sessionExpirySeconds = 7 * 24 * 3600;
  auto cl = net::MqttClient::create(mo);
  if (!cl) return cl.error();
  impl->client = std::move(*cl);
  impl->resendTopic = "cfm/v1/managers/" + impl->opt.manager + "/resend";
  Impl *raw = impl.get();
  impl->client->onMessage([raw](const net::MqttMessage &m) {
    std::lock_guard lock(raw->mu);
    raw->inbox.push_back(m);
    raw->cv.notify_one();
  });
  impl->client->onConnection([raw](net::MqttConnectionEvent e, const std::string &) {
    if (e == net::MqttConnectionEvent::Reconnected) {
      std::lock_guard lock(raw->mu);
      raw->kicked = true;
      raw->cv.notify_one();
    }
  });
  CFM_CHECK(impl->client->connect(std::chrono::milliseconds(connectTimeoutMs)));
  if (impl->opt.followed.empty()) {
    CFM_CHECK(impl->client->subscribe("cfm/v1/systems/+/events/+", 1));
  } else {
    for (const auto &s : impl->opt.followed)
      CFM_CHECK(impl->client->subscribe("cfm/v1/systems/" + s + "/events/+", 1));
  }
  CFM_CHECK(impl->client->subscribe(impl->resendTopic, 1));
  impl->worker = std::thread([raw] { raw->run(); });
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

Node::~Node() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    impl_->cv.notify_one();
  }
  impl_->client->interrupt();
  if (impl_->worker.joinable()) impl_->worker.join();
  (void)impl_->client->disconnect();
}

void Node::kick() {
  std::lock_guard lock(impl_->mu);
  impl_->kicked = true;
  impl_->cv.notify_one();
}

void Node::onEvents(std::function<void()> callback) {
  std::lock_guard lock(impl_->mu);
  impl_->onEvents = std::move(callback);
}

} // namespace cfm::fed
