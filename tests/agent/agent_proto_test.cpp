// agent_proto_test.cpp — unit tests of net/agent_proto: signatures (a known HMAC-SHA256 vector,
// tampering, another key, another topic), the request codec's round trip and its refusals of
// malformed payloads, replies, exec results and presence.
#include "net/agent_proto.h"
#include "net/sigv4.h"

#include <gtest/gtest.h>

using namespace cfm::net;

namespace {

const std::string kKeyHex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

AgentRequest sampleExec() {
  AgentRequest r;
  r.id = "0123456789abcdef0123456789abcdef";
  r.nonce = "fedcba9876543210fedcba9876543210";
  r.instance = "i-0abc";
  r.ts = 1764860000000;
  r.op = AgentOp::Exec;
  r.exec.command = "echo \"hi\" && printf 'é\\n'";
  r.exec.env = {{"A", "1"}, {"B", "x y"}};
  r.exec.timeoutMs = 1234;
  return r;
}

} // namespace

TEST(AgentProto, Topics) {
  EXPECT_EQ(agentRequestTopic("i-1"), "cfm/v1/agents/i-1/requests");
  EXPECT_EQ(agentReplyTopic("i-1"), "cfm/v1/agents/i-1/replies");
  EXPECT_EQ(agentPresenceTopic("i-1"), "cfm/v1/agents/i-1/presence");
}

TEST(AgentProto, KeyParsing) {
  auto k = parseAgentKey(kKeyHex);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->size(), 32u);
  EXPECT_EQ(uint8_t((*k)[1]), 0x11);
  EXPECT_FALSE(parseAgentKey("0011").ok());
  EXPECT_FALSE(parseAgentKey(std::string(64, 'g')).ok());
}

TEST(AgentProto, SignatureMatchesHmacSha256) {
  // HMAC-SHA256 with the key "key" over "cfm-agent-v1\n" + "t" + "\n" + "p", computed with
  // `printf 'cfm-agent-v1\nt\np' | openssl dgst -sha256 -hmac key`.
  EXPECT_EQ(signAgentMessage("key", "t", "p"),
            "53d813a6796b3367a671b671e084a743971c40e32aa2f03ab4330698214d7034");
}

TEST(AgentProto, VerifyRefusesTamperingKeysAndTopics) {
  std::string key = *parseAgentKey(kKeyHex);
  std::string payload = encodeAgentRequest(sampleExec());
  std::string topic = agentRequestTopic("i-0abc");
  std::string sig = signAgentMessage(key, topic, payload);
  EXPECT_EQ(sig.size(), 64u);
  EXPECT_TRUE(verifyAgentMessage(key, topic, payload, sig));
  std::string tampered = payload;
  tampered[tampered.size() / 2] ^= 1;
  EXPECT_FALSE(verifyAgentMessage(key, topic, tampered, sig));
  EXPECT_FALSE(verifyAgentMessage(key, agentRequestTopic("i-other"), payload, sig));
  std::string other = key;
  other[0] ^= 1;
  EXPECT_FALSE(verifyAgentMessage(other, topic, payload, sig));
  EXPECT_FALSE(verifyAgentMessage(key, topic, payload, ""));
  EXPECT_FALSE(verifyAgentMessage(key, topic, payload, sig.substr(0, 63)));
  std::string upper = sig;
  for (char &c : upper) c = char(std::toupper(c));
  if (upper != sig) {
    EXPECT_FALSE(verifyAgentMessage(key, topic, payload, upper));
  }
}

TEST(AgentProto, ConstantTimeEqual) {
  EXPECT_TRUE(constantTimeEqual("", ""));
  EXPECT_TRUE(constantTimeEqual("abc", "abc"));
  EXPECT_FALSE(constantTimeEqual("abc", "abd"));
  EXPECT_FALSE(constantTimeEqual("abc", "abcd"));
}

