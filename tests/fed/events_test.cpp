// events_test.cpp — the federation transport's events (runtime/fed/node.h) against a real
// mosquitto of the test's own (tests/agent/harness.h), killed and restarted while two managers
// publish: every manager's history ends with each event once, per source in seq order.
#include "runtime/fed/node.h"
#include "runtime/store/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "tests/agent/harness.h"
#include "tests/fed/fed_nodes.h"

namespace {

using namespace cfm;
using agenttest::eventually;
using fedtest::startNode;

/// The history's events of SOURCE for SYSTEM, checked to be seqs 1..N each once in seq order.
int64_t checkHistory(store::Store &st, const std::string &system, const std::string &source) {
  auto all = st.eventsAfter(0, system, "", 1000000);
  EXPECT_TRUE(all.ok());
  std::map<int64_t, int> count;
  int64_t last = 0;
  bool ordered = true;
  for (const auto &ev : *all) {
    if (ev.source != source) continue;
    count[ev.seq]++;
    last = ev.seq;
  }
  auto bySeq = st.eventsOfSource(system, source, 1, 1000000);
  EXPECT_TRUE(bySeq.ok());
  for (size_t i = 0; i < bySeq->size(); ++i) ordered &= (*bySeq)[i].seq == int64_t(i + 1);
  EXPECT_TRUE(ordered);
  for (const auto &[seq, n] : count) EXPECT_EQ(n, 1) << "seq " << seq;
  (void)last;
  return int64_t(count.size());
}

TEST(FedEvents, ExactlyOnceWhileTheBrokerRestarts) {
  agenttest::TempDir dir;
  int port = agenttest::freePort();
  agenttest::Broker broker(dir.path, port); // started
  const int kEvents = getenv("FED_EVENTS") ? atoi(getenv("FED_EVENTS")) : 5000;
  const int kRestarts = getenv("FED_RESTARTS") ? atoi(getenv("FED_RESTARTS")) : 2;
  const std::string pathA = (dir.path / "a.db").string(), pathB = (dir.path / "b.db").string();
  auto a = startNode("alpha", pathA, port);
  auto b = startNode("beta", pathB, port);
  ASSERT_TRUE(a && b);
  // A store connection serves one thread: the publishers write through their own, the test
  // reads through these.
  auto stA = store::Store::open(pathA), stB = store::Store::open(pathB);
  auto pubA = store::Store::open(pathA), pubB = store::Store::open(pathB);
  ASSERT_TRUE(stA.ok() && stB.ok() && pubA.ok() && pubB.ok());

  auto publisher = [&](store::Store &st, fed::Node &node, const std::string &name) {
    for (int i = 1; i <= kEvents; ++i) {
      auto r =
          st.publishEvent("sys-1", name, "tick", "{\"i\":" + std::to_string(i) + "}", agenttest::nowMs());
      ASSERT_TRUE(r.ok()) << r.error().message;
      if (i % 50 == 0) node.kick();
    }
    node.kick();
  };
  std::thread ta([&] { publisher(**pubA, *a, "alpha"); });
  std::thread tb([&] { publisher(**pubB, *b, "beta"); });
  for (int round = 0; round < kRestarts; ++round) {
    ASSERT_TRUE(eventually([&] {
      auto n = (*stB)->lastEventId();
      return n.ok() && *n > (round + 1) * kEvents / 2;
    }));
    broker.kill();
    broker.start();
  }
  ta.join();
  tb.join();
  ASSERT_TRUE(eventually(
      [&] {
        auto sa = (*stA)->seqState("sys-1", "beta"), sb = (*stB)->seqState("sys-1", "alpha");
        a->kick();
        b->kick();
        return sa.ok() && sb.ok() && sa->contiguous == kEvents && sb->contiguous == kEvents;
      },
      std::chrono::seconds(120)))
      << "alpha has beta's up to " << (*stA)->seqState("sys-1", "beta")->contiguous << " (highest "
      << (*stA)->seqState("sys-1", "beta")->highest << "), outbox " << *(*stA)->outboxSize()
      << "; beta has alpha's up to " << (*stB)->seqState("sys-1", "alpha")->contiguous << " (highest "
      << (*stB)->seqState("sys-1", "alpha")->highest << "), outbox " << *(*stB)->outboxSize();
  EXPECT_EQ(checkHistory(**stA, "sys-1", "beta"), kEvents);
  EXPECT_EQ(checkHistory(**stB, "sys-1", "alpha"), kEvents);
  EXPECT_EQ(checkHistory(**stA, "sys-1", "alpha"), kEvents);
  EXPECT_EQ(*(*stA)->outboxSize(), 0);
  EXPECT_EQ(*(*stB)->outboxSize(), 0);
}

} // namespace
