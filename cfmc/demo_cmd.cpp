// demo_cmd.cpp — `cfmc demo` (demo_cmd.h). Each step runs this same program as a child (`cfmc
// local up`, `ovf import`, `run --manager ...`, `local kill`, `local down`) in a process group of
// its own, its output in DIR/demo-logs/STEP.log (shown when the step fails); the load generator
// (demo_load.h) runs in threads here. SIGINT and SIGTERM stop the step that runs and go
// straight to `cfmc local down`, which always runs last.
#include "cfmc/demo_cmd.h"

#include "cfmc/demo_load.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <optional>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace cfm::driver {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const char *const kHelp = R"(usage: cfmc demo [--json] [--dir DIR] [--keep] [--sample DIR]

CFM's main job, end to end on this machine (docs/demo.md):
  1. `cfmc local up`: two clouds, a and b (6 instances each: web3 fills cloud a), a broker and a
     manager per cloud
  2. the web3 sample (samples/web3) imported into manager a, replicated to b
  3. the standing `peer` procedure on manager b
  4. `start` on a: PostgreSQL primary, app servers (Python), nginx web servers and load
     balancer in cloud a, a synchronous PostgreSQL standby in cloud b
  5. a load generator writes rows through the load balancer and reads them back
  6. `scale_out` by 2 on a: cloud a is full, so the web servers start in cloud b and a's load
     balancer includes them (the requests they serve are counted)
  7. `cfmc local kill a`: cloud a, its manager and its VMs die at once
  8. manager b sees a lost and recovers the system in cloud b (promotes the standby)
  9. every acknowledged write is read back from the recovered system
 10. `cfmc local down`
It prints a line per step and live request counts, then a summary with the RTO (from the kill to
the first good answer of the recovered system), the RPO (acknowledged writes missing after the
recovery) and the scale-out time (from asking full cloud a to the first request served in b).

options:
  --json        one JSON object a line instead (events: step, load, summary)
  --dir DIR     the federation's folder (default: a new temporary folder, removed at the end)
  --keep        keep the folder (its logs: DIR/demo-logs, DIR/<cloud>/cfmd.log)
  --sample DIR  the web3 sample's folder (default: found beside cfmc: ../share/cfm/samples/web3
                or the source tree's samples/web3)
  -h, --help    this help

Needs nginx, PostgreSQL and python3-psycopg2 (scripts/bootstrap.sh installs them). Exit status:
0 when the system recovered with RPO 0, 1 otherwise, 2 on bad usage. Nothing is left running,
Ctrl-C included.
)";

volatile std::sig_atomic_t gInterrupted = 0;
void onSignal(int) { gInterrupted = 1; }

std::string selfExe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, size_t(n)) : "cfmc";
}

int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string fixed(double v, int digits = 1) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << v;
  return o.str();
}

struct StepResult {
  std::string name, detail;
  bool ok = false;
  double seconds = 0;
};

class Demo {
public:
  Demo(bool json, std::string dir, std::string sample)
      : json_(json), dir_(std::move(dir)), sample_(std::move(sample)) {
    tty_ = !json_ && ::isatty(1);
    t0_ = Clock::now();
  }

