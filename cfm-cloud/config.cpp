// config.cpp — reading cfm-cloud's TOML configuration with toml++ (config.h).
#include "cfm-cloud/config.h"

#include "base/files.h"

#define TOML_EXCEPTIONS 0 // errors are values: toml::parse returns a parse_result
#include <toml++/toml.h>

#include <filesystem>
#include <set>

namespace cfm::cloud {

namespace {

Error bad(const std::string &source, const std::string &what) {
  return Error{ErrorKind::Usage, source + ": " + what};
}

Result<void> onlyKeys(const toml::table &t, const std::string &source, const std::string &where,
                      std::initializer_list<std::string_view> keys) {
  for (auto &&[k, v] : t) {
    bool known = false;
    for (auto key : keys) known = known || k.str() == key;
    if (!known) return bad(source, "unknown key `" + std::string(k.str()) + "` in " + where);
  }
  return {};
}

Result<std::string> str(const toml::table &t, std::string_view key, const std::string &source,
                        const std::string &def, bool required = false) {
  const toml::node *n = t.get(key);
  if (!n) {
    if (required) return bad(source, "missing `" + std::string(key) + "`");
    return def;
  }
  auto v = n->value<std::string>();
  if (!v) return bad(source, "`" + std::string(key) + "` must be a string");
  return *v;
}

Result<int64_t> integer(const toml::table &t, std::string_view key, const std::string &source, int64_t def,
                        int64_t lo, int64_t hi) {
  const toml::node *n = t.get(key);
  if (!n) return def;
  auto v = n->value_exact<int64_t>();
  if (!v || *v < lo || *v > hi)
    return bad(source, "`" + std::string(key) + "` must be an integer from " + std::to_string(lo) + " to " +
                           std::to_string(hi));
  return *v;
}

Result<double> number(const toml::table &t, std::string_view key, const std::string &source, double def) {
  const toml::node *n = t.get(key);
  if (!n) return def;
  auto v = n->value<double>();
  if (!v || !(*v > 0) || *v > 1e9) return bad(source, "`" + std::string(key) + "` must be a positive number");
  return *v;
}

Result<std::vector<std::string>> strings(const toml::node *n, const std::string &source,
                                         std::string_view key) {
  std::vector<std::string> out;
  const toml::array *a = n ? n->as_array() : nullptr;
  if (!a) return bad(source, "`" + std::string(key) + "` must be an array of strings");
  for (const toml::node &e : *a) {
    auto s = e.value<std::string>();
    if (!s) return bad(source, "`" + std::string(key) + "` must be an array of strings");
    out.push_back(*s);
  }
  return out;
}

// The tables of an array of tables (`[[images]]`), or an error when `key` is something else.
Result<std::vector<const toml::table *>> tables(const toml::table &root, std::string_view key,
                                                const std::string &source) {
  std::vector<const toml::table *> out;
  const toml::node *n = root.get(key);
  if (!n) return out;
  const toml::array *a = n->as_array();
  if (!a)
    return bad(source,
               "`" + std::string(key) + "` must be an array of tables ([[" + std::string(key) + "]])");
  for (const toml::node &e : *a) {
    if (!e.as_table()) return bad(source, "`" + std::string(key) + "` must be an array of tables");
    out.push_back(e.as_table());
  }
  return out;
}

const toml::table *table(const toml::table &root, std::string_view key) {
  const toml::node *n = root.get(key);
  return n ? n->as_table() : nullptr;
}

} // namespace

Result<CloudConfig> parseConfig(std::string_view text, const std::string &source, const std::string &baseDir,
                                const std::string &selfDir) {
  toml::parse_result parsed = toml::parse(text, source);
  if (!parsed) {
    const toml::parse_error &e = parsed.error();
    return Error{ErrorKind::Syntax,
                 source + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description())};
  }
  const toml::table &root = parsed.table();
  CFM_CHECK(onlyKeys(root, source, "the file",
                     {"cloud", "access_keys", "quotas", "throttle", "images", "instance_types"}));
  CloudConfig c;
  const toml::table *cl = table(root, "cloud");
  if (!cl) return bad(source, "missing table [cloud]");
  CFM_CHECK(onlyKeys(*cl, source, "[cloud]",
                     {"name", "index", "listen", "region", "zones", "state_dir", "boot_delay_ms",
                      "stop_delay_ms", "forward_ports"}));
  c.name = CFM_TRY(str(*cl, "name", source, "", true));
  if (c.name.empty() || c.name.size() > 64 ||
      c.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
          std::string::npos)
    return bad(source, "`name` must be 1 to 64 letters, digits, `-` or `_`");
  c.index = static_cast<int>(CFM_TRY(integer(*cl, "index", source, 1, 1, 254)));
  std::string listen = CFM_TRY(str(*cl, "listen", source, "127.0.0.1:0"));
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad(source, "`listen` must be HOST:PORT");
  c.listenHost = listen.substr(0, colon);
  std::string port = listen.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535)
    return bad(source, "`listen` must be HOST:PORT with a port from 0 to 65535");
  c.listenPort = std::stoi(port);
  c.region = CFM_TRY(str(*cl, "region", source, "local-" + c.name));
  if (cl->get("zones")) c.zones = CFM_TRY(strings(cl->get("zones"), source, "zones"));
  if (c.zones.empty()) c.zones.push_back(c.region + "-1");
  std::string state = CFM_TRY(str(*cl, "state_dir", source, "state"));
  std::filesystem::path sp(state);
  if (sp.is_relative()) sp = std::filesystem::path(baseDir) / sp;
  c.stateDir = sp.lexically_normal().string();
  c.bootDelayMs = CFM_TRY(integer(*cl, "boot_delay_ms", source, 200, 0, 3600000));
  c.stopDelayMs = CFM_TRY(integer(*cl, "stop_delay_ms", source, 100, 0, 3600000));
  if (const toml::node *fp = cl->get("forward_ports")) {
    const toml::array *a = fp->as_array();
    if (!a) return bad(source, "`forward_ports` must be an array of ports");
    c.forwardPorts.clear();
    for (const toml::node &e : *a) {
      auto v = e.value_exact<int64_t>();
      if (!v || *v < 1 || *v > 65535) return bad(source, "`forward_ports` must hold ports from 1 to 65535");
      c.forwardPorts.push_back(static_cast<int>(*v));
    }
  }

  for (const toml::table *k : CFM_TRY(tables(root, "access_keys", source))) {
    CFM_CHECK(onlyKeys(*k, source, "[[access_keys]]", {"id", "secret"}));
    AccessKey key{CFM_TRY(str(*k, "id", source, "", true)), CFM_TRY(str(*k, "secret", source, "", true))};
    if (key.id.empty() || key.secret.empty())
      return bad(source, "an access key needs an `id` and a `secret`");
    c.accessKeys.push_back(key);
  }
  if (c.accessKeys.empty()) return bad(source, "at least one [[access_keys]] is required");

  if (const toml::table *q = table(root, "quotas")) {
    CFM_CHECK(onlyKeys(*q, source, "[quotas]", {"instances", "vcpus", "addresses"}));
    c.quotaInstances = CFM_TRY(integer(*q, "instances", source, 20, 0, 1000000));
    c.quotaVcpus = CFM_TRY(integer(*q, "vcpus", source, 64, 0, 100000000));
    c.quotaAddresses = CFM_TRY(integer(*q, "addresses", source, 5, 0, 254 * 54));
  }
  if (const toml::table *t = table(root, "throttle")) {
    CFM_CHECK(onlyKeys(*t, source, "[throttle]", {"rate", "burst"}));
    c.throttleRate = CFM_TRY(number(*t, "rate", source, 50.0));
    c.throttleBurst = CFM_TRY(number(*t, "burst", source, 100.0));
  }

  std::set<std::string> seen;
  for (const toml::table *i : CFM_TRY(tables(root, "images", source))) {
    CFM_CHECK(onlyKeys(*i, source, "[[images]]", {"id", "name", "command"}));
    Image im;
    im.id = CFM_TRY(str(*i, "id", source, "", true));
    im.name = CFM_TRY(str(*i, "name", source, im.id));
    im.command = CFM_TRY(strings(i->get("command"), source, "command"));
    if (im.command.empty()) return bad(source, "image `" + im.id + "` needs a non-empty `command`");
    if (!seen.insert(im.id).second) return bad(source, "image `" + im.id + "` is given twice");
    c.images.push_back(im);
  }
  if (c.images.empty()) {
    // the agent beside this program; without it, an instance that only waits: cfm-vm-idle
    // beside this program, or else /bin/sleep
    auto beside = [&](const char *name) -> std::string {
      if (selfDir.empty()) return {};
      std::string path = (std::filesystem::path(selfDir) / name).string();
      std::error_code ec;
      return std::filesystem::is_regular_file(path, ec) ? path : std::string();
    };
    if (std::string agent = beside("cfm-agent"); !agent.empty())
      c.images.push_back(Image{"ami-cfm-default", "cfm-default", {agent}});
    else if (std::string idle = beside("cfm-vm-idle"); !idle.empty())
      c.images.push_back(Image{"ami-cfm-default", "cfm-default", {idle}});
    else
      c.images.push_back(Image{"ami-cfm-default", "cfm-default", {"/bin/sleep", "infinity"}});
  }
  seen.clear();
  for (const toml::table *t : CFM_TRY(tables(root, "instance_types", source))) {
    CFM_CHECK(onlyKeys(*t, source, "[[instance_types]]", {"name", "vcpus", "memory_mib"}));
    InstanceType it;
    it.name = CFM_TRY(str(*t, "name", source, "", true));
    it.vcpus = CFM_TRY(integer(*t, "vcpus", source, 1, 1, 4096));
    it.memoryMib = CFM_TRY(integer(*t, "memory_mib", source, 512, 1, 1 << 24));
    if (!seen.insert(it.name).second) return bad(source, "instance type `" + it.name + "` is given twice");
    c.instanceTypes.push_back(it);
  }
  if (c.instanceTypes.empty())
    c.instanceTypes = {{"c1.micro", 1, 512},
                       {"c1.small", 1, 1024},
                       {"c1.medium", 2, 2048},
                       {"c1.large", 4, 8192},
                       {"c1.xlarge", 8, 16384}};
  return c;
}

Result<CloudConfig> loadConfig(const std::string &path, const std::string &selfDir) {
  std::string text = CFM_TRY(base::readRegularFile(path, uint64_t(1) << 20));
  std::filesystem::path base = std::filesystem::absolute(path).parent_path();
  return parseConfig(text, path, base.string(), selfDir);
}

} // namespace cfm::cloud
