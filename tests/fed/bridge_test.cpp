// bridge_test.cpp — two brokers bridged (a mosquitto bridge, one broker per cloud), a manager on
// each (runtime/fed/node.h): the bridge is cut for 10 s while both publish and then restored,
// and every event reaches the other side once, in seq order (issue 15). The cut is a TCP relay
// of the test's own between the bridging broker and the other one, which drops every
// connection and refuses new ones while cut.
#include "runtime/fed/node.h"
#include "runtime/store/store.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/agent/harness.h"
#include "tests/fed/fed_nodes.h"

namespace {

using namespace cfm;
using agenttest::eventually;
using fedtest::startNode;

/// A TCP relay on 127.0.0.1:port() to 127.0.0.1:target; cut() drops its connections and makes it
/// refuse new ones until restore().
class Relay {
public:
  explicit Relay(int target) : target_(target) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
    socklen_t n = sizeof a;
    getsockname(listener_, reinterpret_cast<sockaddr *>(&a), &n);
    port_ = ntohs(a.sin_port);
    listen(listener_, 16);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }
  ~Relay() {
    stopping_ = true;
    cut();
    shutdown(listener_, SHUT_RDWR);
    acceptor_.join();
    for (auto &t : pumps_) t.join();
    close(listener_);
  }
  int port() const { return port_; }
  void cut() {
    cut_ = true;
    std::lock_guard l(mu_);
    for (int fd : live_) shutdown(fd, SHUT_RDWR);
  }
  void restore() { cut_ = false; }

private:
  void acceptLoop() {
    while (!stopping_) {
      int c = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        if (stopping_) return;
        continue;
      }
      if (cut_) {
        close(c);
        continue;
      }
      int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(target_));
      if (connect(t, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
        close(c);
        close(t);
        continue;
      }
      std::lock_guard l(mu_);
      live_.push_back(c);
      live_.push_back(t);
      pumps_.emplace_back([this, c, t] { pump(c, t); });
    }
  }
  /// Copies both ways until either side closes or the relay is cut, then closes both.
  void pump(int a, int b) {
    char buf[65536];
    pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    while (!cut_ && !stopping_) {
      if (poll(p, 2, 100) < 0) break;
      bool done = false;
      for (int i = 0; i < 2 && !done; ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = read(p[i].fd, buf, sizeof buf);
        if (n <= 0) {
          done = true;
          break;
        }
        for (ssize_t off = 0; off < n;) {
          ssize_t w = write(p[1 - i].fd, buf + off, static_cast<size_t>(n - off));
          if (w <= 0) {
            done = true;
            break;
          }
          off += w;
        }
      }
      if (done) break;
    }
    std::lock_guard l(mu_);
    std::erase(live_, a);
    std::erase(live_, b);
    close(a);
    close(b);
  }

  int target_, listener_ = -1, port_ = 0;
  std::atomic<bool> cut_{false}, stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> live_;
  std::vector<std::thread> pumps_;
};

/// SOURCE's events of SYSTEM in ST are seqs 1..N each once, in seq order: N.
int64_t onceInOrder(store::Store &st, const std::string &system, const std::string &source) {
  auto bySeq = st.eventsOfSource(system, source, 1, 1000000);
  EXPECT_TRUE(bySeq.ok());
  if (!bySeq.ok()) return -1;
  for (size_t i = 0; i < bySeq->size(); ++i)
    if ((*bySeq)[i].seq != int64_t(i + 1))
      return ADD_FAILURE() << "seq " << (*bySeq)[i].seq << " at " << i, -1;
  return int64_t(bySeq->size());
}

