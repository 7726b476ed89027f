// ec2_driver_test.cpp — the EC2 client (runtime/cloud/ec2.h) against fault-injecting servers on
// free loopback ports: a cpp-httplib server that verifies every request's SigV4 signature and
// answers from a script (throttling N times then a libcloud fixture, 4xx errors, pages, states
// for the waiters), and a TCP listener that closes every connection it accepts. Checks the
// attempts counted, the ClientToken kept across retries, errors with their codes after the
// bound, deadlines as "timeout" errors, pagination and the waiters.
#include "cloud_test_support.h"

#include "base/files.h"
#include "net/ec2_xml.h"
#include "net/query.h"
#include "net/sigv4.h"
#include "runtime/cloud/ec2.h"

#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace cfm::rt::cloud {
namespace {

using testing::inTask;
using testing::takeRaised;

const std::string kFixtures = CFM_SOURCE_DIR "/../shared/testdata/ec2/libcloud";
const net::Credentials kCreds{"AKIDTESTDRIVER000001", "driver-test-secret", ""};
const std::string kRegion = "local-t";

/// What the scripted server answers: HTTP status and body.
struct Answer {
  int status = 200;
  std::string body;
};

/// A cpp-httplib EC2 endpoint on 127.0.0.1 with a free port; `script` answers the n-th request
/// (0-based) with its decoded parameters. Every request's signature is verified.
class ScriptedEc2 {
public:
  std::function<Answer(const net::Ec2Params &, size_t n)> script;

  ScriptedEc2() {
    // A thread per connection the client may hold open (HttpClient::kMaxConnectionsPerHost).
    http_.new_task_queue = [] { return new httplib::ThreadPool(net::HttpClient::kMaxConnectionsPerHost); };
    http_.set_tcp_nodelay(true); // else Nagle and delayed ACKs hold every reply ~40 ms
    http_.Post("/", [this](const httplib::Request &req, httplib::Response &res) { serve(req, res); });
    port_ = http_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { http_.listen_after_bind(); });
    for (int i = 0; i < 500 && !http_.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~ScriptedEc2() {
    http_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  size_t requests() {
    std::lock_guard<std::mutex> g(mu_);
    return seen_.size();
  }
  /// The value of parameter `name` in each request, in order ("" where absent).
  std::vector<std::string> values(const std::string &name) {
    std::lock_guard<std::mutex> g(mu_);
    std::vector<std::string> out;
    for (const net::Ec2Params &p : seen_) out.push_back(p.find(name) ? *p.find(name) : "");
    return out;
  }
  std::vector<std::string> badSignatures() {
    std::lock_guard<std::mutex> g(mu_);
    return badSignatures_;
  }

private:
  void serve(const httplib::Request &req, httplib::Response &res) {
    net::HttpRequest hr;
    hr.method = req.method;
    hr.setTarget(req.target);
    for (const auto &[k, v] : req.headers) hr.headers.push_back({k, v});
    hr.body = req.body;
    net::VerifyOptions vo;
    vo.region = kRegion;
    vo.service = "ec2";
    vo.now = static_cast<int64_t>(std::time(nullptr));
    vo.secretFor = [](std::string_view key) -> std::optional<std::string> {
      if (key == kCreds.accessKeyId) return kCreds.secretAccessKey;
      return std::nullopt;
    };
    auto verified = net::verify(hr, vo);
    auto form = net::decodeForm(req.body);
    std::lock_guard<std::mutex> g(mu_);
    if (!verified) badSignatures_.push_back(verified.failure().message);
    if (!form) {
      res.status = 400;
      return;
    }
    auto params = net::Ec2Params::from(std::move(*form));
    if (!params) {
      res.status = 400;
      return;
    }
    seen_.push_back(*params);
    Answer a = script(*params, seen_.size() - 1);
    res.status = a.status;
    res.set_content(a.body, "text/xml;charset=UTF-8");
  }

  httplib::Server http_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<net::Ec2Params> seen_;
  std::vector<std::string> badSignatures_;
};

/// A TCP listener on 127.0.0.1 that accepts connections and closes them at once, counting them.
class ClosingListener {
public:
  std::atomic<int> accepted{0};
  ClosingListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 64), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr *>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) continue;
        ++accepted;
        ::close(c);
      }
    });
  }
  ~ClosingListener() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