  int run();

private:
  // ---- output ----
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - t0_).count(); }
  void clearLine() {
    if (tty_ && liveShown_) {
      std::cout << "\r\033[K";
      liveShown_ = false;
    }
  }
  void say(const std::string &line) {
    clearLine();
    std::cout << line << '\n' << std::flush;
  }
  void emit(nlohmann::json j) {
    j["t"] = std::round(elapsed() * 1000) / 1000;
    std::cout << j.dump() << '\n' << std::flush;
  }
  void stepStart(const std::string &name, const std::string &what) {
    if (json_)
      emit({{"event", "step"}, {"step", name}, {"status", "started"}, {"what", what}});
    else
      say("[" + fixed(elapsed()) + "s] " + what + " ...");
  }
  void stepEnd(const std::string &name, bool ok, double seconds, const std::string &detail) {
    steps_.push_back({name, detail, ok, seconds});
    if (json_)
      emit({{"event", "step"},
            {"step", name},
            {"status", ok ? "ok" : "failed"},
            {"seconds", seconds},
            {"detail", detail}});
    else
      say("[" + fixed(elapsed()) + "s]   " + std::string(ok ? "ok" : "FAILED") + " (" + fixed(seconds) +
          " s)" + (detail.empty() ? "" : ": " + detail));
  }
  void live() {
    if (!load_) return;
    LoadCounts c = load_->counts();
    if (json_) {
      emit({{"event", "load"},
            {"ok", c.ok},
            {"errors", c.errors},
            {"acked_writes", c.acked},
            {"by_cloud", c.byCloud}});
      return;
    }
    std::string line = "  load: " + std::to_string(c.ok) + " ok, " + std::to_string(c.errors) + " errors, " +
                       std::to_string(c.acked) + " writes acknowledged |";
    for (const auto &[cloud, n] : c.byCloud) line += " cloud " + cloud + ": " + std::to_string(n);
    if (tty_) {
      std::cout << "\r\033[K" << line << std::flush;
      liveShown_ = true;
    } else {
      std::cout << line << '\n' << std::flush;
    }
  }
  /// Waits `ms`, showing the live counts (every second; every 5 s when not on a terminal).
  void pause(int ms) {
    auto until = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < until && !gInterrupted) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      tickLive();
    }
  }
  void tickLive() {
    int every = tty_ || json_ ? 1000 : 5000;
    if (Clock::now() - lastLive_ >= std::chrono::milliseconds(every)) {
      lastLive_ = Clock::now();
      live();
    }
  }

  // ---- children ----
  /// Runs `cfmc ARGS` with its output in DIR/demo-logs/LOG.log; the exit status (-1 when it
  /// could not start, 130 when interrupted). Shows the live counts while it waits.
  int child(const std::vector<std::string> &args, const std::string &log, std::string *out = nullptr) {
    std::string path = logs_ + "/" + log + ".log";
    std::vector<std::string> argv{exe_};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char *> cargv;
    for (auto &a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setpgroup(&attr, 0); // Ctrl-C reaches this program only; it stops the child
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, exe_.c_str(), &fa, &attr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return -1;
    int status = 0;
    bool signalled = false;
    for (;;) {
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) break;
      if (gInterrupted && !signalled && !noInterrupt_) {
        ::kill(-pid, SIGTERM);
        signalled = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      tickLive();
    }
    if (out) *out = readFile(path);
    if (signalled) return 130;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }
  static std::string readFile(const std::string &path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  /// The last lines of a step's log and of the managers' logs, for a failure.
  void showFailure(const std::string &log) {
    auto tail = [&](const std::string &path) {
      std::string text = readFile(path);
      std::vector<std::string> lines;
      std::istringstream in(text);
      for (std::string l; std::getline(in, l);) lines.push_back(l);
      size_t from = lines.size() > 15 ? lines.size() - 15 : 0;
      std::string out;
      for (size_t i = from; i < lines.size(); ++i) out += "    " + lines[i] + "\n";
      return out;
    };
    std::string text = "  --- " + logs_ + "/" + log + ".log\n" + tail(logs_ + "/" + log + ".log");
    for (const char *c : {"a", "b"})
      if (fs::exists(dir_ + "/" + c + "/cfmd.log"))
        text += "  --- " + dir_ + "/" + c + "/cfmd.log\n" + tail(dir_ + "/" + c + "/cfmd.log");
    if (json_)
      emit({{"event", "log"}, {"step", log}, {"text", text}});
    else {
      clearLine();
      std::cerr << text << std::flush;
    }
  }
  /// Runs one step as a child; false (with the logs shown) when it failed.
  bool step(const std::string &name, const std::string &what, const std::vector<std::string> &args,
            std::string *out = nullptr,
            const std::function<std::string(const std::string &)> &detail = nullptr) {
    stepStart(name, what);
    auto t = Clock::now();
    std::string text;
    int rc = child(args, name, &text);
    double s = std::chrono::duration<double>(Clock::now() - t).count();
    if (out) *out = text;
    bool ok = rc == 0;
    stepEnd(name, ok, s,
            ok          ? (detail ? detail(text) : "")
            : rc == 130 ? "interrupted"
                        : "exit status " + std::to_string(rc));
    if (!ok && rc != 130) showFailure(name);
    return ok;
  }
  /// The url of the latest `endpoint` event from cloud `cloud` that manager `manager` holds.
  std::string endpoint(const std::string &manager, const std::string &cloud) {
    std::string text;
    if (child({"events", "web3", "--manager", manager, "--json", "--name", "endpoint"}, "events-" + manager,
              &text) != 0)
      return "";
    fs::remove(logs_ + "/events-" + manager + ".log");
    std::string url;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
      auto j = nlohmann::json::parse(l, nullptr, false);
      if (j.is_object() && j.contains("data") && j["data"].is_object() &&
          j["data"].value("cloud", "") == cloud)
        url = j["data"].value("url", "");
    }
    return url;
  }

  bool json_, tty_ = false, liveShown_ = false, noInterrupt_ = false;
  std::string dir_, sample_, logs_, exe_ = selfExe();
  Clock::time_point t0_, lastLive_;
  std::unique_ptr<LoadGenerator> load_;
  std::vector<StepResult> steps_;
};

