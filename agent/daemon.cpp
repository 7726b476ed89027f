// daemon.cpp — cfm-agent's event loop (daemon.h): verification, exactly-once bookkeeping, the
// queue of requests waiting for a worker, replies and presence.
#include "agent/daemon.h"

#include "agent/exec.h"
#include "agent/put_file.h"
#include "agent/state.h"
#include "net/mqtt.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace cfm::agent {

namespace {

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Event {
  enum Kind { Message, Done, Reconnected, Stop } kind;
  net::MqttMessage message; // Message
  std::string id;           // Done
  net::AgentReply reply;    // Done
};

} // namespace

void logLine(const std::string &message) {
  std::string line = "cfm-agent: " + message + "\n";
  (void)!::write(2, line.data(), line.size());
}

struct Daemon::Impl {
  Config config;
  std::string key; // the HMAC key's bytes
  std::string requestTopic, replyTopic, presenceTopic;
  std::unique_ptr<net::MqttClient> client;
  std::unique_ptr<State> state;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Event> events;

  // Owned by the loop's thread.
  std::deque<net::AgentRequest> waiting; // verified and recorded, not yet started
  int running = 0;
  std::vector<std::string> unpublished; // reply payloads the broker has not taken yet

  void post(Event e) {
    {
      std::lock_guard lock(mu);
      events.push_back(std::move(e));
    }
    cv.notify_one();
  }

  std::string presence(const char *s) const {
    return net::encodeAgentPresence(
        {net::kAgentProtocolVersion, config.instance, s, int64_t(::getpid()), kAgentVersion, nowMs()});
  }

  void publishPresence(const char *s) {
    net::MqttMessage m;
    m.topic = presenceTopic;
    m.payload = presence(s);
    m.retain = true;
    if (auto r = client->publish(m); !r) logLine("presence not published: " + r.error().message);
  }

  /// Publishes a reply payload, or keeps it for after the reconnection.
  void publishReply(const std::string &payload, const std::string &id) {
    net::MqttMessage m;
    m.topic = replyTopic;
    m.payload = payload;
    m.correlationData = id;
    m.userProperties.emplace_back(std::string(net::kAgentSignatureProperty),
                                  net::signAgentMessage(key, replyTopic, payload));
    if (auto r = client->publish(m); !r) {
      logLine("reply to " + id + " kept for later: " + r.error().message);
      unpublished.push_back(payload);
    }
  }

  void republish() {
    std::vector<std::string> again;
    again.swap(unpublished);
    for (const auto &p : again) {
      auto r = net::decodeAgentReply(p);
      publishReply(p, r ? r->id : "");
    }
  }

  void reject(const std::string &id, const std::string &why) {
    logLine("rejected request " + (id.empty() ? std::string("(no id)") : id) + ": " + why);
    publishReply(net::encodeAgentReply(net::rejectedReply(id, config.instance, why)), id);
  }

  /// Stores and publishes the answer of a recorded request.
  Result<void> answer(const net::AgentReply &reply) {
    std::string payload = net::encodeAgentReply(reply);
    CFM_CHECK(state->answer(reply.id, payload));
    publishReply(payload, reply.id);
    return {};
  }

  Result<void> handle(const net::MqttMessage &m) {
    if (m.topic != requestTopic) return {};
    std::string id = net::peekAgentRequestId(m.payload);
    auto sig = m.userProperty(net::kAgentSignatureProperty);
    if (!sig) {
      reject(id, "unsigned request");
      return {};
    }
    if (!net::verifyAgentMessage(key, m.topic, m.payload, *sig)) {
      reject(id, "bad signature");
      return {};
    }
    auto req = net::decodeAgentRequest(m.payload);
    if (!req) {
      reject(id, req.error().message);
      return {};
    }
    if (req->instance != config.instance) {
      reject(id, "addressed to another instance");
      return {};
    }
    auto known = CFM_TRY(state->find(req->id));
    if (known) {
      if (!net::constantTimeEqual(known->nonce, req->nonce)) {
        reject(req->id, "request id seen before with another nonce");
      } else if (known->reply) {
        logLine("request " + req->id + " seen before: its answer sent again");
        publishReply(*known->reply, req->id);
      } // else still running: answered when it ends
      return {};
    }
    int64_t now = nowMs();
    if (req->ts < now - net::kAgentClockWindowMs || req->ts > now + net::kAgentClockWindowMs) {
      reject(req->id, "timestamp more than 60 s from the agent's clock");
      return {};
    }
    if (CFM_TRY(state->nonceSeen(req->nonce))) {
      reject(req->id, "nonce seen before");
      return {};
    }
    CFM_CHECK(state->start(req->id, req->nonce, now));
    logLine("request " + req->id + ": " + std::string(net::agentOpName(req->op)));
    if (req->op == net::AgentOp::Ping) {
      net::AgentReply r;
      r.id = req->id;
      r.instance = config.instance;
      r.resultJson = net::pingResultJson(kAgentVersion, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                            std::chrono::steady_clock::now() - started)
                                                            .count());
      return answer(r);
    }
    waiting.push_back(std::move(*req));
    startWaiting();
    return {};
  }

  /// Starts waiting requests while fewer than max_concurrent run.
  void startWaiting() {
    while (!waiting.empty() && running < config.userData.maxConcurrent) {
      net::AgentRequest req = std::move(waiting.front());
      waiting.pop_front();
      ++running;
      std::thread([this, req = std::move(req)] {
        Event e{Event::Done, {}, req.id, {}};
        e.reply.id = req.id;
        e.reply.instance = config.instance;
        if (req.op == net::AgentOp::Exec) {
          auto r = runCommand(req.exec, config.root);
          if (r)
            e.reply.resultJson = net::execResultJson(*r);
          else
            e.reply = net::ioErrorReply(req.id, config.instance, r.error().message);
        } else {
          PutFileOutcome o = putFile(req.putFile, config.root);
          if (o.refused)
            e.reply = net::rejectedReply(req.id, config.instance, o.message);
          else if (!o.message.empty())
            e.reply = net::ioErrorReply(req.id, config.instance, o.message);
          else
            e.reply.resultJson = net::putFileResultJson(o.bytes);
        }
        post(std::move(e));
      }).detach();
    }
  }

  /// Reaps descendants that left their command's process group (the agent is their subreaper),
  /// only while no command runs: a running command reaps its own group.
  void reapStrays() {
    if (running > 0) return;
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }
};

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Daemon::~Daemon() = default;

