// peer_main.cpp — cfm-fed-peer, a manager's federation node in a process of its own for the
// federation tests (tests/fed/kill_test.cpp): it opens a store, starts a fed::Node on a broker and,
// with --publish N, publishes N events of system sys-1 into the store's outbox from a thread of
// its own before the node starts, so that the node begins with a full outbox. It runs until killed; the test
// SIGKILLs it mid-drain.
//   cfm-fed-peer --name NAME --store PATH --port PORT [--publish N] [--pace-ms MS]
#include "runtime/fed/node.h"
#include "runtime/runtime.h"
#include "runtime/store/store.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

int main(int argc, char **argv) {
  std::string name, storePath;
  int port = 0, publish = 0, pace = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--name")
      name = v;
    else if (k == "--store")
      storePath = v;
    else if (k == "--port")
      port = std::atoi(v.c_str());
    else if (k == "--publish")
      publish = std::atoi(v.c_str());
    else if (k == "--pace-ms")
      pace = std::atoi(v.c_str());
    else
      return std::fprintf(stderr, "cfm-fed-peer: unknown option %s\n", k.c_str()), 2;
  }
  if (name.empty() || storePath.empty() || port <= 0)
    return std::fprintf(stderr, "usage: cfm-fed-peer --name NAME --store PATH --port PORT [--publish N]\n"),
           2;
  cfm::fed::NodeOptions o;
  o.manager = name;
  o.cloud = "cloud-" + name;
  o.brokerPort = port;
  o.storePath = storePath;
  o.paceMs = pace;
  o.logger = [](const std::string &line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  if (publish > 0) { // into the outbox before the node starts: the test kills it mid-drain
    auto st = cfm::store::Store::open(storePath);
    if (!st) return std::fprintf(stderr, "cfm-fed-peer: %s\n", st.error().message.c_str()), 1;
    for (int i = 1; i <= publish; ++i) {
      int64_t now = cfm::rt::nowMs();
      auto r = (*st)->publishEvent("sys-1", name, "tick", "{\"i\":" + std::to_string(i) + "}", now);
      if (!r) return std::fprintf(stderr, "cfm-fed-peer: %s\n", r.error().message.c_str()), 1;
    }
  }
  auto node = cfm::fed::Node::start(o);
  if (!node) return std::fprintf(stderr, "cfm-fed-peer: %s\n", node.error().message.c_str()), 1;
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(60));
}
