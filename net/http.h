// http.h — an HTTP client for many requests in flight from one thread: libcurl's multi interface
// on a thread of its own. Any thread submits a request with a callback; the client's thread
// runs every transfer (connections reused per host, at most kMaxConnectionsPerHost at once, the
// rest queued by curl) and calls the callback when the reply is complete or the transfer failed.
//
// The runtime's cloud driver (runtime/cloud) turns the callback into a scheduler Completion, so
// a task waiting for a reply suspends and no thread is blocked per request (issue 13).
#pragma once

#include "base/result.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace cfm::net {

class HttpClient {
public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  struct Request {
    std::string method = "GET"; // GET, POST, PUT, DELETE, HEAD
    std::string url;
    Headers headers;
    std::string body;
    int64_t timeoutMs = 30000;        // the whole transfer
    int64_t connectTimeoutMs = 10000; // establishing the connection
  };

  struct Response {
    long status = 0;
    Headers headers; // names as the server sent them
    std::string body;
    /// The first header of that name (case-insensitive), or empty.
    std::string header(std::string_view name) const;
  };

  /// Why a request got no reply: a message for people, and whether a retry may succeed
  /// (connection refused or reset, timeouts, DNS trouble: yes; a malformed URL: no).
  struct Failure {
    std::string message;
    bool retryable = false;
  };

  /// What a finished request gives: the reply, whatever its status, or the failure.
  struct Outcome {
    bool ok = false; // true: `response` holds the reply
    Response response;
    Failure failure;
  };

  static constexpr long kMaxConnectionsPerHost = 64;
  static constexpr size_t kMaxResponseBytes = size_t(64) << 20; // a longer reply is a failure

  /// Starts the client's thread.
  static Result<std::unique_ptr<HttpClient>> start();
  /// Stops the thread; requests still in flight end with a failure ("the HTTP client stopped").
  ~HttpClient();
  HttpClient(const HttpClient &) = delete;
  HttpClient &operator=(const HttpClient &) = delete;

  /// Called once, on the client's thread, when the request ends. It must not block.
  using Done = std::function<void(Outcome)>;
  /// Queues a request (any thread). After the client stopped, `done` runs at once with a failure.
  void submit(Request request, Done done);

  struct Stats {
    uint64_t submitted = 0, completed = 0, failed = 0;
    size_t inFlight = 0;
    uint64_t threads = 1; // the one thread all transfers run on
  };
  Stats stats() const;

  struct Impl;

private:
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace cfm::net
