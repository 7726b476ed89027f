// cloud_manager_test.cpp — the EC2 driver and CloudManager (runtime/cloud/manager.h) against the
// real local cloud: each test starts `<build>/bin/cfm-cloud --config <temp>/cloud.toml` (the
// command line and configuration of cfm-cloud/README.md), reads its endpoint from
// <state_dir>/cfm-cloud.json, and stops it by PID, then kills its instances' process groups listed
// in <state_dir>/pgids. Covered: run_vm and terminate_vm with their store records, volumes,
// addresses, errors with their EC2 codes, throttling absorbed by retries, and a cfm-cloud killed
// and restarted while calls are in flight. Skipped, saying so, when cfm-cloud is not built.
#include "cloud_test_support.h"

#include "base/files.h"
#include "runtime/cloud/manager.h"
#include "runtime/store/store.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

extern char **environ;

namespace cfm::rt::cloud {
namespace {

namespace fs = std::filesystem;
using testing::inTask;
using testing::takeRaised;

const std::string kCfmCloud = CFM_BINARY_DIR "/bin/cfm-cloud";

/// A port no one listens on now (the kernel's choice for port 0, released).
int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

/// The string member `key` of a flat JSON object's text ("" when absent).
std::string jsonMember(const std::string &text, const std::string &key) {
  size_t k = text.find("\"" + key + "\"");
  if (k == std::string::npos) return "";
  size_t colon = text.find(':', k);
  size_t b = text.find_first_not_of(" \t\n", colon + 1);
  if (b == std::string::npos) return "";
  if (text[b] == '"') return text.substr(b + 1, text.find('"', b + 1) - b - 1);
  size_t e = text.find_first_of(",}", b);
  return text.substr(b, e - b);
}

struct CloudOptions {
  int instances = 20, vcpus = 64, addresses = 5;
  double rate = 1000;
  int burst = 1000;
  int bootDelayMs = 100;
  bool fixedPort = false;
};

/// One cfm-cloud with its own directory, configuration, credentials, manager configuration and
/// store; stopped (and its instances killed) when the test ends.
class LocalCloud {
public:
  fs::path dir;
  std::string endpoint, region = "local-t";
  int index = 0;
  pid_t pid = -1;
  std::unique_ptr<store::Store> store;

  explicit LocalCloud(const CloudOptions &o) {
    char t[] = "/tmp/cfm-cloud-driver-XXXXXX";
    dir = ::mkdtemp(t);
    index = 60 + static_cast<int>(::getpid() % 150);
    std::string listen = "127.0.0.1:" + std::to_string(o.fixedPort ? freePort() : 0);
    std::ofstream(dir / "cloud.toml")
        << "[cloud]\nname = \"t\"\nindex = " << index << "\nlisten = \"" << listen << "\"\nregion = \""
        << region << "\"\nstate_dir = \"state\"\n"
        << "boot_delay_ms = " << o.bootDelayMs << "\nstop_delay_ms = 50\n"
        << "[[access_keys]]\nid = \"AKIDDRIVERTEST000001\"\nsecret = \"driver-secret\"\n"
        << "[quotas]\ninstances = " << o.instances << "\nvcpus = " << o.vcpus
        << "\naddresses = " << o.addresses << "\n[throttle]\nrate = " << o.rate << "\nburst = " << o.burst
        << "\n[[images]]\nid = \"ami-cfm-default\"\n"
        << "name = \"cfm-default\"\ncommand = [\"/bin/sleep\", \"infinity\"]\n";
    std::ofstream(dir / "credentials") << "[cfm-t]\naws_access_key_id = AKIDDRIVERTEST000001\n"
                                       << "aws_secret_access_key = driver-secret\n";
  }
  ~LocalCloud() {
    stop(SIGTERM);
    killInstances();
    store.reset();
    fs::remove_all(dir);
  }

  fs::path stateDir() const { return dir / "state"; }