private:
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::unique_ptr<Ec2Client> client(const std::string &endpoint, RetryPolicy retry = {}) {
  auto http = Ec2Client::sharedHttp();
  EXPECT_TRUE(http) << http.error().message;
  Ec2Client::Options o{endpoint, kRegion, kCreds, retry, WaitPolicy{5, 20}};
  auto c = Ec2Client::make(std::move(o), *http);
  EXPECT_TRUE(c) << c.error().message;
  return std::move(*c);
}

/// Quick retries, so the tests spend no time sleeping.
RetryPolicy quick(int attempts) {
  RetryPolicy p;
  p.maxAttempts = attempts;
  p.maxThrottledAttempts = attempts;
  p.baseDelayMs = 1;
  p.maxDelayMs = 4;
  p.requestTimeoutMs = 10000;
  return p;
}

Answer ec2Error(int status, const std::string &code, const std::string &message) {
  return {status, net::ec2::writeError({code, message, "req-test"})};
}

std::string fixture(const std::string &name) {
  auto text = base::readRegularFile(kFixtures + "/" + name, 1 << 20);
  return text ? *text : std::string();
}

net::ec2::Instance instance(const std::string &id, int code, const std::string &state) {
  net::ec2::Instance i;
  i.instanceId = id;
  i.reservationId = "r-1";
  i.imageId = "ami-cfm-default";
  i.instanceType = "c1.small";
  i.state = {code, state};
  i.privateIpAddress = "127.9.1.1";
  i.availabilityZone = "local-t-1";
  return i;
}

TEST(Ec2Driver, ThrottledThenFixtureReplyKeepsTheClientToken) {
  std::string reply = fixture("run_instances.xml");
  if (reply.empty()) GTEST_SKIP() << "the shared EC2 fixtures are not there: " << kFixtures;
  ScriptedEc2 server;
  server.script = [&](const net::Ec2Params &, size_t n) {
    if (n < 3) return ec2Error(503, "RequestLimitExceeded", "Request limit exceeded.");
    return Answer{200, reply};
  };
  auto c = client(server.endpoint(), quick(5));
  inTask([&] {
    Ec2Client::RunRequest r{"ami-be3adfd7", "m1.small", "", "", "", {}};
    auto got = c->runInstance(r);
    ASSERT_TRUE(got.ok()) << got.error->message;
    EXPECT_EQ(got.value.instanceId, "i-2ba64342");
  });
  EXPECT_EQ(server.requests(), 4u);
  EXPECT_EQ(c->stats().attempts, 4u);
  EXPECT_EQ(c->stats().retries, 3u);
  EXPECT_EQ(c->stats().throttled, 3u);
  std::vector<std::string> tokens = server.values("ClientToken");
  ASSERT_EQ(tokens.size(), 4u);
  EXPECT_EQ(tokens[0].size(), 32u);
  for (const std::string &t : tokens) EXPECT_EQ(t, tokens[0]);
  EXPECT_EQ(server.values("Action")[0], "RunInstances");
  EXPECT_EQ(server.values("Version")[0], "2016-11-15");
  EXPECT_TRUE(server.badSignatures().empty()) << server.badSignatures()[0];
}

TEST(Ec2Driver, ThrottlingPastTheBoundIsACloudErrorWithItsCode) {
  ScriptedEc2 server;
  server.script = [](const net::Ec2Params &, size_t) {
    return ec2Error(503, "RequestLimitExceeded", "Request limit exceeded.");
  };
  auto c = client(server.endpoint(), quick(4));
  inTask([&] {
    auto got = c->terminateInstances({"i-1"});
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error->kind, ErrKind::Cloud);
    EXPECT_EQ(got.error->code, "RequestLimitExceeded");
    EXPECT_EQ(got.error->message, "RequestLimitExceeded: Request limit exceeded.");
  });
  EXPECT_EQ(server.requests(), 4u);
}

