// demo_load.h — the load generator of `cfmc demo` (demo_cmd.h): threads that write rows through
// the web3 sample's load balancer (POST /rows) and read them back (GET /rows/N), following the
// endpoint the demo gives them, and count what answered: requests, errors, and per cloud
// (`X-Cloud`) which VMs served them. It records every acknowledged write, so the demo can read
// them all back after a disaster (RPO). Plain HTTP/1.1 with libcurl.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cfm::driver {

/// A point-in-time view of the load generator's counts.
struct LoadCounts {
  int64_t ok = 0, errors = 0;
  std::map<std::string, int64_t> byCloud; // X-Cloud of the answers
  int64_t acked = 0;                      // acknowledged writes (counts() fills it in)
};

class LoadGenerator {
public:
  explicit LoadGenerator(int threads = 2);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator &) = delete;
  LoadGenerator &operator=(const LoadGenerator &) = delete;

  /// Sends the requests to `url` (`http://HOST:PORT/`) from now on; starts the threads first time.
  void setEndpoint(const std::string &url);
  /// Stops sending (the threads end); idempotent.
  void stop();
  LoadCounts counts() const;
  /// Milliseconds since the epoch of the first good answer from cloud `cloud`, sent at or after
  /// `sinceMs` (to `url` when it is not ""), or 0 while there is none.
  int64_t firstAnswerFrom(const std::string &cloud, int64_t sinceMs, const std::string &url = "") const;
  /// Reads every acknowledged write back through `url`; returns how many are missing or wrong.
  int64_t verify(const std::string &url, int64_t &checked) const;

private:
  void loop(int index);

  int threads_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::string url_;
  std::vector<std::thread> workers_;
  LoadCounts counts_;
  std::map<int64_t, std::string> acked_; // row id -> value written
  struct Answer {
    int64_t sentMs, atMs;
    std::string cloud, url;
  };
  std::vector<Answer> good_; // the good answers, in order
};

} // namespace cfm::driver
