// unix_http.h — HTTP/1.1 over a Unix-domain socket, both ends, for cfmd's control API (issue 15):
// an incremental request parser with size limits, a small threaded server on an AF_UNIX socket
// (one request per connection, whole replies with Content-Length or chunked streams), and a
// blocking client. cpp-httplib 0.11 has no Unix sockets, so this is written here, on POSIX only.
#pragma once

#include "base/result.h"

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace cfm::net {

constexpr size_t kMaxHttpHeadBytes = 16 * 1024;        // request line and headers together
constexpr size_t kMaxHttpHeaders = 64;                 // header fields in one request
constexpr size_t kMaxHttpBodyBytes = 32 * 1024 * 1024; // a run's program and its imports

struct UnixHttpRequest {
  std::string method;
  std::string target;                                       // as sent: path and query
  std::string path;                                         // the target before '?'
  std::vector<std::pair<std::string, std::string>> query;   // decoded name=value pairs
  std::vector<std::pair<std::string, std::string>> headers; // names in lower case
  std::string body;
  /// The first header named `name` (lower case), or nullptr.
  const std::string *header(std::string_view name) const;
  /// The first query parameter named `name`, or nullptr.
  const std::string *param(std::string_view name) const;
};

/// Reads one request from bytes as they arrive. feed() answers true once the request is
/// complete, false while it needs more, an error when the bytes are not an acceptable request;
/// then status() is the HTTP status to answer with (400, 411, 413, 431, 501, 505).
class UnixHttpRequestParser {
public:
  Result<bool> feed(std::string_view bytes);
  const UnixHttpRequest &request() const { return req_; }
  UnixHttpRequest &request() { return req_; }
  int status() const { return status_; }

private:
  Error fail(int status, std::string message);
  Result<bool> parseHead();

  std::string buf_;
  UnixHttpRequest req_;
  bool headDone_ = false;
  size_t bodyLength_ = 0;
  int status_ = 0;
};

/// The reply to one request. Either send() once, or begin() a chunked stream, write() pieces
/// and end() it. write() answers false when the client has gone (stop producing then).
class HttpResponder {
public:
  explicit HttpResponder(int fd) : fd_(fd) {}
  bool send(int status, std::string_view contentType, std::string_view body);
  bool begin(int status, std::string_view contentType);
  bool write(std::string_view piece);
  bool end();
  bool answered() const { return answered_; }

private:
  bool writeAll(std::string_view bytes);
  int fd_;
  bool answered_ = false;
  bool broken_ = false;
};

/// The reason phrase of a status this code uses ("OK", "Not Found", ...).
std::string_view httpReason(int status);

/// A server on a Unix socket: a thread accepts, each connection is served on a thread of its
/// own (requests may stream for as long as a run lasts). The socket is created with mode 0600.
class UnixHttpServer {
public:
  using Handler = std::function<void(const UnixHttpRequest &, HttpResponder &)>;

  /// Listens on `path`. Refuses (Usage) when a server already answers there; removes a stale
  /// socket file that nothing answers on; refuses a path that exists and is not a socket.
  static Result<std::unique_ptr<UnixHttpServer>> listen(const std::string &path, Handler handler);
  ~UnixHttpServer(); // stop()s
  /// Stops accepting, shuts every open connection down, waits for their threads, removes the
  /// socket file. Handlers still running see write() fail.
  void stop();
  const std::string &path() const { return path_; }

private:
  UnixHttpServer(std::string path, int fd, Handler handler);
  void acceptLoop();
  void serve(int fd);

  std::string path_;
  int listenFd_;
  Handler handler_;
  std::atomic<bool> stopping_{false};
  std::thread acceptThread_;
  std::mutex mu_;
  std::vector<int> open_;
  std::vector<std::thread> workers_;
};

struct UnixHttpReply {
  int status = 0;
  std::string contentType;
  std::string body; // empty when a callback received the body
};

/// Sends one request to the server on `path` and reads its reply. With `onBody`, the body is
/// handed over piece by piece as it arrives (chunked streams) and onBody returning false ends
/// the transfer early. Io errors when nothing answers; Syntax when the reply is malformed.
Result<UnixHttpReply> unixHttpRequest(const std::string &path, std::string_view method,
                                      std::string_view target, std::string_view body = {},
                                      std::string_view contentType = "application/json",
                                      const std::function<bool(std::string_view)> &onBody = {});

/// True when a server answers a connection on `path`.
bool unixSocketAnswers(const std::string &path);

} // namespace cfm::net