TEST(Ec2Driver, ServerErrorsAreRetriedOtherClientErrorsAreNot) {
  ScriptedEc2 server;
  server.script = [](const net::Ec2Params &p, size_t n) {
    if (*p.find("Action") == "TerminateInstances")
      return ec2Error(400, "InvalidInstanceID.NotFound", "The instance ID 'i-9' does not exist");
    if (*p.find("Action") == "RunInstances")
      return ec2Error(500, "InsufficientInstanceCapacity", "Insufficient capacity.");
    if (n == 1) return Answer{500, "<html>oops</html>"}; // no error document: still retried
    if (n < 3) return ec2Error(500, "InternalError", "An internal error has occurred");
    return Answer{200, net::ec2::writeDescribeInstances("req", "000", {instance("i-1", 16, "running")})};
  };
  auto c = client(server.endpoint(), quick(6));
  inTask([&] {
    auto described = c->describeInstances({"i-1"});
    ASSERT_TRUE(described.ok()) << described.error->message;
    ASSERT_EQ(described.value.size(), 1u);
    EXPECT_EQ(described.value[0].state.name, "running");
    size_t before = c->stats().attempts;
    auto refused = c->terminateInstances({"i-9"});
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error->code, "InvalidInstanceID.NotFound");
    EXPECT_EQ(refused.error->message, "InvalidInstanceID.NotFound: The instance ID 'i-9' does not exist");
    EXPECT_EQ(c->stats().attempts - before, 1u); // a 4xx other than throttling: never retried
    before = c->stats().attempts;
    Ec2Client::RunRequest req;
    req.imageId = "ami-1", req.instanceType = "c1.small", req.clientToken = Ec2Client::newClientToken();
    auto full = c->runInstance(req);
    ASSERT_FALSE(full.ok());
    EXPECT_EQ(full.error->code, "InsufficientInstanceCapacity");
    EXPECT_EQ(c->stats().attempts - before, 1u); // a 500, but capacity: never retried
  });
  EXPECT_EQ(server.requests(), 6u);
}

TEST(Ec2Driver, ClosedConnectionsAreRetriedThenUnavailable) {
  ClosingListener listener;
  auto c = client(listener.endpoint(), quick(3));
  inTask([&] {
    auto got = c->describeInstances({});
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error->kind, ErrKind::Cloud);
    EXPECT_EQ(got.error->code, "Unavailable");
    EXPECT_NE(got.error->message.find("Unavailable: no reply from " + listener.endpoint()), std::string::npos)
        << got.error->message;
    EXPECT_NE(got.error->message.find("after 3 attempt(s)"), std::string::npos) << got.error->message;
  });
  EXPECT_EQ(c->stats().attempts, 3u);
  EXPECT_GE(listener.accepted.load(), 3);
}

TEST(Ec2Driver, ADeadlineDuringRetriesIsATimeout) {
  ScriptedEc2 server;
  server.script = [](const net::Ec2Params &, size_t) {
    return ec2Error(503, "RequestLimitExceeded", "Request limit exceeded.");
  };
  RetryPolicy p = quick(1000000);
  p.baseDelayMs = 20;
  p.maxDelayMs = 20;
  auto c = client(server.endpoint(), p);
  inTask([&] {
    auto got = c->describeInstances({}, {}, deadlineIn(1500));
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error->kind, ErrKind::Timeout);
    EXPECT_EQ(got.error->code, "");
    EXPECT_NE(got.error->message.find("DescribeInstances timed out after"), std::string::npos);
    EXPECT_NE(got.error->message.find("RequestLimitExceeded"), std::string::npos) << got.error->message;
  });
  EXPECT_GE(server.requests(), 2u);
}

TEST(Ec2Driver, DescribeFollowsNextToken) {
  ScriptedEc2 server;
  server.script = [](const net::Ec2Params &p, size_t) {
    const std::string *token = p.find("NextToken");
    if (!token)
      return Answer{200,
                    net::ec2::writeDescribeInstances("r1", "000", {instance("i-1", 16, "running")}, "page2")};
    if (*token == "page2")
      return Answer{200,
                    net::ec2::writeDescribeInstances("r2", "000", {instance("i-2", 0, "pending")}, "page3")};
    return Answer{200, net::ec2::writeDescribeInstances("r3", "000", {instance("i-3", 80, "stopped")})};
  };
  auto c = client(server.endpoint(), quick(2));
  inTask([&] {
    net::Ec2Filter f{"tag:cfm:system", {"s"}};
    auto got = c->describeInstances({}, {f});
    ASSERT_TRUE(got.ok()) << got.error->message;
    ASSERT_EQ(got.value.size(), 3u);
    EXPECT_EQ(got.value[0].instanceId, "i-1");
    EXPECT_EQ(got.value[1].instanceId, "i-2");
    EXPECT_EQ(got.value[2].instanceId, "i-3");
  });
  EXPECT_EQ(server.values("NextToken"), (std::vector<std::string>{"", "page2", "page3"}));
  EXPECT_EQ(server.values("Filter.1.Name"),
            (std::vector<std::string>{"tag:cfm:system", "tag:cfm:system", "tag:cfm:system"}));
}

