// local_cmd.cpp — `cfmc local up|status|down|kill` (local_cmd.h): starts one `cfm-cloud` per cloud
// and the MQTT broker (mosquitto, its files from local_broker.h) as background processes in
// sessions of their own, waits until each answers, and writes the AWS profiles, the managers'
// configurations and the context file; status, down and kill act on the PIDs the context file
// records (never on process names) and on the instance process groups each cloud lists in
// <state_dir>/pgids.
#include "cfmc/local_cmd.h"

#include "base/atomic_file.h"
#include "base/files.h"
#include "base/process.h"
#include "cfmc/context.h"
#include "cfmc/local_broker.h"
#include "cfmc/local_cloud_config.h"
#include "cfmc/manager_module.h"
#include "net/unix_http.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace cfm::driver {
namespace {

const char *const kLocalHelp = R"(usage: cfmc local <command> [options]

The local federation: clouds (`cfm-cloud`, a local EC2-compatible cloud each), the MQTT broker
(mosquitto, through which managers share events and reach their VMs' agents) and one manager
(`cfmd`) per cloud on this machine, every address in 127.0.0.0/8. Its files live in DIR (default ./.cfm); DIR/context.json records
what runs (`--context FILE` or CFM_CONTEXT names it for the other commands).

commands:
  up [--clouds N] [--dir DIR] [--instances Q] [--vcpus Q] [--rate N] [--boot-delay DURATION]
     [--no-broker] [--cloud-config FILE]
        start N clouds (default 2: a, b, ...; at most 26), the broker and a manager per cloud
        (cfmd, socket DIR/<cloud>/cfmd.sock, log DIR/<cloud>/cfmd.log), and return once each
        answers; writes DIR/broker/ (mosquitto.conf, dynsec.json, passwords),
        DIR/<cloud>/cloud.toml, DIR/<cloud>/manager.toml, DIR/aws/{config,credentials}
        (profiles cfm-<cloud>) and DIR/context.json. --instances and --vcpus are each cloud's
        quotas (default 20 and 64): Q is a number for every cloud or CLOUD=N,... for some
        (`--instances 20 --instances a=7` or `--instances a=7,b=20`); --rate its EC2 request
        rate per access key before RequestLimitExceeded (default 50/s, bursts of 2x),
        --boot-delay its pending->running time (default 200ms). --no-broker starts no broker:
        the managers' configurations have no [broker], so VMs get no agent credentials, run_vm
        waits for `running` only, and agents and cloud events between managers are unavailable
        (what a cloud-only benchmark compares with an EC2 client). --cloud-config FILE gives
        every cloud settings in cfm-cloud's format: [cloud] boot_delay_ms, stop_delay_ms,
        forward_ports; [quotas] instances, vcpus, addresses; [throttle] rate, burst; [[images]];
        [[instance_types]] (docs/local-federation.md); the flags above override it (a per-cloud
        quota for that cloud only).
        When DIR's context already has a live part, `up` changes nothing.
  status [--json] [--dir DIR | --context FILE]
        each cloud, manager and the broker: alive or not, pid, endpoint or socket (--json:
        clouds, managers, broker)
  down [--purge] [--dir DIR | --context FILE]
        stop the managers (their runs are cancelled), the broker and every cloud (SIGTERM, then
        SIGKILL) and its instances; keeps DIR's files unless --purge, which removes DIR
  kill CLOUD [--dir DIR | --context FILE]
        SIGKILL that cloud's cfm-cloud, all its instances and its manager at once (a disaster);
        the broker, shared by all clouds, stays

Exit status: 0 ok, 1 failure, 2 bad usage.
)";

int usage(const std::string &msg) {
  std::cerr << "cfmc local: " << msg << "\n\n" << kLocalHelp;
  return 2;
}
int fail(const std::string &msg) {
  std::cerr << "cfmc: error: " << msg << '\n';
  return 1;
}

// ---- processes ----

/// Whether `pid` is a live process (not a zombie) whose command line holds `mark` (the cloud's
/// config path), so that a recycled PID is never taken for the cloud.
bool processAlive(long pid, const std::string &mark) {
  if (pid <= 0 || kill(static_cast<pid_t>(pid), 0) != 0 || !base::processLive(static_cast<pid_t>(pid)))
    return false;
  std::ifstream cmd("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string args((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
  return mark.empty() || args.find(mark) != std::string::npos;
}

/// Whether any process that is not a zombie is in the session of one of the instance groups
/// GROUPS (base/process.h: what a procedure started on the VM through its agent included); with
/// SIG, those that are get it. One scan of /proc for all of them.
bool anySessionAlive(const std::vector<long> &groups, int sig = 0) {
  base::ProcessTable table = base::ProcessTable::scan();
  bool any = false;
  for (long g : groups)
    if (table.alive(static_cast<pid_t>(g))) {
      any = true;
      if (sig) table.signal(static_cast<pid_t>(g), sig);
    }
  return any;
}

/// Polls `gone` every 20 ms for at most `ms` milliseconds; true once it holds.
template <class F> bool waitFor(int ms, F gone) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!gone()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

/// The instance process groups a cloud lists in <state_dir>/pgids.
std::vector<long> readPgids(const std::string &stateDir) {
  std::vector<long> out;
  std::ifstream in(stateDir + "/pgids");
  long g = 0;
  while (in >> g)
    if (g > 1) out.push_back(g);
  return out;
}

/// Stops a cloud: SIGTERM (or SIGKILL when `hard`) to its cfm-cloud, then its instance groups;
/// waits (bounded) until all are gone, escalating to SIGKILL. False when something survived.
bool stopCloud(const ContextCloud &k, bool hard) {
  bool ok = true;
  if (hard) {
    // The disaster: everything at once, the groups read before cfm-cloud can rewrite the list.
    std::vector<long> groups = readPgids(k.stateDir);
    if (processAlive(k.pid, k.config)) kill(static_cast<pid_t>(k.pid), SIGKILL);
    for (long g : groups) kill(static_cast<pid_t>(-g), SIGKILL);
    anySessionAlive(groups, SIGKILL);
    ok = waitFor(10000, [&] { return !processAlive(k.pid, k.config); });
    // again while anything lives: a process of the VM may have forked between scans
    return waitFor(10000, [&] { return !anySessionAlive(groups, SIGKILL); }) && ok;
  }
  if (processAlive(k.pid, k.config)) {
    kill(static_cast<pid_t>(k.pid), SIGTERM);
    if (!waitFor(10000, [&] { return !processAlive(k.pid, k.config); })) {
      kill(static_cast<pid_t>(k.pid), SIGKILL);
      ok = waitFor(10000, [&] { return !processAlive(k.pid, k.config); });
    }
  }
  // Every instance at once, then the waits: software on one VM may wait for its clients on
  // another to leave (PostgreSQL's shutdown waits for its sessions) before it ends.
  std::vector<long> groups = readPgids(k.stateDir);
  anySessionAlive(groups, SIGTERM);
  if (waitFor(5000, [&] { return !anySessionAlive(groups); })) return ok;
  return waitFor(10000, [&] { return !anySessionAlive(groups, SIGKILL); }) && ok;
}

/// The program NAME (`cfm-cloud`, `cfmd`): beside this executable, else on PATH; "" when neither.
std::string findProgram(const std::string &name) {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path beside = self.parent_path() / name;
    if (access(beside.c_str(), X_OK) == 0) return beside;
  }
  return findOnPath(name);
}

/// Starts `program <flag> config` (argv[0] `name`) in a session of its own, stdin from /dev/null,
/// stdout and stderr appended to `log`.
Result<pid_t> spawnDaemon(const std::string &program, const char *name, const char *flag,
                          const std::string &config, const std::string &log) {
  int logFd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (logFd < 0) return Error{ErrorKind::Io, "cannot open " + log + ": " + std::strerror(errno)};
  pid_t pid = fork();
  if (pid < 0) {
    close(logFd);
    return Error{ErrorKind::Io, std::string("fork: ") + std::strerror(errno)};
  }
  if (pid == 0) {
    setsid();
    int nul = open("/dev/null", O_RDONLY);
    dup2(nul, 0);
    dup2(logFd, 1);
    dup2(logFd, 2);
    execl(program.c_str(), name, flag, config.c_str(), static_cast<char *>(nullptr));
    dprintf(2, "cfmc: cannot run %s: %s\n", program.c_str(), std::strerror(errno));
    _exit(127);
  }
  close(logFd);
  return pid;
}

/// Whether a TCP server at http://127.x.y.z:PORT/ answers an HTTP request with anything.
bool endpointAnswers(const std::string &endpoint) {
  const std::string prefix = "http://";
  if (endpoint.rfind(prefix, 0) != 0) return false;
  std::string hostPort = endpoint.substr(prefix.size());
  hostPort = hostPort.substr(0, hostPort.find('/'));
  size_t colon = hostPort.rfind(':');
  if (colon == std::string::npos) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(hostPort.substr(colon + 1).c_str())));
  if (inet_pton(AF_INET, hostPort.substr(0, colon).c_str(), &addr.sin_addr) != 1) return false;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0) {
    std::string req = "GET / HTTP/1.1\r\nHost: " + hostPort + "\r\nConnection: close\r\n\r\n";
    char buf[64];
    ok = write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size()) &&
         read(fd, buf, sizeof buf) > 0;
  }
  close(fd);
  return ok;
}

