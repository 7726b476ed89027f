// process.cpp — signalSession, sessionAlive and ProcessTable (process.h): one pass over
// /proc/*/stat each; processLive: one process's.
#include "base/process.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

namespace cfm::base {
namespace {

struct ProcStat {
  char state = 0;
  long pgrp = 0, session = 0;
};

/// /proc/PID/stat's state, process group and session; false when the process is gone.
bool readStat(const char *pid, ProcStat &out) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%s/stat", pid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[512];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = 0;
  const char *paren = std::strrchr(buf, ')'); // the command name may hold spaces and parens
  if (!paren || paren[1] == 0 || paren[2] == 0) return false;
  long ppid = 0;
  out.state = paren[2];
  return std::sscanf(paren + 3, "%ld %ld %ld", &ppid, &out.pgrp, &out.session) == 3;
}

/// Calls f(pid, stat) for each live process; stops early when f returns false.
template <class F> void eachProcess(F f) {
  DIR *d = ::opendir("/proc");
  if (!d) return;
  while (dirent *e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    ProcStat st;
    if (!readStat(e->d_name, st)) continue;
    if (!f(pid_t(std::atol(e->d_name)), st)) break;
  }
  ::closedir(d);
}

} // namespace

bool processLive(pid_t pid) {
  if (pid <= 0) return false;
  char name[24];
  std::snprintf(name, sizeof name, "%d", static_cast<int>(pid));
  ProcStat st;
  return readStat(name, st) && st.state != 'Z' && st.state != 'X';
}

int signalSession(pid_t sid, int sig) {
  if (sid <= 1) return 0;
  ::kill(-sid, sig);
  int found = 0;
  eachProcess([&](pid_t pid, const ProcStat &st) {
    if ((st.session == sid || st.pgrp == sid) && st.state != 'Z' && st.state != 'X') {
      ++found;
      ::kill(pid, sig);
    }
    return true;
  });
  return found;
}

bool sessionAlive(pid_t sid) {
  if (sid <= 1) return false;
  bool alive = false;
  eachProcess([&](pid_t, const ProcStat &st) {
    if ((st.session == sid || st.pgrp == sid) && st.state != 'Z' && st.state != 'X') alive = true;
    return !alive;
  });
  return alive;
}

ProcessTable ProcessTable::scan() {
  ProcessTable t;
  eachProcess([&](pid_t pid, const ProcStat &st) {
    if (st.state == 'Z' || st.state == 'X') return true;
    t.members_[pid_t(st.session)].push_back(pid);
    if (st.pgrp != st.session) t.members_[pid_t(st.pgrp)].push_back(pid);
    return true;
  });
  return t;
}

bool ProcessTable::alive(pid_t sid) const { return sid > 1 && members_.count(sid) > 0; }

int ProcessTable::signal(pid_t sid, int sig) const {
  if (sid <= 1) return 0;
  ::kill(-sid, sig);
  auto it = members_.find(sid);
  if (it == members_.end()) return 0;
  for (pid_t pid : it->second) ::kill(pid, sig);
  return int(it->second.size());
}

} // namespace cfm::base
