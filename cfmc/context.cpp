// context.cpp — reading and writing the local federation's context file (context.h), and finding
// a manager's configuration through it for `cfmc run` and `cfmc ovf import`.
#include "cfmc/context.h"

#include "base/files.h"
#include "base/text.h"
#include "runtime/cloud/config.h"

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace cfm::driver {

namespace {

Error contextError(const std::string &path, const std::string &msg) {
  return Error{ErrorKind::Usage, "context file " + path + ": " + msg};
}

/// The names of `items`, comma-separated, for messages.
template <class T> std::string names(const std::vector<T> &items) {
  std::string out;
  for (const T &t : items) out += (out.empty() ? "" : ", ") + t.name;
  return out.empty() ? "none" : out;
}

} // namespace

std::string contextPath(const std::string &given) {
  if (!given.empty()) return given;
  if (const char *env = std::getenv("CFM_CONTEXT"); env && *env) return env;
  return ".cfm/context.json";
}

Result<Context> readContext(const std::string &path) {
  auto text = base::readRegularFile(path, uint64_t(1) << 20);
  if (!text) {
    Error e = text.takeError();
    e.message += " (`cfmc local up` writes it; --context FILE or CFM_CONTEXT names another)";
    return e;
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return contextError(path, "not a JSON object");
  if (!j.contains("v") || j["v"] != 1) return contextError(path, "unknown version (expected \"v\":1)");
  Context c;
  c.path = path;
  auto str = [](const nlohmann::json &o, const char *key) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  c.dir = str(j, "dir");
  if (auto cl = j.find("clouds"); cl != j.end() && cl->is_object()) {
    for (auto &[name, v] : cl->items()) {
      if (!v.is_object()) return contextError(path, "cloud `" + name + "` is not an object");
      ContextCloud k{name, str(v, "config"), str(v, "endpoint"), str(v, "region"), str(v, "state_dir"), 0};
      if (auto p = v.find("pid"); p != v.end() && p->is_number_integer()) k.pid = p->get<long>();
      c.clouds.push_back(std::move(k));
    }
  }
  if (auto ms = j.find("managers"); ms != j.end() && ms->is_object()) {
    for (auto &[name, v] : ms->items()) {
      if (!v.is_object()) return contextError(path, "manager `" + name + "` is not an object");
      ContextManager m{name, str(v, "config"), str(v, "cloud"), str(v, "socket"), 0};
      if (auto p = v.find("pid"); p != v.end() && p->is_number_integer()) m.pid = p->get<long>();
      c.managers.push_back(std::move(m));
    }
  }
  if (auto b = j.find("broker"); b != j.end() && b->is_object()) {
    ContextBroker broker{str(*b, "url"), str(*b, "dir"), str(*b, "config"), 0};
    if (auto p = b->find("pid"); p != b->end() && p->is_number_integer()) broker.pid = p->get<long>();
    c.broker = std::move(broker);
  }
  return c;
}

std::string contextJson(const Context &c) {
  nlohmann::ordered_json j;
  j["v"] = 1;
  j["dir"] = c.dir;
  j["clouds"] = nlohmann::ordered_json::object();
  for (const ContextCloud &k : c.clouds)
    j["clouds"][k.name] = {{"config", k.config},
                           {"endpoint", k.endpoint},
                           {"region", k.region},
                           {"pid", k.pid},
                           {"state_dir", k.stateDir}};
  j["managers"] = nlohmann::ordered_json::object();
  for (const ContextManager &m : c.managers) {
    j["managers"][m.name] = {{"config", m.config}, {"cloud", m.cloud}};
    if (!m.socket.empty()) j["managers"][m.name]["socket"] = m.socket;
    if (m.pid > 0) j["managers"][m.name]["pid"] = m.pid;
  }
  if (c.broker)
    j["broker"] = {
        {"url", c.broker->url}, {"pid", c.broker->pid}, {"dir", c.broker->dir}, {"config", c.broker->config}};
  else
    j["broker"] = nullptr;
  return j.dump(2) + "\n";
}

Result<const ContextManager *> findManager(const Context &c, const std::string &name) {
  for (const ContextManager &m : c.managers)
    if (m.name == name) return &m;
  return Error{ErrorKind::Usage,
               "no manager named `" + name + "` in " + c.path + " (managers: " + names(c.managers) + ")"};
}

Result<const ContextCloud *> findCloud(const Context &c, const std::string &name) {
  for (const ContextCloud &k : c.clouds)
    if (k.name == name) return &k;
  return Error{ErrorKind::Usage,
               "no cloud named `" + name + "` in " + c.path + " (clouds: " + names(c.clouds) + ")"};
}

Result<std::string> managerConfigPath(const ManagerChoice &choice) {
  if (!choice.config.empty() && !choice.manager.empty())
    return Error{ErrorKind::Usage, "give `--manager NAME` or `--config FILE`, not both"};
  if (!choice.config.empty()) return choice.config;
  std::string name = choice.manager;
  if (name.empty())
    if (const char *env = std::getenv("CFM_MANAGER"); env && *env) name = env;
  if (name.empty()) return std::string();
  auto ctx = readContext(contextPath(choice.context));
  if (!ctx) return ctx.takeError();
  auto m = findManager(*ctx, name);
  if (!m) return m.takeError();
  return (*m)->config;
}

Result<DaemonTarget> daemonTarget(const ManagerChoice &choice) {
  auto config = managerConfigPath(choice);
  if (!config) return config.takeError();
  if (config->empty()) return Error{ErrorKind::Usage, "no manager: pass --manager NAME or set CFM_MANAGER"};
  DaemonTarget t;
  t.config = *config;
  t.name = choice.manager;
  if (t.name.empty() && choice.config.empty())
    if (const char *env = std::getenv("CFM_MANAGER"); env && *env) t.name = env;
  if (!t.name.empty()) {
    if (auto ctx = readContext(contextPath(choice.context)); ctx)
      if (auto m = findManager(*ctx, t.name); m) t.socket = (*m)->socket;
  }
  if (t.socket.empty() || t.name.empty()) {
    auto c = rt::cloud::readManagerConfig(t.config);
    if (!c) return c.takeError();
    if (t.name.empty()) t.name = c->managerName;
    if (t.socket.empty()) t.socket = c->socketPath;
    if (t.socket.empty())
      t.socket = (std::filesystem::path(c->storePath).parent_path() / "cfmd.sock").string();
  }
  return t;
}

} // namespace cfm::driver
