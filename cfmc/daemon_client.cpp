// daemon_client.cpp — cfmc's side of cfmd's control API (daemon_client.h): sending a program's
// files, following a run's output as JSON lines, listing, following and cancelling runs.
#include "cfmc/daemon_client.h"

#include "base/files.h"
#include "cfmd/control_api.h"
#include "frontend/frontend.h"
#include "net/unix_http.h"

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <pthread.h>
#include <thread>
#include <unistd.h>

namespace cfm::driver {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

/// `cfmc: error: ...` and status 1.
int fail(const std::string &msg) {
  std::cerr << "cfmc: error: " << msg << '\n';
  return 1;
}

std::string unreachable(const DaemonTarget &t, const std::string &why) {
  return "cannot reach manager " + t.name + " at " + t.socket + ": " + why;
}

/// One request to the daemon; an Io error says the daemon cannot be reached.
Result<net::UnixHttpReply> call(const DaemonTarget &t, std::string_view method, const std::string &target,
                                std::string_view body = {},
                                const std::function<bool(std::string_view)> &onBody = {}) {
  auto r = net::unixHttpRequest(t.socket, method, target, body, "application/json", onBody);
  if (!r) return Error{ErrorKind::Io, unreachable(t, r.error().message)};
  return r;
}

/// The `error` of a daemon's error answer, or its body.
std::string errorOf(const net::UnixHttpReply &r) {
  Json j = Json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  return "status " + std::to_string(r.status) + ": " + r.body;
}

/// Follows run `id`'s output (GET /runs/ID/output), writing its lines to stdout and stderr;
/// the run's exit status at its end, or -1 when the stream ended first (`ended` false).
Result<int> follow(const DaemonTarget &t, const std::string &id, bool wait, bool &ended) {
  std::string pending;
  int exitCode = -1;
  ended = false;
  auto onLine = [&](const std::string &line) {
    Json j = Json::parse(line, nullptr, false);
    if (!j.is_object()) return;
    if (j.value("end", false)) {
      ended = true;
      exitCode = j.value("exit", 1);
      return;
    }
    std::string text = j.value("text", "");
    FILE *f = j.value("stream", "out") == "err" ? stderr : stdout;
    fwrite(text.data(), 1, text.size(), f);
    fputc('\n', f);
    fflush(f);
  };
  auto r =
      call(t, "GET", "/runs/" + id + "/output" + (wait ? "?follow=1" : ""), {}, [&](std::string_view piece) {
        pending.append(piece);
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
          onLine(pending.substr(0, nl));
          pending.erase(0, nl + 1);
        }
        return true;
      });
  if (!r) return r.takeError();
  if (r->status != 200) {
    r->body = pending; // an error answer is one JSON object without a newline
    return Error{ErrorKind::Usage, errorOf(*r)};
  }
  return exitCode;
}

/// A relative path without `..` after normalization: usable as a key of POST /runs.
bool beneath(const fs::path &p) {
  std::string s = p.string();
  return !s.empty() && p.is_relative() && s != "." && s.rfind("..", 0) != 0;
}

/// The program's files as the daemon wants them: every file the front end reads for `file`
/// (the root and its imports). Keyed by the paths the front end reads them by (normalized) when
/// all are relative and beneath the working folder, so that the daemon's diagnostics and traces
/// name the files exactly as a local run does; else by their paths relative to the root file's
/// folder (a file outside it is refused).
/// The standard library modules it imports (the files read beneath the stdlib folder, the root
/// file excepted) go to `req.stdFiles` instead, keyed by their path in that folder, and the
/// folder to `req.stdDir`: the daemon compiles against the stdlib this client checked with.
Result<std::map<std::string, std::string>> programFiles(const std::string &file, cfmd::RunRequest &req) {
  std::string &mainKey = req.main;
  std::map<std::string, std::string> asRead;
  std::optional<Error> readError;
  const std::string stdDir = frontend::stdlibDir();
  const std::string rootRead = fs::path(file).lexically_normal().string();
  frontend::runWithLargeStack([&] {
    auto c = frontend::compileFile(
        file,
        [&](const std::string &path) -> Result<std::string> {
          auto text = base::readRegularFile(path, base::kMaxSourceBytes);
          if (!text) return text;
          std::string normal = fs::path(path).lexically_normal().string();
          if (normal != rootRead && normal.rfind(stdDir + "/", 0) == 0) {
            req.stdFiles[normal.substr(stdDir.size() + 1)] = *text;
          } else {
            asRead[path] = *text;
          }
          return text;
        },
        stdDir);
    if (!c) readError = c.takeError();
  });
  if (readError) return std::move(*readError);
  req.stdDir = stdDir; // also without modules: a missing one is then reported as a local run does
  std::map<std::string, std::string> files;
  bool typed = true;
  for (auto &[path, text] : asRead) {
    fs::path key = fs::path(path).lexically_normal();
    if (!beneath(key)) typed = false;
    files[key.string()] = text;
  }
  if (typed) {
    mainKey = fs::path(file).lexically_normal().string();
    return files;
  }
  files.clear();
  fs::path root = fs::path(file).parent_path();
  for (auto &[path, text] : asRead) {
    fs::path key =
        (root.empty() ? fs::path(path) : fs::path(path).lexically_relative(root)).lexically_normal();
    if (!beneath(key))
      return Error{ErrorKind::Usage, "`" + path + "` is outside the folder of `" + file +
                                         "`: a manager gets the files beneath it only"};
    files[key.string()] = text;
  }
  mainKey = fs::path(file).filename().string();
  return files;
}

