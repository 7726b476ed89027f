// cloud.cpp — cfm-cloud's actions, state and instances (cloud.h).
#include "cfm-cloud/cloud.h"

#include "base/atomic_file.h"
#include "base/process.h"
#include "base/text.h"
#include "cfm-cloud/forward.h"
#include "net/ec2_xml.h"
#include "net/query.h"
#include "sql/sqlite.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

namespace cfm::cloud {

namespace fs = std::filesystem;
namespace ec2 = net::ec2;

namespace {

constexpr std::string_view kVersion = "2016-11-15";
constexpr int64_t kStopGraceMs = 2000; // SIGTERM, then SIGKILL after this

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using base::isoTimeMs;

/// A failure of an action: the EC2 code, its message and the HTTP status.
struct Fail {
  std::string code, message;
  int status = 400;
};

int statusOf(std::string_view code) {
  if (code == "AuthFailure") return 401;
  if (code == "SignatureDoesNotMatch" || code == "MissingAuthenticationToken") return 403;
  if (code == "RequestLimitExceeded") return 503;
  if (code == "InsufficientInstanceCapacity" || code == "InternalError") return 500;
  return 400;
}

Fail fail(std::string code, std::string message) {
  int s = statusOf(code);
  return Fail{std::move(code), std::move(message), s};
}

template <typename T> using Out = std::variant<T, Fail>;

std::string xmlEscape(std::string_view s) {
  std::string o;
  for (char c : s) {
    switch (c) {
    case '<': o += "&lt;"; break;
    case '>': o += "&gt;"; break;
    case '&': o += "&amp;"; break;
    case '"': o += "&quot;"; break;
    default: o += c;
    }
  }
  return o;
}

// RFC 4648 base64 (EC2's UserData); nullopt when `s` is not base64 (white space is skipped).
std::optional<std::string> decodeBase64(std::string_view s) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0, pad = 0;
  for (char ch : s) {
    int v;
    if (ch >= 'A' && ch <= 'Z')
      v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z')
      v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9')
      v = ch - '0' + 52;
    else if (ch == '+')
      v = 62;
    else if (ch == '/')
      v = 63;
    else if (ch == '=') {
      ++pad;
      continue;
    } else if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
      continue;
    else
      return std::nullopt;
    if (pad) return std::nullopt; // data after padding
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  if (pad > 2 || bits >= 6) return std::nullopt;
  return out;
}

std::string leaf(std::string_view name, std::string_view value) {
  return "<" + std::string(name) + ">" + xmlEscape(value) + "</" + std::string(name) + ">";
}

struct Inst {
  std::string id, reservation, image, type, zone, privateIp, clientToken, reason, reasonCode, reasonMsg;
  State state = State::Pending;
  int64_t launchMs = 0, sinceMs = 0, killAtMs = 0, vcpus = 1;
  int64_t seq = 0; // its place in the launch order (Impl::order)
  int pgid = 0, launchIndex = 0;
  bool reboot = false;
  bool launching = false; // its process is being started (Impl::launch); pgid is 0 until then
};

struct Vol {
  std::string id, zone, instance, device;
  int64_t sizeGiB = 1, createMs = 0, attachMs = 0;
};

struct Addr {
  std::string alloc, ip, instance, assoc;
};

} // namespace

struct Cloud::Impl {
  CloudConfig c;
  std::function<void(const std::string &)> log;
  std::unique_ptr<sql::Db> db;
  std::mutex mu;
  std::unordered_map<std::string, Inst> insts; // by id (their order: `order`)
  std::vector<std::string> order;              // instance ids in launch order
  std::vector<Inst *> byOrder;                 // the same instances (nodes of `insts` do not move)
  std::map<std::string, Vol> vols;
  std::map<std::string, Addr> addrs; // by allocation id
  std::map<std::string, std::map<std::string, std::string>> tags;
  std::map<std::string, std::pair<std::string, std::string>> tokens; // token -> (params, reservation)
  std::map<std::string, TokenBucket> buckets;
  int64_t addressSeq = 0;
  Forwarder forwarder;
  std::string pgidsWritten;
  std::set<int> children; // the process groups this cfm-cloud started (the others were adopted)
  static constexpr int64_t kSteadyCheckMs = 250;
  int64_t lastFullScanMs = 0;
  std::vector<std::pair<int, int>> sweeps; // (session, signal) for the next tick's sweep