TEST(FedBridge, NoEventLostWhileTheBridgeIsCutForTenSeconds) {
  agenttest::TempDir dir;
  std::filesystem::create_directories(dir.path / "a");
  std::filesystem::create_directories(dir.path / "b");
  int portA = agenttest::freePort();
  agenttest::Broker brokerA(dir.path / "a", portA);
  Relay relay(portA);
  // Broker b bridges every federation topic both ways to broker a, through the relay; its
  // session on a is kept (cleansession false), and it retries every second.
  std::string bridge = "connection cloud-a\naddress 127.0.0.1:" + std::to_string(relay.port()) +
                       "\ntopic cfm/v1/# both 1\ncleansession false\nrestart_timeout 1\n"
                       "bridge_protocol_version mqttv311\nnotifications false\n";
  int portB = agenttest::freePort();
  agenttest::Broker brokerB(dir.path / "b", portB, bridge);
  const int kEvents = 3000;
  const std::string pathA = (dir.path / "a.db").string(), pathB = (dir.path / "b.db").string();
  auto a = startNode("alpha", pathA, portA, {"sys-1"}); // presence is recorded for followed systems
  auto b = startNode("beta", pathB, portB, {"sys-1"});
  ASSERT_TRUE(a && b);
  auto stA = store::Store::open(pathA), stB = store::Store::open(pathB);
  auto pubA = store::Store::open(pathA), pubB = store::Store::open(pathB);
  ASSERT_TRUE(stA.ok() && stB.ok() && pubA.ok() && pubB.ok());
  // The bridge is up once an event of each side reached the other.
  auto publish = [&](store::Store &st, fed::Node &node, const std::string &name, int i) {
    auto r = st.publishEvent("sys-1", name, "tick", "{\"i\":" + std::to_string(i) + "}", agenttest::nowMs());
    ASSERT_TRUE(r.ok()) << r.error().message;
    node.kick();
  };
  publish(**pubA, *a, "alpha", 1);
  publish(**pubB, *b, "beta", 1);
  ASSERT_TRUE(eventually([&] {
    auto sa = (*stA)->seqState("sys-1", "beta"), sb = (*stB)->seqState("sys-1", "alpha");
    return sa.ok() && sb.ok() && sa->contiguous == 1 && sb->contiguous == 1;
  })) << "the bridge did not come up:\n"
      << agenttest::readFile(dir.path / "b" / "mosquitto.log");

  // Both publish for about 16 s (a paced event each 5 ms); the bridge is cut from 3 s to 13 s.
  std::atomic<bool> go{true};
  auto publisher = [&](store::Store &st, fed::Node &node, const std::string &name) {
    for (int i = 2; i <= kEvents && go; ++i) {
      publish(st, node, name, i);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  std::thread ta([&] { publisher(**pubA, *a, "alpha"); });
  std::thread tb([&] { publisher(**pubB, *b, "beta"); });
  std::this_thread::sleep_for(std::chrono::seconds(3));
  relay.cut();
  auto cutAt = (*stB)->seqState("sys-1", "alpha");
  std::this_thread::sleep_for(std::chrono::seconds(10));
  auto during = (*stB)->seqState("sys-1", "alpha");
  relay.restore();
  ta.join();
  tb.join();
  ASSERT_TRUE(cutAt.ok() && during.ok());
  // While cut, a's events did not reach b beyond what was in flight at the cut.
  EXPECT_LT(during->highest, cutAt->highest + 300) << "was the bridge cut?";
  ASSERT_TRUE(eventually(
      [&] {
        auto sa = (*stA)->seqState("sys-1", "beta"), sb = (*stB)->seqState("sys-1", "alpha");
        return sa.ok() && sb.ok() && sa->contiguous == kEvents && sb->contiguous == kEvents;
      },
      std::chrono::seconds(60)))
      << "alpha has beta's up to " << (*stA)->seqState("sys-1", "beta")->contiguous
      << "; beta has alpha's up to " << (*stB)->seqState("sys-1", "alpha")->contiguous;
  EXPECT_EQ(onceInOrder(**stA, "sys-1", "beta"), kEvents);
  EXPECT_EQ(onceInOrder(**stB, "sys-1", "alpha"), kEvents);
  EXPECT_EQ(*(*stA)->outboxSize(), 0);
  EXPECT_EQ(*(*stB)->outboxSize(), 0);
  // Each side saw the other lost while the bridge was cut, and back after.
  auto lost = (*stB)->eventsAfter(0, "sys-1", "manager_lost", 100);
  auto joined = (*stB)->eventsAfter(0, "sys-1", "manager_joined", 100);
  ASSERT_TRUE(lost.ok() && joined.ok());
  EXPECT_GE(lost->size(), 1u);
  EXPECT_GE(joined->size(), 1u);
}

} // namespace
