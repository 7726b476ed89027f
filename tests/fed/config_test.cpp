// config_test.cpp — configuration sharing between managers (runtime/fed/config_share.h): a
// system imported on one manager reaches every other and a late joiner, equal to the original;
// two concurrent changes end, on every manager, as the rule says (version, then manager name);
// an older configuration published by hand is answered until the broker retains the newest;
// procedure files travel with the configuration (put, concurrent edits, removal, a late joiner,
// a version 1 payload that leaves them, a bad hash refused).
#include "runtime/fed/node.h"
#include "runtime/store/store.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "net/mqtt.h"
#include "ovf/to_model.h"
#include "ovf/writer.h"
#include "tests/agent/harness.h"

namespace {

using namespace cfm;
using agenttest::eventually;

struct Manager {
  explicit Manager(std::string n) : name(std::move(n)) {}
  std::string name, path;
  std::unique_ptr<fed::Node> node;
  std::unique_ptr<store::Store> store; // the test's own connection (what a run or `cfmc ovf import` writes)
};

fed::ConfigCodec ovfCodec() {
  fed::ConfigCodec c;
  c.encode = [](const model::BusinessSystem &sys) { return ovf::write(sys); };
  c.decode = [](const std::string &text) { return ovf::importText(text, "<shared>", ovf::noFiles()); };
  return c;
}

void open(Manager &m, const agenttest::TempDir &dir) {
  m.path = (dir.path / (m.name + ".db")).string();
  auto r = store::Store::open(m.path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  m.store = std::move(*r);
}

void start(Manager &m, int port) {
  fed::NodeOptions o;
  o.manager = m.name;
  o.cloud = "cloud-" + m.name;
  o.brokerPort = port;
  o.storePath = m.path;
  o.heartbeatMs = 200; // local changes are looked for at each heartbeat
  o.config = ovfCodec();
  auto n = fed::Node::start(o);
  ASSERT_TRUE(n.ok()) << n.error().message;
  m.node = std::move(*n);
}

model::BusinessSystem sample(const char *rel) {
  auto s = ovf::importFile(std::string(CFM_SOURCE_DIR) + "/" + rel);
  EXPECT_TRUE(s.ok()) << s.error().describe();
  return s.ok() ? *s : model::BusinessSystem{};
}

std::optional<model::BusinessSystem> load(Manager &m, const std::string &id) {
  auto s = m.store->loadSystem(id);
  return s.ok() ? *s : std::nullopt;
}

std::string property(Manager &m, const std::string &id, const std::string &prop) {
  auto s = load(m, id);
  if (!s) return "";
  const model::Property *p = s->property(prop);
  return p ? p->value : "";
}

std::vector<int64_t> configChanged(Manager &m, const std::string &id) {
  std::vector<int64_t> out;
  auto evs = m.store->eventsAfter(0, id, "config_changed", 1000);
  if (!evs.ok()) return out;
  for (const auto &ev : *evs) {
    EXPECT_EQ(ev.source, fed::observerSource(m.name));
    out.push_back(nlohmann::json::parse(ev.dataJson).at("version").get<int64_t>());
  }
  return out;
}

TEST(FedConfig, ASystemReachesEveryManagerAndALateJoiner) {
  agenttest::TempDir dir;
  int port = agenttest::freePort();
  agenttest::Broker broker(dir.path, port);
  Manager a("a"), b("b"), c("c"), d("d");
  for (Manager *m : {&a, &b, &c, &d}) ASSERT_NO_FATAL_FAILURE(open(*m, dir));
  model::BusinessSystem web = sample("samples/web3/web3.ovf");
  auto saved = a.store->saveSystem(web);
  ASSERT_TRUE(saved.ok()) << saved.error().message;
  web.id = saved->id;
  for (Manager *m : {&a, &b, &c}) ASSERT_NO_FATAL_FAILURE(start(*m, port));
  // A second system, imported on b while everyone runs.
  model::BusinessSystem hadoop = sample("samples/hadoop/hadoop.ovf");
  auto saved2 = b.store->saveSystem(hadoop);
  ASSERT_TRUE(saved2.ok()) << saved2.error().message;
  hadoop.id = saved2->id;
  for (Manager *m : {&a, &b, &c}) {
    EXPECT_TRUE(eventually([&] { return load(*m, web.id) == web && load(*m, hadoop.id) == hadoop; }))
        << m->name;
  }
  // The late joiner gets both from the retained configurations.
  ASSERT_NO_FATAL_FAILURE(start(d, port));
  EXPECT_TRUE(eventually([&] { return load(d, web.id) == web && load(d, hadoop.id) == hadoop; }));
  for (Manager *m : {&a, &b, &c, &d}) {
    auto sc = m->store->sharedConfig(web.id);
    ASSERT_TRUE(sc.ok() && *sc);
    EXPECT_EQ((*sc)->configVersion, 1) << m->name;
    EXPECT_EQ((*sc)->manager, "a") << m->name;
    EXPECT_EQ((*sc)->owner, "a") << m->name; // the manager that made the first version owns it
    EXPECT_EQ((*sc)->epoch, 1) << m->name;
    EXPECT_EQ((*sc)->heldEpoch, m == &a ? 1 : 0) << m->name;
    EXPECT_EQ(configChanged(*m, web.id), std::vector<int64_t>{1}) << m->name;
  }
}

TEST(FedConfig, ConcurrentChangesEndAsTheRuleSaysOnEveryManager) {
  agenttest::TempDir dir;
  int port = agenttest::freePort();
  agenttest::Broker broker(dir.path, port);
  Manager a("a"), b("b"), c("c");
  for (Manager *m : {&a, &b, &c}) ASSERT_NO_FATAL_FAILURE(open(*m, dir));
  model::BusinessSystem web = sample("samples/web3/web3.ovf");
  auto saved = a.store->saveSystem(web);
  ASSERT_TRUE(saved.ok());
  const std::string id = saved->id;
  for (Manager *m : {&a, &b, &c}) ASSERT_NO_FATAL_FAILURE(start(*m, port));
  for (Manager *m : {&b, &c}) ASSERT_TRUE(eventually([&] { return load(*m, id).has_value(); })) << m->name;

  // b and c change the same property at once: both make version 2; (2, "c") > (2, "b").
  ASSERT_TRUE(b.store->setProperty(id, "web3.web_port", "8082").ok());
  ASSERT_TRUE(c.store->setProperty(id, "web3.web_port", "8083").ok());
  for (Manager *m : {&a, &b, &c}) {
    EXPECT_TRUE(eventually([&] {
      auto sc = m->store->sharedConfig(id);
      return property(*m, id, "web3.web_port") == "8083" && sc.ok() && *sc && (*sc)->configVersion == 2 &&
             (*sc)->manager == "c";
    })) << m->name
        << " has " << property(*m, id, "web3.web_port");
  }
  // A later change on a: version 3 everywhere.
  ASSERT_TRUE(a.store->setProperty(id, "web3.web_port", "8081").ok());
  for (Manager *m : {&a, &b, &c})
    EXPECT_TRUE(eventually([&] { return property(*m, id, "web3.web_port") == "8081"; })) << m->name;

  // An old configuration published by hand (version 1 of a manager "zzz"), then a malformed one:
  // nobody takes either, and the managers answer with theirs until the broker retains version 3.
  net::MqttOptions mo;
  mo.uri = "tcp://127.0.0.1:" + std::to_string(port);
  mo.clientId = "config-test-probe";
  auto probe = net::MqttClient::create(mo);
  ASSERT_TRUE(probe.ok());
  ASSERT_TRUE((*probe)->connect(std::chrono::seconds(10)).ok());
  auto text = ovf::write(*load(a, id));
  ASSERT_TRUE(text.ok());
  net::MqttMessage old;
  old.topic = fed::configTopic(id);
  old.payload =
      nlohmann::json{{"v", 1},       {"system", id}, {"name", "web3"}, {"version", 1},   {"manager", "zzz"},
                     {"owner", "a"}, {"epoch", 1},   {"at", 1},        {"config", *text}}
          .dump();
  old.qos = 1;
  old.retain = true;
  ASSERT_TRUE((*probe)->publish(old, std::chrono::seconds(10)).ok());
  // What the broker retains now: a fresh subscriber's first message.
  int attempt = 0;
  auto retainedVersion = [&]() -> int64_t {
    std::mutex mu;
    int64_t version = 0;
    net::MqttOptions ro = mo;
    ro.clientId = "config-test-reader-" + std::to_string(++attempt);
    auto reader = net::MqttClient::create(ro);
    if (!reader.ok()) return -1;
    (*reader)->onMessage([&](const net::MqttMessage &m) {
      auto j = nlohmann::json::parse(m.payload, nullptr, false);
      std::lock_guard l(mu);
      if (m.retain && j.is_object()) version = j.value("version", int64_t(0));
    });
    if (!(*reader)->connect(std::chrono::seconds(5)).ok()) return -1;
    if (!(*reader)->subscribe(fed::configTopic(id), 1).ok()) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    (void)(*reader)->disconnect();
    std::lock_guard l(mu);
    return version;
  };
  EXPECT_TRUE(eventually([&] { return retainedVersion() == 3; }));
  old.payload = "{\"v\": 1, \"system\": \"" + id + "\", \"config\": 42}"; // malformed
  ASSERT_TRUE((*probe)->publish(old, std::chrono::seconds(10)).ok());
  EXPECT_TRUE(eventually([&] { return retainedVersion() == 3; }));
  for (Manager *m : {&a, &b, &c}) EXPECT_EQ(property(*m, id, "web3.web_port"), "8081") << m->name;
}

store::Store::SharedConfig record(Manager &m, const std::string &id) {
  auto sc = m.store->sharedConfig(id);
  return sc.ok() && *sc ? **sc : store::Store::SharedConfig{};
}

TEST(FedConfig, ATakeoverFencesTheOldOwnerAndOutranksItsChanges) {
  agenttest::TempDir dir;
  int port = agenttest::freePort();
  agenttest::Broker broker(dir.path, port);
  Manager a("a"), b("b"), c("c");
  for (Manager *m : {&a, &b, &c}) ASSERT_NO_FATAL_FAILURE(open(*m, dir));
  auto saved = a.store->saveSystem(sample("samples/web3/web3.ovf"));
  ASSERT_TRUE(saved.ok());
  const std::string id = saved->id;
  for (Manager *m : {&a, &b, &c}) ASSERT_NO_FATAL_FAILURE(start(*m, port));
  for (Manager *m : {&b, &c}) ASSERT_TRUE(eventually([&] { return record(*m, id).owner == "a"; })) << m->name;
  EXPECT_TRUE(eventually([&] { return a.node->synced(); }));
  EXPECT_EQ(fed::fenceReason(record(a, id), "a", true), "");  // the owner acts
  EXPECT_NE(fed::fenceReason(record(a, id), "a", false), ""); // ... once in touch with the broker
  EXPECT_EQ(fed::fenceReason(record(b, id), "b", true), "");  // a peer that never owned it acts

  // a goes away (its cloud lost); b takes the system over while a is gone, and a changes the
  // system meanwhile (a change under the old epoch).
  a.node.reset();
  auto taken = b.store->takeOver(id, "b");
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(taken->owner, "b");
  EXPECT_EQ(taken->epoch, 2);
  ASSERT_TRUE(b.store->setProperty(id, "web3.web_port", "8090").ok());
  EXPECT_TRUE(eventually([&] {
    auto r = record(c, id);
    return r.owner == "b" && r.epoch == 2 && property(c, id, "web3.web_port") == "8090";
  }));
  EXPECT_EQ(fed::fenceReason(record(c, id), "c", true), "");
  ASSERT_TRUE(a.store->setProperty(id, "web3.web_port", "9999").ok());

  // a comes back: it learns the takeover, its change made under epoch 1 loses whatever its
  // version, and it stands down.
  ASSERT_NO_FATAL_FAILURE(start(a, port));
  EXPECT_TRUE(eventually([&] {
    auto r = record(a, id);
    return r.owner == "b" && r.epoch == 2 && property(a, id, "web3.web_port") == "8090";
  })) << property(a, id, "web3.web_port");
  auto ra = record(a, id);
  EXPECT_EQ(ra.heldEpoch, 1);
  std::string why = fed::fenceReason(ra, "a", true);
  EXPECT_NE(why.find("taken over by manager b"), std::string::npos) << why;
  for (Manager *m : {&b, &c}) EXPECT_EQ(property(*m, id, "web3.web_port"), "8090") << m->name;

  // Given back: a takes it over again (epoch 3) and may act.
  auto back = a.store->takeOver(id, "a");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->epoch, 3);
  EXPECT_EQ(fed::fenceReason(record(a, id), "a", true), "");
  for (Manager *m : {&b, &c}) EXPECT_TRUE(eventually([&] { return record(*m, id).owner == "a"; })) << m->name;
  EXPECT_EQ(fed::fenceReason(record(b, id), "b", true).find("taken over by manager a") != std::string::npos,
            true);
}

} // namespace

