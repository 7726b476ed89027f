// manager_host.cpp — cfmd's manager: configuration, federation node, a manager per run
// (manager_host.h).
#include "cfmd/daemon/manager_host.h"

#include "ovf/to_model.h"
#include "ovf/writer.h"
#include "runtime/agent/client.h"
#include "runtime/cloud/manager.h"
#include "runtime/fed/node.h"

namespace cfm::cfmd {

Result<std::unique_ptr<ManagerHost>> ManagerHost::open(const std::string &configPath,
                                                       std::function<void(const std::string &)> log) {
  std::unique_ptr<ManagerHost> h(new ManagerHost());
  auto config = rt::cloud::readManagerConfig(configPath);
  if (!config) return config.takeError();
  h->config_ = std::move(*config);
  auto st = store::Store::open(h->config_.storePath);
  if (!st) return st.takeError();
  h->store_ = std::move(*st);
  if (!h->config_.broker) return h;

  fed::NodeOptions o;
  o.manager = h->config_.managerName;
  o.cloud = h->config_.cloudName;
  o.brokerUri = h->config_.broker->url;
  o.username = h->config_.broker->username;
  auto pw = rt::cloud::readBrokerPassword(*h->config_.broker);
  if (!pw) return pw.takeError();
  o.password = *pw;
  o.storePath = h->config_.storePath;
  o.logger = log;
  // Configurations travel as OVF with CFM's extension (templates inside), as `cfmc ovf export`
  // writes them: reading one back gives an equal model (ovf/writer.h).
  o.config.encode = [](const model::BusinessSystem &sys) { return ovf::write(sys); };
  o.config.decode = [](const std::string &text) {
    return ovf::importText(text, "<shared configuration>", ovf::noFiles());
  };
  // Followed systems by name or id: the store's id when it holds the system, else as given (an
  // id of a system whose model this manager does not hold).
  auto systems = h->store_->listSystems();
  if (!systems) return systems.takeError();
  for (const std::string &key : h->config_.follow) {
    std::string id = key;
    for (const auto &s : *systems)
      if (s.name == key || s.id == key) id = s.id;
    if (id == key && log) log("follow: no system named `" + key + "` in the store; following it as an id");
    o.followed.push_back(id);
  }
  auto node = fed::Node::start(std::move(o), /*connectTimeoutMs=*/0);
  if (!node) return node.takeError();
  h->node_ = std::move(*node);
  ManagerHost *raw = h.get();
  h->node_->onEvents([raw] { raw->eventsArrived(); });
  return h;
}

ManagerHost::~ManagerHost() {
  node_.reset(); // before the runs' managers and the store it wakes and reads
}

void ManagerHost::eventsArrived() {
  std::lock_guard<std::mutex> g(mu_);
  for (rt::cloud::CloudManager *m : live_) m->eventsArrived();
}

Result<std::unique_ptr<ManagerHost::RunManager>> ManagerHost::forRun() {
  auto run = std::make_unique<RunManager>();
  auto st = store::Store::open(config_.storePath);
  if (!st) return st.takeError();
  run->store = std::move(*st);
  auto m = rt::cloud::CloudManager::create(config_, *run->store);
  if (!m) return m.takeError();
  run->manager = std::move(*m);
  // A publish wakes the node's sender and the other runs' waits (their managers read the same
  // store's history).
  fed::Node *node = node_.get();
  run->manager->setOnPublished([this, node] {
    if (node) node->kick();
    eventsArrived();
  });
  // One agent client (one broker connection) for all runs, made on first use.
  if (config_.broker)
    run->manager->setAgentSource([this]() -> Result<rt::agent::AgentClient *> {
      std::lock_guard<std::mutex> g(agentsMu_);
      if (!agents_) {
        auto c = rt::cloud::connectAgents(config_);
        if (!c) return c.takeError();
        agents_ = std::move(*c);
      }
      return agents_.get();
    });
  // Fencing: a manager taken over stands down for that system; the owner acts once in touch.
  if (node)
    run->manager->setFence([node, name = config_.managerName](const store::Store::SharedConfig &c) {
      return fed::fenceReason(c, name, node->synced());
    });
  run->host = this;
  std::lock_guard<std::mutex> g(mu_);
  live_.insert(run->manager.get());
  return run;
}

ManagerHost::RunManager::~RunManager() {
  if (host && manager) {
    std::lock_guard<std::mutex> g(host->mu_);
    host->live_.erase(manager.get());
  }
  manager.reset(); // before its store
}

} // namespace cfm::cfmd
