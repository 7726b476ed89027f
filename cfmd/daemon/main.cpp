// main.cpp — the `cfmd` program (issue 15; cfmd/README.md): the manager daemon of one cloud. It
// opens the manager of `--config FILE` (its store and, with [broker], its federation node:
// manager_host.h) and serves the control API (cfmd/control_api.h) on a Unix socket until SIGTERM
// or SIGINT; each run is compiled and run on its own thread with its own manager (runner.h).
#include "cfmd/daemon/manager_host.h"
#include "cfmd/daemon/serve.h"
#include "runtime/model/manager.h"
#include "runtime/runtime.h"
#include "runtime/sched/scheduler.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <pthread.h>
#include <string>
#include <vector>

namespace {

constexpr const char *kVersion = "0.1.0";

const char *const kHelp = R"(usage: cfmd --config FILE [--socket PATH]

cfmd is the manager of one cloud: it owns the manager's configuration, its store and its cloud
connection, and runs procedures sent to it (`cfmc run --manager NAME FILE`, `cfmc runs`, `cfmc
logs`, `cfmc cancel`) through its control API: HTTP/1.1 + JSON on a Unix socket (mode 0600).
It runs in the foreground; SIGTERM or SIGINT cancels the running procedures and stops it (exit 0).

options:
  --config FILE   the manager configuration (docs/manager-config.md)
  --socket PATH   the control socket (default: `[manager] socket` of the configuration, else
                  cfmd.sock in the folder of the store)
  -h, --help      show this help
  --version       print the version

Exit status: 0 after a stop by signal; 1 when the manager cannot be opened or the socket not
served; 2 on bad usage.
)";

int usageError(const std::string &msg) {
  std::cerr << "cfmd: " << msg << "\n\n" << kHelp;
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  cfm::rt::installOutOfMemoryHandler();
  std::string config, socket;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kHelp;
      return 0;
    }
    if (a == "--version") {
      std::cout << "cfmd " << kVersion << '\n';
      return 0;
    }
    std::string *into = a == "--config" || a.rfind("--config=", 0) == 0   ? &config
                        : a == "--socket" || a.rfind("--socket=", 0) == 0 ? &socket
                                                                          : nullptr;
    if (!into) return usageError("unknown option `" + a + "`");
    size_t eq = a.find('=');
    if (eq != std::string::npos) {
      *into = a.substr(eq + 1);
    } else {
      if (i + 1 >= args.size()) return usageError("`" + a + "` needs a value");
      *into = args[++i];
    }
    if (into->empty()) return usageError("`" + a + "` needs a value");
  }
  if (config.empty()) return usageError("give the manager's configuration with `--config FILE`");
  if (auto env = cfm::rt::sched::readOptionsFromEnv(); !env) {
    std::cerr << "cfmd: error: " << env.error().message << '\n';
    return 2;
  }

  // SIGTERM and SIGINT are taken by sigwait below: blocked before any thread starts, so that
  // every thread inherits the mask and none is interrupted by them.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  std::signal(SIGPIPE, SIG_IGN); // a client that went away is a failed write, not a death

  auto host = cfm::cfmd::ManagerHost::open(
      config, [](const std::string &line) { std::cerr << "cfmd: " << line << std::endl; });
  if (!host) {
    std::cerr << "cfmd: error: " << host.error().describe() << '\n';
    return 1;
  }
  if (socket.empty()) socket = (*host)->config().socketPath;
  if (socket.empty())
    socket = (std::filesystem::path((*host)->config().storePath).parent_path() / "cfmd.sock").string();
  int status = cfm::cfmd::serve(socket, **host);
  host->reset();
  return status;
}
