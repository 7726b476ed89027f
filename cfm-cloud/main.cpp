// main.cpp — the `cfm-cloud` program: `cfm-cloud --config FILE` serves the local EC2-compatible cloud
// (cloud.h) over HTTP with cpp-httplib until SIGTERM or SIGINT, writing <state_dir>/cfm-cloud.json
// once it listens (README.md in this folder).
#include "base/atomic_file.h"
#include "base/text.h"
#include "cfm-cloud/cloud.h"
#include "cfm-cloud/config.h"
#include "net/query.h"

#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

namespace {

constexpr const char *kVersionText = "cfm-cloud 0.1 (EC2 Query API 2016-11-15)";
/// HTTP workers: as many as the EC2 driver keeps connections to one host
/// (HttpClient::kMaxConnectionsPerHost).
constexpr size_t kServerThreads = 64;
/// Connections the kernel queues for accept (httplib's own is 5; see main).
constexpr int kListenBacklog = 1024;

void usage(FILE *to) {
  std::fprintf(to, "usage: cfm-cloud --config FILE\n"
                   "       cfm-cloud --help | --version\n"
                   "Serves a local EC2-compatible cloud (EC2 Query API 2016-11-15, Signature V4) on a\n"
                   "loopback address until SIGTERM or SIGINT; instances are process groups that keep\n"
                   "running when it exits (a restart adopts them). See cfm-cloud/README.md.\n");
}

std::mutex logMu;
void logLine(const std::string &line) {
  std::lock_guard lock(logMu);
  struct timespec now {};
  clock_gettime(CLOCK_REALTIME, &now);
  struct tm tm {};
  gmtime_r(&now.tv_sec, &tm);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03dZ cfm-cloud: %s\n", stamp, int(now.tv_nsec / 1000000), line.c_str());
}

std::string selfDir() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.parent_path().string();
}

} // namespace