/// The last lines of a log, for an error message.
std::string logTail(const std::string &log) {
  auto text = base::readRegularFile(log, uint64_t(16) << 20);
  if (!text || text->empty()) return "  (the log " + log + " is empty)";
  std::vector<std::string> lines;
  std::istringstream in(*text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::string out = "  last lines of " + log + ":";
  for (size_t i = lines.size() > 10 ? lines.size() - 10 : 0; i < lines.size(); ++i)
    out += "\n    " + lines[i];
  return out;
}

// ---- up ----

/// A quota of `up`: one number for every cloud, and per-cloud numbers (`--instances a=7,b=20`).
struct CloudQuota {
  long all = 0;
  bool allGiven = false; // a plain number on the command line (it overrides --cloud-config)
  std::map<std::string, long> perCloud;
  long of(const std::string &cloud) const {
    auto it = perCloud.find(cloud);
    return it == perCloud.end() ? all : it->second;
  }
};

struct UpOptions {
  int clouds = 2;
  std::string dir = ".cfm";
  CloudQuota instances{20, false, {}}, vcpus{64, false, {}};
  long bootDelayMs = 200;
  double rate = 50;          // requests per second per access key (cfm-cloud's token bucket; burst 2x)
  bool broker = true;        // --no-broker: clouds and managers only (no agents, no cloud events)
  LocalCloudSettings shared; // --cloud-config: what the flags leave to the file
};

/// `--boot-delay`: `250ms`, `2s`, or a number of milliseconds.
bool parseDuration(const std::string &s, long &ms) {
  size_t end = s.find_first_not_of("0123456789");
  if (end == 0 || s.empty()) return false;
  long n = std::atol(s.substr(0, end).c_str());
  std::string unit = end == std::string::npos ? "ms" : s.substr(end);
  if (unit == "ms")
    ms = n;
  else if (unit == "s")
    ms = n * 1000;
  else
    return false;
  return n <= 3600L * 1000;
}

/// Random characters from `alphabet` (from /dev/urandom), for access keys.
Result<std::string> randomText(size_t n, std::string_view alphabet) {
  std::ifstream in("/dev/urandom", std::ios::binary);
  std::string raw(n, '\0');
  if (!in.read(raw.data(), static_cast<std::streamsize>(n)))
    return Error{ErrorKind::Io, "cannot read /dev/urandom"};
  std::string out;
  for (char c : raw) out += alphabet[static_cast<unsigned char>(c) % alphabet.size()];
  return out;
}

struct CloudKeys {
  std::string id, secret;
};

std::string quoted(const std::string &s) { return nlohmann::json(s).dump(); }

std::string cloudToml(const std::string &name, int index, const std::string &region, const CloudKeys &k,
                      const UpOptions &o) {
  std::ostringstream t;
  t << "# cloud.toml — cloud `" << name << "` of the local federation, written by `cfmc local up`\n"
    << "[cloud]\nname = " << quoted(name) << "\nindex = " << index << "\nlisten = \"127.0.0.1:0\"\n"
    << "region = " << quoted(region) << "\nzones = [" << quoted(region + "-1") << "]\n"
    << "state_dir = \"state\"\nboot_delay_ms = " << o.bootDelayMs << "\n";
  if (o.shared.stopDelayMs) t << "stop_delay_ms = " << *o.shared.stopDelayMs << "\n";
  t << o.shared.forwardPorts << "\n"
    << "[[access_keys]]\nid = " << quoted(k.id) << "\nsecret = " << quoted(k.secret) << "\n\n"
    << "[quotas]\ninstances = " << o.instances.of(name) << "\nvcpus = " << o.vcpus.of(name) << "\n";
  if (o.shared.addresses) t << "addresses = " << *o.shared.addresses << "\n";
  t << "\n[throttle]\nrate = " << o.rate << "\nburst = ";
  if (o.shared.burst)
    t << *o.shared.burst;
  else
    t << 2 * o.rate;
  t << "\n" << o.shared.imagesAndTypes;
  return t.str();
}

std::string managerToml(const ContextCloud &k, const std::string &dir, const std::string &brokerUrl) {
  std::ostringstream t;
  t << "# manager.toml — manager `" << k.name << "` of the local federation, written by `cfmc local up`\n"
    << "# (the format: docs/manager-config.md)\n"
    << "[manager]\nname = " << quoted(k.name) << "\nstore = " << quoted(dir + "/" + k.name + "/store.db")
    << "\n\n[cloud]\nname = " << quoted(k.name) << "\nendpoint = " << quoted(k.endpoint)
    << "\nregion = " << quoted(k.region) << "\ncredentials = " << quoted(dir + "/aws/credentials")
    << "\nprofile = " << quoted("cfm-" + k.name) << "\n\n"
    << "[mapping]\ndefault_image = \"ami-cfm-default\"\n"
    << "instance_types = [\n"
    << "  { name = \"c1.micro\", vcpus = 1, memory_mib = 512 },\n"
    << "  { name = \"c1.small\", vcpus = 1, memory_mib = 1024 },\n"
    << "  { name = \"c1.medium\", vcpus = 2, memory_mib = 2048 },\n"
    << "  { name = \"c1.large\", vcpus = 4, memory_mib = 8192 },\n"
    << "  { name = \"c1.xlarge\", vcpus = 8, memory_mib = 16384 } ]\n"
    << (brokerUrl.empty() ? "" : brokerSection(brokerUrl, k.name, managerPasswordFile(dir, k.name)));
  return t.str();
}

Result<void> writeFile(const std::string &path, const std::string &text) {
  return base::replaceFileAtomically(path, text);
}

/// Stops manager M's cfmd: SIGTERM (it cancels its runs, waiting up to 10 s for them), SIGKILL
/// after 15 s; SIGKILL at once when `hard`. True when it is gone.
bool stopManager(const ContextManager &m, bool hard) {
  auto gone = [&] { return !processAlive(m.pid, m.config); };
  if (gone()) return true;
  kill(static_cast<pid_t>(m.pid), hard ? SIGKILL : SIGTERM);
  if (waitFor(hard ? 10000 : 15000, gone)) return true;
  kill(static_cast<pid_t>(m.pid), SIGKILL);
  return waitFor(10000, gone);
}

/// Starts manager M's cfmd and waits until its socket answers; fills pid and socket. `m.pid` is
/// set as soon as the process exists, so that a failure can stop it.
Result<void> startManager(const std::string &program, const std::string &dir, ContextManager &m) {
  m.socket = (fs::path(dir) / m.name / "cfmd.sock").string();
  if (m.socket.size() >= sizeof(sockaddr_un{}.sun_path))
    return Error{ErrorKind::Usage, "the control socket " + m.socket + " is too long for a Unix socket (" +
                                       std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                                       " bytes at most): use a shorter --dir"};
  std::string log = (fs::path(dir) / m.name / "cfmd.log").string();
  auto pid = spawnDaemon(program, "cfmd", "--config", m.config, log);
  if (!pid) return pid.takeError();
  m.pid = *pid;
  for (int i = 0; i < 300; ++i) {
    int status = 0;
    if (waitpid(*pid, &status, WNOHANG) == *pid) {
      m.pid = 0;
      return Error{ErrorKind::Io, "manager " + m.name + " (cfmd) exited at start:\n" + logTail(log)};
    }
    if (net::unixSocketAnswers(m.socket)) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Error{ErrorKind::Io, "manager " + m.name + " (cfmd) did not answer on " + m.socket +
                                  " within 15 s:\n" + logTail(log)};
}

/// Starts cloud `k` (its folder and config written) and waits until it answers; fills pid and
/// endpoint. `k.pid` is set as soon as the process exists, so that a failure can stop it.
Result<void> startCloud(const std::string &program, ContextCloud &k) {
  fs::path folder = fs::path(k.config).parent_path();
  std::string log = (folder / "cfm-cloud.log").string();
  std::string info = k.stateDir + "/cfm-cloud.json";
  std::error_code ec;
  fs::remove(info, ec); // a previous run's; the new one is written once it listens
  auto pid = spawnDaemon(program, "cfm-cloud", "--config", k.config, log);
  if (!pid) return pid.takeError();
  k.pid = *pid;
  bool exited = false;
  std::string why;
  bool up = waitFor(30000, [&] {
    int status = 0;
    if (waitpid(*pid, &status, WNOHANG) == *pid) {
      exited = true;
      why = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                              : "was killed by signal " + std::to_string(WTERMSIG(status));
      return true;
    }
    auto text = base::readRegularFile(info, 1 << 16);
    if (!text) return false;
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("endpoint") || !j["endpoint"].is_string())
      return false;
    k.endpoint = j["endpoint"].get<std::string>();
    if (j.contains("region") && j["region"].is_string()) k.region = j["region"].get<std::string>();
    return endpointAnswers(k.endpoint);
  });
  if (exited) {
    k.pid = 0;
    return Error{ErrorKind::Io, "cfm-cloud of cloud `" + k.name + "` " + why + "\n" + logTail(log)};
  }
  if (!up) return Error{ErrorKind::Io, "cloud `" + k.name + "` did not answer within 30s\n" + logTail(log)};
  return {};
}

/// Stops the broker: SIGTERM (SIGKILL when `hard`) to its recorded pid, then SIGKILL after 10 s.
bool stopBroker(const ContextBroker &b, bool hard) {
  auto gone = [&] { return !processAlive(b.pid, b.config); };
  if (gone()) return true;
  kill(static_cast<pid_t>(b.pid), hard ? SIGKILL : SIGTERM);
  if (waitFor(10000, gone)) return true;
  kill(static_cast<pid_t>(b.pid), SIGKILL);
  return waitFor(10000, gone);
}

/// Writes the broker's files (local_broker.h), starts mosquitto and waits until cfm-admin can
/// log in. `b.pid` is set as soon as the process exists, so that a failure can stop it.
Result<void> startBroker(const std::string &dir, const std::vector<std::string> &managers, ContextBroker &b) {
  std::string program = findMosquitto();
  if (program.empty())
    return Error{ErrorKind::Io, "cannot find `mosquitto` (on PATH or /usr/sbin): install Debian's mosquitto"};
  // The broker's secrets and its probe (libcrypto, Paho) are in the manager module (issue 18).
  auto module = managerModule();
  if (!module) return module.takeError();
  auto files = (*module)->writeBrokerFiles(dir, managers);
  if (!files) return files.takeError();
  b.url = files->url;
  b.dir = files->dir;
  b.config = files->config;
  auto pid = spawnDaemon(program, "mosquitto", "-c", files->config, files->log);
  if (!pid) return pid.takeError();
  b.pid = *pid;
  std::string why;
  bool up = waitFor(30000, [&] {
    int status = 0;
    if (waitpid(*pid, &status, WNOHANG) == *pid) {
      why = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                              : "was killed by signal " + std::to_string(WTERMSIG(status));
      return true;
    }
    return static_cast<bool>((*module)->brokerAnswers(*files, std::chrono::milliseconds(1000)));
  });
  if (!why.empty()) {
    b.pid = 0;
    return Error{ErrorKind::Io, "mosquitto " + why + "\n" + logTail(files->log)};
  }
  if (!up) return Error{ErrorKind::Io, "the broker did not answer within 30s\n" + logTail(files->log)};
  return {};
}

int cmdUp(const UpOptions &o) {
  std::error_code ec;
  fs::path dir = fs::absolute(o.dir, ec);
  if (ec) return fail("bad --dir `" + o.dir + "`: " + ec.message());
  dir = dir.lexically_normal();
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    return fail(dir.string() + " exists and is not a directory");
  std::string ctxPath = (dir / "context.json").string();
  if (fs::exists(ctxPath, ec)) {
    if (auto old = readContext(ctxPath)) {
      std::vector<std::string> alive, dead;
      for (const ContextCloud &k : old->clouds)
        (processAlive(k.pid, k.config) ? alive : dead).push_back(k.name);
      for (const ContextManager &m : old->managers)
        (processAlive(m.pid, m.config) ? alive : dead).push_back("manager " + m.name);
      if (old->broker)
        (processAlive(old->broker->pid, old->broker->config) ? alive : dead).push_back("broker");
      if (!alive.empty()) {
        std::cout << "the local federation in " << dir.string() << " is already up; nothing changed\n";
        if (dead.empty()) return 0;
        std::string list;
        for (const std::string &d : dead) list += (list.empty() ? "" : ", ") + d;
        return fail(list + " are not running: `cfmc local down --dir " + dir.string() +
                    "` then `cfmc local up` restarts them");
      }
    }
  }
  std::string program = findProgram("cfm-cloud");
  if (program.empty())
    return fail("cannot find the `cfm-cloud` program (looked beside cfmc and on PATH); build it or add "
                "its folder to PATH");
  std::string managerProgram = findProgram("cfmd");
  if (managerProgram.empty())
    return fail("cannot find the `cfmd` program (looked beside cfmc and on PATH); build it or add "
                "its folder to PATH");
  fs::create_directories(dir / "aws", ec);
  if (ec) return fail("cannot create " + (dir / "aws").string() + ": " + ec.message());

  Context ctx;
  ctx.path = ctxPath;
  ctx.dir = dir.string();
  std::vector<CloudKeys> keys;
  auto stopStarted = [&] {
    for (const ContextManager &m : ctx.managers)
      if (m.pid > 0) {
        stopManager(m, true);
        waitpid(static_cast<pid_t>(m.pid), nullptr, WNOHANG);
      }
    if (ctx.broker && ctx.broker->pid > 0) {
      stopBroker(*ctx.broker, true);
      waitpid(static_cast<pid_t>(ctx.broker->pid), nullptr, WNOHANG);
    }
    for (const ContextCloud &k : ctx.clouds)
      if (k.pid > 0) {
        stopCloud(k, true);
        waitpid(static_cast<pid_t>(k.pid), nullptr, WNOHANG);
      }
  };
  for (int i = 0; i < o.clouds; ++i) {
    ContextCloud k;
    k.name = std::string(1, static_cast<char>('a' + i));
    k.region = "local-" + k.name;
    fs::path folder = dir / k.name;
    k.config = (folder / "cloud.toml").string();
    k.stateDir = (folder / "state").string();
    fs::create_directories(k.stateDir, ec);
    if (ec) {
      stopStarted();
      return fail("cannot create " + k.stateDir + ": " + ec.message());
    }
    auto id = randomText(11, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    auto secret = randomText(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    if (!id || !secret) {
      stopStarted();
      return fail("cannot make access keys: cannot read /dev/urandom");
    }
    keys.push_back({"AKIDLOCAL" + *id, *secret});
    if (auto w = writeFile(k.config, cloudToml(k.name, i + 1, k.region, keys.back(), o)); !w) {
      stopStarted();
      return fail(w.error().message);
    }
    ctx.clouds.push_back(k);
    if (auto s = startCloud(program, ctx.clouds.back()); !s) {
      stopStarted();
      return fail(s.error().message);
    }
  }
  // The broker (one for the federation; an account per manager), then (later) one cfmd per cloud.
  std::vector<std::string> managerNames;
  for (const ContextCloud &k : ctx.clouds) managerNames.push_back(k.name);
  if (o.broker) {
    ctx.broker.emplace();
    if (auto b = startBroker(dir.string(), managerNames, *ctx.broker); !b) {
      stopStarted();
      return fail(b.error().message);
    }
  }

  std::string awsConfig = "# written by `cfmc local up`: one profile per local cloud\n";
  std::string awsCredentials = "# written by `cfmc local up`: one profile per local cloud\n";
  for (size_t i = 0; i < ctx.clouds.size(); ++i) {
    const ContextCloud &k = ctx.clouds[i];
    awsConfig += "\n[profile cfm-" + k.name + "]\nregion = " + k.region + "\n";
    awsCredentials += "\n[cfm-" + k.name + "]\naws_access_key_id = " + keys[i].id +
                      "\naws_secret_access_key = " + keys[i].secret + "\n";
  }
  std::vector<std::pair<std::string, std::string>> files = {
      {(dir / "aws" / "config").string(), awsConfig},
      {(dir / "aws" / "credentials").string(), awsCredentials}};
  for (const ContextCloud &k : ctx.clouds) {
    ContextManager m{k.name, (dir / k.name / "manager.toml").string(), k.name, ""};
    files.emplace_back(m.config, managerToml(k, dir.string(), ctx.broker ? ctx.broker->url : ""));
    ctx.managers.push_back(m);
  }
  files.emplace_back(ctxPath, contextJson(ctx));
  for (const auto &[path, text] : files) {
    if (auto w = writeFile(path, text); !w) {
      stopStarted();
      return fail(w.error().message);
    }
  }
  chmod((dir / "aws" / "credentials").c_str(), 0600);
  // One cfmd per cloud, after the broker and its configuration; the context again with their pids.
  for (ContextManager &m : ctx.managers)
    if (auto s = startManager(managerProgram, dir.string(), m); !s) {
      stopStarted();
      return fail(s.error().message);
    }
  if (auto w = writeFile(ctxPath, contextJson(ctx)); !w) {
    stopStarted();
    return fail(w.error().message);
  }
  for (const ContextCloud &k : ctx.clouds)
    std::cout << "cloud " << k.name << ": cfm-cloud pid " << k.pid << ", endpoint " << k.endpoint
              << ", region " << k.region << '\n';
  if (ctx.broker)
    std::cout << "broker: mosquitto pid " << ctx.broker->pid << ", " << ctx.broker->url << '\n';
  else
    std::cout << "broker: none (--no-broker)\n";
  for (const ContextManager &m : ctx.managers)
    std::cout << "manager " << m.name << ": cfmd pid " << m.pid << ", socket " << m.socket << '\n';
  std::cout << "context: " << ctxPath
            << "\naws profiles: AWS_CONFIG_FILE=" << (dir / "aws" / "config").string()
            << " AWS_SHARED_CREDENTIALS_FILE=" << (dir / "aws" / "credentials").string()
            << " (cfm-<cloud>)\n";
  return 0;
}

// ---- status, down, kill ----

int cmdStatus(const Context &ctx, bool json) {
  if (json) {
    nlohmann::ordered_json j;
    j["context"] = ctx.path;
    j["dir"] = ctx.dir;
    j["clouds"] = nlohmann::ordered_json::object();
    for (const ContextCloud &k : ctx.clouds)
      j["clouds"][k.name] = {{"endpoint", k.endpoint},
                             {"region", k.region},
                             {"pid", k.pid},
                             {"alive", processAlive(k.pid, k.config)},
                             {"config", k.config}};
    j["managers"] = nlohmann::ordered_json::object();
    for (const ContextManager &m : ctx.managers)
      j["managers"][m.name] = {{"name", m.name},   {"config", m.config},
                               {"cloud", m.cloud}, {"socket", m.socket},
                               {"pid", m.pid},     {"alive", processAlive(m.pid, m.config)}};
    if (ctx.broker)
      j["broker"] = {{"url", ctx.broker->url},
                     {"pid", ctx.broker->pid},
                     {"alive", processAlive(ctx.broker->pid, ctx.broker->config)},
                     {"dir", ctx.broker->dir}};
    else
      j["broker"] = nullptr;
    std::cout << j.dump(2) << '\n';
    return 0;
  }
  std::cout << "context: " << ctx.path << '\n';
  for (const ContextCloud &k : ctx.clouds)
    std::cout << "cloud " << k.name << ": " << (processAlive(k.pid, k.config) ? "alive" : "dead") << ", pid "
              << k.pid << ", endpoint " << k.endpoint << ", region " << k.region << '\n';
  for (const ContextManager &m : ctx.managers)
    std::cout << "manager " << m.name << ": " << (processAlive(m.pid, m.config) ? "alive" : "dead")
              << ", pid " << m.pid << ", socket " << m.socket << '\n';
  if (ctx.broker)
    std::cout << "broker: " << (processAlive(ctx.broker->pid, ctx.broker->config) ? "alive" : "dead")
              << ", pid " << ctx.broker->pid << ", " << ctx.broker->url << '\n';
  return 0;
}

int cmdDown(const Context &ctx, bool purge) {
  bool ok = true;
  // The managers first (their runs are cancelled), then the broker and the clouds.
  for (const ContextManager &m : ctx.managers) {
    bool was = processAlive(m.pid, m.config);
    if (!stopManager(m, false)) {
      ok = false;
      std::cerr << "cfmc: error: manager " << m.name << " (pid " << m.pid << ") did not stop\n";
      continue;
    }
    std::cout << "manager " << m.name << ": "
              << (was ? "stopped (pid " + std::to_string(m.pid) + ")" : "not running") << '\n';
  }
  if (ctx.broker) {
    bool was = processAlive(ctx.broker->pid, ctx.broker->config);
    if (!stopBroker(*ctx.broker, false)) {
      ok = false;
      std::cerr << "cfmc: error: the broker (pid " << ctx.broker->pid << ") did not stop\n";
    } else {
      std::cout << "broker: "
                << (was ? "stopped (pid " + std::to_string(ctx.broker->pid) + ")" : "not running") << '\n';
    }
  }
  for (const ContextCloud &k : ctx.clouds) {
    bool was = processAlive(k.pid, k.config);
    if (!stopCloud(k, false)) {
      ok = false;
      std::cerr << "cfmc: error: cloud " << k.name << ": a process did not stop\n";
      continue;
    }
    std::cout << "cloud " << k.name << ": "
              << (was ? "stopped (pid " + std::to_string(k.pid) + ")" : "not running") << '\n';
  }
  if (!ok) return 1;
  if (!purge) {
    std::cout << "files kept in " << ctx.dir << " (`cfmc local down --purge` removes them)\n";
    return 0;
  }
  std::error_code ec;
  if (ctx.dir.empty() || !fs::exists(fs::path(ctx.dir) / "context.json", ec))
    return fail("not removing `" + ctx.dir + "`: it holds no context.json");
  fs::remove_all(ctx.dir, ec);
  if (ec) return fail("cannot remove " + ctx.dir + ": " + ec.message());
  std::cout << "removed " << ctx.dir << '\n';
  return 0;
}

int cmdKill(const Context &ctx, const std::string &cloud) {
  auto k = findCloud(ctx, cloud);
  if (!k) return fail(k.error().message);
  // The cloud, its instances and its manager at once (the disaster); the broker is the
  // federation's, not the cloud's: it stays.
  for (const ContextManager &m : ctx.managers)
    if (m.cloud == cloud && m.pid > 0 && processAlive(m.pid, m.config))
      kill(static_cast<pid_t>(m.pid), SIGKILL);
  if (!stopCloud(**k, true)) return fail("cloud " + cloud + ": a process survived SIGKILL");
  for (const ContextManager &m : ctx.managers)
    if (m.cloud == cloud && !stopManager(m, true)) return fail("manager " + m.name + " survived SIGKILL");
  std::cout << "cloud " << cloud << ": killed (cfm-cloud pid " << (*k)->pid << ", its instances";
  for (const ContextManager &m : ctx.managers)
    if (m.cloud == cloud && m.pid > 0) std::cout << " and manager " << m.name << ", cfmd pid " << m.pid;
  std::cout << ")\n";
  return 0;
}

/// `--NAME VALUE` or `--NAME=VALUE` at in[i]; 1 taken, 0 not this option, -1 value missing.
int takeValue(const std::vector<std::string> &in, size_t &i, const std::string &name, std::string &out) {
  const std::string flag = "--" + name;
  if (in[i] == flag) {
    if (i + 1 >= in.size()) return -1;
    out = in[++i];
    return 1;
  }
  if (in[i].rfind(flag + "=", 0) == 0) {
    out = in[i].substr(flag.size() + 1);
    return 1;
  }
  return 0;
}

bool parseCount(const std::string &s, long lo, long hi, long &out) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  out = std::atol(s.c_str());
  return out >= lo && out <= hi;
}

/// A quota flag's value: `N` (every cloud) or `CLOUD=N` items separated by commas, the flag
/// repeatable (`--instances 20 --instances a=7` or `--instances a=7,b=20`).
bool parseQuota(const std::string &s, CloudQuota &q) {
  if (s.empty()) return false;
  std::istringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    long n = 0;
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      if (!parseCount(item, 0, 1000000, n)) return false;
      q.all = n;
      q.allGiven = true;
    } else {
      std::string name = item.substr(0, eq);
      if (name.empty() || !parseCount(item.substr(eq + 1), 0, 1000000, n)) return false;
      q.perCloud[name] = n;
    }
  }
  return s.back() != ',';
}

} // namespace

