// runner.h — how cfmd runs procedures (issue 15; API.md "Where procedures run"): each POST /runs
// is compiled from the files the client sent and run on a thread of its own, with the engine it
// asked for, its stdout and stderr feeding the run table as lines (cfmd/line_sink.h), and a
// cancel hook that cancels the run's first task on its scheduler (sched::RunCanceller).
//
// Concurrency: runs execute at the same time, each on its own scheduler (the scheduler, the
// pending error and the task locals are per thread). Compiling (front end and JIT code
// generation) is serialized by one mutex: ANTLR's shared caches and the JIT's object cache are
// not proven safe across threads. Each run has its own manager (manager_host.h), current on its
// thread (model::setThreadManager): runs use the procedure API at the same time.
#pragma once

#include "base/result.h"
#include "cfmd/control_api.h"
#include "cfmd/daemon/manager_host.h"
#include "cfmd/run_table.h"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

namespace cfm::cfmd {

/// The mutex that serializes compiling (front end, JIT code generation) across the daemon's runs
/// and REPL sessions; `procs put` checks files under it too.
std::mutex &compileMutex();

class Runner {
public:
  /// `host` gives each run its own manager (manager_host.h).
  Runner(RunTable &runs, ManagerHost &host) : runs_(runs), host_(host) {}
  /// ControlApi's starter: creates the run, starts its thread, answers its id; an error once
  /// the daemon is stopping.
  Result<std::string> start(RunRequest r);
  /// Refuses new runs, cancels the running ones and waits up to `waitMs` for their threads to
  /// end; false when some are still running then.
  bool stop(int64_t waitMs);

private:
  RunTable &runs_;
  ManagerHost &host_;
  std::mutex mu_;
  std::condition_variable ended_;
  size_t active_ = 0;
  bool stopping_ = false;
};

} // namespace cfm::cfmd
