// client.cpp — the manager's agent client (client.h).
#include "runtime/agent/client.h"

#include "net/sigv4.h"
#include "runtime/runtime.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace cfm::rt::agent {

namespace {

constexpr std::string_view kControlTopic = "$CONTROL/dynamic-security/v1";
constexpr std::string_view kControlResponseTopic = "$CONTROL/dynamic-security/v1/response";
constexpr std::string_view kAgentCode = "agent";

bool unreachable(const std::string &message) { return raise(ErrKind::Agent, "unreachable", message); }

/// After a failed sched::await: its "timeout" becomes the "agent" error `unreachable` (no
/// answer); a cancellation stays what it is.
bool noAnswer(const std::string &message) {
  ErrorVal *e = pendingError();
  if (e && e->errKind->view() != "timeout") return false;
  clearError();
  return unreachable(message);
}

} // namespace

Result<std::unique_ptr<AgentClient>> AgentClient::connect(const ClientOptions &options,
                                                          std::chrono::milliseconds timeout) {
  std::unique_ptr<AgentClient> c(new AgentClient());
  net::MqttOptions o;
  o.uri = options.url;
  o.clientId = options.clientId;
  o.username = options.username;
  o.password = options.password;
  auto mqtt = net::MqttClient::create(o);
  if (!mqtt) return mqtt.takeError();
  c->mqtt_ = std::move(*mqtt);
  AgentClient *self = c.get();
  c->mqtt_->onMessage([self](const net::MqttMessage &m) { self->onMessage(m); });
  // Paho's and net/mqtt's threads may not publish: the resender does, once resubscribed.
  c->mqtt_->onConnection([self](net::MqttConnectionEvent e, const std::string &) {
    if (e != net::MqttConnectionEvent::Reconnected) return;
    {
      std::lock_guard<std::mutex> g(self->mu_);
      ++self->reconnections_;
    }
    self->resendCv_.notify_all();
  });
  c->resender_ = std::thread([self] { self->resendMain(); });
  auto id = net::randomHex(8);
  if (!id) return id.takeError();
  c->controlId_ = *id;
  if (auto r = c->mqtt_->connect(timeout); !r) return r.takeError();
  for (std::string filter :
       {std::string(net::kAgentTopicPrefix) + "+/replies", std::string(kControlResponseTopic)})
    if (auto r = c->mqtt_->subscribe(filter, 1); !r) return r.takeError();
  return c;
}

AgentClient::~AgentClient() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
  }
  resendCv_.notify_all();
  if (resender_.joinable()) resender_.join();
  if (mqtt_) (void)mqtt_->disconnect();
  mqtt_.reset(); // no callback after this, while the members they use are still there
}

void AgentClient::resendMain() {
  uint64_t seen = 0;
  for (;;) {
    std::vector<std::shared_ptr<const net::MqttMessage>> again;
    {
      std::unique_lock<std::mutex> lock(mu_);
      resendCv_.wait(lock, [&] { return stopping_ || reconnections_ != seen; });
      if (stopping_) return;
      seen = reconnections_;
      for (const auto &[id, p] : pending_)
        if (p.request) again.push_back(p.request);
    }
    // A failure here (lost again) is followed by another reconnection, and another round.
    for (const auto &m : again) (void)mqtt_->publish(*m);
  }
}

// Paho's callback thread: find the waiting call, check the reply's signature with its VM's key,
// hand the payload over. Anything unknown, unsigned or forged is dropped.
void AgentClient::onMessage(const net::MqttMessage &m) {
  std::shared_ptr<sched::Completion> done;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (m.topic == kControlResponseTopic) {
      // The plugin answers every command of one publish in one message; our commands'
      // correlation data is "<controlId>-<seq>-<i>": the call waits under "<controlId>-<seq>".
      nlohmann::json j = nlohmann::json::parse(m.payload, nullptr, false);
      if (j.is_discarded() || !j.contains("responses") || !j["responses"].is_array()) return;
      for (const auto &r : j["responses"]) {
        if (!r.is_object() || !r.contains("correlationData") || !r["correlationData"].is_string()) continue;
        std::string cd = r["correlationData"].get<std::string>();
        size_t dash = cd.rfind('-');
        if (dash == std::string::npos) continue;
        auto it = pending_.find(cd.substr(0, dash));
        if (it != pending_.end()) {
          done = it->second.done;
          break;
        }
      }
    } else {
      auto it = pending_.find(m.correlationData);
      if (it == pending_.end() || m.topic != net::agentReplyTopic(it->second.instance)) return;
      auto sig = m.userProperty(net::kAgentSignatureProperty);
      if (!sig || !net::verifyAgentMessage(it->second.key, m.topic, m.payload, *sig)) return;
      done = it->second.done;
    }
  }
  if (done) done->complete(true, m.payload);
}

