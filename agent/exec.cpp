// exec.cpp — running a command in its own process group with captured output and a timeout
// (exec.h): posix_spawn, a poll loop over the two pipes, reaping by process group.
#include "agent/exec.h"

#include "base/paths.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace cfm::agent {

namespace {

using Clock = std::chrono::steady_clock;

/// The environment of a command: the agent's, CFM_VM_ROOT, then the request's (later wins).
std::vector<std::string> environmentFor(const net::ExecArgs &args, const std::string &root) {
  std::vector<std::pair<std::string, std::string>> vars;
  auto set = [&](const std::string &k, const std::string &v) {
    for (auto &kv : vars)
      if (kv.first == k) {
        kv.second = v;
        return;
      }
    vars.emplace_back(k, v);
  };
  for (char **e = environ; *e; ++e) {
    std::string s = *e;
    size_t eq = s.find('=');
    if (eq != std::string::npos) set(s.substr(0, eq), s.substr(eq + 1));
  }
  set("CFM_VM_ROOT", root);
  for (const auto &[k, v] : args.env) set(k, v);
  std::vector<std::string> out;
  for (const auto &[k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

struct Output {
  int fd;
  std::string text;
  bool open = true;
};

/// Reads what FD has now (non-blocking); keeps up to kMaxOutputBytes. False at EOF.
bool drain(Output &o, bool &truncated) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(o.fd, buf, sizeof buf);
    if (n > 0) {
      size_t room = kMaxOutputBytes - std::min(kMaxOutputBytes, o.text.size());
      if (size_t(n) > room) truncated = true;
      o.text.append(buf, std::min(room, size_t(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    return false; // EOF or an error: nothing more will come
  }
}

} // namespace

Result<net::ExecResult> runCommand(const net::ExecArgs &args, const std::string &root) {
  auto started = Clock::now();
  int outPipe[2], errPipe[2];
  if (::pipe2(outPipe, O_CLOEXEC) != 0) return Error{ErrorKind::Io, "pipe: " + base::systemError(errno)};
  if (::pipe2(errPipe, O_CLOEXEC) != 0) {
    ::close(outPipe[0]);
    ::close(outPipe[1]);
    return Error{ErrorKind::Io, "pipe: " + base::systemError(errno)};
  }
  base::UniqueFd outR(outPipe[0]), outW(outPipe[1]), errR(errPipe[0]), errW(errPipe[1]);

  std::vector<std::string> env = environmentFor(args, root);
  std::vector<char *> envp;
  for (auto &s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dashC = "-c", command = args.command;
  char *argv[] = {sh.data(), dashC.data(), command.data(), nullptr};

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, outW.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, errW.get(), 2);
  posix_spawn_file_actions_addchdir_np(&fa, root.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, defaults;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none); // the agent blocks SIGTERM in its threads
  sigemptyset(&defaults);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD}) sigaddset(&defaults, s);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Error{ErrorKind::Io, "cannot start /bin/sh: " + base::systemError(rc)};
  outW = base::UniqueFd();
  errW = base::UniqueFd();
  ::fcntl(outR.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(errR.get(), F_SETFL, O_NONBLOCK);

  net::ExecResult r;
  Output outs[2] = {{outR.get(), {}, true}, {errR.get(), {}, true}};
  auto deadline = started + std::chrono::milliseconds(args.timeoutMs);
  Clock::time_point killAt = Clock::time_point::max(); // SIGKILL's time, once SIGTERM was sent
  bool leaderDone = false;
  int status = 0;
  for (;;) {
    // Reap what has ended in the group (the shell, and orphans given back to the subreaper).
    for (;;) {
      int st = 0;
      pid_t w = ::waitpid(-pid, &st, WNOHANG);
      if (w == pid) {
        leaderDone = true;
        status = st;
      }
      if (w <= 0) {
        if (w < 0 && errno == ECHILD) leaderDone = true; // nothing left in the group
        break;
      }
    }
    bool groupGone = leaderDone && ::waitpid(-pid, nullptr, WNOHANG) < 0 && errno == ECHILD;
    if (leaderDone && (!r.timedOut || groupGone)) {
      for (auto &o : outs)
        if (o.open) o.open = drain(o, r.truncated);
      break;
    }
    auto now = Clock::now();
    if (!r.timedOut && now >= deadline) {
      r.timedOut = true;
      ::kill(-pid, SIGTERM);
      killAt = now + std::chrono::milliseconds(kKillGraceMs);
    }
    if (now >= killAt) {
      ::kill(-pid, SIGKILL);
      killAt = Clock::time_point::max();
    }
    pollfd fds[2];
    int n = 0;
    for (auto &o : outs)
      if (o.open) fds[n++] = {o.fd, POLLIN, 0};
    // Short waits: a child's end is noticed by waitpid, not by a signal.
    int waitMs = n > 0 ? 20 : 2;
    if (n > 0)
      ::poll(fds, nfds_t(n), waitMs);
    else
      ::usleep(waitMs * 1000);
    for (auto &o : outs)
      if (o.open) o.open = drain(o, r.truncated);
  }
  if (WIFSIGNALED(status)) {
    r.exitCode = -1;
    r.signal = WTERMSIG(status);
  } else {
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  r.stdoutText = std::move(outs[0].text);
  r.stderrText = std::move(outs[1].text);
  r.durationMs = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  return r;
}

} // namespace cfm::agent