/// What a procedure printed, on one line (its lines joined with "; ").
std::string oneLine(const std::string &text, size_t maxLines = 6) {
  std::istringstream in(text);
  std::string out;
  size_t n = 0;
  for (std::string l; std::getline(in, l);) {
    if (l.empty() || n++ >= maxLines) continue;
    out += (out.empty() ? "" : "; ") + l;
  }
  return out;
}

int Demo::run() {
  logs_ = dir_ + "/demo-logs";
  std::error_code ec;
  fs::create_directories(logs_, ec);
  if (ec) {
    std::cerr << "cfmc: error: cannot make " << logs_ << ": " << ec.message() << '\n';
    return 1;
  }
  std::string cfp = sample_ + "/web3.cfp", ovf = sample_ + "/web3.ovf";
  double rto = -1, scaleOut = -1;
  int64_t missing = -1, checked = 0;
  bool recovered = false;
  std::string ctx = dir_ + "/context.json";
  ::setenv("CFM_CONTEXT", ctx.c_str(), 1);

  bool ok =
      step("up", "starting the local federation: clouds a and b, broker, managers",
           {"local", "up", "--clouds", "2", "--dir", dir_, "--instances", "6", "--boot-delay", "100ms"});
  if (ok) ok = step("import", "importing web3 into manager a", {"ovf", "import", ovf, "--manager", "a"});
  if (ok) {
    stepStart("replicate", "waiting for web3's configuration on manager b");
    auto t = Clock::now();
    bool seen = false;
    while (!gInterrupted && Clock::now() - t < std::chrono::seconds(30)) {
      if (child({"ovf", "show", "web3", "--manager", "b"}, "replicate") == 0) {
        seen = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    stepEnd("replicate", seen, std::chrono::duration<double>(Clock::now() - t).count(),
            seen ? "" : "not within 30 s");
    ok = seen;
    if (!ok && !gInterrupted) showFailure("replicate");
  }
  if (ok)
    ok = step("peer", "starting the standing peer procedure on manager b",
              {"run", "--manager", "b", "--detach", cfp, "--proc", "peer", "--arg", "sys=web3"}, nullptr,
              [](const std::string &o) { return "run " + oneLine(o, 1); });
  if (ok)
    ok = step("start", "starting web3 in cloud a (standby in cloud b)",
              {"run", "--manager", "a", cfp, "--proc", "start", "--arg", "sys=web3"}, nullptr,
              [](const std::string &o) { return oneLine(o); });
  std::string urlA;
  if (ok) {
    urlA = endpoint("a", "a");
    ok = !urlA.empty();
    if (!ok) say("no endpoint event from manager a");
  }
  if (ok) {
    stepStart("load", "sending requests through the load balancer at " + urlA);
    load_ = std::make_unique<LoadGenerator>(2);
    load_->setEndpoint(urlA);
    pause(2000);
    LoadCounts c = load_->counts();
    ok = c.ok > 0;
    stepEnd("load", ok, 2.0, std::to_string(c.ok) + " good answers, " + std::to_string(c.errors) + " errors");
  }
  if (ok) {
    int64_t asked = wallMs();
    ok = step("scale_out", "scaling the web servers out by 2 (cloud a is full: into cloud b)",
              {"run", "--manager", "a", cfp, "--proc", "scale_out", "--arg", "sys=web3", "--arg", "count=2"},
              nullptr, [](const std::string &o) { return oneLine(o); });
    if (ok) {
      stepStart("served_in_b", "waiting for a request served by a web server in cloud b");
      auto t = Clock::now();
      int64_t first = 0;
      while (!gInterrupted && Clock::now() - t < std::chrono::seconds(30) &&
             !(first = load_->firstAnswerFrom("b", asked)))
        pause(20);
      ok = first != 0;
      if (ok) scaleOut = double(first - asked) / 1000.0;
      stepEnd("served_in_b", ok, std::chrono::duration<double>(Clock::now() - t).count(),
              ok ? "scale-out time " + fixed(scaleOut, 2) + " s" : "none within 30 s");
      if (ok) pause(2000);
    }
  }
  LoadCounts atKill, atRecovery;
  if (ok && !gInterrupted) {
    atKill = load_->counts();
    int64_t killedAt = wallMs();
    ok = step("kill", "the disaster: killing cloud a, its manager and its VMs", {"local", "kill", "a"});
    if (ok) {
      stepStart("recover", "manager b recovers web3 in cloud b");
      auto t = Clock::now();
      std::string urlB;
      int64_t first = 0;
      while (!gInterrupted && Clock::now() - t < std::chrono::seconds(120)) {
        if (urlB.empty()) {
          urlB = endpoint("b", "b");
          if (!urlB.empty()) load_->setEndpoint(urlB);
        }
        if (!urlB.empty() && (first = load_->firstAnswerFrom("b", killedAt, urlB))) {
          // a good answer through b's own load balancer (writes go to the promoted database)
          break;
        }
        pause(50);
      }
      recovered = first != 0 && !urlB.empty();
      atRecovery = load_->counts();
      if (recovered) rto = double(first - killedAt) / 1000.0;
      stepEnd("recover", recovered, std::chrono::duration<double>(Clock::now() - t).count(),
              recovered ? "RTO " + fixed(rto, 2) + " s, endpoint " + urlB : "no recovery within 120 s");
      if (!recovered && !gInterrupted) showFailure("recover");
      if (recovered) {
        pause(1500);
        load_->stop();
        stepStart("verify", "reading every acknowledged write back from the recovered system");
        auto tv = Clock::now();
        missing = load_->verify(urlB, checked);
        stepEnd("verify", missing == 0, std::chrono::duration<double>(Clock::now() - tv).count(),
                "RPO " + std::to_string(missing) + " of " + std::to_string(checked) +
                    " acknowledged writes missing");
      }
    }
  }
  if (load_) load_->stop();
  bool interrupted = gInterrupted;
  noInterrupt_ = true; // down runs to the end, even after Ctrl-C
  bool down = step("down", "stopping everything (cfmc local down)", {"local", "down", "--dir", dir_});

  // ---- summary ----
  LoadCounts c = load_ ? load_->counts() : LoadCounts{};
  bool success = recovered && missing == 0 && down && !interrupted;
  if (json_) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto &s : steps_) steps.push_back({{"step", s.name}, {"ok", s.ok}, {"seconds", s.seconds}});
    nlohmann::json j{{"event", "summary"},
                     {"ok", success},
                     {"steps", steps},
                     {"requests_ok", c.ok},
                     {"requests_failed", c.errors},
                     {"by_cloud", c.byCloud},
                     {"acked_writes", c.acked},
                     {"interrupted", interrupted}};
    if (recovered) {
      j["failed_before_disaster"] = atKill.errors;
      j["failed_during_recovery"] = atRecovery.errors - atKill.errors;
      j["failed_after_recovery"] = c.errors - atRecovery.errors;
    }
    j["rto_seconds"] = rto >= 0 ? nlohmann::json(rto) : nlohmann::json(nullptr);
    j["rpo_writes"] = missing >= 0 ? nlohmann::json(missing) : nlohmann::json(nullptr);
    j["scale_out_seconds"] = scaleOut >= 0 ? nlohmann::json(scaleOut) : nlohmann::json(nullptr);
    emit(j);
  } else {
    clearLine();
    std::cout << "\nsummary\n";
    for (const auto &s : steps_)
      std::cout << "  " << std::left << std::setw(12) << s.name << std::setw(8) << (s.ok ? "ok" : "FAILED")
                << std::right << std::setw(7) << fixed(s.seconds) << " s\n";
    std::cout << "  requests     " << c.ok << " ok, " << c.errors << " failed (";
    bool first = true;
    for (const auto &[cloud, n] : c.byCloud) {
      std::cout << (first ? "" : ", ") << "cloud " << cloud << ": " << n;
      first = false;
    }
    std::cout << ")\n";
    if (recovered)
      std::cout << "               failed: " << atKill.errors << " before the disaster, "
                << atRecovery.errors - atKill.errors << " while cloud a was down and b recovered, "
                << c.errors - atRecovery.errors << " after\n";
    std::cout << "  scale-out    "
              << (scaleOut >= 0 ? fixed(scaleOut, 2) + " s (cloud a full -> first request served in b)" : "-")
              << "\n";
    std::cout << "  RTO          " << (rto >= 0 ? fixed(rto, 2) + " s (kill -> first good answer in b)" : "-")
              << "\n";
    std::cout << "  RPO          "
              << (missing >= 0 ? std::to_string(missing) + " of " + std::to_string(checked) +
                                     " acknowledged writes lost"
                               : "-")
              << "\n";
    std::cout << (success       ? "web3 recovered in cloud b with RPO 0\n"
                  : interrupted ? "interrupted\n"
                                : "the demo did not complete: see the steps above\n")
              << std::flush;
  }
  return success ? 0 : 1;
}

