// procs_api.h — cfmd's routes for a system's procedure files (issue 15; runtime/fed/README.md
// "Configuration"): put, list, show and remove them in the manager's store, which shares them
// with the other managers as part of the system's configuration, and the files of a stored run.
//   GET    /procs?system=S           -> 200 {"system", "version", "procs": [{"name", "hash",
//                                             "size", "version"}, ...]}
//   GET    /procs?system=S&name=N    -> 200 {"name", "hash", "size", "version", "text"}
//   POST   /procs?system=S           {"files": {NAME: TEXT, ...}, "check": true|false}
//                                    -> 200 {"changed", "version", "procs": [{"name", "hash"}]};
//                                       422 {"error", "diagnostics"} when a file does not check
//   DELETE /procs?system=S&name=N    -> 200 {"removed": N, "version"}
// Errors are {"error": MESSAGE}: 400 (a bad name, a bad body), 404 (no such system or file),
// 413 (a file or a system's files over the store's limits), 500.
#pragma once

#include "base/result.h"
#include "cfmd/control_api.h"
#include "net/unix_http.h"
#include "runtime/store/store.h"

#include <memory>
#include <mutex>
#include <string>

namespace cfm::cfmd {

class ProcsApi {
public:
  /// Opens a store connection of its own (SQLite connections serve one thread at a time; this
  /// one is used under a mutex by the server's threads).
  static Result<std::unique_ptr<ProcsApi>> open(const std::string &storePath);
  /// Answers the /procs routes; false for any other path.
  bool handle(const net::UnixHttpRequest &req, net::HttpResponder &out);
  /// A stored run (`r.storedSystem`): fills `r.files` with the system's procedure files, keyed by
  /// their names, so that imports resolve among them; an error names an unknown system or file.
  Result<void> fillStored(RunRequest &r);

private:
  std::mutex mu_;
  std::unique_ptr<store::Store> store_;
};

} // namespace cfm::cfmd