int main(int argc, char **argv) {
  std::string configPath;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    }
    if (a == "--version") {
      std::printf("%s\n", kVersionText);
      return 0;
    }
    if (a == "--config" && i + 1 < argc) {
      configPath = argv[++i];
    } else if (a.starts_with("--config=")) {
      configPath = a.substr(9);
    } else {
      std::fprintf(stderr, "cfm-cloud: error: unknown argument `%s`\n", a.c_str());
      usage(stderr);
      return 2;
    }
  }
  if (configPath.empty()) {
    std::fprintf(stderr, "cfm-cloud: error: --config FILE is required\n");
    usage(stderr);
    return 2;
  }
  auto config = cfm::cloud::loadConfig(configPath, selfDir());
  if (!config) {
    std::fprintf(stderr, "cfm-cloud: error: %s\n", config.error().message.c_str());
    return 2;
  }

  // SIGTERM and SIGINT are waited for by one thread; every other thread (httplib's pool, the
  // timer, the forwarder) starts with them blocked. Instances get an empty mask (cloud.cpp).
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto cloud = cfm::cloud::Cloud::open(std::move(config.value()), logLine);
  if (!cloud) {
    std::fprintf(stderr, "cfm-cloud: error: %s\n", cloud.error().message.c_str());
    return 1;
  }
  cfm::cloud::Cloud &c = **cloud;
  const cfm::cloud::CloudConfig &cfg = c.config();

  httplib::Server server;
  // Bodies are read through a content reader (httplib's own form reading stops at 8 KiB); what is
  // past 1 MiB is read and dropped, then refused with an EC2 error. Far larger bodies are cut by
  // httplib (413), which the error handler answers with an EC2 document too.
  server.set_payload_max_length(size_t(64) << 20);
  server.set_read_timeout(30, 0);
  server.set_keep_alive_max_count(1000);
  // Replies go out at once (no Nagle delay against the client's delayed ACK: ~40 ms a request
  // otherwise), and as many workers as the EC2 driver keeps connections to one host (64), so
  // that kept-alive connections do not queue behind httplib's default of 8 workers.
  server.set_tcp_nodelay(true);
  server.new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  auto serve = [&c](const httplib::Request &req, httplib::Response &res, const std::string &body,
                    bool tooLarge) {
    cfm::net::HttpRequest r;
    r.method = req.method;
    r.setTarget(req.target);
    for (auto &[k, v] : req.headers) r.headers.push_back({k, v});
    r.body = body;
    cfm::cloud::HttpReply reply = c.handle(r, tooLarge);
    res.status = reply.status;
    res.set_content(reply.body, "text/xml;charset=UTF-8");
  };
  auto withBody = [&serve](const httplib::Request &req, httplib::Response &res,
                           const httplib::ContentReader &reader) {
    std::string body;
    bool tooLarge = false;
    bool read = reader([&](const char *data, size_t n) {
      if (body.size() + n > cfm::net::kMaxQueryBytes)
        tooLarge = true;
      else
        body.append(data, n);
      return true;
    });
    // A body httplib could not read whole (past its own limit, or cut off) is refused as too large.
    tooLarge = tooLarge || !read;
    serve(req, res, tooLarge ? std::string() : body, tooLarge);
  };
  auto noBody = [&serve](const httplib::Request &req, httplib::Response &res) { serve(req, res, "", false); };
  server.Post(".*", withBody);
  server.Put(".*", withBody);
  server.Get(".*", noBody);
  server.Delete(".*", noBody);
  server.set_error_handler([](const httplib::Request &, httplib::Response &res) {
    if (!res.body.empty()) return;
    std::string code = res.status == 413 ? "MalformedQueryString" : "InvalidRequest";
    std::string msg =
        res.status == 413 ? "the request body is larger than 1 MiB" : "the HTTP request is malformed";
    auto reply = cfm::cloud::Cloud::errorReply(400, code, msg);
    res.status = 400;
    res.set_content(reply.body, "text/xml;charset=UTF-8");
  });

  // httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, compiled into Debian's
  // library). A client opening dozens of connections at once (the EC2 driver keeps up to 64)
  // overflowed it: the kernel dropped SYNs, and their retransmissions (after 1, 2, 4, 8, 16 s)
  // held a few requests for seconds — a thousand terminate_vm once took 19 s instead of 1.
  // So the listening socket is taken from the socket-options hook and given a backlog of
  // kListenBacklog after binding (listen(2) again on a listening socket sets its backlog).
  int listenFd = -1;
  server.set_socket_options([&listenFd](socket_t s) {
    httplib::default_socket_options(s);
    listenFd = s;
  });
  int port = cfg.listenPort;
  if (port == 0)
    port = server.bind_to_any_port(cfg.listenHost, 0);
  else if (!server.bind_to_port(cfg.listenHost, port))
    port = -1;
  if (port <= 0) {
    std::fprintf(stderr, "cfm-cloud: error: cannot listen on %s:%d\n", cfg.listenHost.c_str(),
                 cfg.listenPort);
    return 1;
  }
  if (listenFd < 0 || ::listen(listenFd, kListenBacklog) != 0) {
    std::fprintf(stderr, "cfm-cloud: error: cannot set the listen backlog on %s:%d: %s\n",
                 cfg.listenHost.c_str(), port, std::strerror(errno));
    return 1;
  }
  std::string endpoint = "http://" + cfg.listenHost + ":" + std::to_string(port) + "/";
  std::string info = "{\"v\":1,\"pid\":" + std::to_string(getpid()) +
                     ",\"endpoint\":" + cfm::base::jsonQuote(endpoint) +
                     ",\"region\":" + cfm::base::jsonQuote(cfg.region) +
                     ",\"name\":" + cfm::base::jsonQuote(cfg.name) + "}\n";
  if (auto r = cfm::base::replaceFileAtomically(cfg.stateDir + "/cfm-cloud.json", info); !r) {
    std::fprintf(stderr, "cfm-cloud: error: %s\n", r.error().message.c_str());
    return 1;
  }
  logLine("cloud " + cfg.name + " (" + cfg.region + ") listening on " + endpoint);

  std::atomic<bool> running{true};
  std::thread timer([&] {
    while (running) {
      c.tick();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stopSignals, &sig);
    logLine(std::string("stopping on ") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
    server.stop();
  });
  server.listen_after_bind();
  if (waiter.joinable()) {
    // listen ended without a signal (an error): wake the waiter.
    if (server.is_running()) server.stop();
    pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
  }
  running = false;
  timer.join();
  c.shutdown();
  logLine("stopped (instances keep running)");
  return 0;
}
