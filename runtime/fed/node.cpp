// node.cpp — the federation node: the worker thread that drains the outbox, stores received
// events once, fetches gaps and answers resend requests (node.h; runtime/fed/README.md).
#include "runtime/fed/node.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "net/mqtt.h"
#include "runtime/runtime.h"
#include "runtime/store/store.h"

namespace cfm::fed {

namespace {

using Json = nlohmann::json;
constexpr size_t kMaxPayload = 1024 * 1024; // a batch; one event's data is at most 256 KiB
constexpr size_t kMaxName = 256;
constexpr size_t kOutboxBatch = 256;

using rt::nowMs;

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

/// One message carries consecutive events of one (system, source, name), in seq order:
/// {"v":1,"system","name","source","events":[{"seq","published_at","data"}, ...]} — a message a
/// receiver stores in one go, as many events as fit in kBatchData bytes of data (at least one).
constexpr size_t kBatchData = 128 * 1024;
constexpr size_t kBatchEvents = 256;

std::string encodeEvents(const std::vector<store::Store::CloudEventRow> &evs, size_t from, size_t to) {
  const auto &first = evs[from];
  Json list = Json::array();
  for (size_t i = from; i < to; ++i) {
    Json data = Json::parse(evs[i].dataJson, nullptr, false);
    if (data.is_discarded()) data = nullptr;
    list.push_back(
        Json{{"seq", evs[i].seq}, {"published_at", evs[i].publishedAt}, {"data", std::move(data)}});
  }
  Json j{
      {"v", 1}, {"system", first.system}, {"name", first.name}, {"source", first.source}, {"events", list}};
  return j.dump();
}

/// EVS in messages: runs of one (system, source, name), each within the batch limits; PARTS[i] is
/// the number of events message i carries.
std::vector<net::MqttMessage> eventMessages(const std::vector<store::Store::CloudEventRow> &evs,
                                            std::vector<size_t> &parts) {
  std::vector<net::MqttMessage> msgs;
  size_t i = 0;
  while (i < evs.size()) {
    size_t j = i, bytes = 0;
    while (j < evs.size() && j - i < kBatchEvents && evs[j].system == evs[i].system &&
           evs[j].name == evs[i].name && evs[j].source == evs[i].source &&
           (j == i || bytes + evs[j].dataJson.size() <= kBatchData))
      bytes += evs[j++].dataJson.size();
    msgs.push_back(qos1(eventTopic(evs[i].system, evs[i].name), encodeEvents(evs, i, j)));
    parts.push_back(j - i);
    i = j;
  }
  return msgs;
}

/// Decodes an events message strictly; false with WHY when it is not one.
bool decodeEvents(const std::string &payload, std::vector<store::Store::CloudEventRow> &out,
                  std::string &why) {
  if (payload.size() > kMaxPayload) return why = "payload too large", false;
  Json j = Json::parse(payload, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return why = "not a JSON object", false;
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer() || v->get<int64_t>() != 1) return why = "v is not 1", false;
  store::Store::CloudEventRow head;
  if (!shortString(j, "system", head.system) || !shortString(j, "name", head.name) ||
      !shortString(j, "source", head.source))
    return why = "system, name or source missing or malformed", false;
  auto list = j.find("events");
  if (list == j.end() || !list->is_array() || list->empty() || list->size() > kBatchEvents)
    return why = "events missing, empty or too many", false;
  for (const Json &e : *list) {
    store::Store::CloudEventRow ev = head;
    if (!e.is_object() || !positiveInt(e, "seq", ev.seq) || !positiveInt(e, "published_at", ev.publishedAt))
      return why = "an event's seq or published_at is missing or not a positive integer", false;
    auto d = e.find("data");
    ev.dataJson = d == e.end() ? "null" : d->dump();
    out.push_back(std::move(ev));
  }
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

std::string observerSource(const std::string &manager) { return "@" + manager; }

namespace {

std::string presenceTopic(const std::string &manager) { return "cfm/v1/managers/" + manager + "/presence"; }

/// The manager name of a presence topic; "" when TOPIC is not one.
std::string presenceManager(const std::string &topic) {
  const std::string pre = "cfm/v1/managers/", post = "/presence";
  if (topic.size() <= pre.size() + post.size() || topic.compare(0, pre.size(), pre) != 0 ||
      topic.compare(topic.size() - post.size(), post.size(), post) != 0)
    return "";
  std::string name = topic.substr(pre.size(), topic.size() - pre.size() - post.size());
  return name.find('/') == std::string::npos ? name : "";
}

/// What the receiver knows of one source's series of one system: every seq up to `contiguous`
/// is stored, and `above` holds the stored ones past it.
struct Series {
  int64_t contiguous = 0;
  std::set<int64_t> above;
  int64_t askedFrom = 0, askedAtMs = 0; // the last resend request, not repeated within a second
};

struct Peer {
  std::string cloud;
  bool online = false;
  int64_t lastSeenMs = 0; // this node's clock when its last presence arrived
};

} // namespace

struct Node::Impl {
  NodeOptions opt;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<net::MqttClient> client;
  std::string resendTopic;
  std::string brokerUri;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<net::MqttMessage> inbox;
  bool kicked = false, stopping = false, announce = true;
  bool outboxPending = false; // the worker's: the last drain left more to send
  std::function<void()> onEvents;
  std::thread worker;

  // The worker's own state.
  std::map<std::pair<std::string, std::string>, Series> series; // (system, source)
  std::map<std::string, Peer> peers;
  int64_t nextHeartbeatMs = 0;
  bool wasConnected = true;
  std::set<std::string> ownSystems; // systems this manager has events of (heartbeats carry their seqs)
  bool ownSystemsLoaded = false;
  std::unique_ptr<ConfigShare> share; // with a codec: configuration sharing
  // Heard from the broker since the start: a marker this node published after subscribing came
  // back, so the retained messages of its subscriptions (configurations) came before it.
  std::atomic<bool> synced{false};
  std::string syncTopic, syncNonce;

  void log(const std::string &line) {
    if (opt.logger) opt.logger("fed " + opt.manager + ": " + line);
  }

  bool follows(const std::string &system) const {
    if (opt.followed.empty()) return true;
    for (const auto &s : opt.followed)
      if (s == system) return true;
    return false;
  }

  /// Connects (waiting at most TIMEOUTMS, 0: until connected or stopped) and subscribes to
  /// what this node receives.
  Result<void> connectAndSubscribe(int timeoutMs) {
    CFM_CHECK(client->connect(std::chrono::milliseconds(timeoutMs)));
    if (opt.followed.empty()) {
      CFM_CHECK(client->subscribe("cfm/v1/systems/+/events/+", 1));
      if (share) CFM_CHECK(client->subscribe(configTopic("+"), 1));
    } else {
      for (const auto &s : opt.followed) {
        CFM_CHECK(client->subscribe("cfm/v1/systems/" + s + "/events/+", 1));
        if (share) CFM_CHECK(client->subscribe(configTopic(s), 1));
      }
    }
    CFM_CHECK(client->subscribe(resendTopic, 1));
    CFM_CHECK(client->subscribe("cfm/v1/managers/+/presence", 1));
    CFM_CHECK(client->subscribe(syncTopic, 1));
    CFM_CHECK(client->publish(qos1(syncTopic, syncNonce), std::chrono::milliseconds(10000)));
    return {};
  }

  void run() {
    for (;;) {
      std::deque<net::MqttMessage> batch;
      bool presenceDue = false;
      {
        std::unique_lock lock(mu);
        int64_t wait = std::max<int64_t>(1, std::min<int64_t>(500, nextHeartbeatMs - nowMs()));
        cv.wait_for(lock, std::chrono::milliseconds(wait),
                    [&] { return stopping || kicked || announce || !inbox.empty() || outboxPending; });
        if (stopping) return;
        kicked = false;
        presenceDue = announce;
        announce = false;
        batch.swap(inbox);
      }
      bool stored = false;
      for (const auto &m : batch) stored |= handle(m);
      stored |= watchPeers();
      if (presenceDue) stored |= shareConfig(true); // a broker that restarted lost the retained ones
      if (stored) notify();
      if (presenceDue) heartbeat(); // announced before the first events go out
      outboxPending = drainOutbox();
      if (nowMs() >= nextHeartbeatMs) {
        if (shareConfig(false)) notify();
        heartbeat();
      }
    }
  }

  void notify() {
    std::function<void()> cb;
    {
      std::lock_guard lock(mu);
      cb = onEvents;
    }
    if (cb) cb();
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
    if (m.topic == syncTopic) {
      if (m.payload != syncNonce || synced) return false;
      synced = true;
      log("in touch with the federation");
      return shareConfig(true); // what changed here before is shared now
    }
    if (std::string peer = presenceManager(m.topic); !peer.empty()) return onPresence(peer, m);
    if (share && !configTopicSystem(m.topic).empty()) return settleConfig(share->receive(m));
    std::vector<store::Store::CloudEventRow> evs;
    if (!decodeEvents(m.payload, evs, why)) return log("dropped message on " + m.topic + ": " + why), false;
    const store::Store::CloudEventRow head = evs.front();
    if (m.topic != eventTopic(head.system, head.name))
      return log("dropped events on the wrong topic " + m.topic), false;
    if (head.source == opt.manager || !follows(head.system)) return false;
    Series *s = seriesOf(head.system, head.source);
    if (!s) return false;
    std::vector<store::Store::CloudEventRow> fresh;
    for (auto &ev : evs)
      if (ev.seq > s->contiguous && !s->above.count(ev.seq)) { // else a duplicate
        ev.receivedAt = nowMs();
        fresh.push_back(std::move(ev));
      }
    std::vector<bool> isNew;
    auto n = store->receiveEvents(fresh, isNew);
    if (!n) return log("could not store events: " + n.error().message), false;
    bool stored = *n > 0;
    for (const auto &ev : fresh) s->above.insert(ev.seq);
    while (!s->above.empty() && *s->above.begin() == s->contiguous + 1) {
      s->above.erase(s->above.begin());
      ++s->contiguous;
    }
    if (!s->above.empty()) askResend(head.system, head.source, *s, *s->above.rbegin() - 1);
    return stored;
  }

  /// The series of (SYSTEM, SOURCE), loaded from the store the first time; null on a store error.
  Series *seriesOf(const std::string &system, const std::string &source) {
    auto key = std::make_pair(system, source);
    if (auto it = series.find(key); it != series.end()) return &it->second;
    auto st = store->seqState(system, source);
    if (!st) return log("could not read the history: " + st.error().message), nullptr;
    Series s;
    s.contiguous = st->contiguous;
    if (st->highest > st->contiguous) {
      auto evs = store->eventsOfSource(system, source, st->contiguous + 1, st->highest);
      if (!evs) return log("could not read the history: " + evs.error().message), nullptr;
      for (const auto &ev : *evs) s.above.insert(ev.seq);
    }
    return &series.emplace(key, std::move(s)).first->second;
  }

  /// Asks SOURCE for its events of SYSTEM after S's contiguous run up to TO (at most a second
  /// after the last request for the same start).
  void askResend(const std::string &system, const std::string &source, Series &s, int64_t to) {
    int64_t from = s.contiguous + 1, now = nowMs();
    if (to < from || (s.askedFrom == from && now - s.askedAtMs < 1000)) return;
    s.askedFrom = from;
    s.askedAtMs = now;
    Json j{{"v", 1}, {"system", system}, {"from", from}, {"to", to}};
    net::MqttMessage msg = qos1("cfm/v1/managers/" + source + "/resend", j.dump());
    if (auto r = client->publish(msg, std::chrono::milliseconds(10000)); !r)
      log("could not ask " + source + " to resend: " + r.error().message);
  }

  void answerResend(const Resend &r) {
    constexpr int64_t kMaxResend = 2000; // the receiver asks again for the rest
    auto evs = store->eventsOfSource(r.system, opt.manager, r.from, std::min(r.to, r.from + kMaxResend - 1));
    if (!evs) return log("could not read the history to resend: " + evs.error().message);
    if (evs->empty()) return;
    std::vector<size_t> parts;
    auto res = client->publishBatch(eventMessages(*evs, parts), std::chrono::milliseconds(10000));
    if (res.error) log("resend interrupted: " + res.error->message);
  }

  /// Sends one batch of the outbox; true when more is left to send now (the loop comes back at
  /// once, after the messages that arrived meanwhile and a heartbeat if one is due).
  bool drainOutbox() {
    if (!client->connected()) return false;
    auto out = store->outbox(kOutboxBatch);
    if (!out) return log("could not read the outbox: " + out.error().message), false;
    if (out->empty()) return false;
    std::vector<size_t> parts;
    auto res = client->publishBatch(eventMessages(*out, parts), std::chrono::milliseconds(10000));
    std::vector<int64_t> sent;
    size_t events = 0;
    for (size_t i = 0; i < res.acknowledged; ++i) events += parts[i];
    for (size_t i = 0; i < events; ++i) {
      sent.push_back((*out)[i].id);
      ownSystems.insert((*out)[i].system);
    }
    if (auto s = store->markSent(sent); !s)
      return log("could not mark events sent: " + s.error().message), false;
    if (res.error) return log("publish failed, will retry: " + res.error->message), false;
    if (opt.paceMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(opt.paceMs));
    return out->size() == kOutboxBatch;
  }

  // ---- configuration

  /// Local configuration changes shared (ALL: every configuration published again); true when
  /// a config_changed was recorded.
  bool shareConfig(bool all) {
    if (!share || !synced || !client->connected()) return false;
    return settleConfig(share->scan(all));
  }

  /// Publishes what OUT says to and records its config_changed events; true when one was.
  bool settleConfig(ConfigShare::Outcome out) {
    for (const auto &m : out.publish)
      if (auto r = client->publish(m, std::chrono::milliseconds(10000)); !r)
        log("could not publish " + m.topic + ": " + r.error().message);
    bool recorded = false;
    for (const auto &[system, version] : out.changed) {
      recorded |= recordObserved(system, "config_changed", Json{{"version", version}});
      log("config_changed " + system + " version " + std::to_string(version));
    }
    return recorded;
  }

  // ---- presence

  net::MqttMessage presenceMessage(const std::string &state) {
    Json j{{"v", 1}, {"manager", opt.manager}, {"cloud", opt.cloud}, {"state", state}, {"at", nowMs()}};
    if (state == "online") {
      Json seqs = Json::object();
      // The systems this manager has events of: read from the history once, then kept up by
      // the drain (a scan of the history every heartbeat would grow with it).
      if (!ownSystemsLoaded) {
        auto systems = store->eventSystemsOfSource(opt.manager);
        if (systems) {
          ownSystems.insert(systems->begin(), systems->end());
          ownSystemsLoaded = true;
        }
      }
      for (const auto &sys : ownSystems)
        if (auto hi = store->highestSentSeq(sys, opt.manager); hi && *hi > 0) seqs[sys] = *hi;
      j["seqs"] = std::move(seqs);
      j["heartbeat_ms"] = opt.heartbeatMs;
    }
    net::MqttMessage m = qos1(presenceTopic(opt.manager), j.dump());
    m.retain = true;
    return m;
  }

  void heartbeat() {
    nextHeartbeatMs = nowMs() + opt.heartbeatMs;
    if (!client->connected()) return;
    if (auto r = client->publish(presenceMessage("online"), std::chrono::milliseconds(5000)); !r)
      log("could not publish presence: " + r.error().message);
  }

  /// A peer's presence; true when an event was recorded.
  bool onPresence(const std::string &name, const net::MqttMessage &m) {
    if (name == opt.manager) return false;
    if (m.payload.empty()) { // a retained presence cleared
      peers.erase(name);
      return false;
    }
    Json j = Json::parse(m.payload, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("v", 0) != 1 || !j.contains("state") ||
        !j["state"].is_string())
      return log("dropped presence of " + name + ": malformed"), false;
    Peer &p = peers[name];
    if (auto c = j.find("cloud"); c != j.end() && c->is_string()) p.cloud = c->get<std::string>();
    bool online = j["state"] == "online";
    bool recorded = false;
    if (online) {
      p.lastSeenMs = nowMs();
      // A retained online presence met at subscription tells of a peer that was there before.
      if (!p.online && !m.retain) recorded = recordPresence("manager_joined", name, p);
      p.online = true;
      if (auto seqs = j.find("seqs"); seqs != j.end() && seqs->is_object())
        for (const auto &[sys, hi] : seqs->items()) {
          if (!hi.is_number_integer() || !follows(sys) || sys.find_first_of("/+#") != std::string::npos)
            continue;
          Series *s = seriesOf(sys, name);
          if (s && s->contiguous < hi.get<int64_t>()) askResend(sys, name, *s, hi.get<int64_t>());
        }
    } else if (p.online || !m.retain) {
      // Lost: a peer seen online, or one whose live Will or leave arrives before any heartbeat of
      // it did (it was connected a moment ago).
      if (!p.online) p.lastSeenMs = nowMs();
      p.online = false;
      recorded = recordPresence("manager_lost", name, p);
    }
    return recorded;
  }

  /// Peers whose heartbeat stopped are lost; true when an event was recorded. Only while this
  /// node is connected: when the broker is away, nobody's heartbeat arrives.
  bool watchPeers() {
    bool connected = client->connected();
    int64_t now = nowMs();
    if (connected && !wasConnected)
      for (auto &[name, p] : peers) p.lastSeenMs = now; // their heartbeats could not reach us
    wasConnected = connected;
    if (!connected) return false;
    bool recorded = false;
    for (auto &[name, p] : peers)
      if (p.online && now - p.lastSeenMs > opt.lostAfterMs) {
        p.online = false;
        recorded |= recordPresence("manager_lost", name, p);
      }
    return recorded;
  }

  /// Records NAME (manager_joined / manager_lost) of PEER for every system this node follows.
  bool recordPresence(const std::string &event, const std::string &peer, const Peer &p) {
    std::vector<std::string> systems = opt.followed;
    if (systems.empty()) {
      auto all = store->listSystems();
      if (!all) return log("could not list the systems: " + all.error().message), false;
      for (const auto &s : *all) systems.push_back(s.id);
    }
    Json data{{"manager", peer}, {"cloud", p.cloud}, {"last_seen", p.lastSeenMs}};
    bool any = false;
    for (const auto &sys : systems) {
      if (!recordObserved(sys, event, data)) return any;
      any = true;
    }
    log(event + " " + peer);
    return any;
  }

  /// Records what this manager observed of SYSTEM as the event NAME in its own history (source
  /// "@<manager>", a seq series of its own); false (logged) on a store error.
  bool recordObserved(const std::string &system, const std::string &name, const Json &data) {
    std::string source = observerSource(opt.manager);
    auto st = store->seqState(system, source);
    if (!st) return log("could not record " + name + ": " + st.error().message), false;
    store::Store::CloudEventRow ev;
    ev.system = system;
    ev.source = source;
    ev.seq = st->highest + 1;
    ev.name = name;
    ev.dataJson = data.dump();
    ev.publishedAt = ev.receivedAt = nowMs();
    auto r = store->receiveEvent(ev);
    if (!r) return log("could not record " + name + ": " + r.error().message), false;
    return true;
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
  mo.uri = !impl->opt.brokerUri.empty()
               ? impl->opt.brokerUri
               : "tcp://" + impl->opt.brokerHost + ":" + std::to_string(impl->opt.brokerPort);
  mo.clientId = "cfm-manager-" + impl->opt.manager;
  mo.username = impl->opt.username;
  mo.password = impl->opt.password;
  mo.cleanStart = false;
  mo.sessionExpirySeconds = 7 * 24 * 3600;
  {
    Json gone{{"v", 1},
              {"manager", impl->opt.manager},
              {"cloud", impl->opt.cloud},
              {"state", "offline"},
              {"reason", "connection lost"}};
    net::MqttMessage will = qos1(presenceTopic(impl->opt.manager), gone.dump());
    will.retain = true;
    mo.will = will;
  }
  impl->brokerUri = mo.uri;
  if (impl->opt.config) {
    Impl *self = impl.get();
    impl->share = std::make_unique<ConfigShare>(
        *impl->store, impl->opt.manager, impl->opt.config,
        [self](const std::string &s) { return self->follows(s); },
        [self](const std::string &line) { self->log(line); });
  }
  auto cl = net::MqttClient::create(mo);
  if (!cl) return cl.error();
  impl->client = std::move(*cl);
  impl->resendTopic = "cfm/v1/managers/" + impl->opt.manager + "/resend";
  impl->syncTopic = "cfm/v1/managers/" + impl->opt.manager + "/sync";
  impl->syncNonce = std::to_string(nowMs()) + "-" + std::to_string(reinterpret_cast<uintptr_t>(impl.get()));
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
      raw->announce = true; // a broker that restarted without its state lost the retained presence
      raw->cv.notify_one();
    }
  });
  if (connectTimeoutMs > 0) CFM_CHECK(raw->connectAndSubscribe(connectTimeoutMs));
  impl->worker = std::thread([raw, connectTimeoutMs] {
    if (connectTimeoutMs <= 0) { // in the background, until connected or stopped
      if (auto r = raw->connectAndSubscribe(0); !r) return raw->log("not connected: " + r.error().message);
      raw->log("connected to " + raw->brokerUri);
    }
    raw->run();
  });
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
  // Leaving: peers see it at once (the Will is only for a connection that drops).
  if (impl_->client->connected())
    (void)impl_->client->publish(impl_->presenceMessage("offline"), std::chrono::milliseconds(2000));
  (void)impl_->client->disconnect();
}

void Node::kick() {
  std::lock_guard lock(impl_->mu);
  impl_->kicked = true;
  impl_->cv.notify_one();
}

bool Node::synced() const { return impl_->synced; }

void Node::onEvents(std::function<void()> callback) {
  std::lock_guard lock(impl_->mu);
  impl_->onEvents = std::move(callback);
}

} // namespace cfm::fed