/// The instance ids a waiter's DescribeInstances asks for (its `instance-id` filter's values).
std::vector<std::string> filteredIds(const net::Ec2Params &p) {
  std::vector<std::string> ids;
  if (!p.find("Filter.1.Name") || *p.find("Filter.1.Name") != "instance-id") return ids;
  for (int i = 1; p.find("Filter.1.Value." + std::to_string(i)); ++i)
    ids.push_back(*p.find("Filter.1.Value." + std::to_string(i)));
  return ids;
}

TEST(Ec2Driver, WaitersPollUntilTheStateOrFailOrTimeOut) {
  ScriptedEc2 server;
  server.script = [](const net::Ec2Params &p, size_t) {
    std::vector<std::string> ids = filteredIds(p);
    if (ids.size() != 1)
      return ec2Error(400, "InvalidParameterValue", "one instance-id filter value expected");
    const std::string &id = ids[0];
    static std::atomic<int> polls{0};
    if (id == "i-boot") {
      int n = polls++;
      if (n == 0) return Answer{200, net::ec2::writeDescribeInstances("r", "000", {})}; // not listed yet
      return Answer{200, net::ec2::writeDescribeInstances(
                             "r", "000", {instance(id, n < 3 ? 0 : 16, n < 3 ? "pending" : "running")})};
    }
    if (id == "i-dead")
      return Answer{200, net::ec2::writeDescribeInstances("r", "000", {instance(id, 48, "terminated")})};
    if (id == "i-gone") return Answer{200, net::ec2::writeDescribeInstances("r", "000", {})};
    if (id == "i-busy") {
      static std::atomic<int> busy{0};
      if (busy++ < 5) return ec2Error(503, "RequestLimitExceeded", "Request limit exceeded."); // past 2 tries
      return Answer{200, net::ec2::writeDescribeInstances("r", "000", {instance(id, 16, "running")})};
    }
    if (id == "i-denied") return ec2Error(403, "UnauthorizedOperation", "not allowed");
    return Answer{200, net::ec2::writeDescribeInstances("r", "000", {instance(id, 0, "pending")})};
  };
  auto c = client(server.endpoint(), quick(2));
  inTask([&] {
    auto up = c->waitInstanceRunning("i-boot", deadlineIn(60000));
    ASSERT_TRUE(up.ok()) << up.error->message;
    EXPECT_EQ(up.value.state.name, "running");
    auto dead = c->waitInstanceRunning("i-dead", deadlineIn(60000));
    ASSERT_FALSE(dead.ok());
    EXPECT_EQ(dead.error->code, "IncorrectInstanceState");
    auto gone = c->waitInstanceTerminated("i-gone", deadlineIn(60000)); // forgotten: terminated
    ASSERT_TRUE(gone.ok()) << gone.error->message;
    EXPECT_EQ(gone.value.state.name, "terminated");
    auto busy = c->waitInstanceRunning("i-busy", deadlineIn(60000)); // throttled polls are polled again
    ASSERT_TRUE(busy.ok()) << busy.error->message;
    auto denied = c->waitInstanceRunning("i-denied", deadlineIn(60000)); // other errors end the wait
    ASSERT_FALSE(denied.ok());
    EXPECT_EQ(denied.error->code, "UnauthorizedOperation");
    auto stuck = c->waitInstanceRunning("i-stuck", deadlineIn(150));
    ASSERT_FALSE(stuck.ok());
    EXPECT_EQ(stuck.error->kind, ErrKind::Timeout);
    EXPECT_NE(stuck.error->message.find("waiting for instance i-stuck to be running (it is pending)"),
              std::string::npos)
        << stuck.error->message;
  });
}