TEST(AgentProto, RandomHexAndSha256) {
  auto a = randomHex(16), b = randomHex(16);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AgentProto, RequestRoundTrip) {
  AgentRequest r = sampleExec();
  auto d = decodeAgentRequest(encodeAgentRequest(r));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->id, r.id);
  EXPECT_EQ(d->nonce, r.nonce);
  EXPECT_EQ(d->instance, r.instance);
  EXPECT_EQ(d->ts, r.ts);
  EXPECT_EQ(d->op, AgentOp::Exec);
  EXPECT_EQ(d->exec.command, r.exec.command);
  EXPECT_EQ(d->exec.env, r.exec.env);
  EXPECT_EQ(d->exec.timeoutMs, 1234);

  AgentRequest p = r;
  p.op = AgentOp::PutFile;
  p.putFile.path = "/etc/x.conf";
  p.putFile.content = std::string("a\0b", 3);
  p.putFile.mode = 0600;
  p.putFile.sha256 = sha256Hex(p.putFile.content);
  auto dp = decodeAgentRequest(encodeAgentRequest(p));
  ASSERT_TRUE(dp.ok()) << dp.error().message;
  EXPECT_EQ(dp->op, AgentOp::PutFile);
  EXPECT_EQ(dp->putFile.path, "/etc/x.conf");
  EXPECT_EQ(dp->putFile.content, p.putFile.content);
  EXPECT_EQ(dp->putFile.mode, 0600u);
  EXPECT_EQ(dp->putFile.sha256, p.putFile.sha256);

  AgentRequest g = r;
  g.op = AgentOp::Ping;
  auto dg = decodeAgentRequest(encodeAgentRequest(g));
  ASSERT_TRUE(dg.ok());
  EXPECT_EQ(dg->op, AgentOp::Ping);
}

