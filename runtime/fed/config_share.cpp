// config_share.cpp — configuration sharing (config_share.h; runtime/fed/README.md,
// "Configuration"): versions of (number, manager), the larger winning everywhere, local changes
// found by the store's row versions, retained messages that converge to the largest version.
#include "runtime/fed/config_share.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "base/sha256.h"
#include "runtime/runtime.h"
#include "runtime/store/store.h"

namespace cfm::fed {

namespace {

using Json = nlohmann::json;
constexpr size_t kMaxConfig = 4 * 1024 * 1024; // the configuration's text
constexpr size_t kMaxName = 256;

bool plainName(const std::string &s) {
  return !s.empty() && s.size() <= kMaxName && s.find_first_of("/+#") == std::string::npos;
}

/// The order of configurations: the owner's epoch first (a takeover wins over every change made
/// under an older owner), then the version's number, then its manager's name.
bool newer(int64_t e1, int64_t v1, const std::string &m1, int64_t e2, int64_t v2, const std::string &m2) {
  if (e1 != e2) return e1 > e2;
  return v1 != v2 ? v1 > v2 : m1 > m2;
}

} // namespace

std::string configTopic(const std::string &system) { return "cfm/v1/systems/" + system + "/config"; }

std::string configTopicSystem(const std::string &topic) {
  static const std::string pre = "cfm/v1/systems/", post = "/config";
  if (topic.size() <= pre.size() + post.size() || topic.compare(0, pre.size(), pre) != 0 ||
      topic.compare(topic.size() - post.size(), post.size(), post) != 0)
    return "";
  std::string system = topic.substr(pre.size(), topic.size() - pre.size() - post.size());
  return system.find('/') == std::string::npos ? system : "";
}

ConfigShare::ConfigShare(store::Store &store, std::string manager, ConfigCodec codec,
                         std::function<bool(const std::string &)> follows,
                         std::function<void(const std::string &)> log)
    : store_(store), manager_(std::move(manager)), codec_(std::move(codec)), follows_(std::move(follows)),
      log_(std::move(log)) {}

std::string fenceReason(const store::Store::SharedConfig &c, const std::string &manager, bool synced) {
  if (c.owner == manager) {
    if (synced) return "";
    return "manager " + manager + " owns system " + c.system + " (epoch " + std::to_string(c.epoch) +
           ") but has not heard from the federation since it started: it does not act for it until it has "
           "(it may have been taken over meanwhile)";
  }
  if (c.heldEpoch > 0 && c.heldEpoch < c.epoch)
    return "system " + c.system + " was taken over by manager " + c.owner + " (epoch " +
           std::to_string(c.epoch) + "); manager " + manager + " owned it until epoch " +
           std::to_string(c.heldEpoch) + " and stands down (`cfmc takeover` gives it back)";
  return "";
}

Result<net::MqttMessage> ConfigShare::messageOf(const store::Store::SharedConfig &c) {
  auto sys = CFM_TRY(store_.loadSystem(c.system));
  if (!sys) return Error{ErrorKind::Store, "no system " + c.system + " in the store"};
  std::string text = CFM_TRY(codec_.encode(*sys));
  if (text.size() > kMaxConfig)
    return Error{ErrorKind::Usage, "the configuration of " + sys->name + " is over 4 MiB; not shared"};
  // Procedure files (store.h): a payload of version 2 carries them; a system without any is sent
  // as version 1, which managers from before procedure files read too.
  auto procs = CFM_TRY(store_.procedureFiles(c.system));
  Json j{{"v", procs.empty() ? 1 : 2}, {"system", c.system},   {"name", sys->name},
         {"version", c.configVersion}, {"manager", c.manager}, {"owner", c.owner},
         {"epoch", c.epoch},           {"at", rt::nowMs()},    {"config", std::move(text)}};
  if (!procs.empty()) {
    Json list = Json::array();
    for (const store::ProcedureFile &f : procs)
      list.push_back({{"name", f.name}, {"hash", f.hash}, {"text", f.text}});
    j["procs"] = std::move(list);
  }
  net::MqttMessage m;
  m.topic = configTopic(c.system);
  m.payload = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  m.qos = 1;
  m.retain = true;
  return m;
}

Result<void> ConfigShare::versionLocalChange(const std::string &system, int64_t rowVersion, bool republish,
                                             Outcome &out) {
  auto sc = CFM_TRY(store_.sharedConfig(system));
  if (sc && sc->rowVersion == rowVersion) { // no local change
    if (republish) out.publish.push_back(CFM_TRY(messageOf(*sc)));
    return {};
  }
  // The first version of a system: the manager that makes it owns it, at epoch 1.
  store::Store::SharedConfig next = sc ? *sc : store::Store::SharedConfig{system, 0, "", 0, manager_, 1, 1};
  next.configVersion += 1;
  next.manager = manager_;
  next.rowVersion = rowVersion;
  CFM_CHECK(store_.setSharedConfig(next));
  out.changed.emplace_back(system, next.configVersion);
  out.publish.push_back(CFM_TRY(messageOf(next)));
  return {};
}

ConfigShare::Outcome ConfigShare::scan(bool all) {
  Outcome out;
  auto systems = store_.listSystems();
  if (!systems) return log_("could not list the systems: " + systems.error().message), out;
  for (const store::SystemSummary &s : *systems) {
    if (s.id.empty() || !follows_(s.id)) continue;
    if (auto r = versionLocalChange(s.id, s.version, all, out); !r)
      log_("could not share the configuration of " + s.name + ": " + r.error().message);
  }
  return out;
}

ConfigShare::Outcome ConfigShare::receive(const net::MqttMessage &m) {
  Outcome out;
  std::string system = configTopicSystem(m.topic);
  if (system.empty() || m.payload.empty() || !follows_(system)) return out; // a cleared retained one
  auto drop = [&](const std::string &why) {
    log_("dropped the configuration on " + m.topic + ": " + why);
    return out;
  };
  // A malformed configuration would stay retained in place of a good one: answered with this
  // store's own (when it has one), so that managers joining later get a configuration they can read.
  auto refuse = [&](const std::string &why) {
    log_("dropped the configuration on " + m.topic + ": " + why);
    if (auto sc = store_.sharedConfig(system); sc && *sc)
      if (auto msg = messageOf(**sc)) out.publish.push_back(std::move(*msg));
    return out;
  };
  // The configuration, the procedure files (JSON escaping may double them) and the rest.
  if (m.payload.size() > kMaxConfig + 2 * store::Store::kMaxProcedureBytes + 64 * 1024)
    return refuse("over 12 MiB");
  Json j = Json::parse(m.payload, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return refuse("not a JSON object");
  const int payloadVersion = j.value("v", 0);
  if (payloadVersion != 1 && payloadVersion != 2) return refuse("not a version 1 or 2 payload");
  auto str = [&](const char *k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto positive = [&](const char *k) {
    auto it = j.find(k);
    return it != j.end() && it->is_number_integer() && it->get<int64_t>() > 0 ? it->get<int64_t>()
                                                                              : int64_t(0);
  };
  std::string manager = str("manager"), owner = str("owner"), text = str("config");
  int64_t version = positive("version"), epoch = positive("epoch");
  if (str("system") != system) return refuse("its `system` is not the topic's");
  if (!plainName(manager)) return refuse("no valid `manager`");
  if (!plainName(owner)) return refuse("no valid `owner`");
  if (!version || !epoch) return refuse("no positive `version` and `epoch`");
  if (text.empty()) return refuse("no `config`");
  // Version 2: the system's procedure files, the whole set (version 1, from a manager that
  // predates them: the store's own are left as they are).
  std::optional<std::vector<store::ProcedureFile>> procs;
  if (payloadVersion == 2) {
    auto list = j.find("procs");
    if (list == j.end() || !list->is_array()) return refuse("a version 2 payload without a `procs` list");
    if (list->size() > store::Store::kMaxProcedureFiles) return refuse("too many procedure files");
    procs.emplace();
    size_t total = 0;
    for (const Json &f : *list) {
      if (!f.is_object()) return refuse("a procedure file that is not an object");
      for (const char *k : {"name", "text", "hash"})
        if (!f.contains(k) || !f[k].is_string())
          return refuse(std::string("a procedure file without a string `") + k + "`");
      store::ProcedureFile pf{f["name"].get<std::string>(), f["text"].get<std::string>(),
                              f["hash"].get<std::string>(), 0, 0};
      if (std::string why = store::Store::procedureNameProblem(pf.name); !why.empty()) return refuse(why);
      if (pf.text.size() > store::Store::kMaxProcedureFileBytes)
        return refuse("procedure file " + pf.name + " is too large");
      if (pf.hash != base::sha256Hex(pf.text))
        return refuse("procedure file " + pf.name + ": its hash is not its text's");
      total += pf.text.size();
      procs->push_back(std::move(pf));
    }
    if (total > store::Store::kMaxProcedureBytes)
      return refuse("the procedure files are over 4 MiB together");
  }

  // A local change not shared yet gets its version first, so that the rule, not the order of
  // arrival, decides between it and what arrived.
  auto row = store_.systemVersion(system);
  if (!row) return drop(row.error().message);
  if (*row > 0)
    if (auto r = versionLocalChange(system, *row, false, out); !r) return drop(r.error().message);
  auto sc = store_.sharedConfig(system);
  if (!sc) return drop(sc.error().message);
  const store::Store::SharedConfig mine = *sc ? **sc : store::Store::SharedConfig{system, 0, "", 0, "", 0, 0};
  if (newer(epoch, version, manager, mine.epoch, mine.configVersion, mine.manager)) {
    auto sys = codec_.decode(text);
    if (!sys) return drop("cannot read it: " + sys.error().describe());
    if (sys->id != system) return drop("it describes system `" + sys->id + "`, not " + system);
    auto saved = store_.saveSystem(*sys, procs ? &*procs : nullptr);
    if (!saved) return drop("cannot store it: " + saved.error().message);
    // This manager held the system while it is the owner the federation names; a takeover by
    // another leaves its held epoch behind the current one (fenceReason).
    int64_t held = owner == manager_ ? epoch : mine.heldEpoch;
    if (auto r = store_.setSharedConfig({system, version, manager, saved->version, owner, epoch, held}); !r)
      return drop("cannot record its version: " + r.error().message);
    out.changed.emplace_back(system, version);
  } else if (newer(mine.epoch, mine.configVersion, mine.manager, epoch, version, manager)) {
    // What arrived is older than what this store holds: share ours again, so that the broker's
    // retained configuration ends at the largest version.
    auto msg = messageOf(mine);
    if (!msg) return drop(msg.error().message);
    out.publish.push_back(std::move(*msg));
  }
  return out;
}

} // namespace cfm::fed
