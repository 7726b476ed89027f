// fuzz_unix_http.cpp — libFuzzer target for net/unix_http's request parser (cfmd's control API):
// any bytes are a request, an incomplete one or a refusal with a 4xx/5xx status, never a crash;
// the first byte chooses where the rest is split into two feeds, and the split must not change
// the outcome (the parser is incremental); a complete request keeps its invariants.
#include "net/unix_http.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

struct Outcome {
  int state = 0; // 0 incomplete, 1 complete, 2 refused
  int status = 0;
  cfm::net::UnixHttpRequest req;
};

Outcome parse(std::string_view a, std::string_view b) {
  cfm::net::UnixHttpRequestParser p;
  Outcome o;
  for (std::string_view part : {a, b}) {
    auto r = p.feed(part);
    if (!r.ok()) {
      o.state = 2;
      o.status = p.status();
      return o;
    }
    if (*r) {
      o.state = 1;
      o.req = p.request();
      return o;
    }
  }
  return o;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char *>(data) + 1, size - 1);
  size_t cut = in.empty() ? 0 : data[0] % (in.size() + 1);
  Outcome whole = parse(in, {});
  Outcome split = parse(in.substr(0, cut), in.substr(cut));
  // Completing early on the first part is allowed only when the whole input also completes.
  if (whole.state != split.state && !(split.state == 1 && whole.state == 2)) std::abort();
  if (whole.state == 2 && split.state == 2 && whole.status != split.status) std::abort();
  if (whole.state == 2 && (whole.status < 400 || whole.status > 599)) std::abort();
  if (whole.state == 1) {
    const auto &r = whole.req;
    if (r.path.empty() || r.path[0] != '/' || r.target.empty() || r.target[0] != '/') std::abort();
    if (r.body.size() > cfm::net::kMaxHttpBodyBytes || r.headers.size() > cfm::net::kMaxHttpHeaders)
      std::abort();
    if (split.req.method != r.method || split.req.target != r.target || split.req.body != r.body)
      std::abort();
  }
  return 0;
}
