// fed_bench.cpp — cfm-fed-bench, issue 15's benchmark. It starts its own mosquitto on a free
// loopback port (stopped by its PID at the end) and measures, in one run:
//  1. raw: a Paho (net::MqttClient) QoS-1 publish on one client until another client's message
//     callback has it — N round trips one after another;
//  2. fed: Store::publishEvent on manager a plus the node's kick (what publish_cloud_event does)
//     until manager b's node has stored the event and called its onEvents hook (what wakes
//     wait_cloud_event) — N events one after another;
//  3. sustained: one publisher writes M events as fast as it can; the time until b has stored every
//     one of them exactly once (seqs 1..M, no duplicate) gives events per second.
// It prints p50 and p99 of 1 and 2 and their ratios (goals: p50 <= 1.2x raw, p99 <= 1.5x raw) and
// the events per second of 3 (goal >= 10,000).
//   cfm-fed-bench [N=2000] [M=50000]
#include "net/mqtt.h"
#include "runtime/fed/node.h"
#include "runtime/runtime.h"
#include "runtime/store/store.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern char **environ;

namespace {

using namespace cfm;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

[[noreturn]] void die(const std::string &why) {
  std::fprintf(stderr, "cfm-fed-bench: %s\n", why.c_str());
  std::exit(1);
}

int freePort() {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr *>(&a), &len) != 0)
    die("no free port");
  ::close(s);
  return ntohs(a.sin_port);
}

struct Broker {
  pid_t pid = -1;
  ~Broker() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

struct Stats {
  double p50, p99;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)]};
}

/// A counter the receiving side bumps and the measuring thread waits on.
struct Arrivals {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t n = 0;
  void bump() {
    {
      std::lock_guard lock(mu);
      ++n;
    }
    cv.notify_all();
  }
  bool waitPast(uint64_t before, std::chrono::seconds timeout) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return n > before; });
  }
};

std::vector<double> rawRoundTrips(int port, int n) {
  Arrivals got;
  net::MqttOptions o;
  o.uri = "tcp://127.0.0.1:" + std::to_string(port);
  o.clientId = "bench-raw-sub";
  auto sub = net::MqttClient::create(o);
  o.clientId = "bench-raw-pub";
  auto pub = net::MqttClient::create(o);
  if (!sub || !pub) die("MQTT client");
  (*sub)->onMessage([&](const net::MqttMessage &) { got.bump(); });
  if (!(*sub)->connect(std::chrono::seconds(10)) || !(*pub)->connect(std::chrono::seconds(10)))
    die("cannot connect to the broker");
  if (!(*sub)->subscribe("bench/raw", 1)) die("subscribe");
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    net::MqttMessage m;
    m.topic = "bench/raw";
    m.payload = "{\"v\":1,\"i\":" + std::to_string(i) + "}";
    m.qos = 1;
    uint64_t before;
    {
      std::lock_guard lock(got.mu);
      before = got.n;
    }
    auto t0 = Clock::now();
    if (auto r = (*pub)->publish(m); !r) die(r.error().message);
    if (!got.waitPast(before, std::chrono::seconds(10))) die("a raw message did not arrive");
    out.push_back(micros(Clock::now() - t0));
  }
  return out;
}

std::unique_ptr<fed::Node> node(const std::string &name, const std::string &path, int port, Arrivals *got) {
  fed::NodeOptions o;
  o.manager = name;
  o.cloud = "cloud-" + name;
  o.brokerPort = port;
  o.storePath = path;
  o.followed = {"sys-bench"};
  auto n = fed::Node::start(o);
  if (!n) die(n.error().message);
  if (got) (*n)->onEvents([got] { got->bump(); });
  return std::move(*n);
}

} // namespace