namespace {

/// Manager M's procedure files of system ID as (name, text) pairs.
std::vector<std::pair<std::string, std::string>> procs(Manager &m, const std::string &id) {
  std::vector<std::pair<std::string, std::string>> out;
  auto fs = m.store->procedureFiles(id);
  if (fs.ok())
    for (const store::ProcedureFile &f : *fs) out.emplace_back(f.name, f.text);
  return out;
}

TEST(FedConfig, ProcedureFilesTravelWithTheConfigurationAndReachALateJoiner) {
  agenttest::TempDir dir;
  int port = agenttest::freePort();
  agenttest::Broker broker(dir.path, port);
  Manager a("a"), b("b"), c("c"), d("d");
  for (Manager *m : {&a, &b, &c, &d}) ASSERT_NO_FATAL_FAILURE(open(*m, dir));
  auto saved = a.store->saveSystem(sample("samples/web3/web3.ovf"));
  ASSERT_TRUE(saved.ok());
  const std::string id = saved->id;
  for (Manager *m : {&a, &b, &c}) ASSERT_NO_FATAL_FAILURE(start(*m, port));
  for (Manager *m : {&b, &c}) ASSERT_TRUE(eventually([&] { return load(*m, id).has_value(); })) << m->name;
  // Files put on a: one version (2, a), the files everywhere.
  const std::vector<std::pair<std::string, std::string>> files = {
      {"lib/util.cfp", "fn two() -> int { return 2; }\n"},
      {"web3.cfp", "import \"lib/util.cfp\";\nprocedure main() { print(two()); }\n"}};
  ASSERT_TRUE(a.store->putProcedureFiles(id, files).ok());
  for (Manager *m : {&a, &b, &c}) {
    EXPECT_TRUE(eventually([&] { return procs(*m, id) == files && record(*m, id).configVersion == 2; }))
        << m->name;
    EXPECT_EQ(record(*m, id).manager, "a") << m->name;
  }
  // b and c change web3.cfp at once: (3, "c") wins everywhere, files and all.
  ASSERT_TRUE(b.store->putProcedureFiles(id, {{"web3.cfp", "procedure main() { print(\"b\"); }\n"}}).ok());
  ASSERT_TRUE(c.store->putProcedureFiles(id, {{"web3.cfp", "procedure main() { print(\"c\"); }\n"}}).ok());
  for (Manager *m : {&a, &b, &c}) {
    EXPECT_TRUE(eventually([&] {
      auto f = m->store->procedureFile(id, "web3.cfp");
      auto r = record(*m, id);
      return f.ok() && *f && (*f)->text == "procedure main() { print(\"c\"); }\n" && r.configVersion == 3 &&
             r.manager == "c";
    })) << m->name;
  }
  // A removal on b is a change like the others; d, joining late, gets the set as it is then.
  ASSERT_TRUE(b.store->removeProcedureFile(id, "lib/util.cfp").ok());
  const std::vector<std::pair<std::string, std::string>> after = {
      {"web3.cfp", "procedure main() { print(\"c\"); }\n"}};
  for (Manager *m : {&a, &b, &c})
    EXPECT_TRUE(eventually([&] { return procs(*m, id) == after && record(*m, id).configVersion == 4; }))
        << m->name;
  ASSERT_NO_FATAL_FAILURE(start(d, port));
  EXPECT_TRUE(eventually([&] { return procs(d, id) == after && record(d, id).configVersion == 4; }));

  // A version 1 payload (a manager from before procedure files) that wins leaves the files as
  // they are; a version 2 one whose hash is not its text's is refused.
  net::MqttOptions mo;
  mo.uri = "tcp://127.0.0.1:" + std::to_string(port);
  mo.clientId = "config-test-procs-probe";
  auto probe = net::MqttClient::create(mo);
  ASSERT_TRUE(probe.ok());
  ASSERT_TRUE((*probe)->connect(std::chrono::seconds(10)).ok());
  auto text = ovf::write(*load(a, id));
  ASSERT_TRUE(text.ok());
  net::MqttMessage m;
  m.topic = fed::configTopic(id);
  m.qos = 1;
  m.retain = true;
  nlohmann::json bad{{"v", 2},       {"system", id}, {"name", "web3"}, {"version", 9},   {"manager", "zzz"},
                     {"owner", "a"}, {"epoch", 1},   {"at", 1},        {"config", *text}};
  bad["procs"] =
      nlohmann::json::array({{{"name", "web3.cfp"}, {"hash", std::string(64, '0')}, {"text", "x"}}});
  m.payload = bad.dump();
  ASSERT_TRUE((*probe)->publish(m, std::chrono::seconds(10)).ok());
  nlohmann::json v1{{"v", 1},       {"system", id}, {"name", "web3"}, {"version", 5},   {"manager", "zzz"},
                    {"owner", "a"}, {"epoch", 1},   {"at", 1},        {"config", *text}};
  m.payload = v1.dump();
  ASSERT_TRUE((*probe)->publish(m, std::chrono::seconds(10)).ok());
  for (Manager *mg : {&a, &b, &c, &d}) {
    EXPECT_TRUE(eventually([&] {
      auto r = record(*mg, id);
      return r.configVersion == 5 && r.manager == "zzz";
    })) << mg->name;
    EXPECT_EQ(procs(*mg, id), after) << mg->name;
  }
}

} // namespace