int cmdLocal(const std::vector<std::string> &args) {
  if (args.empty()) return usage("give a command: up, status, down or kill");
  const std::string &cmd = args[0];
  if (cmd == "-h" || cmd == "--help") {
    std::cout << kLocalHelp;
    return 0;
  }
  if (cmd != "up" && cmd != "status" && cmd != "down" && cmd != "kill")
    return usage("unknown command `" + cmd + "`");
  UpOptions up;
  std::string dir, context, cloud, cloudConfig;
  bool json = false, purge = false;
  std::set<std::string> given; // up's flags given on the command line (they override --cloud-config)
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kLocalHelp;
      return 0;
    }
    std::string v;
    int r = 0;
    if ((r = takeValue(args, i, "dir", v))) {
      if (r < 0 || v.empty()) return usage("`--dir` needs a folder");
      dir = v;
    } else if (cmd != "up" && (r = takeValue(args, i, "context", v))) {
      if (r < 0 || v.empty()) return usage("`--context` needs a file");
      context = v;
    } else if (cmd == "up" && (r = takeValue(args, i, "clouds", v))) {
      long n = 0;
      if (r < 0 || !parseCount(v, 1, 26, n)) return usage("`--clouds` needs a number from 1 to 26");
      up.clouds = static_cast<int>(n);
    } else if (cmd == "up" && (r = takeValue(args, i, "instances", v))) {
      if (r < 0 || !parseQuota(v, up.instances))
        return usage("`--instances` needs a number or CLOUD=N,... (e.g. 20 or a=7,b=20)");
    } else if (cmd == "up" && (r = takeValue(args, i, "vcpus", v))) {
      if (r < 0 || !parseQuota(v, up.vcpus))
        return usage("`--vcpus` needs a number or CLOUD=N,... (e.g. 64 or a=8,b=64)");
    } else if (cmd == "up" && (r = takeValue(args, i, "rate", v))) {
      given.insert("rate");
      long rate = 0;
      if (r < 0 || !parseCount(v, 1, 1000000, rate)) return usage("`--rate` needs a number from 1");
      up.rate = static_cast<double>(rate);
    } else if (cmd == "up" && (r = takeValue(args, i, "boot-delay", v))) {
      given.insert("boot-delay");
      if (r < 0 || !parseDuration(v, up.bootDelayMs))
        return usage("`--boot-delay` needs a duration such as 200ms or 1s");
    } else if (cmd == "up" && (r = takeValue(args, i, "cloud-config", v))) {
      if (r < 0 || v.empty()) return usage("`--cloud-config` needs a file");
      cloudConfig = v;
    } else if (cmd == "up" && a == "--no-broker") {
      up.broker = false;
    } else if (cmd == "status" && a == "--json") {
      json = true;
    } else if (cmd == "down" && a == "--purge") {
      purge = true;
    } else if (cmd == "kill" && cloud.empty() && !a.empty() && a[0] != '-') {
      cloud = a;
    } else {
      return usage("`" + cmd + "`: unexpected `" + a + "`");
    }
  }
  if (cmd == "up") {
    if (!dir.empty()) up.dir = dir;
    for (const CloudQuota *q : {&up.instances, &up.vcpus})
      for (const auto &entry : q->perCloud)
        if (const std::string &name = entry.first;
            name.size() != 1 || name[0] < 'a' || name[0] >= 'a' + up.clouds)
          return usage("no cloud `" + name + "` among the " + std::to_string(up.clouds) +
                       " clouds (a, b, ...) for a per-cloud quota");
    if (!cloudConfig.empty()) {
      auto shared = readLocalCloudSettings(cloudConfig);
      if (!shared) return fail(shared.error().message);
      up.shared = std::move(*shared);
      if (!up.instances.allGiven && up.shared.instances) up.instances.all = *up.shared.instances;
      if (!up.vcpus.allGiven && up.shared.vcpus) up.vcpus.all = *up.shared.vcpus;
      if (!given.count("boot-delay") && up.shared.bootDelayMs) up.bootDelayMs = *up.shared.bootDelayMs;
      if (!given.count("rate") && up.shared.rate) up.rate = *up.shared.rate;
    }
    return cmdUp(up);
  }
  if (!dir.empty() && !context.empty()) return usage("give `--dir` or `--context`, not both");
  if (cmd == "kill" && cloud.empty()) return usage("`kill` needs the name of a cloud");
  std::string path = !dir.empty() ? (fs::path(dir) / "context.json").string() : contextPath(context);
  auto ctx = readContext(path);
  if (!ctx) return fail(ctx.error().message);
  if (ctx->dir.empty()) ctx->dir = fs::path(path).parent_path().string();
  if (cmd == "status") return cmdStatus(*ctx, json);
  if (cmd == "down") return cmdDown(*ctx, purge);
  return cmdKill(*ctx, cloud);
}

} // namespace cfm::driver
