// cloud.h — the local EC2-compatible cloud behind cfm-cloud's HTTP server: request verification
// (SigV4, throttling, limits), the EC2 actions of issue 13, their state in SQLite (cloud.db in the
// state directory), instances as process groups, volumes as directories, elastic addresses as
// loopback addresses with TCP forwarding (forward.h). Thread-safe: one mutex guards everything;
// tick() (called every few milliseconds by the server's timer thread) advances the timed state
// transitions and notices instances whose processes died.
#pragma once
#include "base/result.h"
#include "cfm-cloud/config.h"
#include "cfm-cloud/logic.h"
#include "net/sigv4.h"

#include <functional>
#include <memory>
#include <string>

namespace cfm::cloud {

struct HttpReply {
  int status = 200;
  std::string body; // XML
};

class Cloud {
public:
  /// Opens (creating) the state directory and cloud.db, adopts the instances whose process
  /// groups still live and marks the others terminated. `log` receives one line per event.
  static Result<std::unique_ptr<Cloud>> open(CloudConfig config,
                                             std::function<void(const std::string &)> log);
  ~Cloud();

  /// Answers one HTTP request (any method and path): an EC2 reply or error document. `bodyTooLarge`
  /// says the body was cut at net::kMaxQueryBytes.
  HttpReply handle(const net::HttpRequest &request, bool bodyTooLarge);

  /// The error document for a request the HTTP layer refused itself (status is its own).
  static HttpReply errorReply(int status, std::string_view code, std::string_view message);

  /// Advances timers and reaps processes (call every few milliseconds).
  void tick();

  /// Stops forwarding (instances keep running, for a restart to adopt).
  void shutdown();

  const CloudConfig &config() const;

  struct Impl;

private:
  explicit Cloud(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace cfm::cloud