  /// Starts cfm-cloud and waits until its cfm-cloud.json names the new process.
  bool start() {
    fs::remove(stateDir() / "cfm-cloud.json");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, (dir / "cfm-cloud.log").c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    std::string config = (dir / "cloud.toml").string();
    char *argv[] = {const_cast<char *>(kCfmCloud.c_str()), const_cast<char *>("--config"), config.data(),
                    nullptr};
    int rc = posix_spawn(&pid, kCfmCloud.c_str(), &fa, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return false;
    for (int i = 0; i < 3000; ++i) {
      auto text = base::readRegularFile((stateDir() / "cfm-cloud.json").string(), 1 << 16);
      if (text && jsonMember(*text, "pid") == std::to_string(pid)) {
        endpoint = jsonMember(*text, "endpoint");
        return !endpoint.empty();
      }
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  std::string log() const {
    auto text = base::readRegularFile((dir / "cfm-cloud.log").string(), 1 << 20);
    return text ? *text : "";
  }
  /// Stops cfm-cloud by its PID (SIGTERM: as an operator; SIGKILL: as a disaster).
  void stop(int sig) {
    if (pid <= 0) return;
    ::kill(pid, sig);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
  }
  void killInstances() {
    std::ifstream in(stateDir() / "pgids");
    for (long pg; in >> pg;)
      if (pg > 1) ::kill(-static_cast<pid_t>(pg), SIGKILL);
  }

  /// The manager configuration for this cloud, its store holding system `shop` (element `web`
  /// of VMClass `webvm`, 1 CPU, 512 MiB; element `huge` of VMClass `hugevm`, 64 CPUs, which no
  /// instance type fits).
  Result<std::unique_ptr<CloudManager>> manager(RetryPolicy retry = {}) {
    std::ofstream(dir / "manager.toml")
        << "[manager]\nname = \"m\"\nstore = \"store.db\"\n[cloud]\nname = \"t\"\nendpoint = \"" << endpoint
        << "\"\nregion = \"" << region << "\"\ncredentials = \"credentials\"\nprofile = \"cfm-t\"\n"
        << "[mapping]\ndefault_image = \"ami-cfm-default\"\ninstance_types = [\n"
        << "  { name = \"c1.micro\", vcpus = 1, memory_mib = 512 },\n"
        << "  { name = \"c1.small\", vcpus = 1, memory_mib = 1024 } ]\n";
    ManagerConfig config = CFM_TRY(readManagerConfig((dir / "manager.toml").string()));
    store = CFM_TRY(store::Store::open(config.storePath));
    model::BusinessSystem sys;
    sys.name = "shop";
    sys.vmClasses = {model::VMClass{"webvm", 1, 512, "debian-12", "", {}, {}, {}},
                     model::VMClass{"hugevm", 64, 1024, "debian-12", "", {}, {}, {}}};
    sys.elements = {model::BusinessSystemElement{"web", "webvm", 0, 10, 1, {}, {}, {}},
                    model::BusinessSystemElement{"huge", "hugevm", 0, 1, 1, {}, {}, {}}};
    CFM_CHECK(store->saveSystem(sys));
    return CloudManager::create(config, *store, retry, WaitPolicy{20, 200});
  }
};

#define START_CLOUD(cloud, ...)                                                                              \
  if (!fs::exists(kCfmCloud))                                                                                \
    GTEST_SKIP() << "cfm-cloud is not built (" << kCfmCloud << "): these tests run once it is";              \
  LocalCloud cloud(CloudOptions{__VA_ARGS__});                                                               \
  ASSERT_TRUE(cloud.start()) << "cfm-cloud did not start; its log:\n" << cloud.log();                        \
  auto made_##cloud = cloud.manager();                                                                       \
  ASSERT_TRUE(made_##cloud) << made_##cloud.error().describe();                                              \
  CloudManager &mgr = **made_##cloud

TEST(CloudManager, RunAndTerminateRecordBothInstances) {
  START_CLOUD(cloud);
  EXPECT_EQ(mgr.managerName(), "m");
  EXPECT_EQ(mgr.cloudName(), "t");
  model::VMInstance a, b;
  inTask([&] {
    ASSERT_TRUE(mgr.runVm("shop", "web", 60000, a)) << takeRaised().message;
    ASSERT_TRUE(mgr.runVm("shop", "web", 60000, b)) << takeRaised().message;
  });
  EXPECT_EQ(a.state, "running");
  EXPECT_EQ(a.cloud, "t");
  EXPECT_EQ(a.vmClass, "webvm");
  EXPECT_EQ(a.id.rfind("i-", 0), 0u) << a.id;
  EXPECT_EQ(a.privateAddress.rfind("127." + std::to_string(cloud.index) + ".", 0), 0u) << a.privateAddress;
  EXPECT_NE(a.id, b.id);
  EXPECT_TRUE(fs::is_directory(cloud.stateDir() / "instances" / a.id));

  model::Manager::SystemState st;
  inTask([&] { ASSERT_TRUE(mgr.reload("shop", st)) << takeRaised().message; });
  ASSERT_EQ(st.elementInstances.size(), 2u);
  EXPECT_EQ(st.elementInstances[0], (model::BusinessSystemElementInstance{"web", 0, a.id, "running"}));
  EXPECT_EQ(st.elementInstances[1], (model::BusinessSystemElementInstance{"web", 1, b.id, "running"}));
  ASSERT_EQ(st.vmInstances.size(), 2u);
  EXPECT_EQ(st.vmInstances[0], a);

  inTask([&] {
    // The tags name the system, the element, the manager and the instance.
    auto tagged = mgr.client().describeInstances({}, {{"tag:Name", {"web-1@m"}}});
    ASSERT_TRUE(tagged.ok()) << tagged.error->message;
    ASSERT_EQ(tagged.value.size(), 1u);
    EXPECT_EQ(tagged.value[0].instanceId, b.id);
    ASSERT_TRUE(mgr.terminateVm(a.id, 60000)) << takeRaised().message;
    ASSERT_TRUE(mgr.reload("shop", st)) << takeRaised().message;
    auto described = mgr.client().describeInstances({a.id});
    ASSERT_TRUE(described.ok()) << described.error->message;
    ASSERT_EQ(described.value.size(), 1u);
    EXPECT_EQ(described.value[0].state.name, "terminated");
  });
  EXPECT_EQ(st.vmInstances[0].state, "terminated");
  EXPECT_EQ(st.elementInstances[0].state, "terminated");
  EXPECT_EQ(st.vmInstances[1].state, "running");
}

TEST(CloudManager, VolumesAndAddressesAreAttachedAndRecorded) {
  START_CLOUD(cloud);
  model::VMInstance vm;
  std::string vol, addr;
  model::Manager::SystemState st;
  inTask([&] {
    ASSERT_TRUE(mgr.runVm("shop", "web", 60000, vm)) << takeRaised().message;
    ASSERT_TRUE(mgr.attachVolume(vm.id, 1, "/dev/sdf", "", vol)) << takeRaised().message;
    ASSERT_TRUE(mgr.associateAddress(vm.id, "", addr)) << takeRaised().message;
    ASSERT_TRUE(mgr.reload("shop", st)) << takeRaised().message;
  });
  EXPECT_EQ(vol.rfind("vol-", 0), 0u) << vol;
  EXPECT_EQ(addr.rfind("127." + std::to_string(cloud.index) + ".200.", 0), 0u) << addr;
  ASSERT_EQ(st.vmInstances.size(), 1u);
  EXPECT_EQ(st.vmInstances[0].volumes, std::vector<std::string>{vol});
  EXPECT_EQ(st.vmInstances[0].publicAddress, addr);
  EXPECT_TRUE(fs::exists(cloud.stateDir() / "instances" / vm.id / "mnt" / "volumes" / vol));
}

TEST(CloudManager, ErrorsCarryTheirCodes) {
  START_CLOUD(cloud, 1);
  model::VMInstance first, second;
  std::string out;
  inTask([&] {
    ASSERT_TRUE(mgr.runVm("shop", "web", 60000, first)) << takeRaised().message;
    EXPECT_FALSE(mgr.runVm("shop", "web", 60000, second));
    testing::RaisedError quota = takeRaised();
    EXPECT_EQ(quota.kind, "cloud");
    EXPECT_EQ(quota.code, "InstanceLimitExceeded");
    EXPECT_EQ(quota.message.rfind("InstanceLimitExceeded: ", 0), 0u) << quota.message;

    EXPECT_FALSE(mgr.terminateVm("i-0123456789abcdef0", 60000));
    testing::RaisedError missing = takeRaised();
    EXPECT_EQ(missing.kind, "cloud");
    EXPECT_EQ(missing.code, "InvalidInstanceID.NotFound") << missing.message;

    EXPECT_FALSE(mgr.runVm("shop", "huge", 60000, second));
    testing::RaisedError unmapped = takeRaised();
    EXPECT_EQ(unmapped.code, "no_mapping");
    EXPECT_NE(unmapped.message.find("hugevm"), std::string::npos) << unmapped.message;

    EXPECT_FALSE(mgr.runVm("shop", "nope", 60000, second));
    EXPECT_EQ(takeRaised().code, "not_found");

    EXPECT_FALSE(mgr.attachVolume(first.id, 1, "/dev/sdf", "vol-00000000", out));
    EXPECT_EQ(takeRaised().code, "InvalidVolume.NotFound");
  });
  // The refused run_vm left a failed element instance, not a running one.
  model::Manager::SystemState st;
  inTask([&] { ASSERT_TRUE(mgr.reload("shop", st)) << takeRaised().message; });
  ASSERT_EQ(st.elementInstances.size(), 2u);
  EXPECT_EQ(st.elementInstances[1].state, "failed");
}

TEST(CloudManager, ThrottlingIsAbsorbedByRetries) {
  // Five requests a second with a burst of three: six VMs started and polled at once are
  // throttled often.
  START_CLOUD(cloud, 20, 64, 5, 5.0, 3);
  constexpr int kVms = 6;
  std::vector<model::VMInstance> vms(kVms);
  std::vector<std::string> errors(kVms);
  inTask([&] {
    for (int i = 0; i < kVms; ++i) {
      release(testing::spawnBody([&, i] {
        if (!mgr.runVm("shop", "web", 600000, vms[i])) errors[i] = takeRaised().message;
      }));
    }
  });
  for (int i = 0; i < kVms; ++i) {
    EXPECT_EQ(errors[i], "") << i << "; cfm-cloud's log:\n" << cloud.log();
    EXPECT_EQ(vms[i].state, "running") << i;
  }
  EXPECT_GT(mgr.client().stats().throttled, 0u);
}

TEST(CloudManager, ACloudKilledAndRestartedDuringCallsIsAbsorbed) {
  if (!fs::exists(kCfmCloud)) GTEST_SKIP() << "cfm-cloud is not built (" << kCfmCloud << ")";
  CloudOptions o;
  o.fixedPort = true; // the restarted cloud must answer where the manager sends
  o.bootDelayMs = 1000;
  LocalCloud cloud(o);
  ASSERT_TRUE(cloud.start()) << cloud.log();
  auto made = cloud.manager();
  ASSERT_TRUE(made) << made.error().describe();
  CloudManager &mgr = **made;
  model::VMInstance vm;
  std::string error;
  bool restarted = false;
  inTask([&] {
    Obj *task = testing::spawnBody([&] {
      if (!mgr.runVm("shop", "web", 600000, vm)) error = takeRaised().message;
    });
    ASSERT_TRUE(sched::sleep(300)); // the VM is booting: run_vm is polling
    cloud.stop(SIGKILL);
    ASSERT_TRUE(sched::sleep(300)); // calls meet a closed port
    restarted = cloud.start();
    Slot r{0};
    EXPECT_TRUE(sched::wait(task, -1, r));
    release(task);
  });
  ASSERT_TRUE(restarted) << cloud.log();
  EXPECT_EQ(error, "");
  EXPECT_EQ(vm.state, "running");
  EXPECT_GT(mgr.client().stats().retries, 0u);
  // One VM only, whatever the retries met.
  inTask([&] {
    auto all = mgr.client().describeInstances({});
    ASSERT_TRUE(all.ok()) << all.error->message;
    EXPECT_EQ(all.value.size(), 1u);
  });
}

// ---- without a cloud: the store's part and the errors raised before any request ----

/// A manager whose endpoint nobody listens on, with the `shop` system of LocalCloud::manager.
struct Offline {
  LocalCloud files{CloudOptions{}};
  std::unique_ptr<CloudManager> mgr;
  Offline() {
    files.endpoint = "http://127.0.0.1:" + std::to_string(freePort()) + "/";
    RetryPolicy quick;
    quick.maxAttempts = 2;
    quick.baseDelayMs = 1;
    auto m = files.manager(quick);
    EXPECT_TRUE(m) << m.error().describe();
    if (m) mgr = std::move(*m);
  }
};

TEST(CloudManager, SetPropertyAndReloadNeedNoCloud) {
  Offline o;
  ASSERT_TRUE(o.mgr);
  model::Manager::SystemState st;
  inTask([&] {
    ASSERT_TRUE(o.mgr->setProperty("shop", "db.password", "\"s3cret\"", st)) << takeRaised().message;
    ASSERT_TRUE(o.mgr->setProperty("shop", "replicas", "3", st)) << takeRaised().message;
    ASSERT_TRUE(o.mgr->setProperty("shop", "db.password", "\"other\"", st)) << takeRaised().message;
  });
  const model::Property *pw = st.system.property("db.password");
  ASSERT_NE(pw, nullptr);
  EXPECT_EQ(pw->value, "other");
  ASSERT_NE(st.system.property("replicas"), nullptr);
  EXPECT_EQ(st.system.property("replicas")->value, "3");
  // A new property's id is split into OVF's parts (so the system exports as valid OVF, which
  // the federation shares) and its type follows the value.
  EXPECT_EQ(pw->className, "db");
  EXPECT_EQ(pw->key, "password");
  EXPECT_EQ(pw->type, "string");
  EXPECT_EQ(st.system.property("replicas")->type, "sint64");
  inTask([&] {
    ASSERT_TRUE(o.mgr->setProperty("shop", "app.ratio", "0.5", st)) << takeRaised().message;
    ASSERT_TRUE(o.mgr->setProperty("shop", "app.on.eu", "true", st)) << takeRaised().message;
    ASSERT_TRUE(o.mgr->setProperty("shop", "app.list", "[1,2]", st)) << takeRaised().message;
    EXPECT_FALSE(o.mgr->setProperty("shop", "a.b.c.d", "1", st));
    EXPECT_NE(takeRaised().message.find("CLASS.KEY.INSTANCE"), std::string::npos);
    EXPECT_FALSE(o.mgr->setProperty("shop", "a..b", "1", st));
    takeRaised();
  });
  EXPECT_EQ(st.system.property("app.ratio")->type, "real64");
  ASSERT_NE(st.system.property("app.on.eu"), nullptr);
  EXPECT_EQ(st.system.property("app.on.eu")->instance, "eu");
  EXPECT_EQ(st.system.property("app.on.eu")->type, "boolean");
  EXPECT_EQ(st.system.property("app.list")->value, "[1,2]");
  EXPECT_EQ(st.system.property("app.list")->type, "string");
  inTask([&] {
    EXPECT_FALSE(o.mgr->setProperty("nosuch", "x", "1", st));
    EXPECT_EQ(takeRaised().code, "not_found");
    EXPECT_FALSE(o.mgr->reload("nosuch", st));
    EXPECT_EQ(takeRaised().code, "not_found");
    EXPECT_FALSE(o.mgr->setProperty("shop", "x", "{bad", st));
    EXPECT_NE(takeRaised().kind, "");
  });
}

TEST(CloudManager, MappingErrorsAndAnUnreachableCloud) {
  Offline o;
  ASSERT_TRUE(o.mgr);
  model::VMInstance vm;
  inTask([&] {
    EXPECT_FALSE(o.mgr->runVm("shop", "huge", 1000, vm));
    testing::RaisedError unmapped = takeRaised();
    EXPECT_EQ(unmapped.kind, "cloud");
    EXPECT_EQ(unmapped.code, "no_mapping");
    EXPECT_EQ(unmapped.message.rfind("no_mapping: VMClass `hugevm`", 0), 0u) << unmapped.message;
    EXPECT_FALSE(o.mgr->runVm("shop", "web", 60000, vm));
    testing::RaisedError down = takeRaised();
    EXPECT_EQ(down.kind, "cloud");
    EXPECT_EQ(down.code, "Unavailable");
    EXPECT_EQ(down.message.rfind("Unavailable: no reply from " + o.files.endpoint, 0), 0u) << down.message;
  });
  model::Manager::SystemState st;
  inTask([&] { ASSERT_TRUE(o.mgr->reload("shop", st)) << takeRaised().message; });
  ASSERT_EQ(st.elementInstances.size(), 1u);
  EXPECT_EQ(st.elementInstances[0], (model::BusinessSystemElementInstance{"web", 0, "", "failed"}));
}

TEST(CloudManager, ElementInstanceIndexesAreTakenOnceAcrossConnections) {
  Offline o;
  ASSERT_TRUE(o.mgr);
  // Two connections to one store (as two processes would have), each taking indexes in turn.
  auto other = store::Store::open((o.files.dir / "store.db").string());
  ASSERT_TRUE(other) << other.error().describe();
  std::vector<int> taken;
  std::mutex mu;
  auto take = [&](store::Store &s) {
    for (int i = 0; i < 20; ++i) {
      auto idx = s.claimElementInstance("shop", "web");
      ASSERT_TRUE(idx) << idx.error().describe();
      std::lock_guard<std::mutex> g(mu);
      taken.push_back(*idx);
    }
  };
  std::thread t1([&] { take(*o.files.store); });
  std::thread t2([&] { take(**other); });
  t1.join();
  t2.join();
  std::sort(taken.begin(), taken.end());
  std::vector<int> want(40);
  for (int i = 0; i < 40; ++i) want[i] = i;
  EXPECT_EQ(taken, want);
  auto missing = o.files.store->claimElementInstance("shop", "nope");
  EXPECT_FALSE(missing);
}

} // namespace
} // namespace cfm::rt::cloud

namespace cfm::rt::cloud {
namespace {

/// wait_cloud_event with `match` {"k": k} (k < 0: none) through the manager's predicate.
bool waitFor(CloudManager &m, const std::string &name, int64_t timeoutMs, int k,
             model::Manager::CloudEvent &out) {
  std::string want = "\"k\":" + std::to_string(k);
  return m.waitCloudEvent(
      "sys-1", name, timeoutMs,
      [&](std::string_view data) { return k < 0 || data.find(want) != std::string_view::npos; }, out);
}

TEST(CloudManager, CloudEventsOfTheRunAreGivenOnceInOrder) {
  Offline o;
  ASSERT_TRUE(o.mgr);
  // Stored before the run (a manager serves one run): never given to it.
  ASSERT_TRUE(o.files.store->publishEvent("sys-1", "old", "step", R"({"k":0})", 1));
  auto config = readManagerConfig((o.files.dir / "manager.toml").string());
  ASSERT_TRUE(config);
  auto run = CloudManager::create(*config, *o.files.store);
  ASSERT_TRUE(run) << run.error().describe();
  CloudManager &m = **run;
  int published = 0;
  m.setOnPublished([&] { ++published; });
  std::vector<std::string> got;
  inTask([&] {
    for (int k = 1; k <= 3; ++k)
      ASSERT_TRUE(m.publishCloudEvent("sys-1", "step", "{\"k\":" + std::to_string(k) + "}"))
          << takeRaised().message;
    model::Manager::CloudEvent e;
    // match takes k=2 first; the others stay for waits without match, in order.
    ASSERT_TRUE(waitFor(m, "step", 1000, 2, e)) << takeRaised().message;
    got.push_back(e.dataJson);
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(waitFor(m, "step", 1000, -1, e)) << takeRaised().message;
      got.push_back(e.dataJson + " " + e.source + " " + std::to_string(e.seq));
    }
    EXPECT_FALSE(waitFor(m, "step", 50, -1, e)); // every one given: the old one is not the run's
    EXPECT_EQ(takeRaised().kind, "timeout");
  });
  EXPECT_EQ(published, 3);
  std::vector<std::string> want = {R"({"k":2})", R"({"k":1} m 1)", R"({"k":3} m 3)"};
  EXPECT_EQ(got, want);
}

TEST(CloudManager, AWaitIsWokenByAnEventStoredByAnotherThread) {
  Offline o;
  ASSERT_TRUE(o.mgr);
  auto other = store::Store::open((o.files.dir / "store.db").string()); // the federation's connection
  ASSERT_TRUE(other);
  std::thread receiver;
  model::Manager::CloudEvent e;
  bool ok = false;
  inTask([&] {
    receiver = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      store::Store::CloudEventRow row{0, "sys-1", "b", "done", R"({"k":7})", 1, 5, 6};
      ASSERT_TRUE(*(*other)->receiveEvent(row));
      o.mgr->eventsArrived();
    });
    ok = waitFor(*o.mgr, "done", 60000, 7, e); // a minute: only the wake-up ends it early
  });
  receiver.join();
  ASSERT_TRUE(ok);
  EXPECT_EQ(e.source, "b");
  EXPECT_EQ(e.dataJson, R"({"k":7})");
}

} // namespace
} // namespace cfm::rt::cloud
