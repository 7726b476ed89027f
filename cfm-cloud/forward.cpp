// forward.cpp — the elastic addresses' TCP forwarding on one poll(2) thread (forward.h).
#include "cfm-cloud/forward.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <list>
#include <set>

namespace cfm::cloud {

namespace {

constexpr size_t kBuffer = 64 * 1024;

sockaddr_in addressOf(const std::string &ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

// One direction of a connection: bytes read from `in` wait in `buf` until written to `out`.
struct Pipe {
  std::string buf;
  bool eof = false, shut = false;
};

struct Conn {
  int client = -1, upstream = -1;
  std::string from;
  bool connecting = true;
  Pipe up, down; // up: client -> upstream; down: upstream -> client
  bool dead = false;
};

// Reads what `fd` has into `p` (up to the buffer's size).
void fill(int fd, Pipe &p, bool &dead) {
  if (p.eof || p.buf.size() >= kBuffer) return;
  char tmp[16384];
  ssize_t n = read(fd, tmp, std::min(sizeof tmp, kBuffer - p.buf.size()));
  if (n > 0)
    p.buf.append(tmp, size_t(n));
  else if (n == 0)
    p.eof = true;
  else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
    dead = true;
}

// Writes what `p` holds to `fd`; after the end of input, half-closes `fd`.
void drain(int fd, Pipe &p, bool &dead) {
  if (!p.buf.empty()) {
    ssize_t n = send(fd, p.buf.data(), p.buf.size(), MSG_NOSIGNAL);
    if (n > 0)
      p.buf.erase(0, size_t(n));
    else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      dead = true;
  }
  if (p.eof && p.buf.empty() && !p.shut) {
    shutdown(fd, SHUT_WR);
    p.shut = true;
  }
}

} // namespace

Forwarder::Forwarder() {
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) == 0) thread_ = std::thread([this] { run(); });
}

Forwarder::~Forwarder() { stop(); }

void Forwarder::wake() {
  char c = 1;
  if (wake_[1] >= 0) (void)!write(wake_[1], &c, 1);
}

std::vector<int> Forwarder::add(const std::string &from, const std::string &to,
                                const std::vector<int> &ports) {
  remove(from);
  std::vector<int> ok;
  std::lock_guard lock(mu_);
  for (int port : ports) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a = addressOf(from, port);
    if (bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || listen(fd, 64) != 0) {
      close(fd);
      continue;
    }
    listeners_.push_back({fd, from, to, port});
    ok.push_back(port);
  }
  wake();
  return ok;
}

void Forwarder::remove(const std::string &from) {
  std::lock_guard lock(mu_);
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    if (it->from == from) {
      toClose_.push_back(it->fd);
      it = listeners_.erase(it);
    } else {
      ++it;
    }
  }
  wake();
}

void Forwarder::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (auto &l : listeners_) toClose_.push_back(l.fd);
    listeners_.clear();
    wake();
  }
  if (thread_.joinable()) thread_.join();
  for (int fd : toClose_) close(fd);
  toClose_.clear();
  if (wake_[0] >= 0) close(wake_[0]), close(wake_[1]);
  wake_[0] = wake_[1] = -1;
}

void Forwarder::run() {
  std::list<Conn> conns;
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<Listener> ls;
    std::set<std::string> live;
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
      for (int fd : toClose_) close(fd);
      toClose_.clear();
      ls = listeners_;
    }
    for (auto &l : ls) live.insert(l.from);
    fds.push_back({wake_[0], POLLIN, 0});
    for (auto &l : ls) fds.push_back({l.fd, POLLIN, 0});
    size_t connBase = fds.size();
    for (auto &c : conns) {
      if (!live.count(c.from)) c.dead = true;
      short cev = 0, uev = 0;
      if (c.connecting) {
        uev = POLLOUT;
      } else {
        if (!c.up.eof && c.up.buf.size() < kBuffer) cev |= POLLIN;
        if (!c.down.buf.empty()) cev |= POLLOUT;
        if (!c.down.eof && c.down.buf.size() < kBuffer) uev |= POLLIN;
        if (!c.up.buf.empty()) uev |= POLLOUT;
      }
      fds.push_back({c.client, cev, 0});
      fds.push_back({c.upstream, uev, 0});
    }
    if (poll(fds.data(), fds.size(), 1000) < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      char tmp[64];
      while (read(wake_[0], tmp, sizeof tmp) > 0) {
      }
    }
    size_t k = connBase;
    for (auto &c : conns) {
      short cre = fds[k].revents, ure = fds[k + 1].revents;
      k += 2;
      if (c.dead) continue;
      if (c.connecting) {
        if (ure & (POLLOUT | POLLERR | POLLHUP)) {
          int err = 0;
          socklen_t len = sizeof err;
          getsockopt(c.upstream, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err != 0) c.dead = true;
          c.connecting = false;
        }
        continue;
      }
      if (cre & (POLLIN | POLLHUP | POLLERR)) fill(c.client, c.up, c.dead);
      if (ure & (POLLIN | POLLHUP | POLLERR)) fill(c.upstream, c.down, c.dead);
      if (!c.dead) drain(c.upstream, c.up, c.dead);
      if (!c.dead) drain(c.client, c.down, c.dead);
      if (c.up.shut && c.down.shut) c.dead = true;
    }
    for (auto it = conns.begin(); it != conns.end();) {
      if (it->dead) {
        close(it->client);
        close(it->upstream);
        it = conns.erase(it);
      } else {
        ++it;
      }
    }
    for (size_t i = 0; i < ls.size(); ++i) {
      if (!(fds[1 + i].revents & POLLIN)) continue;
      for (;;) {
        int cfd = accept4(ls[i].fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0) break;
        int ufd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_in a = addressOf(ls[i].to, ls[i].port);
        if (ufd < 0 ||
            (connect(ufd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 && errno != EINPROGRESS)) {
          close(cfd);
          if (ufd >= 0) close(ufd);
          continue;
        }
        // A relay passes bytes on as they come: with Nagle's algorithm a small second write (a
        // POST's body after its headers) waits for the peer's delayed ACK, 40 ms a request.
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        Conn c;
        c.client = cfd, c.upstream = ufd, c.from = ls[i].from;
        conns.push_back(std::move(c));
      }
    }
  }
  for (auto &c : conns) close(c.client), close(c.upstream);
}

} // namespace cfm::cloud