TEST(AgentProto, MalformedRequestsAreRefused) {
  const std::string id = "\"id\":\"0123456789abcdef0123456789abcdef\"";
  const std::string nonce = "\"nonce\":\"fedcba9876543210fedcba9876543210\"";
  auto with = [&](const std::string &members) { return "{\"v\":1," + members + "}"; };
  std::string good = with(id + ",\"instance\":\"i-1\",\"ts\":1," + nonce + ",\"op\":\"ping\",\"args\":{}");
  ASSERT_TRUE(decodeAgentRequest(good).ok());
  const std::vector<std::string> bad = {
      "",
      "not json",
      "[1,2]",
      "\"s\"",
      "{}",
      "{\"v\":\"1\"}",
      with("\"id\":\"short\",\"instance\":\"i-1\",\"ts\":1," + nonce + ",\"op\":\"ping\",\"args\":{}"),
      with(id + ",\"instance\":\"i-1\",\"ts\":1,\"nonce\":\"zz\",\"op\":\"ping\",\"args\":{}"),
      with(id + ",\"instance\":1,\"ts\":1," + nonce + ",\"op\":\"ping\",\"args\":{}"),
      with(id + ",\"instance\":\"i-1\",\"ts\":\"1\"," + nonce + ",\"op\":\"ping\",\"args\":{}"),
      with(id + ",\"instance\":\"i-1\",\"ts\":1.5," + nonce + ",\"op\":\"ping\",\"args\":{}"),
      with(id + ",\"instance\":\"i-1\",\"ts\":1," + nonce + ",\"op\":\"reboot\",\"args\":{}"),
      with(id + ",\"instance\":\"i-1\",\"ts\":1," + nonce + ",\"op\":\"ping\""),
      with(id + ",\"instance\":\"i-1\",\"ts\":1," + nonce + ",\"op\":\"ping\",\"args\":[]"),
      with(id + ",\"instance\":\"i-1\",\"ts\":1," + nonce + ",\"op\":\"exec\",\"args\":{}"),
      with(id + ",\"instance\":\"i-1\",\"ts\":1," + nonce +
           ",\"op\":\"exec\",\"args\":{\"command\":\"x\",\"env\":[]}"),
      with(id + ",\"instance\":\"i-1\",\"ts\":1," + nonce +
           ",\"op\":\"exec\",\"args\":{\"command\":\"x\",\"env\":{\"A=B\":\"c\"}}"),
      with(id + ",\"instance\":\"i-1\",\"ts\":1," + nonce +
           ",\"op\":\"exec\",\"args\":{\"command\":\"x\",\"env\":{\"A\":1}}"),
      with(id + ",\"instance\":\"i-1\",\"ts\":1," + nonce +
           ",\"op\":\"exec\",\"args\":{\"command\":\"x\",\"timeout_ms\":0}"),
      with(id + ",\"instance\":\"i-1\",\"ts\":1," + nonce +
           ",\"op\":\"put_file\",\"args\":{\"path\":\"/a\",\"content\":\"\",\"mode\":\"0844\",\"sha256\":\"" +
           std::string(64, 'a') + "\"}"),
      with(id + ",\"instance\":\"i-1\",\"ts\":1," + nonce +
           ",\"op\":\"put_file\",\"args\":{\"path\":\"/"
           "a\",\"content\":\"\",\"mode\":\"0644\",\"sha256\":\"ab\"}"),
      with(id + ",\"instance\":\"i-1\",\"ts\":1," + nonce +
           ",\"op\":\"put_file\",\"args\":{\"path\":\"/a\"}"),
      "{\"v\":1,\"id\":\"\xff\xfe\"}",
  };
  for (const auto &b : bad) EXPECT_FALSE(decodeAgentRequest(b).ok()) << b;
  EXPECT_EQ(peekAgentRequestId(good), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(peekAgentRequestId("nope"), "");
}

TEST(AgentProto, UnknownVersionIsNamed) {
  auto r = decodeAgentRequest("{\"v\":2,\"id\":\"0123456789abcdef0123456789abcdef\"}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "unsupported protocol version 2");
  EXPECT_EQ(peekAgentRequestId("{\"v\":2,\"id\":\"0123456789abcdef0123456789abcdef\"}"),
            "0123456789abcdef0123456789abcdef");
}

TEST(AgentProto, RepliesAndResults) {
  ExecResult e;
  e.exitCode = -1;
  e.signal = 9;
  e.stdoutText = "ok\xff";
  e.stderrText = "err";
  e.truncated = true;
  e.timedOut = true;
  e.durationMs = 77;
  AgentReply r;
  r.id = "0123456789abcdef0123456789abcdef";
  r.instance = "i-1";
  r.resultJson = execResultJson(e);
  auto d = decodeAgentReply(encodeAgentReply(r));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->status, AgentStatus::Ok);
  auto de = decodeExecResult(d->resultJson);
  ASSERT_TRUE(de.ok()) << de.error().message;
  EXPECT_EQ(de->exitCode, -1);
  EXPECT_EQ(de->signal, 9);
  EXPECT_EQ(de->stdoutText, "ok\xef\xbf\xbd"); // the invalid byte became U+FFFD
  EXPECT_TRUE(de->truncated);
  EXPECT_TRUE(de->timedOut);
  EXPECT_EQ(de->durationMs, 77);

  auto rej = decodeAgentReply(encodeAgentReply(rejectedReply("", "i-1", "no")));
  ASSERT_TRUE(rej.ok());
  EXPECT_EQ(rej->status, AgentStatus::Rejected);
  EXPECT_EQ(rej->code, "rejected");
  auto io = decodeAgentReply(encodeAgentReply(ioErrorReply("x", "i-1", "disk full")));
  ASSERT_TRUE(io.ok());
  EXPECT_EQ(io->status, AgentStatus::Error);
  EXPECT_EQ(io->code, "io");
  EXPECT_EQ(io->message, "disk full");
  EXPECT_FALSE(decodeAgentReply("{\"v\":1}").ok());
  EXPECT_EQ(putFileResultJson(5), "{\"bytes\":5}");
}

TEST(AgentProto, Presence) {
  AgentPresence p{1, "i-1", "up", 42, "0.1.0", 1000};
  auto d = decodeAgentPresence(encodeAgentPresence(p));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->state, "up");
  EXPECT_EQ(d->pid, 42);
  p.state = "sideways";
  EXPECT_FALSE(decodeAgentPresence(encodeAgentPresence(p)).ok());
}