int main(int argc, char **argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  int m = argc > 2 ? std::atoi(argv[2]) : 50000;
  if (n < 10 || m < 1) die("usage: cfm-fed-bench [N>=10] [M>=1]");
  char tmpl[] = "/tmp/cfm-fed-bench-XXXXXX";
  if (!::mkdtemp(tmpl)) die("mkdtemp");
  fs::path dir = tmpl;
  int port = freePort();
  std::ofstream(dir / "mosquitto.conf") << "listener " << port << " 127.0.0.1\nallow_anonymous true\n"
                                        << "persistence false\nmax_queued_messages 0\n";
  Broker broker;
  {
    std::string conf = (dir / "mosquitto.conf").string(), log = (dir / "mosquitto.log").string();
    const char *args[] = {"/usr/sbin/mosquitto", "-c", conf.c_str(), nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (posix_spawn(&broker.pid, args[0], &fa, nullptr, const_cast<char **>(args), environ) != 0)
      die("cannot start /usr/sbin/mosquitto");
    posix_spawn_file_actions_destroy(&fa);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  std::printf("cfm-fed-bench: %d sequential events, %d sustained, one mosquitto on 127.0.0.1:%d\n", n, m,
              port);
  Stats raw = stats(rawRoundTrips(port, n));

  Arrivals got;
  std::string pathA = (dir / "a.db").string(), pathB = (dir / "b.db").string();
  auto a = node("a", pathA, port, nullptr);
  auto b = node("b", pathB, port, &got);
  auto pubStore = store::Store::open(pathA);
  if (!pubStore) die(pubStore.error().message);
  std::this_thread::sleep_for(std::chrono::milliseconds(500)); // presence settles
  std::vector<double> fedTimes, commitTimes;
  for (int i = 0; i < n; ++i) {
    uint64_t before;
    {
      std::lock_guard lock(got.mu);
      before = got.n;
    }
    auto t0 = Clock::now();
    auto r =
        (*pubStore)->publishEvent("sys-bench", "a", "ping", "{\"i\":" + std::to_string(i) + "}", rt::nowMs());
    if (!r) die(r.error().message);
    commitTimes.push_back(micros(Clock::now() - t0));
    a->kick();
    if (!got.waitPast(before, std::chrono::seconds(10))) die("an event did not arrive");
    fedTimes.push_back(micros(Clock::now() - t0));
  }
  Stats fedStats = stats(fedTimes);
  Stats commitStats = stats(commitTimes);

  // Sustained: a second series (source a, system sys-bench, name tick), seqs after the pings'.
  auto readB = store::Store::open(pathB);
  if (!readB) die(readB.error().message);
  auto t0 = Clock::now();
  for (int i = 1; i <= m; ++i) {
    auto r =
        (*pubStore)->publishEvent("sys-bench", "a", "tick", "{\"i\":" + std::to_string(i) + "}", rt::nowMs());
    if (!r) die(r.error().message);
    if (i % 64 == 0) a->kick();
  }
  a->kick();
  auto published = Clock::now();
  int64_t want = n + m;
  for (;;) {
    auto st = (*readB)->seqState("sys-bench", "a");
    if (st && st->contiguous == want) break;
    if (Clock::now() - t0 > std::chrono::seconds(300)) die("the sustained run did not complete in 300 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  double pubSecs = std::chrono::duration<double>(published - t0).count();
  auto all = (*readB)->eventsOfSource("sys-bench", "a", 1, want);
  if (!all || int64_t(all->size()) != want) die("b's history does not hold every event exactly once");
  for (int64_t i = 0; i < want; ++i)
    if ((*all)[size_t(i)].seq != i + 1) die("b's history is out of seq order");

  std::printf("%-44s %10s %10s\n", "", "p50 us", "p99 us");
  std::printf("%-44s %10.0f %10.0f\n", "raw Paho publish -> subscriber callback", raw.p50, raw.p99);
  std::printf("%-44s %10.0f %10.0f\n", "publishEvent on a -> stored on b (fed::Node)", fedStats.p50,
              fedStats.p99);
  std::printf("%-44s %10.0f %10.0f\n", "  of which publishEvent's commit on a", commitStats.p50, commitStats.p99);
  std::printf("%-44s %9.2fx %9.2fx   (goals 1.2x, 1.5x)\n", "fed / raw", fedStats.p50 / raw.p50,
              fedStats.p99 / raw.p99);
  std::printf("sustained: %d events published in %.2f s, all stored once on b after %.2f s: %.0f events/s "
              "(goal 10000)\n",
              m, pubSecs, secs, m / secs);
  a.reset();
  b.reset();
  fs::remove_all(dir);
  return 0;
}
