// serve.cpp — cfmd's serving loop (serve.h): control API, runner, signals, orderly stop.
#include "cfmd/daemon/serve.h"

#include "cfmd/control_api.h"
#include "cfmd/daemon/procs_api.h"
#include "cfmd/daemon/repl_host.h"
#include "cfmd/daemon/run_journal.h"
#include "cfmd/daemon/runner.h"
#include "cfmd/run_table.h"
#include "net/unix_http.h"
#include "runtime/cloud/config.h"

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <pthread.h>

namespace cfm::cfmd {

namespace {
/// How long a stopping daemon waits for cancelled runs to end before it exits anyway.
constexpr int64_t kStopWaitMs = 10000;
} // namespace

int serve(const std::string &socket, ManagerHost &host) {
  const std::string &managerName = host.config().managerName;
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  RunTable runs;
  // The runs are kept in the store: those of the previous process come back first.
  auto journal = StoreRunJournal::open(host.config().storePath);
  if (!journal) {
    std::cerr << "cfmd: error: cannot open the store for the runs: " << journal.error().describe() << '\n';
    return 1;
  }
  if (auto r = (*journal)->restore(runs); !r)
    std::cerr << "cfmd: cannot read the earlier runs: " << r.error().describe() << std::endl;
  runs.setJournal(journal->get());
  Runner runner(runs, host);
  // A system's procedure files (procs_api.h) and the runs of stored ones.
  auto procs = ProcsApi::open(host.config().storePath);
  if (!procs) {
    std::cerr << "cfmd: error: cannot open the store for the procedure files: " << procs.error().describe()
              << '\n';
    return 1;
  }
  auto start = [&runner, &procs](RunRequest r) -> Result<std::string> {
    if (!r.storedSystem.empty()) CFM_CHECK((*procs)->fillStored(r));
    return runner.start(std::move(r));
  };
  ControlApi api(runs, start);
  api.setExtraRoutes([&procs](const net::UnixHttpRequest &req, net::HttpResponder &out) {
    return (*procs)->handle(req, out);
  });
  ReplHost repl(host); // `cfmc repl --manager` (repl_host.h)
  api.setRepl(&repl);
  auto server = net::UnixHttpServer::listen(
      socket, [&api](const net::UnixHttpRequest &req, net::HttpResponder &out) { api.handle(req, out); });
  if (!server) {
    std::cerr << "cfmd: error: cannot serve " << socket << ": " << server.error().message << '\n';
    return 1;
  }
  std::cerr << "cfmd: manager " << managerName << " listening on " << socket << std::endl;
  // The configuration's standing runs, read from this machine's disk, in order.
  for (const rt::cloud::StandingRun &s : host.config().standing) {
    RunRequest r;
    r.main = s.file;
    r.fromDisk = s.system.empty();
    r.storedSystem = s.system; // a stored procedure file of that system, as the store has it now
    r.proc = s.proc;
    r.engine = s.engine;
    r.args = s.args;
    auto id = start(std::move(r));
    if (id)
      std::cerr << "cfmd: standing run " << *id << ": " << s.proc << " of " << s.file
                << (s.system.empty() ? "" : " (stored, system " + s.system + ")") << std::endl;
    else
      std::cerr << "cfmd: error: cannot start the standing run " << s.file << ": " << id.error().message
                << std::endl;
  }

  int sig = 0;
  while (sigwait(&stopSignals, &sig) != 0) {
  }
  std::cerr << "cfmd: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << ": stopping" << std::endl;
  bool ended = runner.stop(kStopWaitMs);
  ended = repl.stop(kStopWaitMs) && ended;
  runs.close(); // followers wake and see the end
  (*server)->stop();
  if (!ended) {
    // A run that never reaches a suspension point cannot be cancelled: leave without waiting.
    std::cerr << "cfmd: runs still running after " << kStopWaitMs / 1000 << "s; exiting" << std::endl;
    std::_Exit(0);
  }
  return 0;
}

} // namespace cfm::cfmd