Result<std::unique_ptr<Daemon>> Daemon::create(const Config &config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->key = CFM_TRY(net::parseAgentKey(config.userData.keyHex));
  impl->requestTopic = net::agentRequestTopic(config.instance);
  impl->replyTopic = net::agentReplyTopic(config.instance);
  impl->presenceTopic = net::agentPresenceTopic(config.instance);
  impl->state = CFM_TRY(State::open(config.stateDir));
  CFM_CHECK(impl->state->prune(nowMs() - kKeepAnswersMs));
  // Requests that were running when the agent stopped: answered, never run again.
  for (const std::string &id : CFM_TRY(impl->state->unanswered())) {
    std::string payload = net::encodeAgentReply(net::ioErrorReply(
        id, config.instance, "the agent restarted while this request ran; it may have run"));
    CFM_CHECK(impl->state->answer(id, payload));
    impl->unpublished.push_back(payload);
  }

  net::MqttOptions o;
  o.uri = config.userData.broker;
  o.clientId = config.instance;
  o.username = config.instance;
  o.password = config.userData.password;
  o.cleanStart = false;
  o.sessionExpirySeconds = 24 * 3600;
  o.reconnectMin = std::chrono::milliseconds(100);
  o.reconnectMax = std::chrono::milliseconds(5000);
  net::MqttMessage will;
  will.topic = impl->presenceTopic;
  will.payload = impl->presence("down");
  will.retain = true;
  o.will = will;
  impl->client = CFM_TRY(net::MqttClient::create(o));
  Impl *p = impl.get();
  impl->client->onMessage([p](const net::MqttMessage &m) { p->post({Event::Message, m, {}, {}}); });
  impl->client->onConnection([p](net::MqttConnectionEvent e, const std::string &cause) {
    if (e == net::MqttConnectionEvent::Lost)
      logLine("connection lost (" + cause + "); reconnecting");
    else
      p->post({Event::Reconnected, {}, {}, {}});
  });
  return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

void Daemon::stop() {
  impl_->client->interrupt();
  impl_->post({Event::Stop, {}, {}, {}});
}

Result<void> Daemon::run() {
  Impl &d = *impl_;
  logLine("instance " + d.config.instance + ": connecting to " + d.config.userData.broker);
  if (auto r = d.client->connect(std::chrono::milliseconds(0)); !r) {
    logLine("stopped before connecting");
    return {};
  }
  CFM_CHECK(d.client->subscribe(d.requestTopic, 1));
  d.publishPresence("up");
  d.republish();
  logLine("connected; waiting for requests");
  auto lastPrune = std::chrono::steady_clock::now();
  for (;;) {
    Event e;
    {
      std::unique_lock lock(d.mu);
      d.cv.wait_for(lock, std::chrono::seconds(1), [&] { return !d.events.empty(); });
      if (d.events.empty()) {
        lock.unlock();
        d.reapStrays();
        if (std::chrono::steady_clock::now() - lastPrune > std::chrono::hours(1)) {
          lastPrune = std::chrono::steady_clock::now();
          CFM_CHECK(d.state->prune(nowMs() - kKeepAnswersMs));
        }
        continue;
      }
      e = std::move(d.events.front());
      d.events.pop_front();
    }
    switch (e.kind) {
    case Event::Message: CFM_CHECK(d.handle(e.message)); break;
    case Event::Done:
      --d.running;
      CFM_CHECK(d.answer(e.reply));
      d.startWaiting();
      break;
    case Event::Reconnected:
      logLine("reconnected");
      d.publishPresence("up");
      d.republish();
      break;
    case Event::Stop:
      logLine("stopping");
      d.publishPresence("down");
      (void)d.client->disconnect();
      return {};
    }
  }
}

} // namespace cfm::agent