int usage(const std::string &msg) {
  std::cerr << "cfmc demo: " << msg << "\n\n" << kHelp;
  return 2;
}

/// The web3 sample beside this program (installed or in the build tree), or "".
std::string findSample() {
  fs::path exe = selfExe();
  for (fs::path p : {exe.parent_path().parent_path() / "share" / "cfm" / "samples" / "web3",
                     exe.parent_path().parent_path().parent_path() / "samples" / "web3"})
    if (fs::exists(p / "web3.cfp") && fs::exists(p / "web3.ovf")) return fs::canonical(p).string();
  return "";
}

} // namespace

int cmdDemo(const std::vector<std::string> &args) {
  bool json = false, keep = false;
  std::string dir, sample;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kHelp;
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--keep") {
      keep = true;
    } else if (a == "--dir" || a == "--sample") {
      if (i + 1 >= args.size()) return usage("`" + a + "` needs a value");
      (a == "--dir" ? dir : sample) = args[++i];
    } else {
      return usage("unknown argument `" + a + "`");
    }
  }
  if (sample.empty()) sample = findSample();
  if (sample.empty()) return usage("cannot find the web3 sample beside cfmc: give --sample DIR");
  if (!fs::exists(fs::path(sample) / "web3.cfp") || !fs::exists(fs::path(sample) / "web3.ovf"))
    return usage("`" + sample + "` has no web3.cfp and web3.ovf");
  sample = fs::absolute(sample).lexically_normal().string();
  bool temp = dir.empty();
  if (temp) {
    std::string tmpl = (fs::temp_directory_path() / "cfm-demo-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
      std::cerr << "cfmc: error: cannot make a temporary folder: " << std::strerror(errno) << '\n';
      return 1;
    }
    dir = tmpl;
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
  }
  dir = fs::absolute(dir).lexically_normal().string();
  if (fs::exists(fs::path(dir) / "context.json"))
    return usage("`" + dir + "` holds a local federation already: give a new --dir");
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  int rc = Demo(json, dir, sample).run();
  if (temp && !keep) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  } else if (!json) {
    std::cout << "files kept in " << dir << '\n';
  }
  return rc;
}

} // namespace cfm::driver
