// fuzz_agent_request.cpp — libFuzzer target for the agent protocol's request decoder
// (net/agent_proto: decodeAgentRequest, peekAgentRequestId), what cfm-agent runs on every payload
// that reaches its request topic: any input is decoded or refused, never a crash; what decodes
// encodes to a payload that decodes to the same request (encode(decode(encode(r))) is stable),
// and peekAgentRequestId names the same id as the decoder.
#include "net/agent_proto.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace cfm::net;
  std::string_view payload(reinterpret_cast<const char *>(data), size);
  std::string peeked = peekAgentRequestId(payload);
  auto req = decodeAgentRequest(payload);
  if (!req) return 0;
  if (peeked != req->id) std::abort(); // a refusal must be able to name what the decoder read
  std::string once = encodeAgentRequest(*req);
  auto again = decodeAgentRequest(once);
  if (!again || encodeAgentRequest(*again) != once) std::abort(); // the round trip must hold
  // The signature check runs on the same bytes: any payload, any signature text.
  const std::string key(32, 'k');
  std::string sig = signAgentMessage(key, agentRequestTopic(req->instance), payload);
  if (!verifyAgentMessage(key, agentRequestTopic(req->instance), payload, sig)) std::abort();
  return 0;
}