/// Options common to runs/logs/cancel: --manager, --config, --context; false on a usage error.
bool managerOption(const std::vector<std::string> &args, size_t &i, ManagerChoice &choice, bool &taken,
                   std::string &error) {
  taken = false;
  const std::string &a = args[i];
  for (auto [name, into] : {std::pair{"manager", &choice.manager}, std::pair{"config", &choice.config},
                            std::pair{"context", &choice.context}}) {
    std::string flag = std::string("--") + name;
    if (a == flag) {
      if (i + 1 >= args.size() || args[i + 1].empty()) return error = "`" + flag + "` needs a value", false;
      *into = args[++i];
    } else if (a.rfind(flag + "=", 0) == 0) {
      *into = a.substr(flag.size() + 1);
    } else {
      continue;
    }
    taken = true;
    return true;
  }
  return true;
}

int usage(const std::string &msg, const char *help) {
  std::cerr << "cfmc: " << msg << "\n\n" << help;
  return 2;
}

const char *const kRunsHelp = R"(usage: cfmc runs [--manager NAME | --config FILE] [--context FILE]

Lists the runs of manager NAME's daemon (cfmd): id, state, exit status, procedure and file, one
run a line. Exit status: 0; 1 when the daemon cannot be reached; 2 on bad usage.
)";

const char *const kLogsHelp =
    R"(usage: cfmc logs RUN [--follow] [--manager NAME | --config FILE] [--context FILE]

Prints the output of run RUN of manager NAME's daemon (cfmd): its stdout lines on stdout, its
stderr lines on stderr. With --follow, goes on until the run ends. Exit status: 0; 1 when the
daemon cannot be reached or has no run RUN; 2 on bad usage.
)";

const char *const kCancelHelp = R"(usage: cfmc cancel RUN [--manager NAME | --config FILE] [--context FILE]

Asks manager NAME's daemon (cfmd) to cancel run RUN: its tasks end with `task cancelled`.
Exit status: 0 when asked; 1 when the daemon cannot be reached, has no run RUN or the run has
ended; 2 on bad usage.
)";

/// Parses `[RUN] [--follow] manager options` for runs/logs/cancel; 0 when fine, else the
/// status to return (help printed: -1 → 0).
int parseCommon(const std::vector<std::string> &args, const char *help, bool wantsRun, bool allowFollow,
                ManagerChoice &choice, std::string &run, bool &followFlag) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << help;
      return -1;
    }
    bool taken = false;
    std::string error;
    if (!managerOption(args, i, choice, taken, error)) return usage(error, help);
    if (taken) continue;
    if (allowFollow && (a == "--follow" || a == "-f")) {
      followFlag = true;
      continue;
    }
    if (a.size() > 1 && a[0] == '-') return usage("unknown option `" + a + "`", help);
    if (!wantsRun || !run.empty()) return usage("unexpected argument `" + a + "`", help);
    run = a;
  }
  if (wantsRun && run.empty()) return usage("which run? (`cfmc runs` lists them)", help);
  if (!choice.config.empty() && !choice.manager.empty())
    return usage("give `--manager NAME` or `--config FILE`, not both", help);
  return 0;
}