  std::string ownerId() const {
    char b[16];
    snprintf(b, sizeof b, "000000000%03d", c.index);
    return b;
  }
  // Random hex digits (ids, request ids); request ids are made before the lock is taken, so
  // each thread has its own generator.
  static std::string hex(size_t n) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static const char *d = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; ++i) s += d[rng() % 16];
    return s;
  }
  std::string requestId() { return hex(8) + "-" + hex(4) + "-4" + hex(3) + "-a" + hex(3) + "-" + hex(12); }
  std::string root(const std::string &id) const { return c.stateDir + "/instances/" + id; }

  // ---- persistence --------------------------------------------------------------------------
  Result<void> schema() {
    return db->exec(
        "PRAGMA journal_mode=WAL;"
        // a local cloud's state survives a crash of cfm-cloud (WAL); not a power loss, as no
        // local instance would: no fsync per request
        "PRAGMA synchronous=NORMAL;"
        "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER);"
        "CREATE TABLE IF NOT EXISTS instances(id TEXT PRIMARY KEY, seq INTEGER, reservation TEXT, "
        "image TEXT, type TEXT, zone TEXT, private_ip TEXT, client_token TEXT, reason TEXT, "
        "reason_code TEXT, reason_msg TEXT, state INTEGER, launch_ms INTEGER, since_ms INTEGER, "
        "vcpus INTEGER, pgid INTEGER, launch_index INTEGER);"
        "CREATE TABLE IF NOT EXISTS volumes(id TEXT PRIMARY KEY, zone TEXT, instance TEXT, device TEXT, "
        "size INTEGER, create_ms INTEGER, attach_ms INTEGER);"
        "CREATE TABLE IF NOT EXISTS addresses(alloc TEXT PRIMARY KEY, ip TEXT, instance TEXT, assoc TEXT);"
        "CREATE TABLE IF NOT EXISTS tags(resource TEXT, key TEXT, value TEXT, PRIMARY KEY(resource, key));"
        "CREATE TABLE IF NOT EXISTS tokens(token TEXT PRIMARY KEY, params TEXT, reservation TEXT);");
  }
  Result<void> exec(const std::string &sql, std::initializer_list<sql::Value> args) {
    sql::Stmt s = CFM_TRY(db->prepare(sql));
    int i = 1;
    for (const sql::Value &v : args) s.bind(i++, v);
    return s.run();
  }
  void check(Result<void> r) {
    if (!r) log("state: " + r.error().message);
  }
  /// The writes of one request or one tick in one transaction (a thousand RunInstances write
  /// each instance, its tags and its token: one commit each, not six). Taken under `mu`.
  struct Batch {
    Impl &impl;
    bool open;
    explicit Batch(Impl &i) : impl(i), open(bool(i.db->exec("BEGIN"))) {}
    ~Batch() {
      if (open) impl.check(impl.db->exec("COMMIT"));
    }
  };
  void save(const Inst &i) {
    check(exec("INSERT OR REPLACE INTO instances VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
               {i.id, i.seq, i.reservation, i.image, i.type, i.zone, i.privateIp, i.clientToken, i.reason,
                i.reasonCode, i.reasonMsg, int64_t(i.state), i.launchMs, i.sinceMs, i.vcpus, int64_t(i.pgid),
                int64_t(i.launchIndex)}));
  }
  void save(const Vol &v) {
    check(exec("INSERT OR REPLACE INTO volumes VALUES(?,?,?,?,?,?,?)",
               {v.id, v.zone, v.instance, v.device, v.sizeGiB, v.createMs, v.attachMs}));
  }
  void save(const Addr &a) {
    check(exec("INSERT OR REPLACE INTO addresses VALUES(?,?,?,?)", {a.alloc, a.ip, a.instance, a.assoc}));
  }
  void saveTag(const std::string &res, const std::string &k, const std::string *v) {
    if (v)
      check(exec("INSERT OR REPLACE INTO tags VALUES(?,?,?)", {res, k, *v}));
    else
      check(exec("DELETE FROM tags WHERE resource=? AND key=?", {res, k}));
  }
  void setMeta(const std::string &k, int64_t v) {
    check(exec("INSERT OR REPLACE INTO meta VALUES(?,?)", {k, v}));
  }

  Result<void> load() {
    {
      sql::Stmt s = CFM_TRY(db->prepare("SELECT value FROM meta WHERE key='address_seq'"));
      if (CFM_TRY(s.step())) addressSeq = s.i64(0);
    }
    {
      sql::Stmt s =
          CFM_TRY(db->prepare("SELECT id, reservation, image, type, zone, private_ip, client_token, reason, "
                              "reason_code, reason_msg, state, launch_ms, since_ms, vcpus, pgid, "
                              "launch_index FROM instances ORDER BY seq"));
      while (CFM_TRY(s.step())) {
        Inst i;
        i.id = s.text(0), i.reservation = s.text(1), i.image = s.text(2), i.type = s.text(3),
        i.zone = s.text(4);
        i.privateIp = s.text(5), i.clientToken = s.text(6), i.reason = s.text(7), i.reasonCode = s.text(8);
        i.reasonMsg = s.text(9), i.state = State(s.i64(10)), i.launchMs = s.i64(11), i.sinceMs = s.i64(12);
        i.vcpus = s.i64(13), i.pgid = int(s.i64(14)), i.launchIndex = int(s.i64(15));
        i.seq = int64_t(order.size());
        order.push_back(i.id);
        byOrder.push_back(&(insts[i.id] = i));
      }
    }
    {
      sql::Stmt s =
          CFM_TRY(db->prepare("SELECT id, zone, instance, device, size, create_ms, attach_ms FROM volumes"));
      while (CFM_TRY(s.step()))
        vols[s.text(0)] = Vol{s.text(0), s.text(1), s.text(2), s.text(3), s.i64(4), s.i64(5), s.i64(6)};
    }
    {
      sql::Stmt s = CFM_TRY(db->prepare("SELECT alloc, ip, instance, assoc FROM addresses"));
      while (CFM_TRY(s.step())) addrs[s.text(0)] = Addr{s.text(0), s.text(1), s.text(2), s.text(3)};
    }
    {
      sql::Stmt s = CFM_TRY(db->prepare("SELECT resource, key, value FROM tags"));
      while (CFM_TRY(s.step())) tags[s.text(0)][s.text(1)] = s.text(2);
    }
    {
      sql::Stmt s = CFM_TRY(db->prepare("SELECT token, params, reservation FROM tokens"));
      while (CFM_TRY(s.step())) tokens[s.text(0)] = {s.text(1), s.text(2)};
    }
    return {};
  }

  // ---- processes ----------------------------------------------------------------------------
  // Whether process group `pgid` has a member that is not a zombie. A group whose leader was
  // reparented to a PID 1 that does not reap stays visible to kill(2) as zombies; those count as
  // dead. The leader is looked at first; only when it is gone or a zombie are the other processes
  // searched (rare: an instance whose first process ended but left children).
  // An instance is its session (the launcher's setsid: session id = pgid); software started on
  // it through its agent runs in groups of its own within that session (base/process.h).
  // The session's other processes are looked up in TABLE, one scan of /proc shared by every
  // instance a tick looks at (a scan per instance made terminating a thousand quadratic).
  static bool groupAlive(int pgid, bool ownChild, std::optional<base::ProcessTable> &table) {
    if (pgid <= 0) return false;
    if (ownChild && kill(-pgid, 0) == 0) return true; // our children are reaped first: no zombie leader
    if (base::processLive(pgid)) return true;         // the leader
    if (!table) table = base::ProcessTable::scan();
    return table->alive(pgid);
  }

  // ---- starting instances' processes, off the lock ------------------------------------------
  // posix_spawn returns once the child has exec'd (milliseconds on a loaded machine, with the
  // instance's root and console to make first): under `mu`, a thousand RunInstances would wait
  // for each other's processes. So RunInstances records the instance (pending, `launching`) and
  // queues a job; kLaunchers threads make the root, write the user data and start the process,
  // then record its group under `mu`. An instance stopped or terminated meanwhile has its new
  // process killed at once.
  struct Job {
    std::string id, root, userData;
    bool writeUserData = false;
    std::vector<std::string> argv, env;
  };
  static constexpr int kLaunchers = 4;
  std::mutex launchMu; // guards jobs and launchStop (taken after mu, never before)
  std::condition_variable launchCv;
  std::deque<Job> jobs;
  bool launchStop = false;
  std::vector<std::thread> launchers;

  /// Queues the start of I's process (under mu); USER_DATA, when given, is written first.
  void launch(Inst &i, const std::string *userData = nullptr) {
    i.pgid = 0;
    const Image *im = nullptr;
    for (const Image &x : c.images)
      if (x.id == i.image) im = &x;
    if (!im) return; // the next tick ends it
    Job j;
    j.id = i.id;
    j.root = root(i.id);
    j.argv = im->command;
    for (char **e = environ; *e; ++e)
      if (std::string_view(*e).substr(0, 4) != "CFM_") j.env.push_back(*e);
    for (std::string e : {"CFM_INSTANCE_ID=" + i.id, "CFM_INSTANCE_ROOT=" + j.root,
                          "CFM_PRIVATE_ADDRESS=" + i.privateIp, "CFM_CLOUD=" + c.name})
      j.env.push_back(std::move(e));
    // As EC2's metadata service has no user data for an instance launched without: no file and
    // no CFM_USER_DATA_FILE (a restarted instance keeps the file it was launched with).
    std::error_code udErr;
    if (userData || fs::exists(j.root + "/user-data", udErr))
      j.env.push_back("CFM_USER_DATA_FILE=" + j.root + "/user-data");
    if (userData) j.writeUserData = true, j.userData = *userData;
    i.launching = true;
    {
      std::lock_guard l(launchMu);
      jobs.push_back(std::move(j));
    }
    launchCv.notify_one();
  }

  /// Makes J's root, writes its user data, starts its process: the process's id (the leader of
  /// its own process group), or why not.
  static Result<pid_t> startProcess(Job &j) {
    std::error_code ec;
    fs::create_directories(j.root + "/var/lib", ec); // the root, and where programs keep state
    if (ec) return Error{ErrorKind::Io, "cannot make its root " + j.root + ": " + ec.message()};
    // the user data may hold the agent's credentials (docs/agent-protocol.md): the instance's
    // own, mode 0600; not flushed to disk, as the rest of a local instance's state
    if (j.writeUserData)
      if (auto r = base::replaceFileAtomically(j.root + "/user-data", j.userData,
                                               {.durable = false, .mode = 0600});
          !r)
        return Error{ErrorKind::Io, "cannot write its user data: " + r.error().message};
    std::vector<char *> envp, argv;
    for (auto &e : j.env) envp.push_back(e.data());
    envp.push_back(nullptr);
    for (auto &a : j.argv) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string console = j.root + "/console.log";
    // posix_spawn (glibc: a vfork-style clone, so no copy of this many-threaded server's page
    // tables) in a new session, so the instance's process group exists before spawn returns,
    // and a command that cannot be run is reported here.
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&fa);
    sigset_t none, pipeOnly;
    sigemptyset(&none);
    sigemptyset(&pipeOnly);
    sigaddset(&pipeOnly, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &pipeOnly);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawn_file_actions_addchdir_np(&fa, j.root.c_str());
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, console.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    pid_t pid = -1;
    int err = posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (err != 0) return Error{ErrorKind::Io, "cannot run " + j.argv[0] + ": " + std::strerror(err)};
    return pid;
  }

  void launcherLoop() {
    for (;;) {
      Job j;
      {
        std::unique_lock l(launchMu);
        launchCv.wait(l, [&] { return launchStop || !jobs.empty(); });
        if (launchStop) return;
        j = std::move(jobs.front());
        jobs.pop_front();
      }
      auto started = startProcess(j);
      pid_t pid = started ? *started : 0;
      std::lock_guard lock(mu);
      Batch batch(*this);
      if (pid > 0) children.insert(pid); // reaped by advance() whatever happens next
      auto it = insts.find(j.id);
      if (it == insts.end() || (it->second.state != State::Pending && it->second.state != State::Running)) {
        if (pid > 0) kill(-pid, SIGKILL); // stopped or terminated while it was being started
        if (it != insts.end()) it->second.launching = false;
        continue;
      }
      Inst &i = it->second;
      i.launching = false;
      int64_t now = nowMs();
      if (!started) {
        log("instance " + i.id + ": " + started.error().message);
        i.reason = "Instance failed to start (" + isoTimeMs(now) + ")";
        i.reasonCode = "Server.InternalError";
        i.reasonMsg = "Server.InternalError: " + started.error().message;
        endInstance(i, now);
        continue;
      }
      i.pgid = pid;
      if (i.state == State::Pending) i.sinceMs = now; // it boots from now
      save(i);                                        // the pgids file follows on the next tick
    }
  }

  void startLaunchers() {
    for (int k = 0; k < kLaunchers; ++k) launchers.emplace_back([this] { launcherLoop(); });
  }

  /// Stops the launchers; jobs not started are dropped (their instances stay pending without a
  /// process, and a restarted cfm-cloud ends them as it ends any instance whose processes are gone).
  void stopLaunchers() {
    {
      std::lock_guard l(launchMu);
      launchStop = true;
    }
    launchCv.notify_all();
    for (std::thread &t : launchers)
      if (t.joinable()) t.join();
    launchers.clear();
  }

  ~Impl() { stopLaunchers(); }

  // The instance's session, all it started: its group at once, the session's other groups at the
  // next tick (one scan of /proc for every instance signalled meanwhile).
  void signalGroup(Inst &i, int sig) {
    if (i.pgid <= 0) return;
    ::kill(-i.pgid, sig);
    sweeps.emplace_back(i.pgid, sig);
  }
  void sweepSessions(std::optional<base::ProcessTable> &table) {
    if (sweeps.empty()) return;
    if (!table) table = base::ProcessTable::scan();
    for (auto [sid, sig] : sweeps) table->signal(sid, sig);
    sweeps.clear();
  }

  void writePgids() {
    std::string text;
    for (const Inst *i : byOrder)
      if (i->pgid > 0) text += std::to_string(i->pgid) + "\n";
    if (text == pgidsWritten) return;
    // not flushed to disk: it must outlive a killed cfm-cloud (the page cache does), not the machine
    if (auto r = base::replaceFileAtomically(c.stateDir + "/pgids", text, {.durable = false}); !r)
      log("pgids: " + r.error().message);
    else
      pgidsWritten = text;
  }

  // ---- addresses and volumes tied to instances ------------------------------------------------
  std::string publicIpOf(const std::string &id) const {
    for (auto &[k, a] : addrs)
      if (a.instance == id) return a.ip;
    return "";
  }

  void linkVolume(const Vol &v, bool on) {
    std::string r = root(v.instance);
    std::string dev = v.device.starts_with("/dev/") ? v.device.substr(5) : v.device;
    std::error_code ec;
    std::string target = c.stateDir + "/volumes/" + v.id;
    for (const std::string &link : {r + "/mnt/volumes/" + v.id, r + "/dev/" + dev}) {
      fs::remove(link, ec);
      if (on) {
        fs::create_directories(fs::path(link).parent_path(), ec);
        fs::create_directory_symlink(target, link, ec);
        if (ec) log("volume " + v.id + ": " + ec.message());
      }
    }
  }

  void detachAll(const std::string &instance) {
    for (auto &[id, v] : vols)
      if (v.instance == instance) {
        linkVolume(v, false);
        v.instance.clear(), v.device.clear(), v.attachMs = 0;
        save(v);
      }
  }

  void disassociate(Addr &a) {
    forwarder.remove(a.ip);
    a.instance.clear(), a.assoc.clear();
    save(a);
  }

  void toState(Inst &i, State s, int64_t now) {
    i.state = s;
    i.sinceMs = now;
    save(i);
    log("instance " + i.id + " " + std::string(stateName(s)));
  }

  // ---- the timers -----------------------------------------------------------------------------
  void advance() {
    int64_t now = nowMs();
    for (pid_t pid; (pid = waitpid(-1, nullptr, WNOHANG)) > 0;) {
      // the leader is reaped; the group may live on in its other processes (then it is no
      // longer this process's child, and groupAlive looks at /proc)
      children.erase(pid);
    }
    // Instances in a steady state (running, stopped, terminated) are looked at every
    // kSteadyCheckMs, those on their way somewhere on every tick: with a thousand instances, a
    // liveness probe of each on every 20 ms tick would cost more than serving requests.
    bool full = now >= lastFullScanMs + kSteadyCheckMs;
    if (full) lastFullScanMs = now;
    std::optional<base::ProcessTable> table; // /proc, read at most once a tick
    sweepSessions(table);
    for (Inst *each : byOrder) {
      Inst &i = *each;
      if (i.launching) continue; // the launcher records it when its process is there
      bool steady = (i.state == State::Running && !i.reboot) || i.state == State::Stopped ||
                    i.state == State::Terminated;
      if (steady && !full) continue;
      // Looked at only when its answer is needed (a dead leader costs a scan of /proc, shared
      // by the tick).
      auto groupLives = [&] { return groupAlive(i.pgid, children.count(i.pgid) > 0, table); };
      switch (i.state) {
      case State::Pending:
      case State::Running: {
        bool alive = groupLives();
        if (i.reboot && !alive) {
          i.reboot = false;
          launch(i);
          save(i);
        } else if (!alive) {
          i.pgid = 0;
          i.reason = "User initiated shutdown (" + isoTimeMs(now) + ")";
          i.reasonCode = "Client.InstanceInitiatedShutdown";
          i.reasonMsg = "Client.InstanceInitiatedShutdown: Instance initiated shutdown";
          endInstance(i, now);
        } else if (i.state == State::Pending && now >= i.sinceMs + c.bootDelayMs) {
          toState(i, State::Running, now);
        }
        break;
      }
      case State::Stopping:
      case State::ShuttingDown: {
        bool killDue = i.killAtMs && now >= i.killAtMs, endDue = now >= i.sinceMs + c.stopDelayMs;
        if (!killDue && !endDue) break;
        bool alive = groupLives();
        if (alive && killDue) {
          signalGroup(i, SIGKILL);
          i.killAtMs = 0;
        }
        if (!alive && endDue) {
          i.pgid = 0;
          if (i.state == State::Stopping) {
            toState(i, State::Stopped, now);
            forwardFor(i.id, false);
          } else {
            endInstance(i, now);
          }
        }
        break;
      }
      default: break;
      }
    }
    writePgids();
  }

  void endInstance(Inst &i, int64_t now) {
    detachAll(i.id);
    for (auto &[k, a] : addrs)
      if (a.instance == i.id) disassociate(a);
    toState(i, State::Terminated, now);
  }

  void forwardFor(const std::string &instance, bool on) {
    for (auto &[k, a] : addrs)
      if (a.instance == instance) {
        if (on)
          forwarder.add(a.ip, insts[instance].privateIp, c.forwardPorts);
        else
          forwarder.remove(a.ip);
      }
  }

  // ---- converting to the reply shapes -------------------------------------------------------
  ec2::Instance view(const Inst &i) {
    ec2::Instance o;
    o.instanceId = i.id, o.imageId = i.image, o.instanceType = i.type, o.reservationId = i.reservation;
    o.state = {int(i.state), std::string(stateName(i.state))};
    o.privateIpAddress = i.privateIp;
    o.ipAddress = publicIpOf(i.id);
    o.privateDnsName = i.privateIp;
    o.dnsName = o.ipAddress;
    o.availabilityZone = i.zone;
    o.launchTime = isoTimeMs(i.launchMs);
    o.clientToken = i.clientToken;
    o.reason = i.reason;
    o.stateReasonCode = i.reasonCode;
    o.stateReasonMessage = i.reasonMsg;
    o.amiLaunchIndex = i.launchIndex;
    for (auto &[id, v] : vols)
      if (v.instance == i.id) o.blockDevices.push_back({v.device, v.id, "attached"});
    for (auto &[k, v] : tags[i.id]) o.tags.push_back({k, v});
    return o;
  }
  ec2::Volume view(const Vol &v) {
    ec2::Volume o;
    o.volumeId = v.id, o.availabilityZone = v.zone, o.status = v.instance.empty() ? "available" : "in-use";
    o.createTime = isoTimeMs(v.createMs), o.volumeType = "standard", o.sizeGiB = v.sizeGiB;
    if (!v.instance.empty())
      o.attachments.push_back({v.id, v.instance, v.device, "attached", isoTimeMs(v.attachMs), false});
    for (auto &[k, val] : tags[v.id]) o.tags.push_back({k, val});
    return o;
  }
  ec2::Address view(const Addr &a) {
    ec2::Address o;
    o.publicIp = a.ip, o.allocationId = a.alloc, o.domain = "vpc", o.instanceId = a.instance;
    o.associationId = a.assoc;
    if (!a.instance.empty()) o.privateIpAddress = insts[a.instance].privateIp;
    return o;
  }

  // ---- the actions ------------------------------------------------------------------------------
  using Action = Out<std::string> (Impl::*)(const net::Ec2Params &, const std::string &rid);
  static const std::map<std::string, Action, std::less<>> &actions();

  static bool wellFormedId(std::string_view id, std::string_view prefix) {
    if (!id.starts_with(prefix) || id.size() < prefix.size() + 8 || id.size() > prefix.size() + 17)
      return false;
    return id.substr(prefix.size()).find_first_not_of("0123456789abcdef") == std::string_view::npos;
  }

  Out<std::vector<std::string>> instanceIds(const net::Ec2Params &p, bool required) {
    auto ids = p.list("InstanceId");
    if (!ids) return fail(std::string(net::ec2ErrorCode(ids.failure().code)), ids.failure().message);
    if (required && ids->empty())
      return fail("MissingParameter", "The request must contain the parameter InstanceId");
    std::vector<std::string> missing;
    for (const std::string &id : *ids) {
      if (!wellFormedId(id, "i-")) return fail("InvalidInstanceID.Malformed", "Invalid id: \"" + id + "\"");
      if (!insts.count(id)) missing.push_back(id);
    }
    if (!missing.empty()) {
      std::string list;
      for (auto &m : missing) list += (list.empty() ? "" : ", ") + m;
      return fail("InvalidInstanceID.NotFound", "The instance ID" +
                                                    std::string(missing.size() > 1 ? "s '" : " '") + list +
                                                    "' do" + (missing.size() > 1 ? "" : "es") + " not exist");
    }
    return *ids;
  }

  template <typename T> static Out<T> lift(net::Ec2Result<T> r) {
    if (!r) return fail(std::string(net::ec2ErrorCode(r.failure().code)), r.failure().message);
    return std::move(r.value());
  }

  Out<int64_t> intParam(const net::Ec2Params &p, std::string_view name, int64_t def, int64_t lo, int64_t hi) {
    const std::string *v = p.find(name);
    if (!v) return def;
    if (v->empty() || v->size() > 12 || v->find_first_not_of("0123456789") != std::string::npos ||
        std::stoll(*v) < lo || std::stoll(*v) > hi)
      return fail("InvalidParameterValue", "Invalid value '" + *v + "' for " + std::string(name));
    return std::stoll(*v);
  }

  Out<std::string> runInstances(const net::Ec2Params &p, const std::string &rid) {
    const std::string *image = p.find("ImageId");
    if (!image) return fail("MissingParameter", "The request must contain the parameter ImageId");
    bool imageKnown = false;
    for (const Image &im : c.images) imageKnown = imageKnown || im.id == *image;
    if (!imageKnown) return fail("InvalidAMIID.NotFound", "The image id '[" + *image + "]' does not exist");
    std::string type = p.find("InstanceType") ? *p.find("InstanceType") : "c1.small";
    const InstanceType *it = nullptr;
    for (const InstanceType &t : c.instanceTypes)
      if (t.name == type) it = &t;
    if (!it) return fail("InvalidParameterValue", "Invalid value '" + type + "' for InstanceType.");
    if (!p.find("MinCount"))
      return fail("MissingParameter", "The request must contain the parameter MinCount");
    if (!p.find("MaxCount"))
      return fail("MissingParameter", "The request must contain the parameter MaxCount");
    auto minC = intParam(p, "MinCount", 1, 1, 1000);
    if (auto *f = std::get_if<Fail>(&minC)) return *f;
    auto maxC = intParam(p, "MaxCount", 1, 1, 1000);
    if (auto *f = std::get_if<Fail>(&maxC)) return *f;
    int64_t minCount = std::get<int64_t>(minC), maxCount = std::get<int64_t>(maxC);
    if (minCount > maxCount)
      return fail("InvalidParameterValue", "MinCount must be less than or equal to MaxCount");
    std::string zone = c.zones.front();
    if (const std::string *z = p.find("Placement.AvailabilityZone"); z && !z->empty()) {
      if (std::find(c.zones.begin(), c.zones.end(), *z) == c.zones.end())
        return fail("InvalidParameterValue", "Invalid availability zone: [" + *z + "]");
      zone = *z;
    }
    std::string userData;
    if (const std::string *u = p.find("UserData")) {
      auto decoded = decodeBase64(*u);
      if (!decoded) return fail("InvalidParameterValue", "Invalid BASE64 encoding of user data.");
      userData = *decoded;
    }
    auto specsR = lift(p.tagSpecifications());
    if (auto *f = std::get_if<Fail>(&specsR)) return *f;
    auto specs = std::get<std::vector<net::Ec2TagSpecification>>(specsR);
    for (auto &s : specs)
      if (s.resourceType != "instance" && s.resourceType != "volume")
        return fail("InvalidParameterValue",
                    "'" + s.resourceType + "' is not a valid taggable resource type");

    std::string token = p.find("ClientToken") ? *p.find("ClientToken") : "";
    if (token.size() > 64) return fail("InvalidParameterValue", "ClientToken is longer than 64 characters");
    std::string key;
    for (auto &[k, v] : p.all())
      if (k != "ClientToken" && k != "Action" && k != "Version") key += k + "=" + v + "\n";
    if (!token.empty()) {
      auto t = tokens.find(token);
      if (t != tokens.end()) {
        if (t->second.first != key)
          return fail("IdempotentParameterMismatch",
                      "The client token '" + token + "' was used with different parameters");
        std::vector<ec2::Instance> out;
        for (const std::string &id : order)
          if (insts[id].reservation == t->second.second) out.push_back(view(insts[id]));
        return ec2::writeRunInstances(rid, t->second.second, ownerId(), out);
      }
    }

    int64_t active = 0, activeVcpus = 0;
    for (auto &[id, i] : insts)
      if (i.state == State::Pending || i.state == State::Running) ++active, activeVcpus += i.vcpus;
    int64_t count = maxCount;
    while (count >= minCount &&
           quotaRefusal(active, activeVcpus, count, it->vcpus, c.quotaInstances, c.quotaVcpus))
      --count;
    if (count < minCount) {
      std::string code =
          *quotaRefusal(active, activeVcpus, minCount, it->vcpus, c.quotaInstances, c.quotaVcpus);
      if (code == "InstanceLimitExceeded")
        return fail(code, "You have requested more instances (" + std::to_string(active + minCount) +
                              ") than your current instance limit of " + std::to_string(c.quotaInstances) +
                              " allows for the specified instance type.");
      return fail(code, "Insufficient capacity: " + std::to_string(activeVcpus + minCount * it->vcpus) +
                            " vCPUs requested, the cloud's vCPU quota is " + std::to_string(c.quotaVcpus) +
                            ".");
    }
    // Addresses 127.<index>.<n>.<m>: n 1..199, m 1..254, one per instance ever made.
    int64_t capacity = 199 * 254;
    if (int64_t(order.size()) + count > capacity)
      return fail("InsufficientInstanceCapacity", "The cloud has no private addresses left");

    std::string reservation = "r-" + hex(17);
    int64_t now = nowMs();
    std::vector<ec2::Instance> out;
    for (int64_t n = 0; n < count; ++n) {
      Inst i;
      i.id = "i-" + hex(17);
      i.reservation = reservation, i.image = *image, i.type = type, i.zone = zone, i.clientToken = token;
      int64_t seq = int64_t(order.size());
      i.privateIp = "127." + std::to_string(c.index) + "." + std::to_string(1 + seq / 254) + "." +
                    std::to_string(1 + seq % 254);
      i.launchMs = i.sinceMs = now, i.vcpus = it->vcpus, i.launchIndex = int(n);
      i.seq = seq;
      order.push_back(i.id);
      for (auto &s : specs)
        if (s.resourceType == "instance")
          for (auto &t : s.tags) {
            tags[i.id][t.key] = t.value;
            saveTag(i.id, t.key, &t.value);
          }
      // its root (mnt/volumes/ and dev/ come when a volume is attached), user data and process
      // are made by the launcher
      byOrder.push_back(&(insts[i.id] = i));
      launch(*byOrder.back(), userData.empty() ? nullptr : &userData);
      save(*byOrder.back());
      log("instance " + i.id + " pending at " + i.privateIp);
      out.push_back(view(i));
    }
    if (!token.empty()) {
      tokens[token] = {key, reservation};
      check(exec("INSERT OR REPLACE INTO tokens VALUES(?,?,?)", {token, key, reservation}));
    }
    writePgids();
    return ec2::writeRunInstances(rid, reservation, ownerId(), out);
  }

  Filterable filterable(const Inst &i) {
    Filterable f;
    f.fields = {{"instance-state-name", std::string(stateName(i.state))},
                {"instance-state-code", std::to_string(int(i.state))},
                {"instance-id", i.id},
                {"availability-zone", i.zone},
                {"instance-type", i.type},
                {"image-id", i.image},
                {"reservation-id", i.reservation},
                {"private-ip-address", i.privateIp},
                {"ip-address", publicIpOf(i.id)},
                {"client-token", i.clientToken}};
    for (auto &[k, v] : tags[i.id]) f.tags[k] = v;
    return f;
  }

  Out<std::vector<net::Ec2Filter>> filtersOf(const net::Ec2Params &p, const std::vector<std::string> &known) {
    auto fr = lift(p.filters());
    if (auto *f = std::get_if<Fail>(&fr)) return *f;
    auto filters = std::get<std::vector<net::Ec2Filter>>(fr);
    for (auto &f : filters)
      if (!filterKnown(f.name, known))
        return fail("InvalidParameterValue", "The filter '" + f.name + "' is invalid");
    return filters;
  }

  Out<Page> pageOf(const net::Ec2Params &p, size_t total, bool idsGiven) {
    auto mr = intParam(p, "MaxResults", 0, 5, 1000);
    if (auto *f = std::get_if<Fail>(&mr)) return *f;
    if (idsGiven && p.find("MaxResults"))
      return fail("InvalidParameterCombination",
                  "The parameter instancesSet cannot be used with the parameter maxResults");
    std::string token = p.find("NextToken") ? *p.find("NextToken") : "";
    auto page = paginate(total, token, std::get<int64_t>(mr));
    if (!page) return fail("InvalidParameterValue", "Invalid value '" + token + "' for NextToken");
    return *page;
  }

  Out<std::string> describeInstances(const net::Ec2Params &p, const std::string &rid) {
    auto idsR = instanceIds(p, false);
    if (auto *f = std::get_if<Fail>(&idsR)) return *f;
    auto &ids = std::get<std::vector<std::string>>(idsR);
    auto fr = filtersOf(p, {"instance-state-name", "instance-state-code", "instance-id", "availability-zone",
                            "instance-type", "image-id", "reservation-id", "private-ip-address", "ip-address",
                            "client-token"});
    if (auto *f = std::get_if<Fail>(&fr)) return *f;
    auto &filters = std::get<std::vector<net::Ec2Filter>>(fr);
    // the instances asked for (each once), else all, in launch order. An `instance-id` filter
    // without wildcards names its candidates as InstanceId.N does (the filters still apply to
    // them): a client polling 200 of a thousand instances by filter (runtime/cloud/ec2.cpp's
    // waiters) had every instance described and matched against every value, under the lock.
    const std::vector<std::string> *named = ids.empty() ? nullptr : &ids;
    for (const net::Ec2Filter &f : filters)
      if (!named && f.name == "instance-id" &&
          std::none_of(f.values.begin(), f.values.end(),
                       [](const std::string &v) { return v.find_first_of("*?") != std::string::npos; }))
        named = &f.values;
    std::vector<const Inst *> chosen;
    if (!named) {
      for (const std::string &id : order) chosen.push_back(&insts[id]);
    } else {
      for (const std::string &id : *named)
        if (auto it = insts.find(id); it != insts.end()) chosen.push_back(&it->second);
      std::sort(chosen.begin(), chosen.end(), [](const Inst *a, const Inst *b) { return a->seq < b->seq; });
      chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
    }
    std::vector<ec2::Instance> all;
    for (const Inst *i : chosen)
      if (matches(filterable(*i), filters)) all.push_back(view(*i));
    auto pr = pageOf(p, all.size(), !ids.empty());
    if (auto *f = std::get_if<Fail>(&pr)) return *f;
    Page pg = std::get<Page>(pr);
    std::vector<ec2::Instance> page(all.begin() + long(pg.begin), all.begin() + long(pg.end));
    return ec2::writeDescribeInstances(rid, ownerId(), page, pg.nextToken);
  }

  Out<std::string> changeState(const net::Ec2Params &p, const std::string &rid, Transition t,
                               std::string_view action) {
    auto idsR = instanceIds(p, true);
    if (auto *f = std::get_if<Fail>(&idsR)) return *f;
    auto &ids = std::get<std::vector<std::string>>(idsR);
    for (const std::string &id : ids)
      if (!transition(insts[id].state, t))
        return fail("IncorrectInstanceState", "The instance '" + id +
                                                  "' is not in a state from which it can be " +
                                                  (t == Transition::Start    ? "started"
                                                   : t == Transition::Reboot ? "rebooted"
                                                                             : "stopped") +
                                                  ".");
    int64_t now = nowMs();
    if (t == Transition::Start) {
      int64_t active = 0, activeVcpus = 0, count = 0, vcpus = 0;
      for (auto &[id, i] : insts)
        if (i.state == State::Pending || i.state == State::Running) ++active, activeVcpus += i.vcpus;
      for (const std::string &id : ids)
        if (insts[id].state == State::Stopped) ++count, vcpus += insts[id].vcpus;
      if (auto code = quotaRefusal(active, activeVcpus, count, count ? vcpus / count : 0, c.quotaInstances,
                                   c.quotaVcpus))
        return fail(*code, "Starting these instances would exceed the cloud's quota");
    }
    std::vector<ec2::StateChange> changes;
    for (const std::string &id : ids) {
      Inst &i = insts[id];
      ec2::InstanceState prev{int(i.state), std::string(stateName(i.state))};
      State next = *transition(i.state, t);
      if (t == Transition::Reboot) {
        if (!i.launching) { // one still being started is booting already
          i.reboot = true;
          signalGroup(i, SIGKILL);
        }
        continue;
      }
      if (next != i.state) {
        if (next == State::Pending) {
          launch(i);
          i.reason.clear(), i.reasonCode.clear(), i.reasonMsg.clear();
          forwardFor(i.id, true);
        } else {
          signalGroup(i, SIGTERM);
          i.killAtMs = now + kStopGraceMs;
          i.reason = "User initiated (" + isoTimeMs(now) + ")";
          i.reasonCode = "Client.UserInitiatedShutdown";
          i.reasonMsg = "Client.UserInitiatedShutdown: User initiated shutdown";
        }
        toState(i, next, now);
      }
      changes.push_back({id, {int(i.state), std::string(stateName(i.state))}, prev});
    }
    writePgids();
    if (t == Transition::Reboot) return ec2::writeReturn(action, rid);
    return ec2::writeStateChanges(action, rid, changes);
  }
  Out<std::string> startInstances(const net::Ec2Params &p, const std::string &rid) {
    return changeState(p, rid, Transition::Start, "StartInstances");
  }
  Out<std::string> stopInstances(const net::Ec2Params &p, const std::string &rid) {
    return changeState(p, rid, Transition::Stop, "StopInstances");
  }
  Out<std::string> rebootInstances(const net::Ec2Params &p, const std::string &rid) {
    return changeState(p, rid, Transition::Reboot, "RebootInstances");
  }
  Out<std::string> terminateInstances(const net::Ec2Params &p, const std::string &rid) {
    return changeState(p, rid, Transition::Terminate, "TerminateInstances");
  }

  // Volumes ------------------------------------------------------------------------------------
  Out<Vol *> volume(const net::Ec2Params &p) {
    const std::string *id = p.find("VolumeId");
    if (!id) return fail("MissingParameter", "The request must contain the parameter VolumeId");
    if (!wellFormedId(*id, "vol-")) return fail("InvalidVolumeID.Malformed", "Invalid id: \"" + *id + "\"");
    auto it = vols.find(*id);
    if (it == vols.end()) return fail("InvalidVolume.NotFound", "The volume '" + *id + "' does not exist.");
    return &it->second;
  }

  Out<std::string> createVolume(const net::Ec2Params &p, const std::string &rid) {
    const std::string *zone = p.find("AvailabilityZone");
    if (!zone) return fail("MissingParameter", "The request must contain the parameter AvailabilityZone");
    if (std::find(c.zones.begin(), c.zones.end(), *zone) == c.zones.end())
      return fail("InvalidParameterValue", "Invalid availability zone: [" + *zone + "]");
    if (!p.find("Size"))
      return fail("MissingParameter", "The request must contain the parameter size/snapshot");
    auto size = intParam(p, "Size", 1, 1, 16384);
    if (auto *f = std::get_if<Fail>(&size)) return *f;
    auto specsR = lift(p.tagSpecifications());
    if (auto *f = std::get_if<Fail>(&specsR)) return *f;
    Vol v;
    v.id = "vol-" + hex(17), v.zone = *zone, v.sizeGiB = std::get<int64_t>(size), v.createMs = nowMs();
    std::error_code ec;
    fs::create_directories(c.stateDir + "/volumes/" + v.id, ec);
    if (ec) return fail("InternalError", "cannot create the volume's directory");
    for (auto &s : std::get<std::vector<net::Ec2TagSpecification>>(specsR))
      for (auto &t : s.tags) {
        tags[v.id][t.key] = t.value;
        saveTag(v.id, t.key, &t.value);
      }
    vols[v.id] = v;
    save(v);
    ec2::Volume out = view(v);
    out.status = "creating";
    return ec2::writeCreateVolume(rid, out);
  }

  Out<std::string> deleteVolume(const net::Ec2Params &p, const std::string &rid) {
    auto vr = volume(p);
    if (auto *f = std::get_if<Fail>(&vr)) return *f;
    Vol *v = std::get<Vol *>(vr);
    if (!v->instance.empty())
      return fail("VolumeInUse", "Volume " + v->id + " is currently attached to " + v->instance);
    std::error_code ec;
    fs::remove_all(c.stateDir + "/volumes/" + v->id, ec);
    check(exec("DELETE FROM volumes WHERE id=?", {v->id}));
    check(exec("DELETE FROM tags WHERE resource=?", {v->id}));
    tags.erase(v->id);
    vols.erase(v->id);
    return ec2::writeReturn("DeleteVolume", rid);
  }

  Out<std::string> describeVolumes(const net::Ec2Params &p, const std::string &rid) {
    auto idsR = lift(p.list("VolumeId"));
    if (auto *f = std::get_if<Fail>(&idsR)) return *f;
    auto &ids = std::get<std::vector<std::string>>(idsR);
    for (auto &id : ids)
      if (!vols.count(id)) return fail("InvalidVolume.NotFound", "The volume '" + id + "' does not exist.");
    auto fr = filtersOf(p, {"volume-id", "status", "availability-zone", "size", "attachment.instance-id"});
    if (auto *f = std::get_if<Fail>(&fr)) return *f;
    std::vector<ec2::Volume> all;
    for (auto &[id, v] : vols) {
      if (!ids.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
      Filterable f;
      f.fields = {{"volume-id", id},
                  {"status", v.instance.empty() ? "available" : "in-use"},
                  {"availability-zone", v.zone},
                  {"size", std::to_string(v.sizeGiB)},
                  {"attachment.instance-id", v.instance}};
      for (auto &[k, val] : tags[id]) f.tags[k] = val;
      if (matches(f, std::get<std::vector<net::Ec2Filter>>(fr))) all.push_back(view(v));
    }
    auto pr = pageOf(p, all.size(), false);
    if (auto *f = std::get_if<Fail>(&pr)) return *f;
    Page pg = std::get<Page>(pr);
    std::vector<ec2::Volume> page(all.begin() + long(pg.begin), all.begin() + long(pg.end));
    return ec2::writeDescribeVolumes(rid, page, pg.nextToken);
  }

  Out<std::string> attachVolume(const net::Ec2Params &p, const std::string &rid) {
    auto vr = volume(p);
    if (auto *f = std::get_if<Fail>(&vr)) return *f;
    Vol *v = std::get<Vol *>(vr);
    const std::string *device = p.find("Device");
    if (!device) return fail("MissingParameter", "The request must contain the parameter device");
    if (device->empty() || device->size() > 64 || device->find("..") != std::string::npos ||
        device->find_first_not_of("/abcdefghijklmnopqrstuvwxyz0123456789") != std::string::npos ||
        device->back() == '/')
      return fail("InvalidParameterValue", "Value (" + *device + ") for parameter device is invalid.");
    auto idsR = instanceIdParam(p);
    if (auto *f = std::get_if<Fail>(&idsR)) return *f;
    Inst &i = insts[std::get<std::string>(idsR)];
    if (i.state != State::Running && i.state != State::Stopped)
      return fail("IncorrectInstanceState", "Instance '" + i.id + "' is not 'running' or 'stopped'.");
    if (!v->instance.empty())
      return fail("VolumeInUse", "vol '" + v->id + "' is already attached to an instance");
    if (v->zone != i.zone)
      return fail("InvalidVolume.ZoneMismatch", "The volume '" + v->id +
                                                    "' is not in the same availability zone as instance '" +
                                                    i.id + "'");
    for (auto &[id, o] : vols)
      if (o.instance == i.id && o.device == *device)
        return fail("InvalidParameterValue", "Attachment point " + *device + " is already in use");
    v->instance = i.id, v->device = *device, v->attachMs = nowMs();
    linkVolume(*v, true);
    save(*v);
    return ec2::writeAttachment("AttachVolume", rid,
                                {v->id, i.id, *device, "attaching", isoTimeMs(v->attachMs), false});
  }

  Out<std::string> instanceIdParam(const net::Ec2Params &p) {
    const std::string *id = p.find("InstanceId");
    if (!id) return fail("MissingParameter", "The request must contain the parameter InstanceId");
    if (!wellFormedId(*id, "i-")) return fail("InvalidInstanceID.Malformed", "Invalid id: \"" + *id + "\"");
    if (!insts.count(*id))
      return fail("InvalidInstanceID.NotFound", "The instance ID '" + *id + "' does not exist");
    return *id;
  }

  Out<std::string> detachVolume(const net::Ec2Params &p, const std::string &rid) {
    auto vr = volume(p);
    if (auto *f = std::get_if<Fail>(&vr)) return *f;
    Vol *v = std::get<Vol *>(vr);
    if (v->instance.empty())
      return fail("IncorrectState", "Volume '" + v->id + "' is in the 'available' state.");
    if (const std::string *id = p.find("InstanceId"); id && *id != v->instance)
      return fail("InvalidAttachment.NotFound",
                  "Volume '" + v->id + "' is not attached to instance '" + *id + "'");
    ec2::VolumeAttachment a{v->id, v->instance, v->device, "detaching", isoTimeMs(v->attachMs), false};
    linkVolume(*v, false);
    v->instance.clear(), v->device.clear(), v->attachMs = 0;
    save(*v);
    return ec2::writeAttachment("DetachVolume", rid, a);
  }

  // Addresses ----------------------------------------------------------------------------------
  Out<Addr *> address(const net::Ec2Params &p) {
    if (const std::string *id = p.find("AllocationId")) {
      auto it = addrs.find(*id);
      if (it == addrs.end())
        return fail("InvalidAllocationID.NotFound", "The allocation ID '" + *id + "' does not exist");
      return &it->second;
    }
    if (const std::string *ip = p.find("PublicIp")) {
      for (auto &[k, a] : addrs)
        if (a.ip == *ip) return &a;
      return fail("InvalidAddress.NotFound", "Address '" + *ip + "' not found.");
    }
    return fail("MissingParameter", "Either public IP or allocation id must be specified");
  }

  Out<std::string> allocateAddress(const net::Ec2Params &, const std::string &rid) {
    if (int64_t(addrs.size()) >= c.quotaAddresses)
      return fail("AddressLimitExceeded", "The maximum number of addresses has been reached.");
    std::set<std::string> used;
    for (auto &[k, a] : addrs) used.insert(a.ip);
    Addr a;
    for (int k = 1; k <= 254 && a.ip.empty(); ++k) {
      std::string ip = "127." + std::to_string(c.index) + ".200." + std::to_string(k);
      if (!used.count(ip)) a.ip = ip;
    }
    if (a.ip.empty())
      return fail("AddressLimitExceeded", "The maximum number of addresses has been reached.");
    a.alloc = "eipalloc-" + hex(17);
    addrs[a.alloc] = a;
    save(a);
    return ec2::writeAllocateAddress(rid, view(a));
  }

  Out<std::string> associateAddress(const net::Ec2Params &p, const std::string &rid) {
    auto ar = address(p);
    if (auto *f = std::get_if<Fail>(&ar)) return *f;
    Addr *a = std::get<Addr *>(ar);
    auto idR = instanceIdParam(p);
    if (auto *f = std::get_if<Fail>(&idR)) return *f;
    Inst &i = insts[std::get<std::string>(idR)];
    if (i.state == State::Terminated || i.state == State::ShuttingDown)
      return fail("IncorrectInstanceState",
                  "The instance '" + i.id + "' is not in a valid state for this operation.");
    bool allow = p.find("AllowReassociation") && *p.find("AllowReassociation") == "true";
    if (!a->instance.empty() && a->instance != i.id && !allow)
      return fail("Resource.AlreadyAssociated",
                  "resource " + a->alloc + " is already associated with associate-id " + a->assoc);
    for (auto &[k, o] : addrs)
      if (o.instance == i.id && &o != a) disassociate(o);
    if (!a->instance.empty()) forwarder.remove(a->ip);
    a->instance = i.id;
    a->assoc = "eipassoc-" + hex(17);
    save(*a);
    if (i.state == State::Pending || i.state == State::Running)
      forwarder.add(a->ip, i.privateIp, c.forwardPorts);
    return ec2::writeAssociateAddress(rid, a->assoc);
  }

  Out<std::string> disassociateAddress(const net::Ec2Params &p, const std::string &rid) {
    Addr *a = nullptr;
    if (const std::string *id = p.find("AssociationId")) {
      for (auto &[k, o] : addrs)
        if (o.assoc == *id && !id->empty()) a = &o;
      if (!a) return fail("InvalidAssociationID.NotFound", "The association ID '" + *id + "' does not exist");
    } else {
      auto ar = address(p);
      if (auto *f = std::get_if<Fail>(&ar)) return *f;
      a = std::get<Addr *>(ar);
    }
    if (!a->instance.empty()) disassociate(*a);
    return ec2::writeReturn("DisassociateAddress", rid);
  }

  Out<std::string> releaseAddress(const net::Ec2Params &p, const std::string &rid) {
    auto ar = address(p);
    if (auto *f = std::get_if<Fail>(&ar)) return *f;
    Addr *a = std::get<Addr *>(ar);
    if (!a->instance.empty()) return fail("InvalidIPAddress.InUse", "Address " + a->ip + " is in use.");
    check(exec("DELETE FROM addresses WHERE alloc=?", {a->alloc}));
    addrs.erase(a->alloc);
    return ec2::writeReturn("ReleaseAddress", rid);
  }

  Out<std::string> describeAddresses(const net::Ec2Params &p, const std::string &rid) {
    auto ipsR = lift(p.list("PublicIp"));
    if (auto *f = std::get_if<Fail>(&ipsR)) return *f;
    auto allocR = lift(p.list("AllocationId"));
    if (auto *f = std::get_if<Fail>(&allocR)) return *f;
    auto &ips = std::get<std::vector<std::string>>(ipsR);
    auto &allocs = std::get<std::vector<std::string>>(allocR);
    for (auto &id : allocs)
      if (!addrs.count(id))
        return fail("InvalidAllocationID.NotFound", "The allocation ID '" + id + "' does not exist");
    auto fr = filtersOf(p, {"allocation-id", "public-ip", "instance-id", "association-id", "domain"});
    if (auto *f = std::get_if<Fail>(&fr)) return *f;
    std::vector<ec2::Address> out;
    for (auto &[k, a] : addrs) {
      if (!ips.empty() && std::find(ips.begin(), ips.end(), a.ip) == ips.end()) continue;
      if (!allocs.empty() && std::find(allocs.begin(), allocs.end(), a.alloc) == allocs.end()) continue;
      Filterable f;
      f.fields = {{"allocation-id", a.alloc},
                  {"public-ip", a.ip},
                  {"instance-id", a.instance},
                  {"association-id", a.assoc},
                  {"domain", "vpc"}};
      if (matches(f, std::get<std::vector<net::Ec2Filter>>(fr))) out.push_back(view(a));
    }
    return ec2::writeDescribeAddresses(rid, out);
  }

  // Catalogue ----------------------------------------------------------------------------------
  Out<std::string> describeImages(const net::Ec2Params &p, const std::string &rid) {
    auto idsR = lift(p.list("ImageId"));
    if (auto *f = std::get_if<Fail>(&idsR)) return *f;
    auto &ids = std::get<std::vector<std::string>>(idsR);
    for (auto &id : ids) {
      bool known = false;
      for (auto &im : c.images) known = known || im.id == id;
      if (!known) return fail("InvalidAMIID.NotFound", "The image id '[" + id + "]' does not exist");
    }
    auto fr = filtersOf(p, {"image-id", "name", "state"});
    if (auto *f = std::get_if<Fail>(&fr)) return *f;
    std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeImagesResponse xmlns=\"" +
                    std::string(ec2::kXmlns) + "\">" + leaf("requestId", rid) + "<imagesSet>";
    for (auto &im : c.images) {
      if (!ids.empty() && std::find(ids.begin(), ids.end(), im.id) == ids.end()) continue;
      Filterable f;
      f.fields = {{"image-id", im.id}, {"name", im.name}, {"state", "available"}};
      if (!matches(f, std::get<std::vector<net::Ec2Filter>>(fr))) continue;
      x += "<item>" + leaf("imageId", im.id) + leaf("imageLocation", "cfm-cloud/" + im.name) +
           leaf("imageState", "available") + leaf("imageOwnerId", ownerId()) + leaf("isPublic", "true") +
           leaf("architecture", "x86_64") + leaf("imageType", "machine") + leaf("name", im.name) +
           leaf("rootDeviceType", "instance-store") + leaf("virtualizationType", "hvm") + "</item>";
    }
    return x + "</imagesSet></DescribeImagesResponse>";
  }

  Out<std::string> describeInstanceTypes(const net::Ec2Params &p, const std::string &rid) {
    auto idsR = lift(p.list("InstanceType"));
    if (auto *f = std::get_if<Fail>(&idsR)) return *f;
    auto &names = std::get<std::vector<std::string>>(idsR);
    for (auto &n : names) {
      bool known = false;
      for (auto &t : c.instanceTypes) known = known || t.name == n;
      if (!known)
        return fail("InvalidInstanceType", "The following supplied instance types do not exist: [" + n + "]");
    }
    std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeInstanceTypesResponse xmlns=\"" +
                    std::string(ec2::kXmlns) + "\">" + leaf("requestId", rid) + "<instanceTypeSet>";
    for (auto &t : c.instanceTypes) {
      if (!names.empty() && std::find(names.begin(), names.end(), t.name) == names.end()) continue;
      x += "<item>" + leaf("instanceType", t.name) + "<vCpuInfo>" +
           leaf("defaultVCpus", std::to_string(t.vcpus)) + "</vCpuInfo><memoryInfo>" +
           leaf("sizeInMiB", std::to_string(t.memoryMib)) + "</memoryInfo></item>";
    }
    return x + "</instanceTypeSet></DescribeInstanceTypesResponse>";
  }

  Out<std::string> describeAvailabilityZones(const net::Ec2Params &, const std::string &rid) {
    std::string x =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeAvailabilityZonesResponse xmlns=\"" +
        std::string(ec2::kXmlns) + "\">" + leaf("requestId", rid) + "<availabilityZoneInfo>";
    for (auto &z : c.zones)
      x += "<item>" + leaf("zoneName", z) + leaf("zoneState", "available") + leaf("regionName", c.region) +
           leaf("zoneId", z) + "</item>";
    return x + "</availabilityZoneInfo></DescribeAvailabilityZonesResponse>";
  }

  // Tags ---------------------------------------------------------------------------------------
  Out<std::vector<std::string>> resources(const net::Ec2Params &p) {
    auto idsR = lift(p.list("ResourceId"));
    if (auto *f = std::get_if<Fail>(&idsR)) return *f;
    auto &ids = std::get<std::vector<std::string>>(idsR);
    if (ids.empty()) return fail("MissingParameter", "The request must contain the parameter resourceIdSet");
    for (auto &id : ids) {
      if (id.starts_with("i-") && !insts.count(id))
        return fail("InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist");
      if (id.starts_with("vol-") && !vols.count(id))
        return fail("InvalidVolume.NotFound", "The volume '" + id + "' does not exist.");
      if (id.starts_with("eipalloc-") && !addrs.count(id))
        return fail("InvalidAllocationID.NotFound", "The allocation ID '" + id + "' does not exist");
      if (!id.starts_with("i-") && !id.starts_with("vol-") && !id.starts_with("eipalloc-"))
        return fail("InvalidID", "The ID '" + id + "' is not valid");
    }
    return ids;
  }

  Out<std::string> createTags(const net::Ec2Params &p, const std::string &rid) {
    auto rr = resources(p);
    if (auto *f = std::get_if<Fail>(&rr)) return *f;
    auto tr = lift(p.tags());
    if (auto *f = std::get_if<Fail>(&tr)) return *f;
    auto &ts = std::get<std::vector<net::Ec2Tag>>(tr);
    if (ts.empty()) return fail("MissingParameter", "The request must contain the parameter Tag");
    for (auto &t : ts)
      if (t.key.empty() || t.key.size() > 128 || t.value.size() > 256)
        return fail("InvalidParameterValue", "Tag keys must be 1 to 128 characters and values at most 256");
    for (auto &id : std::get<std::vector<std::string>>(rr)) {
      for (auto &t : ts) {
        tags[id][t.key] = t.value;
        saveTag(id, t.key, &t.value);
      }
      if (tags[id].size() > 50)
        return fail("TagLimitExceeded", "The maximum number of tags (50) was exceeded");
    }
    return ec2::writeReturn("CreateTags", rid);
  }

  Out<std::string> deleteTags(const net::Ec2Params &p, const std::string &rid) {
    auto rr = resources(p);
    if (auto *f = std::get_if<Fail>(&rr)) return *f;
    auto tr = lift(p.tags());
    if (auto *f = std::get_if<Fail>(&tr)) return *f;
    auto &ts = std::get<std::vector<net::Ec2Tag>>(tr);
    for (auto &id : std::get<std::vector<std::string>>(rr)) {
      auto &mine = tags[id];
      if (ts.empty()) {
        for (auto &[k, v] : mine) saveTag(id, k, nullptr);
        mine.clear();
      }
      for (size_t n = 0; n < ts.size(); ++n) {
        auto it = mine.find(ts[n].key);
        bool valueGiven = p.find("Tag." + std::to_string(n + 1) + ".Value") != nullptr;
        if (it != mine.end() && (!valueGiven || it->second == ts[n].value)) {
          saveTag(id, it->first, nullptr);
          mine.erase(it);
        }
      }
    }
    return ec2::writeReturn("DeleteTags", rid);
  }

  // ---- the request ------------------------------------------------------------------------------
  HttpReply reply(const Fail &f, const std::string &rid) {
    return HttpReply{f.status, ec2::writeError({f.code, f.message, rid})};
  }

  HttpReply handle(const net::HttpRequest &req, bool tooLarge) {
    std::string rid = requestId();
    if (tooLarge) return reply(fail("MalformedQueryString", "the request body is larger than 1 MiB"), rid);
    if (req.query.size() > net::kMaxQueryBytes)
      return reply(fail("MalformedQueryString", "the query string is larger than 1 MiB"), rid);
    // The parameters: the query string's (presigned requests, GET) and the form body's.
    auto fromQuery = net::decodeForm(req.query);
    if (!fromQuery) return reply(std::get<Fail>(lift(std::move(fromQuery))), rid);
    net::Params params;
    for (auto &q : *fromQuery)
      if (!q.name.starts_with("X-Amz-")) params.push_back(q);
    if (req.method == "POST") {
      auto body = net::decodeForm(req.body);
      if (!body) return reply(std::get<Fail>(lift(std::move(body))), rid);
      for (auto &b : *body) params.push_back(b);
    }
    if (params.size() > net::kMaxQueryParameters)
      return reply(fail("MalformedQueryString", "more than 2000 parameters"), rid);

    net::VerifyOptions vo;
    vo.region = c.region;
    vo.service = "ec2";
    vo.now = nowMs() / 1000;
    vo.secretFor = [this](std::string_view id) -> std::optional<std::string> {
      for (auto &k : c.accessKeys)
        if (k.id == id) return k.secret;
      return std::nullopt;
    };
    auto who = net::verify(req, vo);
    if (!who) return reply(std::get<Fail>(lift(std::move(who))), rid);

    std::lock_guard lock(mu);
    auto bucket = buckets.try_emplace(who->accessKeyId, c.throttleRate, c.throttleBurst, nowMs()).first;
    if (!bucket->second.take(nowMs()))
      return reply(fail("RequestLimitExceeded", "Request limit exceeded."), rid);

    auto pr = net::Ec2Params::from(std::move(params));
    if (!pr) return reply(std::get<Fail>(lift(std::move(pr))), rid);
    const net::Ec2Params &p = *pr;
    const std::string *action = p.find("Action");
    if (!action || action->empty())
      return reply(fail("MissingAction", "The request must contain the parameter Action"), rid);
    const std::string *version = p.find("Version");
    if (!version)
      return reply(fail("MissingParameter", "The request must contain the parameter Version"), rid);
    if (*version != kVersion)
      return reply(fail("InvalidAction", "The action " + *action + " is not valid for version " + *version +
                                             " of this web service (cfm-cloud speaks 2016-11-15)"),
                   rid);
    auto it = actions().find(*action);
    if (it == actions().end())
      return reply(fail("InvalidAction", "The action " + *action + " is not valid for this web service."),
                   rid);
    Batch batch(*this); // one commit for all the rows a request writes
    Out<std::string> out = (this->*(it->second))(p, rid);
    if (auto *f = std::get_if<Fail>(&out)) {
      log(*action + " " + f->code + ": " + f->message);
      return reply(*f, rid);
    }
    return HttpReply{200, std::get<std::string>(std::move(out))};
  }
};