TEST(Ec2Driver, ConcurrentInstanceWaitersShareOnePollLoop) {
  // 450 instances, each running from the third time it is polled: waited for by 450 tasks.
  ScriptedEc2 server;
  std::mutex mu;
  std::map<std::string, int> polled;
  size_t most = 0;
  server.script = [&](const net::Ec2Params &p, size_t) {
    std::vector<net::ec2::Instance> out;
    std::lock_guard<std::mutex> g(mu);
    std::vector<std::string> ids = filteredIds(p);
    most = std::max(most, ids.size());
    for (const std::string &id : ids) {
      int n = ++polled[id];
      out.push_back(instance(id, n >= 3 ? 16 : 0, n >= 3 ? "running" : "pending"));
    }
    return Answer{200, net::ec2::writeDescribeInstances("r", "000", out)};
  };
  auto c = client(server.endpoint(), quick(2));
  constexpr int kVms = 450;
  std::atomic<int> running{0};
  inTask([&] {
    for (int i = 0; i < kVms; ++i)
      release(testing::spawnBody([&, i] {
        auto up = c->waitInstanceRunning("i-" + std::to_string(i), deadlineIn(60000));
        if (up.ok() && up.value.instanceId == "i-" + std::to_string(i) && up.value.state.name == "running")
          ++running;
      }));
  });
  EXPECT_EQ(running.load(), kVms);
  EXPECT_EQ(most, 200u); // at most 200 ids in one request
  // Three polls of three requests each (200 + 200 + 50) when all waiters came before the first;
  // a few more when the loop started while the tasks were still being spawned. One request per
  // instance per poll would be 1,350.
  EXPECT_LE(server.requests(), 30u);
  EXPECT_EQ(c->stats().calls, server.requests());
}

TEST(Ec2Driver, RunningWaitsAskOnlyForTheDecidingStates) {
  // A wait for `running` asks for its instances only in the states that decide it (a pending one
  // is left out of the reply); a wait for `terminated` asks for every state, since there an
  // instance the reply leaves out is one the cloud has forgotten (terminated).
  ScriptedEc2 server;
  std::mutex mu;
  std::vector<std::string> stateFilters; // per request: `instance-state-name` values, or "-"
  server.script = [&](const net::Ec2Params &p, size_t) {
    std::lock_guard<std::mutex> g(mu);
    std::string states = "-";
    if (p.find("Filter.2.Name") && *p.find("Filter.2.Name") == "instance-state-name") {
      states.clear();
      for (int i = 1; p.find("Filter.2.Value." + std::to_string(i)); ++i)
        states += (i > 1 ? "," : "") + *p.find("Filter.2.Value." + std::to_string(i));
    }
    stateFilters.push_back(states);
    std::vector<net::ec2::Instance> out;
    for (const std::string &id : filteredIds(p)) {
      // i-up answers `running` from its third poll; the filter hides it while it is pending
      if (id == "i-up" && stateFilters.size() >= 3) out.push_back(instance(id, 16, "running"));
      if (id == "i-up" && stateFilters.size() < 3 && states == "-") out.push_back(instance(id, 0, "pending"));
    }
    return Answer{200, net::ec2::writeDescribeInstances("r", "000", out)};
  };
  auto c = client(server.endpoint(), quick(2));
  inTask([&] {
    auto up = c->waitInstanceRunning("i-up", deadlineIn(60000));
    ASSERT_TRUE(up.ok()) << up.error->message;
    EXPECT_EQ(up.value.state.name, "running");
    auto gone = c->waitInstanceTerminated("i-gone", deadlineIn(60000));
    ASSERT_TRUE(gone.ok()) << gone.error->message;
  });
  ASSERT_EQ(stateFilters.size(), 4u); // three polls for i-up, one for i-gone
  for (int i = 0; i < 3; ++i) EXPECT_EQ(stateFilters[i], "running,shutting-down,terminated,stopping,stopped");
  EXPECT_EQ(stateFilters[3], "-");
}

TEST(Ec2Driver, WaitsForRunningAndTerminatedOnOneInstanceAreJudgedApart) {
  // One task waits for i-x to run while another waits for it to end; i-x stays pending. The
  // reply to the `running` poll leaves it out (filtered to the deciding states): that must not
  // make the other task's instance look forgotten, that is terminated. Both time out.
  ScriptedEc2 server;
  server.script = [](const net::Ec2Params &p, size_t) {
    bool filtered = p.find("Filter.2.Name") && *p.find("Filter.2.Name") == "instance-state-name";
    std::vector<net::ec2::Instance> out;
    for (const std::string &id : filteredIds(p))
      if (!filtered) out.push_back(instance(id, 0, "pending"));
    return Answer{200, net::ec2::writeDescribeInstances("r", "000", out)};
  };
  auto c = client(server.endpoint(), quick(2));
  bool runTimedOut = false, endTimedOut = false;
  std::string endSaw;
  inTask([&] {
    release(testing::spawnBody([&] {
      auto r = c->waitInstanceRunning("i-x", deadlineIn(400));
      runTimedOut = !r.ok() && r.error->kind == ErrKind::Timeout;
    }));
    release(testing::spawnBody([&] {
      auto r = c->waitInstanceTerminated("i-x", deadlineIn(400));
      endTimedOut = !r.ok() && r.error->kind == ErrKind::Timeout;
      if (r.ok()) endSaw = r.value.state.name;
    }));
  });
  EXPECT_TRUE(runTimedOut);
  EXPECT_TRUE(endTimedOut) << "the wait for `terminated` ended with " << endSaw;
  EXPECT_GE(server.requests(), 2u);
}

