// process.h — signalling and watching a whole session of processes, read from /proc.
//
// A local VM (cfm-cloud's instance) is started as a session of its own (setsid), so its session
// id is its first process's pid. Software a procedure starts on the VM through its agent runs
// in process groups of its own (each agent command is one) but stays in the VM's session unless
// it calls setsid itself; so "everything of this VM" is its session, and terminating or killing
// a VM (cfm-cloud, `cfmc local kill|down`) signals the session, not one group. The base floor:
// POSIX and /proc only.
#pragma once

#include <sys/types.h>

#include <unordered_map>
#include <vector>

namespace cfm::base {

/// Sends `sig` to process group `sid` and to every process whose session id is `sid`. Returns
/// how many processes of the session it found (the group's leader included when alive).
int signalSession(pid_t sid, int sig);

/// Whether a process that is not a zombie has session id `sid` or process group `sid`.
bool sessionAlive(pid_t sid);

/// Whether process `pid` exists and is not a zombie (its /proc/PID/stat state).
bool processLive(pid_t pid);

/// The live (not zombie) processes by session and by process group, from one pass over /proc:
/// what sessionAlive and signalSession ask, for many sessions at the price of one scan (a cloud
/// with a thousand instances asks about each of them; one scan each would be quadratic).
class ProcessTable {
public:
  static ProcessTable scan();
  /// sessionAlive(SID) as of the scan.
  bool alive(pid_t sid) const;
  /// signalSession(SID, SIG) with the processes of the scan (the group is signalled first).
  int signal(pid_t sid, int sig) const;

private:
  std::unordered_map<pid_t, std::vector<pid_t>> members_; // session or group id -> its pids
};

} // namespace cfm::base
