// control_api.h — cfmd's control API (issue 15; API.md "Where procedures run"): the routes of
// HTTP/1.1 + JSON served on the daemon's Unix socket (net/unix_http.h), over the run table.
//   POST /runs                  {"main": PATH, "files": {PATH: TEXT, ...}, "proc": P,
//                                "args": {NAME: VALUE, ...}, "engine": "jit"|"interp",
//                                "std": {"dir": DIR, "files": {NAME: TEXT, ...}}}  (std optional)
//                               -> 201 {"id": "r-1"}
//   GET  /runs                  -> 200 {"runs": [RUN, ...]}
//   GET  /runs/ID               -> 200 RUN
//   GET  /runs/ID/output[?follow=1][&from=N]
//                               -> 200, chunked, one JSON object a line: {"stream": "out"|"err",
//                                  "text": T}, and at the end of an ended run {"end": true,
//                                  "state": S, "exit": N}
//   POST /runs/ID/cancel        -> 202 {"id": ID}; 409 when the run has ended, 501 when it
//                                  cannot be cancelled
//   POST /runs                  {"main": NAME, "stored": SYSTEM, ...}: runs system SYSTEM's stored
//                               procedure file NAME (its imports among the system's stored files;
//                               `files` empty or absent)
//   /procs?system=S[&name=N]    a system's procedure files (cfmd/daemon/procs_api.h; routes a
//                               daemon adds with setExtraRoutes)
// The REPL sessions' routes (/repl...) are in repl_api.h.
// RUN is {"id", "file", "proc", "state", "exit", "started_ms", "ended_ms"}. Errors are
// {"error": MESSAGE} with 400, 404, 405, 409, 500 or 501.
#pragma once

#include "base/result.h"
#include "cfmd/repl_api.h"
#include "cfmd/run_table.h"
#include "net/unix_http.h"

#include <functional>
#include <map>
#include <string>

namespace cfm::cfmd {

constexpr size_t kMaxRunFiles = 1000; // a program's files in one POST /runs

/// A run as a client asked for it: every file the program needs, keyed by its path relative to
/// the root file's folder (the paths its imports spell), and what to call.
struct RunRequest {
  std::string main;
  std::map<std::string, std::string> files;
  std::string proc = "main";
  std::map<std::string, std::string> args;
  std::string engine = "jit";
  /// The standard library modules the program imports (`import "std/NAME.cfp"`), as the client
  /// read them: keyed by their path relative to the client's stdlib folder `stdDir` (absolute),
  /// which names them in diagnostics and traces as in a local run. `stdDir` empty (a client
  /// that sends no `std`): the daemon resolves `std/` against its own stdlib folder.
  std::string stdDir;
  std::map<std::string, std::string> stdFiles;
  /// A stored run: `main` is procedure file `main` of system `storedSystem` in the manager's
  /// store, and the daemon fills `files` with the system's stored files (cfmd/daemon/procs_api.h).
  std::string storedSystem;
  /// Read the program's files from this machine's disk instead of `files` (a standing run of the
  /// configuration; never set from a client's request).
  bool fromDisk = false;
};

/// Reads and checks a POST /runs body: Syntax or Usage errors name what is wrong (paths must be
/// relative, without `..`, and `main` one of them).
Result<RunRequest> parseRunRequest(std::string_view body);
/// The body of a POST /runs, the client's side of parseRunRequest.
std::string runRequestJson(const RunRequest &r);
/// A run's JSON object (RUN above).
std::string runJson(const RunInfo &r);

class ControlApi {
public:
  /// Starts a run: creates it in the table, starts it on a thread of its own and answers its
  /// id, or an error (400) when it cannot start.
  using Starter = std::function<Result<std::string>(RunRequest)>;
  ControlApi(RunTable &runs, Starter start) : runs_(runs), start_(std::move(start)) {}
  void handle(const net::UnixHttpRequest &req, net::HttpResponder &out);
  /// Routes of the daemon's own (they need its store): asked first; true when one answered.
  using ExtraRoutes = std::function<bool(const net::UnixHttpRequest &, net::HttpResponder &)>;
  void setExtraRoutes(ExtraRoutes extra) { extra_ = std::move(extra); }
  /// The REPL sessions (`/repl`, `/repl/...`; repl_api.h); without them those paths are 404.
  void setRepl(ReplBackend *repl) { repl_ = repl; }

private:
  void output(const std::string &id, const net::UnixHttpRequest &req, net::HttpResponder &out);
  RunTable &runs_;
  Starter start_;
  ExtraRoutes extra_;
  ReplBackend *repl_ = nullptr;
};

} // namespace cfm::cfmd