bool AgentClient::call(net::AgentRequest &req, std::string_view key, int64_t waitMs, net::AgentReply &reply) {
  auto id = net::randomHex(16), nonce = net::randomHex(16);
  if (!id || !nonce) return raise(ErrKind::Agent, "io", "cannot make a request id (no randomness)");
  req.id = *id;
  req.nonce = *nonce;
  req.ts = rt::nowMs();
  net::MqttMessage m;
  m.topic = net::agentRequestTopic(req.instance);
  m.payload = net::encodeAgentRequest(req);
  m.qos = 1;
  m.responseTopic = net::agentReplyTopic(req.instance);
  m.correlationData = req.id;
  m.userProperties = {
      {std::string(net::kAgentSignatureProperty), net::signAgentMessage(key, m.topic, m.payload)}};
  auto done = sched::Completion::create();
  auto wire = std::make_shared<const net::MqttMessage>(std::move(m));
  {
    std::lock_guard<std::mutex> g(mu_);
    pending_[req.id] = Pending{done, req.instance, std::string(key), wire};
  }
  auto forget = [&] {
    std::lock_guard<std::mutex> g(mu_);
    pending_.erase(req.id);
  };
  // Sent while disconnected, or lost before the broker's PUBACK: the resender sends it after the
  // reconnection, within the wait below. Refused by a connected broker: unreachable now.
  if (auto r = mqtt_->publish(*wire); !r && mqtt_->connected()) {
    forget();
    return unreachable("cannot send to the agent of " + req.instance + ": " + r.error().message);
  }
  bool ok = false;
  std::string payload;
  bool answered = sched::await(*done, waitMs, ok, payload);
  forget();
  if (!answered)
    return noAnswer("no answer from the agent of " + req.instance + " within " +
                    std::to_string(waitMs / 1000) + "s");
  auto decoded = net::decodeAgentReply(payload);
  if (!decoded || decoded->id != req.id || decoded->instance != req.instance)
    return raise(ErrKind::Agent, "io", "the agent of " + req.instance + " sent a malformed reply");
  reply = std::move(*decoded);
  switch (reply.status) {
  case net::AgentStatus::Ok: return true;
  case net::AgentStatus::Rejected: return raise(ErrKind::Agent, "rejected", reply.message);
  case net::AgentStatus::Error: return raise(ErrKind::Agent, "io", reply.message);
  }
  return raise(ErrKind::Agent, "io", reply.message);
}

bool AgentClient::runCommand(std::string_view instance, std::string_view key, std::string_view command,
                             const std::vector<std::pair<std::string, std::string>> &env, int64_t timeoutMs,
                             model::Manager::CommandResult &out) {
  net::AgentRequest req;
  req.instance = std::string(instance);
  req.op = net::AgentOp::Exec;
  req.exec.command = std::string(command);
  req.exec.env = env;
  req.exec.timeoutMs = std::max<int64_t>(timeoutMs, 1);
  net::AgentReply reply;
  if (!call(req, key, req.exec.timeoutMs + kReplyGraceMs, reply)) return false;
  auto r = net::decodeExecResult(reply.resultJson);
  if (!r) return raise(ErrKind::Agent, "io", "the agent of " + req.instance + " sent a malformed result");
  if (r->timedOut)
    return raise(ErrKind::Timeout, "",
                 "the command ran longer than " + std::to_string(req.exec.timeoutMs) + " ms on " +
                     req.instance + " (its process group was killed)");
  out.exitCode = r->exitCode;
  out.stdoutText = std::move(r->stdoutText);
  out.stderrText = std::move(r->stderrText);
  out.truncated = r->truncated;
  out.durationMs = r->durationMs;
  return true;
}

bool AgentClient::putFile(std::string_view instance, std::string_view key, std::string_view path,
                          std::string_view content, uint32_t mode, int64_t timeoutMs) {
  net::AgentRequest req;
  req.instance = std::string(instance);
  req.op = net::AgentOp::PutFile;
  req.putFile.path = std::string(path);
  req.putFile.content = std::string(content);
  req.putFile.mode = mode;
  req.putFile.sha256 = net::sha256Hex(content);
  net::AgentReply reply;
  return call(req, key, timeoutMs + kReplyGraceMs, reply);
}

