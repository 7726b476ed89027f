// api_test.cpp — the procedure API in the language (API.md "Cloud", "Agents") under both engines, against
// a Manager (runtime/model/manager.h) written for this test: the real one (runtime/cloud, on a
// local cfm-cloud) is another part's, so this one records what the engines pass (defaults,
// named arguments, timeouts in ms, a json value's text) and suspends each run_vm call on a
// scheduler Completion that another thread completes only once two calls are in flight — so
// the test passes only if both engines let the task switch inside an API call.
#include "engine_support.h"
#include "runtime/model/manager.h"
#include "runtime/runtime.h"
#include "runtime/sched/scheduler.h"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using cfm::model::Manager;
using cfm::rt::ErrKind;
using cfm::testing::Outcome;
using cfm::testing::runWith;
namespace sched = cfm::rt::sched;

class TestManager : public Manager {
public:
  /// run_vm calls suspend until `inFlight` of them are waiting at once.
  explicit TestManager(size_t inFlight) : inFlight_(inFlight) {}
  ~TestManager() override {
    if (completer_.joinable()) completer_.join();
  }

  std::string managerName() const override { return "m-test"; }
  std::string cloudName() const override { return "cloud-t"; }

  bool runVm(std::string_view systemId, std::string_view element, int64_t timeoutMs,
             cfm::model::VMInstance &vm) override {
    log("run_vm " + std::string(systemId) + " " + std::string(element) + " " + std::to_string(timeoutMs));
    if (element == "full")
      return cfm::rt::raise(
          ErrKind::Cloud, "InstanceLimitExceeded",
          "InstanceLimitExceeded: You have requested more instances than your quota allows");
    if (element == "broken") return false; // a manager that forgets to raise its error
    auto c = sched::Completion::create();
    {
      std::lock_guard<std::mutex> g(mu_);
      pending_.push_back(c);
      if (pending_.size() == inFlight_) {
        // Every call is suspended now: another thread delivers all the replies.
        completer_ = std::thread([all = pending_] {
          for (const auto &p : all) p->complete(true, "running");
        });
        pending_.clear();
      }
    }
    bool ok = false;
    std::string state;
    // A bound, not a timing: an engine that blocks the thread in the first call never makes the
    // second, and the test then fails with this "timeout" error instead of hanging.
    if (!sched::await(*c, 20000, ok, state)) return false;
    vm.id = "i-" + std::string(element);
    vm.vmClass = std::string(element) + "-vm";
    vm.cloud = cloudName();
    vm.state = state;
    vm.privateAddress = element == "web" ? "127.1.1.1" : "127.1.1.2";
    return true;
  }
  bool terminateVm(std::string_view vmId, int64_t timeoutMs) override {
    log("terminate_vm " + std::string(vmId) + " " + std::to_string(timeoutMs));
    return true;
  }
  bool attachVolume(std::string_view vmId, int64_t sizeGb, std::string_view device, std::string_view volume,
                    std::string &volumeId) override {
    log("attach_volume " + std::string(vmId) + " " + std::to_string(sizeGb) + " " + std::string(device) +
        " [" + std::string(volume) + "]");
    volumeId = volume.empty() ? "vol-new-" + std::to_string(sizeGb) : std::string(volume);
    return true;
  }
  bool associateAddress(std::string_view vmId, std::string_view address, std::string &out) override {
    log("associate_address " + std::string(vmId) + " [" + std::string(address) + "]");
    out = address.empty() ? "127.1.200.1" : std::string(address);
    return true;
  }
  bool reload(std::string_view systemId, SystemState &out) override {
    log("reload " + std::string(systemId));
    out = state(systemId);
    return true;
  }
  bool setProperty(std::string_view systemId, std::string_view propertyId, std::string_view valueJson,
                   SystemState &out) override {
    log("set_property " + std::string(systemId) + " " + std::string(propertyId) + " " +
        std::string(valueJson));
    out = state(systemId);
    cfm::model::Property p;
    p.key = std::string(propertyId);
    p.value = std::string(valueJson);
    out.system.properties.push_back(p);
    return true;
  }

  bool runAgentCommand(std::string_view vmId, std::string_view command, int64_t timeoutMs,
                       const std::vector<std::pair<std::string, std::string>> &env,
                       CommandResult &out) override {
    std::string line = "run_agent_command " + std::string(vmId) + " [" + std::string(command) + "] " +
                       std::to_string(timeoutMs);
    for (const auto &[k, v] : env) line += " " + k + "=" + v;
    log(line);
    if (command == "sleep 10") return cfm::rt::raise(ErrKind::Timeout, "", "the command ran longer than 1s");
    if (vmId == "i-gone")
      return cfm::rt::raise(ErrKind::Agent, "unreachable", "no answer from the agent of i-gone");
    // The reply arrives on another thread while the task is suspended.
    auto c = sched::Completion::create();
    std::thread t([c] { c->complete(true, "reply"); });
    bool ok = false;
    std::string reply;
    bool waited = sched::await(*c, 20000, ok, reply);
    t.join();
    if (!waited) return false;
    out.exitCode = command == "false" ? 1 : 0;
    out.stdoutText = std::string(command) + "\n";
    out.stderrText = reply;
    out.truncated = command == "yes";
    out.durationMs = 12;
    return true;
  }
  bool putFile(std::string_view vmId, std::string_view path, std::string_view content,
               std::string_view mode) override {
    log("put_file " + std::string(vmId) + " " + std::string(path) + " " + std::string(mode) + " " +
        std::to_string(content.size()));
    if (path.find("..") != std::string_view::npos)
      return cfm::rt::raise(ErrKind::Agent, "rejected", "the path leaves the VM's file root");
    return true;
  }

