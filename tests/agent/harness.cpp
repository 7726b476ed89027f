// harness.cpp — the cfm-agent tests' broker, agent processes and test manager (harness.h).
#include "harness.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

extern char **environ;

namespace cfm::agenttest {

namespace {

bool canConnect(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(s, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

} // namespace

pid_t spawn(const std::vector<std::string> &args, const fs::path &log) {
  std::vector<char *> argv;
  for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  EXPECT_EQ(rc, 0) << "cannot start " << args[0];
  return rc == 0 ? pid : -1;
}

void stopPid(pid_t &pid, int sig, int *status) {
  if (pid <= 0) return;
  ::kill(pid, sig);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (status) *status = st;
  pid = -1;
}

TempDir::TempDir() {
  fs::path base = fs::path(CFM_BINARY_DIR) / "agent-tests";
  fs::create_directories(base);
  std::string tmpl = (base / "t-XXXXXX").string();
  char *p = mkdtemp(tmpl.data());
  path = p ? fs::path(p) : base / "t-failed";
}

TempDir::~TempDir() {
  std::error_code ec;
  // Leave it behind when the test failed, to read the logs.
  if (!::testing::Test::HasFailure()) fs::remove_all(path, ec);
}

int freePort() {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr *>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(s);
  return port;
}

Broker::Broker(const fs::path &dir, int port, std::string extra)
    : dir_(dir), port_(port ? port : freePort()), extra_(std::move(extra)) {
  start();
}

Broker::~Broker() { stopPid(pid_, SIGTERM); }

void Broker::start() {
  fs::path conf = dir_ / "mosquitto.conf";
  std::ofstream(conf) << "listener " << port_ << " 127.0.0.1\n"
                      << "allow_anonymous true\n"
                      << "persistence false\n"
                      << "set_tcp_nodelay true\n"
                      << "max_queued_messages 100000\n"
                      << "log_dest stderr\nlog_type error\nlog_type warning\n"
                      << extra_;
  pid_ = spawn({"/usr/sbin/mosquitto", "-c", conf.string()}, dir_ / "mosquitto.log");
  ASSERT_TRUE(eventually([&] { return canConnect(port_); })) << readFile(dir_ / "mosquitto.log");
}

void Broker::kill() { stopPid(pid_, SIGKILL); }

Agent::Agent(const fs::path &dir, Config config) : dir_(dir), config_(std::move(config)) {
  root_ = dir_ / ("root-" + config_.instance);
  state_ = dir_ / ("state-" + config_.instance);
  userData_ = dir_ / ("user-data-" + config_.instance + ".json");
  fs::create_directories(root_);
  using UserData = Config::UserData;
  if (config_.userData != UserData::Missing) {
    std::ofstream ud(userData_);
    if (config_.userData == UserData::Agent)
      ud << "{\"v\":1,\"cfm_agent\":{\"broker\":\"" << config_.brokerUri
         << "\",\"password\":\"unused\",\"key\":\"" << config_.keyHex
         << "\",\"manager\":\"a\",\"max_concurrent\":" << config_.maxConcurrent << "}}";
    else if (config_.userData == UserData::NoAgentMember)
      ud << "{\"v\":1}";
    else
      ud << "#!/bin/sh\necho configured by cloud-init\n";
    ud.close();
    fs::permissions(userData_, fs::perms::owner_read | fs::perms::owner_write);
  }
  if (config_.defaultStateDir) state_ = root_ / "var/lib/cfm-agent";
  start();
}

Agent::~Agent() { stopPid(pid_, SIGKILL); }

void Agent::start() {
  std::vector<std::string> args{CFM_AGENT_BIN,  "--instance-id", config_.instance,  "--root",
                                root_.string(), "--user-data",   userData_.string()};
  if (!config_.defaultStateDir) args.insert(args.end(), {"--state", state_.string()});
  pid_ = spawn(args, dir_ / ("agent-" + config_.instance + ".log"));
}

void Agent::stop(int sig) { stopPid(pid_, sig, &status_); }

std::string Agent::log() const { return readFile(dir_ / ("agent-" + config_.instance + ".log")); }

TestManager::TestManager(const std::string &brokerUri, const std::string &instance, const std::string &keyHex)
    : instance_(instance) {
  key_ = *net::parseAgentKey(keyHex);
  net::MqttOptions o;
  o.uri = brokerUri;
  o.clientId = "manager-test-" + *net::randomHex(4);
  o.cleanStart = false;
  o.sessionExpirySeconds = 3600;
  auto c = net::MqttClient::create(o);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  client_ = std::move(*c);
  std::string replyTopic = net::agentReplyTopic(instance_);
  std::string presenceTopic = net::agentPresenceTopic(instance_);
  client_->onMessage([this, replyTopic, presenceTopic](const net::MqttMessage &m) {
    std::lock_guard lock(mu_);
    if (m.topic == presenceTopic) {
      auto p = net::decodeAgentPresence(m.payload);
      presence_ = p.ok() ? p->state : "malformed";
    } else if (m.topic == replyTopic) {
      auto sig = m.userProperty(net::kAgentSignatureProperty);
      if (!sig || !net::verifyAgentMessage(key_, m.topic, m.payload, *sig)) ++badSignatures_;
      auto r = net::decodeAgentReply(m.payload);
      if (r.ok()) replies_[r->id].push_back(*r);
    }
    cv_.notify_all();
  });
  client_->onConnection([this](net::MqttConnectionEvent e, const std::string &) {
    std::lock_guard lock(mu_);
    if (e == net::MqttConnectionEvent::Reconnected) ++reconnects_;
  });
  auto r = client_->connect(std::chrono::seconds(30));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  EXPECT_TRUE(client_->subscribe(replyTopic, 1).ok());
  EXPECT_TRUE(client_->subscribe(presenceTopic, 1).ok());
}

TestManager::~TestManager() { (void)client_->disconnect(); }

net::AgentRequest TestManager::request(net::AgentOp op) {
  net::AgentRequest r;
  r.id = *net::randomHex(16);
  r.nonce = *net::randomHex(16);
  r.instance = instance_;
  r.ts = nowMs();
  r.op = op;
  return r;
}

net::AgentRequest TestManager::exec(const std::string &command, int64_t timeoutMs) {
  net::AgentRequest r = request(net::AgentOp::Exec);
  r.exec.command = command;
  r.exec.timeoutMs = timeoutMs;
  return r;
}

TestManager::Wire TestManager::wire(const net::AgentRequest &req) const {
  Wire w;
  w.id = req.id;
  w.payload = net::encodeAgentRequest(req);
  w.sig = net::signAgentMessage(key_, net::agentRequestTopic(instance_), w.payload);
  return w;
}

bool TestManager::send(const Wire &w, const std::string &topic) {
  net::MqttMessage m;
  m.topic = topic.empty() ? net::agentRequestTopic(instance_) : topic;
  m.payload = w.payload;
  m.qos = 1;
  m.responseTopic = net::agentReplyTopic(instance_);
  m.correlationData = w.id;
  if (!w.sig.empty()) m.userProperties.emplace_back(std::string(net::kAgentSignatureProperty), w.sig);
  return client_->publish(m).ok();
}

std::optional<net::AgentReply> TestManager::await(const std::string &id, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !replies_[id].empty(); })) {
    ADD_FAILURE() << "no reply to " << id;
    return std::nullopt;
  }
  return replies_[id].front();
}

std::optional<net::AgentReply> TestManager::call(const net::AgentRequest &req,
                                                 std::chrono::milliseconds timeout) {
  Wire w = wire(req);
  EXPECT_TRUE(send(w));
  return await(w.id, timeout);
}

int TestManager::replies(const std::string &id) {
  std::lock_guard lock(mu_);
  auto it = replies_.find(id);
  return it == replies_.end() ? 0 : int(it->second.size());
}

std::string TestManager::presenceState() {
  std::lock_guard lock(mu_);
  return presence_;
}

bool TestManager::waitPresence(const std::string &state, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return presence_ == state; });
}

std::string testKeyHex() { return "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"; }

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string readFile(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace cfm::agenttest
