// presence_test.cpp — managers' presence (runtime/fed/node.h): three managers, a fourth that joins
// late is seen joining by the others, one that leaves is seen lost within 2 s by the rest, each
// recorded once per followed system in every observer's own history.
#include "runtime/fed/node.h"
#include "runtime/store/store.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/agent/harness.h"

namespace {

using namespace cfm;
using agenttest::eventually;

struct Manager {
  std::string name, path;
  std::unique_ptr<fed::Node> node;
  std::unique_ptr<store::Store> reader; // the test's own connection
};

void start(Manager &m, const agenttest::TempDir &dir, int port) {
  m.path = (dir.path / (m.name + ".db")).string();
  fed::NodeOptions o;
  o.manager = m.name;
  o.cloud = "cloud-" + m.name;
  o.brokerPort = port;
  o.storePath = m.path;
  o.followed = {"sys-1", "sys-2"};
  auto n = fed::Node::start(o);
  ASSERT_TRUE(n.ok()) << n.error().message;
  m.node = std::move(*n);
  auto r = store::Store::open(m.path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  m.reader = std::move(*r);
}

/// The managers named in M's history's NAME events of SYSTEM, in order.
std::vector<std::string> seen(Manager &m, const std::string &system, const std::string &name) {
  std::vector<std::string> out;
  auto evs = m.reader->eventsAfter(0, system, name, 1000);
  EXPECT_TRUE(evs.ok());
  if (!evs.ok()) return out;
  for (const auto &ev : *evs) {
    EXPECT_EQ(ev.source, fed::observerSource(m.name));
    auto d = nlohmann::json::parse(ev.dataJson);
    out.push_back(d.at("manager").get<std::string>());
    EXPECT_TRUE(d.at("cloud").is_string());
    EXPECT_GT(d.at("last_seen").get<int64_t>(), 0);
  }
  return out;
}

TEST(FedPresence, JoinedAndLostAreSeenByEveryOtherManager) {
  agenttest::TempDir dir;
  int port = agenttest::freePort();
  agenttest::Broker broker(dir.path, port);
  Manager a, b, c, d;
  a.name = "a", b.name = "b", c.name = "c", d.name = "d";
  for (Manager *m : {&a, &b, &c}) ASSERT_NO_FATAL_FAILURE(start(*m, dir, port));
  // The fourth joins late: every other manager records it once per followed system.
  ASSERT_NO_FATAL_FAILURE(start(d, dir, port));
  for (Manager *m : {&a, &b, &c})
    for (const char *sys : {"sys-1", "sys-2"})
      EXPECT_TRUE(eventually([&] {
        auto v = seen(*m, sys, "manager_joined");
        return std::count(v.begin(), v.end(), "d") == 1;
      })) << m->name
          << " " << sys;
  // d met the others' retained presence: they were there before it, not joining.
  EXPECT_TRUE(seen(d, "sys-1", "manager_joined").empty());

  // c leaves: the others see it lost within 2 s.
  auto left = std::chrono::steady_clock::now();
  c.node.reset();
  for (Manager *m : {&a, &b, &d}) {
    EXPECT_TRUE(eventually(
        [&] {
          auto v = seen(*m, "sys-1", "manager_lost");
          return std::count(v.begin(), v.end(), "c") == 1;
        },
        std::chrono::milliseconds(2000)))
        << m->name;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - left, std::chrono::milliseconds(2000));
  for (Manager *m : {&a, &b, &d}) {
    auto lost = seen(*m, "sys-2", "manager_lost");
    EXPECT_EQ(std::count(lost.begin(), lost.end(), "c"), 1) << m->name;
  }
}

} // namespace