/// A run id as a URL path segment: r-<n> and nothing that would change the path.
bool plausibleRunId(const std::string &id) {
  return !id.empty() && id.find_first_of("/?#% ") == std::string::npos;
}

} // namespace

bool daemonAnswers(const DaemonTarget &t) { return net::unixSocketAnswers(t.socket); }

int runOnDaemon(const DaemonTarget &t, const DaemonRun &r) {
  cfmd::RunRequest req;
  if (r.storedSystem.empty()) {
    auto files = programFiles(r.file, req);
    if (!files) return fail(files.error().describe());
    req.files = std::move(*files);
  } else {
    req.main = r.file;
    req.storedSystem = r.storedSystem;
  }
  req.proc = r.proc;
  req.args = r.args;
  req.engine = r.engine;

  // Ctrl-C: a thread of its own takes SIGINT (blocked here before it starts) and asks the
  // daemon to cancel the run; a second Ctrl-C leaves at once.
  sigset_t intr;
  sigemptyset(&intr);
  sigaddset(&intr, SIGINT);
  if (!r.detach) pthread_sigmask(SIG_BLOCK, &intr, nullptr);

  auto posted = call(t, "POST", "/runs", cfmd::runRequestJson(req));
  if (!posted) return fail(posted.error().message);
  if (posted->status != 201) return fail("manager " + t.name + ": " + errorOf(*posted));
  Json j = Json::parse(posted->body, nullptr, false);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string())
    return fail("manager " + t.name + " answered without a run id");
  std::string id = j["id"].get<std::string>();
  if (r.detach) {
    std::cout << id << '\n';
    return 0;
  }
  std::thread([t, id, intr] {
    int sig = 0;
    bool asked = false;
    for (;;) {
      if (sigwait(&intr, &sig) != 0) continue;
      if (asked) _exit(130);
      asked = true;
      (void)net::unixHttpRequest(t.socket, "POST", "/runs/" + id + "/cancel", "", "application/json");
    }
  }).detach();
  std::cout.flush();
  bool ended = false;
  auto status = follow(t, id, true, ended);
  if (!status) return fail(status.error().message);
  if (!ended) return fail("manager " + t.name + " stopped before run " + id + " ended");
  return *status;
}

int cmdRuns(const std::vector<std::string> &args) {
  ManagerChoice choice;
  std::string run;
  bool unused = false;
  if (int s = parseCommon(args, kRunsHelp, false, false, choice, run, unused)) return s < 0 ? 0 : s;
  auto t = daemonTarget(choice);
  if (!t) return fail(t.error().describe());
  auto r = call(*t, "GET", "/runs");
  if (!r) return fail(r.error().message);
  if (r->status != 200) return fail("manager " + t->name + ": " + errorOf(*r));
  Json j = Json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains("runs") || !j["runs"].is_array())
    return fail("manager " + t->name + " answered an unexpected list");
  for (const Json &run : j["runs"]) {
    std::string state = run.value("state", "?");
    std::cout << run.value("id", "?") << '\t' << state << '\t'
              << (state == "running" ? std::string("-") : std::to_string(run.value("exit", 0))) << '\t'
              << run.value("proc", "?") << '\t' << run.value("file", "?") << '\n';
  }
  return 0;
}

int cmdLogs(const std::vector<std::string> &args) {
  ManagerChoice choice;
  std::string run;
  bool followFlag = false;
  if (int s = parseCommon(args, kLogsHelp, true, true, choice, run, followFlag)) return s < 0 ? 0 : s;
  auto t = daemonTarget(choice);
  if (!t) return fail(t.error().describe());
  if (!plausibleRunId(run)) return fail("no run `" + run + "` in manager " + t->name);
  bool ended = false;
  auto status = follow(*t, run, followFlag, ended);
  if (!status) return fail(status.error().message);
  return 0;
}

int cmdCancel(const std::vector<std::string> &args) {
  ManagerChoice choice;
  std::string run;
  bool unused = false;
  if (int s = parseCommon(args, kCancelHelp, true, false, choice, run, unused)) return s < 0 ? 0 : s;
  auto t = daemonTarget(choice);
  if (!t) return fail(t.error().describe());
  if (!plausibleRunId(run)) return fail("no run `" + run + "` in manager " + t->name);
  auto r = call(*t, "POST", "/runs/" + run + "/cancel", "");
  if (!r) return fail(r.error().message);
  if (r->status != 202) return fail(errorOf(*r));
  return 0;
}

} // namespace cfm::driver
