// manager.cpp — CloudManager (manager.h): the procedure API's cloud calls as EC2 calls, waits and
// store records.
#include "runtime/cloud/manager.h"

#include <atomic>

#include "runtime/value.h"

#include "base/files.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <unistd.h>

namespace cfm::rt::cloud {

namespace {

/// Raises `e` (unless the task's cancellation is already pending) and returns false.
bool fail(const CallError &e) {
  if (e.pending) return false;
  return rt::raise(e.kind, e.code, e.message);
}

bool failCode(std::string_view code, const std::string &message) {
  return rt::raise(ErrKind::Cloud, std::string(code), std::string(code) + ": " + message);
}

/// How long best-effort clean-up after a failed run_vm may take.
constexpr int64_t kCleanupTimeoutMs = 15000;

/// How long connecting to the broker may take (the first agent call of a run).
constexpr int64_t kBrokerConnectTimeoutMs = 10000;
/// One ping's wait while run_vm waits for a starting agent (it retries until the deadline).
constexpr int64_t kPingAttemptMs = 1000;

int64_t remainingMs(const Deadline &d) {
  if (d == noDeadline()) return kDefaultCallTimeoutMs;
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(d - std::chrono::steady_clock::now()).count();
  return std::max<int64_t>(left, 0);
}

/// The user data of a VM with an agent (docs/agent-protocol.md "How an agent starts"), base64.
std::string agentUserData(const BrokerConfig &b, const std::string &manager, const std::string &keyHex,
                          const std::string &password) {
  nlohmann::json j = {{"v", 1},
                      {"cfm_agent",
                       {{"broker", b.url},
                        {"password", password},
                        {"key", keyHex},
                        {"manager", manager},
                        {"max_concurrent", 8}}}};
  std::string text = j.dump();
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                      reinterpret_cast<const unsigned char *>(text.data()), static_cast<int>(text.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

/// Pings the VM's agent until it answers (a starting agent has not subscribed yet: a request
/// before that is lost, so each ping waits a second and the next is a new request) or the
/// deadline passes ("agent" `unreachable`).
bool waitForAgent(agent::AgentClient &a, const std::string &vmId, const std::string &keyHex,
                  const Deadline &deadline) {
  auto key = net::parseAgentKey(keyHex);
  if (!key) return raise(ErrKind::Agent, "io", "the agent key made for " + vmId + " is malformed");
  while (true) {
    int64_t left = remainingMs(deadline);
    if (a.ping(vmId, *key, std::min(left, kPingAttemptMs))) return true;
    ErrorVal *e = pendingError();
    bool retry = e && e->code->view() == "unreachable" && remainingMs(deadline) > 0;
    if (!retry) return false;
    clearError();
  }
}

} // namespace

bool CloudManager::failStore(const Error &e) { return failCode(kStoreCode, e.describe()); }

bool CloudManager::fenced(const std::string &systemKey) {
  if (!fence_) return false;
  auto rec = store_.sharedConfig(systemKey);
  if (!rec) return failStore(rec.error());
  if (!*rec) return false; // not shared (yet): nobody else can own it
  std::string why = fence_(**rec);
  if (why.empty()) return false;
  failCode("fenced", why);
  return true;
}

bool CloudManager::fencedVm(std::string_view vmId) {
  if (!fence_) return false;
  auto found = findVm(vmId);
  if (!found) return failStore(found.error()), true;
  return *found && fenced((*found)->systemKey);
}

Result<std::unique_ptr<CloudManager>> CloudManager::create(const ManagerConfig &config, store::Store &store,
                                                           RetryPolicy retry, WaitPolicy wait) {
  Credentials creds = CFM_TRY(readCredentials(config.credentialsPath, config.profile));
  std::shared_ptr<net::HttpClient> http = CFM_TRY(Ec2Client::sharedHttp());
  Ec2Client::Options o{config.endpoint, config.region, std::move(creds), retry, wait};
  std::unique_ptr<Ec2Client> client = CFM_TRY(Ec2Client::make(std::move(o), std::move(http)));
  std::unique_ptr<CloudManager> m(new CloudManager(config, store, std::move(client)));
  auto last = store.lastEventId();
  if (!last) return last.takeError();
  m->eventsStart_ = *last;
  return m;
}

Result<std::optional<CloudManager::StoredVm>> CloudManager::findVm(std::string_view vmId) {
  auto found = CFM_TRY(store_.findVmInstance(vmId));
  if (!found) return std::optional<StoredVm>();
  return std::optional<StoredVm>(StoredVm{std::move(found->first), std::move(found->second)});
}

bool CloudManager::updateVm(std::string_view vmId, const std::function<void(model::VMInstance &)> &change) {
  auto found = findVm(vmId);
  if (!found) return failStore(found.error());
  if (!*found) return true;
  change((*found)->vm);
  if (auto r = store_.saveVmInstance((*found)->systemKey, (*found)->vm); !r) return failStore(r.error());
  return true;
}

bool CloudManager::markElementInstances(const std::string &systemKey, std::string_view vmId,
                                        std::string_view state) {
  if (auto r = store_.setElementInstanceStateOfVm(systemKey, vmId, state); !r) return failStore(r.error());
  return true;
}

bool CloudManager::runVm(std::string_view systemId, std::string_view element, int64_t timeoutMs,
                         model::VMInstance &vm) {
  const Deadline deadline = deadlineIn(timeoutMs);
  auto found = store_.elementClass(systemId, element);
  if (!found) return failStore(found.error());
  if (!*found)
    return failCode(kNotFoundCode, "no business system `" + std::string(systemId) + "` in the store");
  const store::ElementClass &sys = **found;
  if (!sys.elementFound)
    return failCode(kNotFoundCode,
                    "business system `" + sys.systemName + "` has no element `" + std::string(element) + "`");
  if (!sys.vmClass)
    return failCode(kNotFoundCode, "business system `" + sys.systemName + "` has no VM class for element `" +
                                       std::string(element) + "`");
  const model::VMClass *cls = &*sys.vmClass;
  auto placed = placeVMClass(config_, cls->name, cls->image, cls->cpus, cls->memoryMb);
  if (!placed) return failCode(kNoMappingCode, placed.error().message);

  const std::string key = sys.systemId.empty() ? sys.systemName : sys.systemId;
  if (fenced(key)) return false;
  auto index = store_.claimElementInstance(key, element);
  if (!index) return failStore(index.error());
  model::BusinessSystemElementInstance inst{std::string(element), *index, "", "pending"};
  const std::string name = std::string(element) + "-" + std::to_string(*index) + "@" + config_.managerName;

  Ec2Client::RunRequest req;
  std::string agentKeyHex, agentPassword;
  if (config_.broker) {
    auto k = net::randomHex(32), p = net::randomHex(32);
    if (!k || !p) return raise(ErrKind::Agent, "io", "cannot make the agent's key (no randomness)");
    agentKeyHex = *k;
    agentPassword = *p;
    req.userData = agentUserData(*config_.broker, config_.managerName, agentKeyHex, agentPassword);
  }
  req.imageId = placed->imageId;
  req.instanceType = placed->instanceType;
  req.clientToken = Ec2Client::newClientToken();
  req.tags = {{"instance",
               {{"cfm:system", key},
                {"cfm:element", std::string(element)},
                {"cfm:manager", config_.managerName},
                {"Name", name}}}};
  auto started = client_->runInstance(req, deadline);
  if (!started) {
    inst.state = "failed";
    (void)store_.saveElementInstance(key, inst); // the cloud's error is the one to report
    return fail(*started.error);
  }
  vm = model::VMInstance{started.value.instanceId,
                         cls->name,
                         config_.cloudName,
                         started.value.state.name,
                         started.value.privateIpAddress,
                         "",
                         {}};
  if (vm.state.empty()) vm.state = "pending";
  inst.vmInstance = vm.id;
  inst.state = "starting";
  if (auto r = store_.saveVmAndElementInstance(key, vm, inst); !r) return failStore(r.error());
  if (config_.broker) {
    if (auto r = store_.saveAgentCredentials(vm.id, {agentKeyHex, agentPassword}); !r)
      return failStore(r.error());
    agent::AgentClient *a = agents();
    if (!a || !a->createAgentAccount(vm.id, agentPassword, remainingMs(deadline))) return false;
  }

  auto running = client_->waitInstanceRunning(vm.id, deadline);
  if (!running) {
    if (!running.error->pending) {
      // Nobody gets this VM: end it (best effort) and say so in the records.
      auto ended = client_->terminateInstances({vm.id}, deadlineIn(kCleanupTimeoutMs));
      if (ended) vm.state = "terminated";
      inst.state = "failed";
      (void)store_.saveVmAndElementInstance(key, vm, inst);
    }
    return fail(*running.error);
  }
  vm.state = running.value.state.name;
  if (!running.value.privateIpAddress.empty()) vm.privateAddress = running.value.privateIpAddress;
  if (!running.value.ipAddress.empty()) vm.publicAddress = running.value.ipAddress;
  if (config_.broker && !waitForAgent(*agents(), vm.id, agentKeyHex, deadline)) return false;
  inst.state = "running";
  if (auto r = store_.saveVmAndElementInstance(key, vm, inst); !r) return failStore(r.error());
  return true;
}

bool CloudManager::terminateVm(std::string_view vmId, int64_t timeoutMs) {
  if (fencedVm(vmId)) return false;
  const Deadline deadline = deadlineIn(timeoutMs);
  auto ended = client_->terminateInstances({std::string(vmId)}, deadline);
  if (!ended) return fail(*ended.error);
  auto gone = client_->waitInstanceTerminated(vmId, deadline);
  if (!gone) return fail(*gone.error);
  if (config_.broker) {
    agent::AgentClient *a = agents();
    if (!a || !a->deleteAgentAccount(vmId, remainingMs(deadline))) return false;
    if (auto r = store_.removeAgentCredentials(vmId); !r) return failStore(r.error());
  }
  auto found = findVm(vmId);
  if (!found) return failStore(found.error());
  if (!*found) return true; // not this store's VM: the cloud's part is done
  (*found)->vm.state = "terminated";
  if (auto r = store_.saveVmInstance((*found)->systemKey, (*found)->vm); !r) return failStore(r.error());
  return markElementInstances((*found)->systemKey, vmId, "terminated");
}

bool CloudManager::attachVolume(std::string_view vmId, int64_t sizeGb, std::string_view device,
                                std::string_view volume, std::string &volumeId) {
  if (fencedVm(vmId)) return false;
  const Deadline deadline = deadlineIn(kDefaultCallTimeoutMs);
  volumeId = std::string(volume);
  if (volumeId.empty()) {
    auto described = client_->describeInstances({std::string(vmId)}, {}, deadline);
    if (!described) return fail(*described.error);
    std::string zone;
    for (const net::ec2::Instance &i : described.value)
      if (i.instanceId == vmId) zone = i.availabilityZone;
    if (zone.empty())
      return failCode("InvalidInstanceID.NotFound",
                      "the cloud does not describe instance " + std::string(vmId) + " (or gives it no zone)");
    auto created = client_->createVolume(sizeGb, zone, deadline);
    if (!created) return fail(*created.error);
    volumeId = created.value.volumeId;
    auto ready = client_->waitVolumeAvailable(volumeId, deadline);
    if (!ready) return fail(*ready.error);
  }
  auto attached = client_->attachVolume(volumeId, vmId, device, deadline);
  if (!attached) return fail(*attached.error);
  auto done = client_->waitVolumeAttached(volumeId, vmId, deadline);
  if (!done) return fail(*done.error);
  return updateVm(vmId, [&](model::VMInstance &vm) {
    if (std::find(vm.volumes.begin(), vm.volumes.end(), volumeId) == vm.volumes.end())
      vm.volumes.push_back(volumeId);
  });
}

bool CloudManager::associateAddress(std::string_view vmId, std::string_view address, std::string &out) {
  if (fencedVm(vmId)) return false;
  const Deadline deadline = deadlineIn(kDefaultCallTimeoutMs);
  std::string allocationId;
  out = std::string(address);
  if (out.empty()) {
    auto got = client_->allocateAddress(deadline);
    if (!got) return fail(*got.error);
    out = got.value.publicIp;
    allocationId = got.value.allocationId;
  } else {
    auto known = client_->describeAddresses({out}, deadline);
    if (!known) return fail(*known.error);
    for (const net::ec2::Address &a : known.value)
      if (a.publicIp == out) allocationId = a.allocationId;
  }
  auto assoc = client_->associateAddress(vmId, out, allocationId, deadline);
  if (!assoc) return fail(*assoc.error);
  return updateVm(vmId, [&](model::VMInstance &vm) { vm.publicAddress = out; });
}

bool CloudManager::reload(std::string_view systemId, SystemState &out) {
  auto loaded = store_.loadSystem(systemId);
  if (!loaded) return failStore(loaded.error());
  if (!*loaded)
    return failCode(kNotFoundCode, "no business system `" + std::string(systemId) + "` in the store");
  out.system = std::move(**loaded);
  const std::string key = out.system.id.empty() ? out.system.name : out.system.id;
  auto insts = store_.elementInstances(key);
  if (!insts) return failStore(insts.error());
  auto vms = store_.vmInstances(key);
  if (!vms) return failStore(vms.error());
  out.elementInstances = std::move(*insts);
  out.vmInstances = std::move(*vms);
  return true;
}

bool CloudManager::setProperty(std::string_view systemId, std::string_view propertyId,
                               std::string_view valueJson, SystemState &out) {
  // A property's value is text (OVF): a JSON string is stored as its characters, any other JSON
  // value as its text (`42`, `true`, `{"a":1}`).
  Json *parsed = nullptr;
  if (!parseJson(valueJson, parsed)) return false;
  std::string value = parsed->j == Json::J::String ? std::string(parsed->s->view()) : std::string(valueJson);
  // A new property's OVF type from the value (an array, object or null is kept as its JSON text
  // in a `string` property: OVF has no other type for it, so it reads back as that text).
  const char *type = parsed->j == Json::J::Int     ? "sint64"
                     : parsed->j == Json::J::Float ? "real64"
                     : parsed->j == Json::J::Bool  ? "boolean"
                                                   : "string";
  release(parsed);
  if (auto r = store_.setProperty(systemId, propertyId, value, type); !r) {
    if (r.error().message.find("no business system") != std::string::npos)
      return failCode(kNotFoundCode, r.error().message);
    return failStore(r.error());
  }
  return reload(systemId, out);
}

/// The "agent" error of a manager whose configuration has no broker: it cannot reach agents.
bool CloudManager::noBroker() const {
  return raise(ErrKind::Agent, "unreachable",
               "manager " + config_.managerName +
                   " has no broker: its configuration has no [broker] section");
}

namespace {
std::atomic<uint64_t> gAgentClients{0};
} // namespace

Result<std::unique_ptr<agent::AgentClient>> connectAgents(const ManagerConfig &config) {
  if (!config.broker) return Error{ErrorKind::Usage, "manager " + config.managerName + " has no broker"};
  auto password = readBrokerPassword(*config.broker);
  if (!password) return password.takeError();
  agent::ClientOptions o{config.broker->url, config.broker->username, *password,
                         // one client id per client: a process may hold several
                         config.broker->username + "-" + std::to_string(getpid()) + "-" +
                             std::to_string(gAgentClients.fetch_add(1) + 1)};
  auto c = agent::AgentClient::connect(o, std::chrono::milliseconds(kBrokerConnectTimeoutMs));
  if (!c)
    return Error{ErrorKind::Io,
                 "cannot connect to the broker " + config.broker->url + ": " + c.error().message};
  return c;
}

agent::AgentClient *CloudManager::agents() {
  if (!config_.broker) return noBroker(), nullptr;
  if (agentSource_) { // the process's shared client (cfmd: one per daemon)
    auto shared = agentSource_();
    if (!shared) return (void)raise(ErrKind::Agent, "unreachable", shared.error().message), nullptr;
    return *shared;
  }
  std::lock_guard<std::mutex> g(agentsMu_);
  if (agents_) return agents_.get();
  auto c = connectAgents(config_);
  if (!c) return (void)raise(ErrKind::Agent, "unreachable", c.error().message), nullptr;
  agents_ = std::move(*c);
  return agents_.get();
}

bool CloudManager::agentKey(std::string_view vmId, std::string &key) {
  auto creds = store_.agentCredentials(vmId);
  if (!creds) return failStore(creds.error());
  if (!*creds)
    return raise(ErrKind::Agent, "unreachable",
                 "VM " + std::string(vmId) + " has no agent credentials in manager " + config_.managerName +
                     "'s store (it was not started by this manager with a broker)");
  auto k = net::parseAgentKey((*creds)->keyHex);
  if (!k) return raise(ErrKind::Agent, "io", "VM " + std::string(vmId) + "'s stored agent key is malformed");
  key = std::move(*k);
  return true;
}

bool CloudManager::runAgentCommand(std::string_view vmId, std::string_view command, int64_t timeoutMs,
                                   const std::vector<std::pair<std::string, std::string>> &env,
                                   CommandResult &out) {
  std::string key;
  agent::AgentClient *a = agents();
  if (!a || !agentKey(vmId, key)) return false;
  return a->runCommand(vmId, key, command, env, timeoutMs, out);
}

bool CloudManager::putFile(std::string_view vmId, std::string_view path, std::string_view content,
                           std::string_view mode) {
  uint32_t bits = 0;
  if (mode.empty() || mode.size() > 5 || mode.find_first_not_of("01234567") != std::string_view::npos)
    return raise(ErrKind::Agent, "rejected",
                 "put_file: mode `" + std::string(mode) + "` is not octal (like 0644)");
  for (char c : mode) bits = bits * 8 + static_cast<uint32_t>(c - '0');
  if (bits > 07777)
    return raise(ErrKind::Agent, "rejected", "put_file: mode `" + std::string(mode) + "` is too large");
  std::string key;
  agent::AgentClient *a = agents();
  if (!a || !agentKey(vmId, key)) return false;
  return a->putFile(vmId, key, path, content, bits, kDefaultCallTimeoutMs);
}

} // namespace cfm::rt::cloud