  std::vector<std::string> calls() {
    std::lock_guard<std::mutex> g(mu_);
    return calls_;
  }

private:
  void log(std::string line) {
    std::lock_guard<std::mutex> g(mu_);
    calls_.push_back(std::move(line));
  }
  SystemState state(std::string_view systemId) const {
    SystemState st;
    st.system.id = std::string(systemId);
    st.system.name = "shop";
    cfm::model::VMInstance vm;
    vm.id = "i-web";
    vm.state = "running";
    st.vmInstances.push_back(vm);
    cfm::model::BusinessSystemElementInstance ei;
    ei.element = "web";
    ei.index = 3;
    ei.vmInstance = "i-web";
    ei.state = "running";
    st.elementInstances.push_back(ei);
    return st;
  }

  size_t inFlight_;
  std::mutex mu_;
  std::vector<std::shared_ptr<sched::Completion>> pending_;
  std::thread completer_;
  std::vector<std::string> calls_;
};

/// Installs a manager for one scope.
struct ManagerScope {
  explicit ManagerScope(Manager *m) { cfm::model::setCurrentManager(m); }
  ~ManagerScope() { cfm::model::setCurrentManager(nullptr); }
};

/// Runs `src` under `engine` with a TestManager(inFlight) installed: the outcome and the calls
/// the manager saw.
std::pair<Outcome, std::vector<std::string>> runManaged(const char *engine, const std::string &src,
                                                        size_t inFlight) {
  TestManager m(inFlight);
  ManagerScope scope(&m);
  Outcome o = runWith(engine, src);
  return {o, m.calls()};
}

const char *kShop =
    "fn shop() -> BusinessSystem {\n"
    "  return BusinessSystem { name: \"shop\", id: \"sys-1\", description: \"\", elements: [],\n"
    "    vm_classes: [], templates: [], properties: {}, element_instances: [], vm_instances: [] };\n"
    "}\n";

TEST(Api, BothEnginesPassArgumentsAndConvertResults) {
  std::string src =
      std::string(kShop) +
      "procedure main() {\n"
      "  let sys = shop();\n"
      "  let ts = [async run_vm(sys, \"web\"), async run_vm(timeout: 90s, element: \"db\", sys: sys)];\n"
      "  let vms = wait(ts);\n"
      "  print(vms);\n"
      "  print(\"${vms[0].state} ${vms[0].cloud} ${vms[0].private_address} ${vms[1].vm_class}\");\n"
      "  print(attach_volume(vms[0], 8));\n"
      "  print(attach_volume(vms[1], 2, volume: \"vol-7\", device: \"/dev/sdh\"));\n"
      "  print(associate_address(vms[0]));\n"
      "  print(associate_address(vms[1], \"127.1.200.9\"));\n"
      "  terminate_vm(vms[1], timeout: 1m);\n"
      "  let s2 = reload(sys);\n"
      "  print(s2.vm_instances);\n"
      "  print(s2.element_instances[0].name);\n"
      "  let s3 = set_property(sys, \"web.count\", {\"n\": [1, 2]});\n"
      "  print(s3.properties);\n"
      "  print(this_manager() + \"@\" + this_cloud());\n"
      "  try { print(run_vm(sys, \"full\")); } catch e { print(\"${e.kind} ${e.code}: ${e.message}\"); }\n"
      "  try { print(run_vm(sys, \"broken\")); } catch e { print(\"${e.kind} ${e.code}\"); }\n"
      "  terminate_vm(vms[0], timeout: -5s);\n"
      "}\n";
  const char *expected =
      "[VMInstance(i-web), VMInstance(i-db)]\n"
      "running cloud-t 127.1.1.1 db-vm\n"
      "vol-new-8\n"
      "vol-7\n"
      "127.1.200.1\n"
      "127.1.200.9\n"
      "[VMInstance(i-web)]\n"
      "web-3\n"
      "{\"web.count\": \"{\\\"n\\\":[1,2]}\"}\n"
      "m-test@cloud-t\n"
      "cloud InstanceLimitExceeded: InstanceLimitExceeded: You have requested more instances "
      "than your quota allows\n"
      "cloud internal\n";
  for (const char *engine : {"interp", "jit"}) {
    SCOPED_TRACE(engine);
    auto [o, calls] = runManaged(engine, src, 2);
    EXPECT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, expected);
    // The two run_vm calls ran in either order (tasks); the rest in program order.
    ASSERT_GE(calls.size(), 2u);
    std::sort(calls.begin(), calls.begin() + 2);
    std::vector<std::string> want = {"run_vm sys-1 db 90000",
                                     "run_vm sys-1 web 600000",
                                     "attach_volume i-web 8 /dev/sdf []",
                                     "attach_volume i-db 2 /dev/sdh [vol-7]",
                                     "associate_address i-web []",
                                     "associate_address i-db [127.1.200.9]",
                                     "terminate_vm i-db 60000",
                                     "reload sys-1",
                                     "set_property sys-1 web.count {\"n\":[1,2]}",
                                     "run_vm sys-1 full 600000",
                                     "run_vm sys-1 broken 600000",
                                     "terminate_vm i-web 0"};
    EXPECT_EQ(calls, want);
  }
}