bool AgentClient::ping(std::string_view instance, std::string_view key, int64_t timeoutMs) {
  net::AgentRequest req;
  req.instance = std::string(instance);
  req.op = net::AgentOp::Ping;
  net::AgentReply reply;
  return call(req, key, timeoutMs, reply);
}

bool AgentClient::control(const std::string &commandsJson, size_t count, int64_t timeoutMs,
                          std::vector<std::string> &errors) {
  std::string waitKey;
  auto done = sched::Completion::create();
  {
    std::lock_guard<std::mutex> g(mu_);
    waitKey = controlId_ + "-" + std::to_string(++controlSeq_);
    pending_[waitKey] = Pending{done, "", "", nullptr};
  }
  nlohmann::json cmds = nlohmann::json::parse(commandsJson);
  for (size_t i = 0; i < cmds.size(); ++i) cmds[i]["correlationData"] = waitKey + "-" + std::to_string(i);
  net::MqttMessage m;
  m.topic = std::string(kControlTopic);
  m.payload = nlohmann::json{{"commands", cmds}}.dump();
  m.qos = 1;
  auto forget = [&] {
    std::lock_guard<std::mutex> g(mu_);
    pending_.erase(waitKey);
  };
  if (auto r = mqtt_->publish(m); !r) {
    forget();
    return unreachable("cannot send to the broker's dynamic-security plugin: " + r.error().message);
  }
  bool ok = false;
  std::string payload;
  bool answered = sched::await(*done, timeoutMs, ok, payload);
  forget();
  if (!answered) return noAnswer("no answer from the broker's dynamic-security plugin");
  errors.assign(count, "");
  nlohmann::json j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_discarded() && j.contains("responses") && j["responses"].is_array())
    for (const auto &r : j["responses"]) {
      if (!r.is_object() || !r.contains("correlationData") || !r["correlationData"].is_string()) continue;
      std::string cd = r["correlationData"].get<std::string>();
      if (cd.rfind(waitKey + "-", 0) != 0) continue;
      size_t i = std::stoul(cd.substr(waitKey.size() + 1));
      if (i < count && r.contains("error") && r["error"].is_string())
        errors[i] = r["error"].get<std::string>();
    }
  return true;
}

bool AgentClient::createAgentAccount(std::string_view instance, std::string_view password,
                                     int64_t timeoutMs) {
  const std::string id(instance), role = "agent-" + id;
  auto acl = [&](const char *type, const std::string &topic) {
    return nlohmann::json{{"command", "addRoleACL"}, {"rolename", role}, {"acltype", type},
                          {"topic", topic},          {"priority", 0},    {"allow", true}};
  };
  nlohmann::json cmds = nlohmann::json::array(
      {{{"command", "deleteClient"}, {"username", id}},
       {{"command", "deleteRole"}, {"rolename", role}},
       {{"command", "createRole"}, {"rolename", role}},
       acl("subscribeLiteral", net::agentRequestTopic(id)),
       acl("publishClientReceive", net::agentRequestTopic(id)),
       acl("publishClientSend", net::agentReplyTopic(id)),
       acl("publishClientSend", net::agentPresenceTopic(id)),
       {{"command", "createClient"}, {"username", id}, {"password", std::string(password)}, {"clientid", id}},
       {{"command", "addClientRole"}, {"username", id}, {"rolename", role}}});
  std::vector<std::string> errors;
  if (!control(cmds.dump(), cmds.size(), timeoutMs, errors)) return false;
  for (size_t i = 2; i < errors.size(); ++i) // deleting what does not exist yet is no error
    if (!errors[i].empty())
      return raise(ErrKind::Agent, "io",
                   "cannot make the broker account of " + id + ": " + cmds[i]["command"].get<std::string>() +
                       ": " + errors[i]);
  return true;
}

bool AgentClient::deleteAgentAccount(std::string_view instance, int64_t timeoutMs) {
  const std::string id(instance);
  nlohmann::json cmds = nlohmann::json::array({{{"command", "deleteClient"}, {"username", id}},
                                               {{"command", "deleteRole"}, {"rolename", "agent-" + id}}});
  std::vector<std::string> errors;
  return control(cmds.dump(), cmds.size(), timeoutMs, errors);
}

} // namespace cfm::rt::agent
