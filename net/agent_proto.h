// agent_proto.h — the agent protocol's messages (docs/agent-protocol.md), shared by cfm-agent and
// the manager's agent client: the topics' names, requests and replies as values with their JSON
// codec (strict: a malformed request is refused whole), presence messages, and the HMAC-SHA256
// signature of a message (`sig` user property) with a constant-time check.
//
// Nothing here throws, prints or keeps state. JSON is read and written in agent_proto.cpp only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace cfm::net {

constexpr int kAgentProtocolVersion = 1;
constexpr std::string_view kAgentTopicPrefix = "cfm/v1/agents/";
/// The user property that carries a message's signature.
constexpr std::string_view kAgentSignatureProperty = "sig";
/// How far a request's `ts` may be from the agent's clock, either way.
constexpr int64_t kAgentClockWindowMs = 60 * 1000;
/// The largest request payload an agent reads (a put_file of 64 MiB, JSON-escaped, fits).
constexpr size_t kAgentMaxRequestBytes = 256u << 20;

std::string agentRequestTopic(std::string_view instance);  ///< cfm/v1/agents/<id>/requests
std::string agentReplyTopic(std::string_view instance);    ///< cfm/v1/agents/<id>/replies
std::string agentPresenceTopic(std::string_view instance); ///< cfm/v1/agents/<id>/presence

// --- keys and signatures -------------------------------------------------------------------

/// The 32-byte key from its 64 hex digits (the user data's `key`).
Result<std::string> parseAgentKey(std::string_view hex);
/// Lowercase hex HMAC-SHA256(KEY, "cfm-agent-v1\n" + TOPIC + "\n" + PAYLOAD).
std::string signAgentMessage(std::string_view key, std::string_view topic, std::string_view payload);
/// True when SIG is the signature of (TOPIC, PAYLOAD) under KEY; compared in constant time.
bool verifyAgentMessage(std::string_view key, std::string_view topic, std::string_view payload,
                        std::string_view sig);
/// Equality of two byte strings in time that depends on their lengths only.
bool constantTimeEqual(std::string_view a, std::string_view b);
/// BYTES random bytes (OpenSSL's CSPRNG) as lowercase hex: request ids, nonces, keys, passwords.
Result<std::string> randomHex(size_t bytes);
// put_file's `sha256` is net/sigv4.h's sha256Hex().

// --- requests ------------------------------------------------------------------------------

enum class AgentOp { Exec, PutFile, Ping };
std::string_view agentOpName(AgentOp op); ///< "exec", "put_file", "ping"

struct ExecArgs {
  std::string command;
  std::vector<std::pair<std::string, std::string>> env; ///< in the order given
  int64_t timeoutMs = 300000;                           ///< > 0
};

struct PutFileArgs {
  std::string path; ///< absolute inside the VM
  std::string content;
  uint32_t mode = 0644; ///< from the octal text "0644"; at most 07777
  std::string sha256;   ///< lowercase hex of content's bytes
};

struct AgentRequest {
  int version = kAgentProtocolVersion;
  std::string id;       ///< 32 hex digits
  std::string instance; ///< the agent's instance id
  int64_t ts = 0;       ///< unix milliseconds
  std::string nonce;    ///< 32 hex digits
  AgentOp op = AgentOp::Ping;
  ExecArgs exec;       ///< when op is Exec
  PutFileArgs putFile; ///< when op is PutFile
};

/// The payload of REQ (the exact bytes that are then signed and sent).
std::string encodeAgentRequest(const AgentRequest &req);
/// Reads a request payload. Refuses (ErrorKind::Syntax, the message says what) anything but the
/// contract's shape: not JSON or not an object, a missing or mistyped member, an id or nonce not
/// 32 hex digits, an unknown op, arguments of the wrong shape (unknown members are ignored).
/// A `v` other than 1 is refused with "unsupported protocol version N" before anything else.
Result<AgentRequest> decodeAgentRequest(std::string_view payload);
/// The request's `id` when PAYLOAD is an object with a string `id` of 32 hex digits, else "":
/// so that a refusal can still name the request.
std::string peekAgentRequestId(std::string_view payload);

// --- replies -------------------------------------------------------------------------------

enum class AgentStatus { Ok, Rejected, Error };
std::string_view agentStatusName(AgentStatus s); ///< "ok", "rejected", "error"

struct AgentReply {
  int version = kAgentProtocolVersion;
  std::string id;
  std::string instance;
  AgentStatus status = AgentStatus::Ok;
  std::string code; ///< "" (ok), "rejected", "io"
  std::string message;
  std::string resultJson = "{}"; ///< the `result` object, as JSON text
};

struct ExecResult {
  int exitCode = 0; ///< -1 when a signal ended the command
  int signal = 0;
  std::string stdoutText; ///< UTF-8 (invalid bytes were replaced by U+FFFD when encoded)
  std::string stderrText;
  bool truncated = false;
  bool timedOut = false;
  int64_t durationMs = 0;
};

/// A reply's payload; resultJson must be a JSON object's text.
std::string encodeAgentReply(const AgentReply &reply);
Result<AgentReply> decodeAgentReply(std::string_view payload);
/// A refusal of request ID (possibly "") by INSTANCE: status rejected, code rejected.
AgentReply rejectedReply(std::string_view id, std::string_view instance, std::string message);
/// A failure: status error, code io.
AgentReply ioErrorReply(std::string_view id, std::string_view instance, std::string message);

/// The `result` objects, as JSON text (bytes that are not UTF-8 become U+FFFD).
std::string execResultJson(const ExecResult &r);
std::string putFileResultJson(uint64_t bytes);
std::string pingResultJson(std::string_view agentVersion, int64_t uptimeMs);
Result<ExecResult> decodeExecResult(std::string_view resultJson);

// --- presence ------------------------------------------------------------------------------

struct AgentPresence {
  int version = kAgentProtocolVersion;
  std::string instance;
  std::string state; ///< "up" or "down"
  int64_t pid = 0;
  std::string agentVersion;
  int64_t at = 0; ///< unix milliseconds
};

std::string encodeAgentPresence(const AgentPresence &p);
Result<AgentPresence> decodeAgentPresence(std::string_view payload);

// --- user data ----------------------------------------------------------------------------

/// The user data's `cfm_agent` member: what the manager gives an agent at launch.
struct AgentUserData {
  std::string broker;    ///< "tcp://127.0.0.1:18830"
  std::string password;  ///< the agent's broker password (hex)
  std::string keyHex;    ///< 64 hex digits: the HMAC-SHA256 key
  std::string manager;   ///< the manager's name
  int maxConcurrent = 8; ///< commands at once; 1 to kAgentMaxConcurrent
};
constexpr int kAgentMaxConcurrent = 1024;

/// The whole user data document `{"v":1,"cfm_agent":{...}}`.
std::string encodeAgentUserData(const AgentUserData &u);
/// Reads a user data document: nullopt when it is JSON without a `cfm_agent` member (an
/// instance started without an agent); an error when it is not JSON or `cfm_agent` is malformed.
Result<std::optional<AgentUserData>> decodeAgentUserData(std::string_view document);

} // namespace cfm::net