TEST(Api, AgentCallsPassArgumentsAndConvertResults) {
  std::string src =
      "fn vm(id: string) -> VMInstance {\n"
      "  return VMInstance { id: id, vm_class: \"web\", cloud: \"c\", state: \"running\",\n"
      "    private_address: \"\", public_address: \"\", volumes: [] };\n"
      "}\n"
      "procedure main() {\n"
      "  let r = run_agent_command(vm(\"i-1\"), \"echo hi\");\n"
      "  print(r);\n"
      "  let t = [async run_agent_command(vm(\"i-2\"), \"false\", env: {\"A\": \"1\", \"B\": \"x y\"}),\n"
      "           async run_agent_command(timeout: 30s, command: \"yes\", vm: vm(\"i-3\"))];\n"
      "  for x in wait(t) { print(\"${x.exit_code} ${x.truncated} ${x.duration.ms()}\"); }\n"
      "  put_file(vm(\"i-1\"), \"/etc/motd\", \"hello\");\n"
      "  put_file(mode: \"0600\", content: \"\", path: \"/k\", vm: vm(\"i-1\"));\n"
      "  try { put_file(vm(\"i-1\"), \"/../x\", \"a\"); } catch e { print(\"${e.kind} ${e.code}\"); }\n"
      "  try { print(run_agent_command(vm(\"i-1\"), \"sleep 10\", 1s)); } catch e {\n"
      "    print(\"${e.kind} ${e.code}: ${e.message}\");\n"
      "  }\n"
      "  try { print(run_agent_command(vm(\"i-gone\"), \"true\")); } catch e { print(\"${e.kind} "
      "${e.code}\"); }\n"
      "}\n";
  const char *expected =
      "CommandResult { exit_code: 0, stdout: \"echo hi\\n\", stderr: \"reply\", truncated: false, "
      "duration: 12ms }\n"
      "1 false 12\n"
      "0 true 12\n"
      "agent rejected\n"
      "timeout : the command ran longer than 1s\n"
      "agent unreachable\n";
  for (const char *engine : {"interp", "jit"}) {
    SCOPED_TRACE(engine);
    auto [o, calls] = runManaged(engine, src, 1);
    EXPECT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, expected);
    ASSERT_EQ(calls.size(), 8u);
    std::sort(calls.begin() + 1, calls.begin() + 3); // the two async calls, in either order
    std::vector<std::string> want = {"run_agent_command i-1 [echo hi] 300000",
                                     "run_agent_command i-2 [false] 300000 A=1 B=x y",
                                     "run_agent_command i-3 [yes] 30000",
                                     "put_file i-1 /etc/motd 0644 5",
                                     "put_file i-1 /k 0600 0",
                                     "put_file i-1 /../x 0644 1",
                                     "run_agent_command i-1 [sleep 10] 1000",
                                     "run_agent_command i-gone [true] 300000"};
    EXPECT_EQ(calls, want);
  }
}

TEST(Api, UncaughtCloudErrorsPrintLikeOthers) {
  std::string src = std::string(kShop) + "fn start() -> VMInstance { return run_vm(shop(), \"full\"); }\n"
                                         "procedure main() {\n"
                                         "  print(\"before\");\n"
                                         "  print(start());\n"
                                         "}\n";
  Outcome outcomes[2];
  int i = 0;
  for (const char *engine : {"interp", "jit"}) {
    TestManager m(1);
    ManagerScope scope(&m);
    outcomes[i++] = runWith(engine, src);
  }
  for (const Outcome &o : outcomes) {
    EXPECT_EQ(o.status, 1);
    EXPECT_EQ(o.out, "before\n");
    EXPECT_EQ(o.err,
              "error: InstanceLimitExceeded: You have requested more instances than your quota allows\n"
              "  at test.cfp:5\n  at test.cfp:8\n");
  }
}

TEST(Api, WithoutAManagerEveryCallIsANoManagerError) {
  cfm::model::setCurrentManager(nullptr);
  std::string src =
      std::string(kShop) +
      "procedure main() {\n"
      "  try { print(reload(shop())); } catch e { print(\"${e.kind}|${e.code}|${e.message}\"); }\n"
      "}\n";
  for (const char *engine : {"interp", "jit"}) {
    Outcome o = runWith(engine, src);
    EXPECT_EQ(o.out, std::string("cloud|no_manager|") + cfm::model::noManagerMessage + "\n") << engine;
  }
}

} // namespace
