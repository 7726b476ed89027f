// main.cpp — cfm-agent's command line (agent/README.md): where the instance id, the VM root, the
// user data and the state directory come from, the wait of an instance without an agent
// configuration, and SIGTERM (presence "down", disconnect, exit 0) through a signal thread.
#include "agent/daemon.h"

#include "base/files.h"

#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

namespace {

const char *const kUsage = R"(usage: cfm-agent [options]

The CFM agent on a VM: connects out to its manager's MQTT broker and runs the signed requests
(exec, put_file, ping) that the manager sends to this instance (docs/agent-protocol.md).

options:
  --instance-id ID   this instance's id (else $CFM_INSTANCE_ID)
  --root DIR         the VM's file root: commands run there, files are written beneath it
                     (else $CFM_INSTANCE_ROOT)
  --user-data FILE   the instance's user data, JSON with a member "cfm_agent"
                     (else $CFM_USER_DATA_FILE)
  --state DIR        where answers and nonces are kept (else ROOT/var/lib/cfm-agent)
  --help             this text
  --version          the agent's version
)";

std::optional<std::string> envOr(const char *name) {
  const char *v = std::getenv(name);
  if (v && *v) return std::string(v);
  return std::nullopt;
}

int usageError(const std::string &message) {
  std::cerr << "cfm-agent: error: " << message << "\n(cfm-agent --help for the options)\n";
  return 2;
}

/// Blocks until SIGTERM or SIGINT (blocked in every thread) arrives.
void waitForTermination() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
}

} // namespace

int main(int argc, char **argv) {
  std::optional<std::string> instance, root, userData, state;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::optional<std::string> &out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (a == "--version") {
      std::cout << "cfm-agent " << cfm::agent::kAgentVersion << "\n";
      return 0;
    }
    bool ok = true;
    if (a == "--instance-id")
      ok = value(instance);
    else if (a == "--root")
      ok = value(root);
    else if (a == "--user-data")
      ok = value(userData);
    else if (a == "--state")
      ok = value(state);
    else
      return usageError("unknown option " + a);
    if (!ok) return usageError(a + " needs a value");
  }
  if (!instance) instance = envOr("CFM_INSTANCE_ID");
  if (!root) root = envOr("CFM_INSTANCE_ROOT");
  if (!userData) userData = envOr("CFM_USER_DATA_FILE");
  if (!instance) return usageError("no instance id (--instance-id or $CFM_INSTANCE_ID)");
  if (!root) return usageError("no VM root (--root or $CFM_INSTANCE_ROOT)");
  std::error_code ec;
  std::filesystem::path rootPath = std::filesystem::absolute(*root, ec);
  if (ec || !std::filesystem::is_directory(rootPath, ec))
    return usageError("the VM root " + *root + " is not a directory");
  if (!state) state = (rootPath / "var/lib/cfm-agent").string();

  // SIGTERM and SIGINT are taken by sigwait in one thread; every thread made after this inherits
  // the mask (commands get an empty one: exec.cpp).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Orphans of a command stay the agent's children, so that its process group can be awaited.
  prctl(PR_SET_CHILD_SUBREAPER, 1);

  // No user data, or user data meant for something else (a cloud-init script): the instance has
  // no agent configuration, and the agent idles as an image without an agent would. Only a
  // `cfm_agent` member that is malformed, or a file that cannot be read, is an error.
  std::optional<cfm::net::AgentUserData> config;
  std::string idleReason = "no user data (--user-data or $CFM_USER_DATA_FILE)";
  std::error_code existsErr;
  if (userData && !std::filesystem::exists(*userData, existsErr)) {
    idleReason = "no user data: " + *userData + " does not exist";
  } else if (userData) {
    auto text = cfm::base::readRegularFile(*userData, 1 << 20);
    if (!text) {
      std::cerr << "cfm-agent: error: " << text.error().message << "\n";
      return 1;
    }
    auto decoded = cfm::net::decodeAgentUserData(*text);
    if (!decoded && decoded.error().kind != cfm::ErrorKind::Syntax) {
      std::cerr << "cfm-agent: error: the user data " << *userData << ": " << decoded.error().message << "\n";
      return 1;
    }
    if (decoded) config = *decoded;
    idleReason = "the user data " + *userData + (decoded ? " has no `cfm_agent` member" : " is not JSON");
  }
  if (!config) {
    cfm::agent::logLine(idleReason + ": no agent configuration, idle until SIGTERM");
    waitForTermination();
    cfm::agent::logLine("stopped");
    return 0;
  }

  cfm::agent::Config c{*instance, rootPath.string(), *state, *config};
  auto daemon = cfm::agent::Daemon::create(c);
  if (!daemon) {
    std::cerr << "cfm-agent: error: " << daemon.error().message << "\n";
    return 1;
  }
  cfm::agent::Daemon *d = daemon->get();
  std::thread([d] {
    waitForTermination();
    d->stop();
  }).detach();
  auto r = d->run();
  if (!r) {
    std::cerr << "cfm-agent: error: " << r.error().message << "\n";
    std::_Exit(1);
  }
  cfm::agent::logLine("stopped");
  // Workers of requests still running are abandoned, not joined: they are answered "may have
  // run" at the next start.
  std::_Exit(0);
}
