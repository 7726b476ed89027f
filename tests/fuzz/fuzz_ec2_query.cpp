// fuzz_ec2_query.cpp — libFuzzer target for net/: the EC2 Query form decoder and list readers,
// and the SigV4 canonicaliser and verifier. Any input is decoded or refused with an EC2 error,
// never a crash; what decodes encodes and decodes back to the same pairs; and the input read as
// an HTTP request (line 1 the target, then `Name:value` header lines, an empty line, the body)
// is verified as sent (refused: it carries no valid signature), then signed both ways and
// verified: a request the signer accepts must verify.
#include "net/query.h"
#include "net/sigv4.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace cfm::net;

void formCodec(std::string_view text) {
  auto params = decodeForm(text);
  if (!params.ok()) return;
  auto again = decodeForm(encodeForm(params.value()));
  if (!again.ok() || again.value() != params.value()) std::abort(); // the round trip must hold
  auto ec2 = Ec2Params::from(params.value());
  if (!ec2.ok()) return;
  (void)ec2->list("InstanceId");
  (void)ec2->filters();
  (void)ec2->tags();
  (void)ec2->tagSpecifications();
}

/// Headers the signer adds or reads itself, which a request to be signed must not bring.
bool isSigningHeader(std::string_view name) {
  std::string lower(name);
  for (char &c : lower) c = char(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return lower == "authorization" || lower.rfind("x-amz-", 0) == 0;
}

bool isTokenName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return false;
  return true;
}

void sigv4(std::string_view text) {
  HttpRequest r;
  r.method = "POST";
  size_t eol = text.find('\n');
  r.setTarget(text.substr(0, eol));
  bool clean = true; // headers the signer can sign as they are
  size_t pos = eol == std::string_view::npos ? text.size() : eol + 1;
  while (pos < text.size()) {
    eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty()) {
      if (pos < text.size()) r.body = std::string(text.substr(pos));
      break;
    }
    size_t colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    if (colon == std::string_view::npos || !isTokenName(name) || isSigningHeader(name)) clean = false;
    r.headers.push_back(Header{std::string(name),
                               colon == std::string_view::npos ? "" : std::string(line.substr(colon + 1))});
  }
  (void)canonicalPath(r.path, true);
  (void)canonicalQuery(r.query);

  const Credentials key{"AKIDFUZZ", "fuzz-secret", ""};
  VerifyOptions v;
  v.region = "cfm-1";
  v.service = "ec2";
  v.now = 1764838800; // 2025-12-04T09:00:00Z
  v.secretFor = [&](std::string_view id) -> std::optional<std::string> {
    if (id == key.accessKeyId) return key.secretAccessKey;
    return std::nullopt;
  };
  (void)verify(r, v); // whatever it carries, a verdict and no crash

  if (!clean || r.headers.size() > kSigV4MaxSignedHeaders - 2 ||
      r.query.find("X-Amz-") != std::string::npos || r.headerValues("host").empty())
    return;
  SigningOptions o;
  o.region = v.region;
  o.service = v.service;
  o.time = v.now;
  HttpRequest withHeaders = r;
  HeaderSignature hs = signWithHeaders(r, key, o);
  withHeaders.headers.insert(withHeaders.headers.end(), hs.headersToAdd.begin(), hs.headersToAdd.end());
  if (!verify(withHeaders, v).ok()) std::abort();
  HttpRequest presigned = r;
  presigned.query = presign(r, key, o).query;
  if (!verify(presigned, v).ok()) std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  formCodec(text);
  sigv4(text);
  return 0;
}
