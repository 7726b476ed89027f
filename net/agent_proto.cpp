// agent_proto.cpp — the agent protocol's codec and signatures (agent_proto.h): JSON through
// nlohmann-json without exceptions (parse errors are values, every member's type is checked
// before it is read), HMAC-SHA256 and SHA-256 from OpenSSL's libcrypto.
#include "net/agent_proto.h"

#include "base/hex.h"

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

namespace cfm::net {

using nlohmann::json;

namespace {

bool isHex(std::string_view s, size_t len) {
  if (s.size() != len) return false;
  for (char c : s)
    if (base::hexDigit(c) < 0) return false;
  return true;
}

std::string dumpJson(const json &j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Error malformed(const std::string &what) { return Error{ErrorKind::Syntax, "malformed payload: " + what}; }

/// Reads member NAME of object O as a string into OUT.
Result<void> getString(const json &o, const char *name, std::string &out) {
  auto it = o.find(name);
  if (it == o.end() || !it->is_string()) return malformed(std::string("`") + name + "` must be a string");
  out = it->get_ref<const std::string &>();
  return {};
}

Result<void> getInt(const json &o, const char *name, int64_t &out) {
  auto it = o.find(name);
  if (it == o.end() || !it->is_number_integer())
    return malformed(std::string("`") + name + "` must be an integer");
  if (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(INT64_MAX))
    return malformed(std::string("`") + name + "` is too large");
  out = it->get<int64_t>();
  return {};
}

Result<void> getBool(const json &o, const char *name, bool &out) {
  auto it = o.find(name);
  if (it == o.end() || !it->is_boolean())
    return malformed(std::string("`") + name + "` must be true or false");
  out = it->get<bool>();
  return {};
}

/// Parses PAYLOAD as a JSON object with an integer `v` equal to 1.
Result<json> parseVersioned(std::string_view payload) {
  if (payload.size() > kAgentMaxRequestBytes) return malformed("larger than the limit");
  json j = json::parse(payload.begin(), payload.end(), nullptr, false);
  if (j.is_discarded()) return malformed("not JSON");
  if (!j.is_object()) return malformed("not a JSON object");
  int64_t v = 0;
  CFM_CHECK(getInt(j, "v", v));
  if (v != kAgentProtocolVersion)
    return Error{ErrorKind::Syntax, "unsupported protocol version " + std::to_string(v)};
  return j;
}

Result<uint32_t> parseMode(const std::string &s) {
  if (s.empty() || s.size() > 5) return malformed("`mode` must be octal text such as \"0644\"");
  uint32_t m = 0;
  for (char c : s) {
    if (c < '0' || c > '7') return malformed("`mode` must be octal text such as \"0644\"");
    m = m * 8 + uint32_t(c - '0');
  }
  if (m > 07777) return malformed("`mode` is above 07777");
  return m;
}

} // namespace

std::string agentRequestTopic(std::string_view instance) {
  return std::string(kAgentTopicPrefix) + std::string(instance) + "/requests";
}
std::string agentReplyTopic(std::string_view instance) {
  return std::string(kAgentTopicPrefix) + std::string(instance) + "/replies";
}
std::string agentPresenceTopic(std::string_view instance) {
  return std::string(kAgentTopicPrefix) + std::string(instance) + "/presence";
}

Result<std::string> parseAgentKey(std::string_view hex) {
  if (!isHex(hex, 64)) return Error{ErrorKind::Usage, "the agent key must be 64 hex digits"};
  std::string key(32, '\0');
  for (size_t i = 0; i < 32; ++i)
    key[i] = char(base::hexDigit(hex[2 * i]) * 16 + base::hexDigit(hex[2 * i + 1]));
  return key;
}

std::string signAgentMessage(std::string_view key, std::string_view topic, std::string_view payload) {
  // EVP_MAC (OpenSSL 3): streamed, so that a large payload is not copied to be signed.
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t len = 0;
  static constexpr std::string_view kContext = "cfm-agent-v1\n";
  EVP_MAC *hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : nullptr;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
  bool ok = ctx &&
            EVP_MAC_init(ctx, reinterpret_cast<const unsigned char *>(key.data()), key.size(), params) &&
            EVP_MAC_update(ctx, reinterpret_cast<const unsigned char *>(kContext.data()), kContext.size()) &&
            EVP_MAC_update(ctx, reinterpret_cast<const unsigned char *>(topic.data()), topic.size()) &&
            EVP_MAC_update(ctx, reinterpret_cast<const unsigned char *>("\n"), 1) &&
            EVP_MAC_update(ctx, reinterpret_cast<const unsigned char *>(payload.data()), payload.size()) &&
            EVP_MAC_final(ctx, mac, &len, sizeof mac);
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(hmac);
  if (!ok) return ""; // never equal to a signature: verification fails closed
  return base::hexLower(mac, len);
}

bool constantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool verifyAgentMessage(std::string_view key, std::string_view topic, std::string_view payload,
                        std::string_view sig) {
  std::string expected = signAgentMessage(key, topic, payload);
  return !expected.empty() && constantTimeEqual(expected, sig);
}

Result<std::string> randomHex(size_t bytes) {
  std::string buf(bytes, '\0');
  if (bytes > 0 && RAND_bytes(reinterpret_cast<unsigned char *>(buf.data()), int(bytes)) != 1)
    return Error{ErrorKind::Internal, "the random generator failed"};
  return base::hexLower(reinterpret_cast<const unsigned char *>(buf.data()), bytes);
}

std::string_view agentOpName(AgentOp op) {
  switch (op) {
  case AgentOp::Exec: return "exec";
  case AgentOp::PutFile: return "put_file";
  case AgentOp::Ping: return "ping";
  }
  return "ping";
}

std::string_view agentStatusName(AgentStatus s) {
  switch (s) {
  case AgentStatus::Ok: return "ok";
  case AgentStatus::Rejected: return "rejected";
  case AgentStatus::Error: return "error";
  }
  return "error";
}

std::string encodeAgentRequest(const AgentRequest &req) {
  json args = json::object();
  if (req.op == AgentOp::Exec) {
    json env = json::object();
    for (const auto &[k, v] : req.exec.env) env[k] = v;
    args = {{"command", req.exec.command}, {"env", env}, {"timeout_ms", req.exec.timeoutMs}};
  } else if (req.op == AgentOp::PutFile) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", req.putFile.mode);
    args = {{"path", req.putFile.path},
            {"content", req.putFile.content},
            {"mode", mode},
            {"sha256", req.putFile.sha256}};
  }
  json j = {{"v", req.version},       {"id", req.id},       {"instance", req.instance},
            {"ts", req.ts},           {"nonce", req.nonce}, {"op", agentOpName(req.op)},
            {"args", std::move(args)}};
  return dumpJson(j);
}

std::string peekAgentRequestId(std::string_view payload) {
  if (payload.size() > kAgentMaxRequestBytes) return "";
  json j = json::parse(payload.begin(), payload.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "";
  auto it = j.find("id");
  if (it == j.end() || !it->is_string() || !isHex(it->get_ref<const std::string &>(), 32)) return "";
  return it->get<std::string>();
}

Result<AgentRequest> decodeAgentRequest(std::string_view payload) {
  json j = CFM_TRY(parseVersioned(payload));
  AgentRequest req;
  CFM_CHECK(getString(j, "id", req.id));
  if (!isHex(req.id, 32)) return malformed("`id` must be 32 hex digits");
  CFM_CHECK(getString(j, "instance", req.instance));
  CFM_CHECK(getInt(j, "ts", req.ts));
  CFM_CHECK(getString(j, "nonce", req.nonce));
  if (!isHex(req.nonce, 32)) return malformed("`nonce` must be 32 hex digits");
  std::string op;
  CFM_CHECK(getString(j, "op", op));
  auto ait = j.find("args");
  if (ait == j.end() || !ait->is_object()) return malformed("`args` must be an object");
  const json &args = *ait;
  if (op == "exec") {
    req.op = AgentOp::Exec;
    CFM_CHECK(getString(args, "command", req.exec.command));
    if (req.exec.command.find('\0') != std::string::npos) return malformed("`command` holds a NUL byte");
    auto eit = args.find("env");
    if (eit != args.end()) {
      if (!eit->is_object()) return malformed("`env` must be an object of strings");
      for (auto it = eit->begin(); it != eit->end(); ++it) {
        if (!it.value().is_string()) return malformed("`env` must be an object of strings");
        const std::string &k = it.key();
        const std::string &v = it.value().get_ref<const std::string &>();
        if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos ||
            v.find('\0') != std::string::npos)
          return malformed("`env` has a name or value that cannot be an environment variable");
        req.exec.env.emplace_back(k, v);
      }
    }
    if (args.contains("timeout_ms")) {
      CFM_CHECK(getInt(args, "timeout_ms", req.exec.timeoutMs));
      if (req.exec.timeoutMs <= 0) return malformed("`timeout_ms` must be positive");
    }
  } else if (op == "put_file") {
    req.op = AgentOp::PutFile;
    CFM_CHECK(getString(args, "path", req.putFile.path));
    CFM_CHECK(getString(args, "content", req.putFile.content));
    std::string mode = "0644";
    if (args.contains("mode")) CFM_CHECK(getString(args, "mode", mode));
    req.putFile.mode = CFM_TRY(parseMode(mode));
    CFM_CHECK(getString(args, "sha256", req.putFile.sha256));
    if (!isHex(req.putFile.sha256, 64)) return malformed("`sha256` must be 64 hex digits");
  } else if (op == "ping") {
    req.op = AgentOp::Ping;
  } else {
    return malformed("unknown op");
  }
  return req;
}

std::string encodeAgentReply(const AgentReply &r) {
  json result = json::parse(r.resultJson, nullptr, false);
  if (result.is_discarded() || !result.is_object()) result = json::object();
  json j = {{"v", r.version},
            {"id", r.id},
            {"instance", r.instance},
            {"status", agentStatusName(r.status)},
            {"code", r.code},
            {"message", r.message},
            {"result", std::move(result)}};
  return dumpJson(j);
}

Result<AgentReply> decodeAgentReply(std::string_view payload) {
  json j = CFM_TRY(parseVersioned(payload));
  AgentReply r;
  CFM_CHECK(getString(j, "id", r.id));
  CFM_CHECK(getString(j, "instance", r.instance));
  std::string status;
  CFM_CHECK(getString(j, "status", status));
  if (status == "ok")
    r.status = AgentStatus::Ok;
  else if (status == "rejected")
    r.status = AgentStatus::Rejected;
  else if (status == "error")
    r.status = AgentStatus::Error;
  else
    return malformed("unknown status");
  CFM_CHECK(getString(j, "code", r.code));
  CFM_CHECK(getString(j, "message", r.message));
  auto it = j.find("result");
  if (it == j.end() || !it->is_object()) return malformed("`result` must be an object");
  r.resultJson = dumpJson(*it);
  return r;
}

AgentReply rejectedReply(std::string_view id, std::string_view instance, std::string message) {
  AgentReply r;
  r.id = id;
  r.instance = instance;
  r.status = AgentStatus::Rejected;
  r.code = "rejected";
  r.message = std::move(message);
  return r;
}

AgentReply ioErrorReply(std::string_view id, std::string_view instance, std::string message) {
  AgentReply r = rejectedReply(id, instance, std::move(message));
  r.status = AgentStatus::Error;
  r.code = "io";
  return r;
}

std::string execResultJson(const ExecResult &r) {
  return dumpJson(json{{"exit_code", r.exitCode},
                       {"signal", r.signal},
                       {"stdout", r.stdoutText},
                       {"stderr", r.stderrText},
                       {"truncated", r.truncated},
                       {"timed_out", r.timedOut},
                       {"duration_ms", r.durationMs}});
}

std::string putFileResultJson(uint64_t bytes) { return dumpJson(json{{"bytes", bytes}}); }

std::string pingResultJson(std::string_view agentVersion, int64_t uptimeMs) {
  return dumpJson(json{{"agent_version", agentVersion}, {"uptime_ms", uptimeMs}});
}

Result<ExecResult> decodeExecResult(std::string_view resultJson) {
  json j = json::parse(resultJson.begin(), resultJson.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return malformed("an exec result must be a JSON object");
  ExecResult r;
  int64_t n = 0;
  CFM_CHECK(getInt(j, "exit_code", n));
  r.exitCode = int(n);
  CFM_CHECK(getInt(j, "signal", n));
  r.signal = int(n);
  CFM_CHECK(getString(j, "stdout", r.stdoutText));
  CFM_CHECK(getString(j, "stderr", r.stderrText));
  CFM_CHECK(getBool(j, "truncated", r.truncated));
  CFM_CHECK(getBool(j, "timed_out", r.timedOut));
  CFM_CHECK(getInt(j, "duration_ms", r.durationMs));
  return r;
}

std::string encodeAgentPresence(const AgentPresence &p) {
  return dumpJson(json{{"v", p.version},
                       {"instance", p.instance},
                       {"state", p.state},
                       {"pid", p.pid},
                       {"agent_version", p.agentVersion},
                       {"at", p.at}});
}

Result<AgentPresence> decodeAgentPresence(std::string_view payload) {
  json j = CFM_TRY(parseVersioned(payload));
  AgentPresence p;
  CFM_CHECK(getString(j, "instance", p.instance));
  CFM_CHECK(getString(j, "state", p.state));
  if (p.state != "up" && p.state != "down") return malformed("`state` must be \"up\" or \"down\"");
  CFM_CHECK(getInt(j, "pid", p.pid));
  CFM_CHECK(getString(j, "agent_version", p.agentVersion));
  CFM_CHECK(getInt(j, "at", p.at));
  return p;
}

std::string encodeAgentUserData(const AgentUserData &u) {
  return dumpJson(json{{"v", kAgentProtocolVersion},
                       {"cfm_agent",
                        {{"broker", u.broker},
                         {"password", u.password},
                         {"key", u.keyHex},
                         {"manager", u.manager},
                         {"max_concurrent", u.maxConcurrent}}}});
}

Result<std::optional<AgentUserData>> decodeAgentUserData(std::string_view document) {
  if (document.size() > kAgentMaxRequestBytes) return malformed("user data larger than the limit");
  json j = json::parse(document.begin(), document.end(), nullptr, false);
  if (j.is_discarded()) return Error{ErrorKind::Syntax, "the user data is not JSON"};
  if (!j.is_object() || !j.contains("cfm_agent")) return std::optional<AgentUserData>();
  const json &a = j["cfm_agent"];
  if (!a.is_object()) return malformed("`cfm_agent` must be an object");
  AgentUserData u;
  CFM_CHECK(getString(a, "broker", u.broker));
  CFM_CHECK(getString(a, "password", u.password));
  CFM_CHECK(getString(a, "key", u.keyHex));
  if (!isHex(u.keyHex, 64)) return malformed("`key` must be 64 hex digits");
  if (a.contains("manager")) CFM_CHECK(getString(a, "manager", u.manager));
  if (a.contains("max_concurrent")) {
    int64_t n = 0;
    CFM_CHECK(getInt(a, "max_concurrent", n));
    if (n < 1 || n > kAgentMaxConcurrent)
      return malformed("`max_concurrent` must be 1 to " + std::to_string(kAgentMaxConcurrent));
    u.maxConcurrent = int(n);
  }
  return std::optional<AgentUserData>(std::move(u));
}

} // namespace cfm::net
