// forward.h — TCP forwarding for elastic addresses: for each associated address, cfm-cloud listens on
// <elastic address>:<port> for every configured port and copies bytes both ways to <private
// address>:<port>. One thread polls every listener and connection (no thread per connection).
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cfm::cloud {

class Forwarder {
public:
  Forwarder();
  ~Forwarder();
  Forwarder(const Forwarder &) = delete;
  Forwarder &operator=(const Forwarder &) = delete;
  /// Starts forwarding `from`'s ports to `to` (replacing an earlier forward of `from`). A port that
  /// cannot be bound is skipped. Returns the ports that listen.
  std::vector<int> add(const std::string &from, const std::string &to, const std::vector<int> &ports);
  /// Stops forwarding `from` and closes its connections.
  void remove(const std::string &from);
  /// Stops everything (the thread ends).
  void stop();

private:
  struct Listener {
    int fd;
    std::string from, to;
    int port;
  };
  void run();
  void wake();
  std::mutex mu_;
  std::vector<Listener> listeners_;
  std::vector<int> toClose_; // listeners removed: the thread closes them (it may be polling them)
  int wake_[2] = {-1, -1};
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace cfm::cloud
