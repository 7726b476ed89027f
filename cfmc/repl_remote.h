// repl_remote.h — cfmc's side of a REPL session held by a manager's daemon (`cfmc repl --manager
// NAME`; cfmd/repl_api.h, cfmd/README.md "REPL sessions"): opens the session, sends each input,
// prints what it printed to stdout and stderr in order, cancels the running input on Ctrl-C and
// closes the session when the REPL ends.
#pragma once

#include "base/result.h"
#include "cfmc/context.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

namespace cfm::driver {

class RemoteRepl {
public:
  /// Opens a session on `t`'s daemon (an error names the manager and why).
  static Result<std::unique_ptr<RemoteRepl>> open(const DaemonTarget &t);
  ~RemoteRepl(); // closes the session
  RemoteRepl(const RemoteRepl &) = delete;
  RemoteRepl &operator=(const RemoteRepl &) = delete;

  /// Evaluates one input in the daemon and prints its output; false to leave (`:quit`, or the
  /// daemon could not be reached: failed() says why).
  bool handle(const std::string &input);
  const std::string &failed() const { return failed_; }
  /// The session's declarations and procedure header after the last input (for completion and
  /// `:doc`, answered here).
  const std::string &declarationsText() const { return declarations_; }
  const std::string &procedureHeader() const { return header_; }

private:
  RemoteRepl(DaemonTarget t, std::string id);
  DaemonTarget t_;
  std::string id_;
  std::string declarations_;
  std::string header_ = "procedure __repl() { if true { ";
  std::string failed_;
  bool closed_ = false;
};

} // namespace cfm::driver
