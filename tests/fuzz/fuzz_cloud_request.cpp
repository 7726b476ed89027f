// fuzz_cloud_request.cpp — libFuzzer target for cfm-cloud (issue 13): random bytes as the form body
// of a request, sent through the whole of Cloud::handle twice — once unsigned (it must be refused
// with an EC2 error document) and once signed with the cloud's own key (so that the decoder, the
// readers, the dispatch and every action see it). Every answer must be an HTTP status and a body
// that starts with the XML declaration. The cloud's instance quota is 0, so no process is started.
#include "cfm-cloud/cloud.h"
#include "net/sigv4.h"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <string>

namespace {

using namespace cfm;

cloud::Cloud *theCloud() {
  static cloud::Cloud *c = [] {
    char dir[] = "/tmp/fuzz-cfm-cloud-XXXXXX";
    if (!mkdtemp(dir)) std::abort();
    cloud::CloudConfig cfg;
    cfg.name = "fuzz";
    cfg.region = "local-fuzz";
    cfg.zones = {"local-fuzz-1"};
    cfg.stateDir = dir;
    cfg.accessKeys = {{"AKIDFUZZ000000000001", "fuzz-secret"}};
    cfg.quotaInstances = 0;
    cfg.throttleRate = 1e9;
    cfg.throttleBurst = 1e9;
    cfg.images = {{"ami-cfm-default", "cfm-default", {"/bin/true"}}};
    cfg.instanceTypes = {{"c1.small", 1, 1024}};
    auto r = cloud::Cloud::open(cfg, [](const std::string &) {});
    if (!r) std::abort();
    return r.value().release();
  }();
  return c;
}

void expectDocument(const cloud::HttpReply &r) {
  if (r.status < 200 || r.status > 599 || r.body.rfind("<?xml", 0) != 0) std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cloud::Cloud *c = theCloud();
  net::HttpRequest req;
  req.method = "POST";
  req.path = "/";
  req.headers = {{"Host", "127.0.0.1:8773"}, {"Content-Type", "application/x-www-form-urlencoded"}};
  req.body.assign(reinterpret_cast<const char *>(data), size);
  cloud::HttpReply unsigned_ = c->handle(req, false);
  expectDocument(unsigned_);
  if (unsigned_.status == 200) std::abort(); // no signature: never served

  net::SigningOptions o;
  o.region = "local-fuzz";
  o.service = "ec2";
  o.time = static_cast<int64_t>(time(nullptr));
  auto sig = net::signWithHeaders(req, {"AKIDFUZZ000000000001", "fuzz-secret", ""}, o);
  for (auto &h : sig.headersToAdd) req.headers.push_back(h);
  expectDocument(c->handle(req, false));
  c->tick();
  return 0;
}
