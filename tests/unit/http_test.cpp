// http_test.cpp — the HTTP client (net/http.h) against a real HTTP server (cpp-httplib) on a free
// loopback port: replies, a thousand requests in flight from the client's one thread, failures
// that may be retried and failures that may not, timeouts, and stopping with requests in flight.
#include "net/http.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <gtest/gtest.h>
#include <mutex>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cfm::net {
namespace {

/// A server on 127.0.0.1 with a free port, stopped when the test ends.
class Server {
public:
  httplib::Server http;
  int port = 0;
  Server() {
    http.new_task_queue = [] { return new httplib::ThreadPool(64); };
  }
  void start() {
    port = http.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port, 0);
    thread_ = std::thread([this] { http.listen_after_bind(); });
    for (int i = 0; i < 500 && !http.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::string url(const std::string &path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
  ~Server() {
    http.stop();
    if (thread_.joinable()) thread_.join();
  }

private:
  std::thread thread_;
};

/// Collects outcomes delivered on the client's thread.
class Outcomes {
public:
  HttpClient::Done sink() {
    return [this](HttpClient::Outcome o) {
      std::lock_guard<std::mutex> g(mu_);
      got_.push_back(std::move(o));
      cv_.notify_all();
    };
  }
  std::vector<HttpClient::Outcome> waitFor(size_t n) {
    std::unique_lock<std::mutex> g(mu_);
    cv_.wait_for(g, std::chrono::seconds(60), [&] { return got_.size() >= n; });
    return got_;
  }

private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<HttpClient::Outcome> got_;
};

std::unique_ptr<HttpClient> client() {
  auto c = HttpClient::start();
  EXPECT_TRUE(c.ok());
  return std::move(*c);
}

TEST(Http, GetAndPostReplies) {
  Server s;
  s.http.Get("/hello", [](const httplib::Request &, httplib::Response &res) {
    res.set_header("X-Cfm", "yes");
    res.set_content("hello", "text/plain");
  });
  s.http.Post("/echo", [](const httplib::Request &req, httplib::Response &res) {
    res.status = 201;
    res.set_content(req.get_header_value("Content-Type") + "|" + req.body, "text/plain");
  });
  s.start();
  auto c = client();
  Outcomes out;
  c->submit({"GET", s.url("/hello"), {}, "", 5000, 5000}, out.sink());
  auto got = out.waitFor(1);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(got[0].ok) << got[0].failure.message;
  EXPECT_EQ(got[0].response.status, 200);
  EXPECT_EQ(got[0].response.body, "hello");
  EXPECT_EQ(got[0].response.header("x-cfm"), "yes");
  std::string big(100000, 'x'); // past curl's 1 KiB "Expect: 100-continue" threshold
  c->submit({"POST",
             s.url("/echo"),
             {{"Content-Type", "application/octet-stream"}},
             "Action=Run&" + big,
             5000,
             5000},
            out.sink());
  got = out.waitFor(2);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_TRUE(got[1].ok) << got[1].failure.message;
  EXPECT_EQ(got[1].response.status, 201);
  EXPECT_EQ(got[1].response.body, "application/octet-stream|Action=Run&" + big);
  c->submit({"GET", s.url("/missing"), {}, "", 5000, 5000}, out.sink());
  got = out.waitFor(3);
  ASSERT_TRUE(got[2].ok); // an HTTP error status is a reply, not a failure
  EXPECT_EQ(got[2].response.status, 404);
}

TEST(Http, AThousandRequestsInFlightFromOneThread) {
  Server s;
  std::atomic<int> now{0}, most{0};
  s.http.Get(R"(/slow/(\d+))", [&](const httplib::Request &req, httplib::Response &res) {
    int n = ++now;
    for (int m = most; n > m && !most.compare_exchange_weak(m, n);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    --now;
    res.set_content(req.matches[1].str(), "text/plain");
  });
  s.start();
  auto c = client();
  Outcomes out;
  for (int i = 0; i < 1000; ++i)
    c->submit({"GET", s.url("/slow/" + std::to_string(i)), {}, "", 60000, 10000}, out.sink());
  auto got = out.waitFor(1000);
  ASSERT_EQ(got.size(), 1000u);
  std::vector<bool> seen(1000, false);
  for (const HttpClient::Outcome &o : got) {
    ASSERT_TRUE(o.ok) << o.failure.message;
    seen[static_cast<size_t>(std::stoi(o.response.body))] = true;
  }
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_TRUE(seen[i]) << i;
  // The server saw many requests at once although the client has one thread.
  EXPECT_GE(most.load(), 8);
  HttpClient::Stats st = c->stats();
  EXPECT_EQ(st.submitted, 1000u);
  EXPECT_EQ(st.completed, 1000u);
  EXPECT_EQ(st.inFlight, 0u);
  EXPECT_EQ(st.threads, 1u);
}

TEST(Http, FailuresSayWhetherARetryMayHelp) {
  // A port nobody listens on: bind one (without listening), read its number, close it.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len), 0);
  int port = ntohs(a.sin_port);
  close(fd);
  auto c = client();
  Outcomes out;
  c->submit({"GET", "http://127.0.0.1:" + std::to_string(port) + "/", {}, "", 5000, 5000}, out.sink());
  c->submit({"GET", "ftp://127.0.0.1/", {}, "", 5000, 5000}, out.sink());
  auto got = out.waitFor(2);
  ASSERT_EQ(got.size(), 2u);
  int refused = got[0].failure.message.find("ftp://") == std::string::npos ? 0 : 1;
  const HttpClient::Outcome &r = got[static_cast<size_t>(refused)],
                            &f = got[static_cast<size_t>(1 - refused)];
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.failure.retryable) << r.failure.message;
  EXPECT_NE(r.failure.message.find("127.0.0.1"), std::string::npos) << r.failure.message;
  EXPECT_NE(r.failure.message.find("onnect"), std::string::npos)
      << r.failure.message; // refused, not timed out
  EXPECT_FALSE(f.ok);
  EXPECT_FALSE(f.failure.retryable) << f.failure.message; // a protocol we never speak
}

TEST(Http, TimeoutIsARetryableFailure) {
  Server s;
  std::atomic<bool> release{false};
  s.http.Get("/hang", [&](const httplib::Request &, httplib::Response &res) {
    for (int i = 0; i < 300 && !release; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    res.set_content("late", "text/plain");
  });
  s.start();
  auto c = client();
  Outcomes out;
  c->submit({"GET", s.url("/hang"), {}, "", 200, 5000}, out.sink());
  auto got = out.waitFor(1);
  release = true;
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].ok);
  EXPECT_TRUE(got[0].failure.retryable);
  EXPECT_NE(got[0].failure.message.find("imed out"), std::string::npos) << got[0].failure.message;
}

TEST(Http, StoppingEndsWhatIsInFlight) {
  Server s;
  std::atomic<bool> release{false};
  s.http.Get("/hang", [&](const httplib::Request &, httplib::Response &res) {
    for (int i = 0; i < 500 && !release; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    res.set_content("late", "text/plain");
  });
  s.start();
  Outcomes out;
  {
    auto c = client();
    for (int i = 0; i < 3; ++i) c->submit({"GET", s.url("/hang"), {}, "", 30000, 5000}, out.sink());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } // the client stops here, with three requests in flight
  auto got = out.waitFor(3);
  release = true;
  ASSERT_EQ(got.size(), 3u);
  for (const HttpClient::Outcome &o : got) {
    EXPECT_FALSE(o.ok);
    EXPECT_EQ(o.failure.message, "the HTTP client stopped");
  }
}

} // namespace
} // namespace cfm::net