TEST(Ec2Driver, AWaiterThatEndsPassesThePollLoopOn) {
  // i-slow runs from its 6th poll; the first waiter (on i-never) times out, then the second
  // waiter (i-cancel) is cancelled while it polls: the third still gets its instance.
  ScriptedEc2 server;
  std::atomic<int> slowPolls{0};
  server.script = [&](const net::Ec2Params &p, size_t) {
    std::vector<net::ec2::Instance> out;
    for (const std::string &id : filteredIds(p)) {
      bool up = id == "i-slow" && ++slowPolls >= 6;
      out.push_back(instance(id, up ? 16 : 0, up ? "running" : "pending"));
    }
    return Answer{200, net::ec2::writeDescribeInstances("r", "000", out)};
  };
  auto c = client(server.endpoint(), quick(2));
  bool neverTimedOut = false, slowRan = false, cancelledSeen = false;
  inTask([&] {
    release(testing::spawnBody([&] {
      auto r = c->waitInstanceRunning("i-never", deadlineIn(30));
      neverTimedOut = !r.ok() && r.error->kind == ErrKind::Timeout;
    }));
    // A procedure whose scope holds the i-cancel waiter ends with an error: the scope cancels it.
    release(testing::spawnBody([&] {
      sched::openScope();
      release(testing::spawnBody([&] {
        auto r = c->waitInstanceRunning("i-cancel", deadlineIn(60000));
        cancelledSeen = !r.ok() && r.error->pending;
      }));
      if (sched::sleep(60)) (void)raiseUser("stop"); // i-never has timed out: i-cancel polls
      (void)sched::closeScope(true);
      clearError();
    }));
    ASSERT_TRUE(sched::sleep(10)); // after the other two, so it is the last offered the loop
    release(testing::spawnBody([&] {
      auto r = c->waitInstanceRunning("i-slow", deadlineIn(60000));
      slowRan = r.ok() && r.value.state.name == "running";
    }));
  });
  EXPECT_TRUE(neverTimedOut);
  EXPECT_TRUE(cancelledSeen);
  EXPECT_TRUE(slowRan);
}

TEST(Ec2Driver, ManyCallsInFlightFromOneSchedulerThread) {
  ScriptedEc2 server;
  server.script = [](const net::Ec2Params &p, size_t) {
    return Answer{200, net::ec2::writeDescribeInstances("r", "000",
                                                        {instance(*p.find("InstanceId.1"), 16, "running")})};
  };
  auto c = client(server.endpoint(), quick(3));
  constexpr int kTasks = 1000; // a thousand calls in flight from one procedure (issue 13)
  std::atomic<int> ok{0};
  inTask([&] {
    for (int i = 0; i < kTasks; ++i) {
      release(testing::spawnBody([&, i] {
        auto got = c->describeInstances({"i-" + std::to_string(i)});
        if (got.ok() && got.value.size() == 1 && got.value[0].instanceId == "i-" + std::to_string(i)) ++ok;
      }));
    }
  });
  EXPECT_EQ(ok.load(), kTasks);
  EXPECT_EQ(server.requests(), size_t(kTasks));
}

TEST(Ec2Driver, EndpointMustBeAnHttpUrl) {
  auto http = Ec2Client::sharedHttp();
  ASSERT_TRUE(http);
  for (const char *bad : {"127.0.0.1:8080", "ftp://x/", "http://", "http://u@h/"}) {
    auto c = Ec2Client::make({bad, kRegion, kCreds, {}, {}}, *http);
    EXPECT_FALSE(c) << bad;
  }
  EXPECT_TRUE(Ec2Client::make({"https://ec2.us-east-1.amazonaws.com", kRegion, kCreds, {}, {}}, *http));
}

} // namespace
} // namespace cfm::rt::cloud