const std::map<std::string, Cloud::Impl::Action, std::less<>> &Cloud::Impl::actions() {
  static const std::map<std::string, Action, std::less<>> table = {
      {"RunInstances", &Impl::runInstances},
      {"DescribeInstances", &Impl::describeInstances},
      {"StartInstances", &Impl::startInstances},
      {"StopInstances", &Impl::stopInstances},
      {"RebootInstances", &Impl::rebootInstances},
      {"TerminateInstances", &Impl::terminateInstances},
      {"CreateVolume", &Impl::createVolume},
      {"DeleteVolume", &Impl::deleteVolume},
      {"DescribeVolumes", &Impl::describeVolumes},
      {"AttachVolume", &Impl::attachVolume},
      {"DetachVolume", &Impl::detachVolume},
      {"AllocateAddress", &Impl::allocateAddress},
      {"AssociateAddress", &Impl::associateAddress},
      {"DisassociateAddress", &Impl::disassociateAddress},
      {"ReleaseAddress", &Impl::releaseAddress},
      {"DescribeAddresses", &Impl::describeAddresses},
      {"DescribeImages", &Impl::describeImages},
      {"DescribeInstanceTypes", &Impl::describeInstanceTypes},
      {"DescribeAvailabilityZones", &Impl::describeAvailabilityZones},
      {"CreateTags", &Impl::createTags},
      {"DeleteTags", &Impl::deleteTags},
  };
  return table;
}

