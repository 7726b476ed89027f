// kill_test.cpp — a manager killed with SIGKILL while its outbox holds events (tests/fed/
// peer_main.cpp in a process of its own): after its restart the rest are delivered, none twice.
// The Last Will tells the receiver at once that it was lost.
#include "runtime/fed/node.h"
#include "runtime/store/store.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "tests/agent/harness.h"

namespace {

using namespace cfm;
using agenttest::eventually;

TEST(FedKill, AnOutboxLeftByAKilledManagerIsDeliveredOnceAfterItsRestart) {
  agenttest::TempDir dir;
  int port = agenttest::freePort();
  agenttest::Broker broker(dir.path, port);
  const std::string senderDb = (dir.path / "sender.db").string(),
                    receiverDb = (dir.path / "receiver.db").string();
  fed::NodeOptions o;
  o.manager = "receiver";
  o.cloud = "cloud-r";
  o.brokerPort = port;
  o.storePath = receiverDb;
  o.followed = {"sys-1"};
  auto recv = fed::Node::start(o);
  ASSERT_TRUE(recv.ok()) << recv.error().message;
  auto rs = store::Store::open(receiverDb);
  ASSERT_TRUE(rs.ok());
  auto &reader = **rs;

  const int kEvents = 20000;
  std::filesystem::path log = dir.path / "sender.log";
  pid_t pid =
      agenttest::spawn({CFM_FED_PEER_BIN, "--name", "sender", "--store", senderDb, "--port",
                        std::to_string(port), "--publish", std::to_string(kEvents), "--pace-ms", "50"},
                       log);
  ASSERT_GT(pid, 0);
  // Killed mid-way: as soon as the first events arrive, with most of them still in its outbox.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    auto st = reader.seqState("sys-1", "sender");
    if (st.ok() && st->highest >= 1) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << agenttest::readFile(log);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  agenttest::stopPid(pid, SIGKILL);
  auto ss = store::Store::open(senderDb);
  ASSERT_TRUE(ss.ok()) << ss.error().message;
  auto &senderReader = **ss;
  int64_t published = senderReader.seqState("sys-1", "sender")->highest;
  int64_t left = *senderReader.outboxSize();
  EXPECT_GT(left, 0) << "the sender drained everything before it was killed: the test proves nothing";
  // The receiver saw it go (its Last Will).
  EXPECT_TRUE(eventually([&] {
    auto evs = reader.eventsAfter(0, "sys-1", "manager_lost", 10);
    return evs.ok() && evs->size() == 1;
  }));

  pid = agenttest::spawn(
      {CFM_FED_PEER_BIN, "--name", "sender", "--store", senderDb, "--port", std::to_string(port)}, log);
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(eventually(
      [&] {
        auto st = reader.seqState("sys-1", "sender");
        return st.ok() && st->contiguous == published && st->highest == published;
      },
      std::chrono::seconds(60)))
      << agenttest::readFile(log);
  EXPECT_TRUE(eventually([&] { return *senderReader.outboxSize() == 0; }));
  agenttest::stopPid(pid, SIGTERM);
  auto all = reader.eventsOfSource("sys-1", "sender", 1, published);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(int64_t(all->size()), published);
  for (int64_t i = 0; i < published; ++i) ASSERT_EQ((*all)[size_t(i)].seq, i + 1);
  // The receiver saw it come back.
  auto joined = reader.eventsAfter(0, "sys-1", "manager_joined", 10);
  ASSERT_TRUE(joined.ok());
  EXPECT_GE(joined->size(), 1u);
}

} // namespace
