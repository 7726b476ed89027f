// repl_host.h — the REPL sessions cfmd holds (cfmd/README.md "REPL sessions"; API.md "Where
// procedures run": `cfmc repl --manager NAME` evaluates each input in that manager). Each
// session is a thread of its own (a large-stack one, for the front end) with its own scheduler,
// its own manager from the host (a store connection and a CloudManager, current on that thread
// only, as a run's), and a repl::Session (compiler/repl/repl_session.h) whose output goes into the
// reply of the input that printed it. Inputs run in the interpreter: jit::runForRepl generates
// code and runs in one call, and the daemon serializes code generation across its runs
// (runner.h compileMutex), so a long input would hold every run's compile; the front end's
// compile of each input takes that mutex. At most `maxSessions` are open; one idle (no input
// running) for `idleMs` is closed; a session whose client closes it, says `:quit` or whose
// daemon stops is closed (a running input cancelled first).
#pragma once

#include "cfmd/daemon/manager_host.h"
#include "cfmd/repl_api.h"

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace cfm::cfmd {

constexpr size_t kMaxReplSessions = 8;
constexpr int64_t kReplIdleMs = 30 * 60 * 1000; // 30 minutes without an input

class ReplHost : public ReplBackend {
public:
  ReplHost(ManagerHost &host, size_t maxSessions = kMaxReplSessions, int64_t idleMs = kReplIdleMs);
  ~ReplHost() override; // stop(0)
  ReplStatus open(std::string &id) override;
  ReplStatus eval(const std::string &id, const std::string &input, ReplReply &reply) override;
  ReplStatus cancel(const std::string &id) override;
  ReplStatus close(const std::string &id) override;
  /// Refuses new sessions, closes every open one (cancelling running inputs) and waits up to
  /// `waitMs` for their threads; false when some are still running then.
  bool stop(int64_t waitMs);

  struct Sess;

private:
  void sweep(); // the idle sweeper's thread
  void body(std::shared_ptr<Sess> s);
  void closeLocked(const std::shared_ptr<Sess> &s);

  ManagerHost &host_;
  size_t maxSessions_;
  int64_t idleMs_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, std::shared_ptr<Sess>> sessions_;
  uint64_t nextId_ = 1;
  size_t threads_ = 0; // session threads still running
  bool stopping_ = false;
  std::thread sweeper_;
};

} // namespace cfm::cfmd