Cloud::Cloud(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Cloud::~Cloud() = default;

Result<std::unique_ptr<Cloud>> Cloud::open(CloudConfig config, std::function<void(const std::string &)> log) {
  auto impl = std::make_unique<Impl>();
  impl->c = std::move(config);
  impl->log = std::move(log);
  std::error_code ec;
  fs::create_directories(impl->c.stateDir + "/instances", ec);
  fs::create_directories(impl->c.stateDir + "/volumes", ec);
  if (ec) return Error{ErrorKind::Io, "cannot create " + impl->c.stateDir + ": " + ec.message()};
  impl->db = CFM_TRY(sql::Db::open(impl->c.stateDir + "/cloud.db"));
  CFM_CHECK(impl->schema());
  CFM_CHECK(impl->load());
  // Adoption: an instance whose process group still lives keeps running; the others end.
  int64_t now = nowMs();
  std::optional<base::ProcessTable> table;
  for (const std::string &id : impl->order) {
    Inst &i = impl->insts[id];
    if (i.state == State::Terminated || i.state == State::Stopped) continue;
    if (Impl::groupAlive(i.pgid, false, table)) {
      impl->log("instance " + id + " adopted (process group " + std::to_string(i.pgid) + ")");
      if (i.state == State::Stopping || i.state == State::ShuttingDown) i.killAtMs = now + kStopGraceMs;
      impl->forwardFor(id, i.state == State::Pending || i.state == State::Running);
      continue;
    }
    i.pgid = 0;
    if (i.state == State::Stopping) {
      impl->toState(i, State::Stopped, now);
      continue;
    }
    if (i.state != State::ShuttingDown) {
      i.reason = "Instance process ended while cfm-cloud was down (" + isoTimeMs(now) + ")";
      i.reasonCode = "Server.InternalError";
      i.reasonMsg = "Server.InternalError: the instance's processes were gone when cfm-cloud restarted";
    }
    impl->endInstance(i, now);
  }
  impl->pgidsWritten = "\x01"; // write the file at least once
  impl->writePgids();
  impl->startLaunchers();
  return std::unique_ptr<Cloud>(new Cloud(std::move(impl)));
}

HttpReply Cloud::handle(const net::HttpRequest &request, bool bodyTooLarge) {
  return impl_->handle(request, bodyTooLarge);
}

HttpReply Cloud::errorReply(int status, std::string_view code, std::string_view message) {
  return HttpReply{status, ec2::writeError({std::string(code), std::string(message), "cfm-cloud"})};
}

void Cloud::tick() {
  std::lock_guard lock(impl_->mu);
  Impl::Batch batch(*impl_);
  impl_->advance();
}

void Cloud::shutdown() {
  impl_->stopLaunchers(); // before mu: a launcher takes it
  std::lock_guard lock(impl_->mu);
  impl_->forwarder.stop();
}

const CloudConfig &Cloud::config() const { return impl_->c; }

} // namespace cfm::cloud
