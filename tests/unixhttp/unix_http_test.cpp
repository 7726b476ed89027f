// unix_http_test.cpp — net/unix_http: the request parser's acceptance and limits, and a real
// server on a Unix socket in a temporary folder answered by the blocking client (whole replies,
// chunked streams, malformed requests answered with 4xx, stale sockets, a second server refused).
#include "net/unix_http.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

using cfm::net::HttpResponder;
using cfm::net::UnixHttpRequest;
using cfm::net::UnixHttpRequestParser;
using cfm::net::UnixHttpServer;

std::string tempDir() {
  std::string t = (std::filesystem::temp_directory_path() / "cfm-uhttp-XXXXXX").string();
  char *d = ::mkdtemp(t.data());
  EXPECT_NE(d, nullptr);
  return t;
}

TEST(UnixHttpRequestParser, WholeRequestInPieces) {
  std::string text = "POST /runs/r-1/cancel?follow=1&x=a%20b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                     "X-Thing:  v  \r\n\r\nhello";
  UnixHttpRequestParser p;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    auto r = p.feed(text.substr(i, 1));
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_FALSE(*r) << "complete too early at byte " << i;
  }
  auto r = p.feed(text.substr(text.size() - 1));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(*r);
  const UnixHttpRequest &q = p.request();
  EXPECT_EQ(q.method, "POST");
  EXPECT_EQ(q.path, "/runs/r-1/cancel");
  ASSERT_NE(q.param("follow"), nullptr);
  EXPECT_EQ(*q.param("follow"), "1");
  EXPECT_EQ(*q.param("x"), "a b");
  ASSERT_NE(q.header("x-thing"), nullptr);
  EXPECT_EQ(*q.header("x-thing"), "v");
  EXPECT_EQ(q.body, "hello");
}

int statusOf(const std::string &text) {
  UnixHttpRequestParser p;
  auto r = p.feed(text);
  if (r.ok()) return *r ? 200 : 0;
  return p.status();
}

TEST(UnixHttpRequestParser, Refusals) {
  EXPECT_EQ(statusOf("GET /runs HTTP/1.1\r\n\r\n"), 200);
  EXPECT_EQ(statusOf("GET /runs HTTP/1.1\r\nHost"), 0); // incomplete, not yet wrong
  EXPECT_EQ(statusOf("GET  /runs HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(statusOf("GET runs HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(statusOf("GET /runs HTTP/2.0\r\n\r\n"), 505);
  EXPECT_EQ(statusOf("GET /runs FTP\r\n\r\n"), 400);
  EXPECT_EQ(statusOf("GET /r%zz HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(statusOf("GET /r%4 HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(statusOf("GET /runs HTTP/1.1\r\nNoColon\r\n\r\n"), 400);
  EXPECT_EQ(statusOf("POST /runs HTTP/1.1\r\n\r\n"), 411);
  EXPECT_EQ(statusOf("POST /runs HTTP/1.1\r\nContent-Length: 1x\r\n\r\n"), 400);
  EXPECT_EQ(statusOf("POST /runs HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), 400);
  EXPECT_EQ(statusOf("POST /runs HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
  EXPECT_EQ(statusOf("POST /runs HTTP/1.1\r\nContent-Length: 1\r\n\r\nab"), 400);
}

TEST(UnixHttpRequestParser, LimitsAtAndPast) {
  std::string big =
      "POST /runs HTTP/1.1\r\nContent-Length: " + std::to_string(cfm::net::kMaxHttpBodyBytes) + "\r\n\r\n";
  EXPECT_EQ(statusOf(big), 0); // accepted head, body awaited
  big = "POST /runs HTTP/1.1\r\nContent-Length: " + std::to_string(cfm::net::kMaxHttpBodyBytes + 1) +
        "\r\n\r\n";
  EXPECT_EQ(statusOf(big), 413);
  std::string headers = "GET / HTTP/1.1\r\n";
  for (size_t i = 0; i < cfm::net::kMaxHttpHeaders; ++i) headers += "A: b\r\n";
  EXPECT_EQ(statusOf(headers + "\r\n"), 200);
  EXPECT_EQ(statusOf(headers + "A: b\r\n\r\n"), 431);
  EXPECT_EQ(statusOf("GET / HTTP/1.1\r\nA: " + std::string(cfm::net::kMaxHttpHeadBytes, 'x')), 431);
}

class ServerTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = tempDir();
    path_ = dir_ + "/s.sock";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static void handle(const UnixHttpRequest &req, HttpResponder &out) {
    if (req.path == "/echo") {
      out.send(200, "text/plain", req.method + " " + req.body);
    } else if (req.path == "/stream") {
      out.begin(200, "text/plain");
      for (int i = 0; i < 5; ++i)
        if (!out.write("line " + std::to_string(i) + "\n")) return;
      out.end();
    } else {
      out.send(404, "application/json", "{\"error\":\"no such path\"}");
    }
  }
  std::string dir_, path_;
};

TEST_F(ServerTest, AnswersWholeAndChunked) {
  auto s = UnixHttpServer::listen(path_, handle);
  ASSERT_TRUE(s.ok()) << s.error().message;
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto r = cfm::net::unixHttpRequest(path_, "POST", "/echo", "abc");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "POST abc");
  r = cfm::net::unixHttpRequest(path_, "GET", "/nothing");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  std::string streamed;
  int pieces = 0;
  r = cfm::net::unixHttpRequest(path_, "GET", "/stream", {}, {}, [&](std::string_view p) {
    streamed.append(p);
    ++pieces;
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(streamed, "line 0\nline 1\nline 2\nline 3\nline 4\n");
  EXPECT_EQ(pieces, 5);
  r = cfm::net::unixHttpRequest(path_, "GET", "/stream");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, streamed);
}

TEST_F(ServerTest, MalformedRequestGets4xx) {
  auto s = UnixHttpServer::listen(path_, handle);
  ASSERT_TRUE(s.ok());
  auto r = cfm::net::unixHttpRequest(path_, "GET", "/a b");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("\"error\""), std::string::npos);
}

TEST_F(ServerTest, SecondServerRefusedStaleSocketReplaced) {
  {
    auto s = UnixHttpServer::listen(path_, handle);
    ASSERT_TRUE(s.ok());
    auto again = UnixHttpServer::listen(path_, handle);
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.error().message.find("another server answers"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(path_)); // stop() removes it
  // A stale socket: bound, then its owner gone without removing it.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
  ::close(fd);
  ASSERT_TRUE(std::filesystem::exists(path_));
  EXPECT_FALSE(cfm::net::unixSocketAnswers(path_));
  auto s = UnixHttpServer::listen(path_, handle);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(cfm::net::unixSocketAnswers(path_));
  // Not a socket: refused, left alone.
  (*s)->stop();
  std::string file = dir_ + "/plain";
  {
    FILE *f = std::fopen(file.c_str(), "w");
    std::fclose(f);
  }
  auto bad = UnixHttpServer::listen(file, handle);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(std::filesystem::exists(file));
}

TEST_F(ServerTest, NothingListening) {
  auto r = cfm::net::unixHttpRequest(path_, "GET", "/echo");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, cfm::ErrorKind::Io);
}

} // namespace
