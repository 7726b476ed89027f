// local_cloud_config.cpp — reading `cfmc local up --cloud-config FILE` (local_cloud_config.h)
// with toml++: the keys every local cloud may share, checked here so that a mistake is named
// before any cloud starts; cfm-cloud checks the values again when it reads its cloud.toml.
#include "cfmc/local_cloud_config.h"

#include "base/files.h"

#include <set>
#include <sstream>
#define TOML_EXCEPTIONS 0 // errors are values: toml::parse returns a parse_result
#include <toml++/toml.h>

namespace cfm::driver {
namespace {

Error bad(const std::string &path, const std::string &what) {
  return Error{ErrorKind::Usage, path + ": " + what};
}

Result<void> onlyKeys(const toml::table &t, const std::string &path, const std::string &where,
                      const std::set<std::string> &allowed) {
  for (const auto &[k, v] : t) {
    (void)v;
    if (!allowed.count(std::string(k.str()))) {
      std::string list;
      for (const std::string &a : allowed) list += (list.empty() ? "" : ", ") + a;
      return bad(path, "unknown key `" + std::string(k.str()) + "` in " + where + " (expected " + list + ")");
    }
  }
  return {};
}

Result<std::optional<long>> integer(const toml::table &t, const char *key, const std::string &path,
                                    const std::string &where, long max) {
  const toml::node *n = t.get(key);
  if (!n) return std::optional<long>();
  auto v = n->value_exact<int64_t>();
  if (!v || *v < 0 || *v > max)
    return bad(path, where + "." + key + " must be an integer from 0 to " + std::to_string(max));
  return std::optional<long>(static_cast<long>(*v));
}

Result<std::optional<double>> number(const toml::table &t, const char *key, const std::string &path,
                                     const std::string &where) {
  const toml::node *n = t.get(key);
  if (!n) return std::optional<double>();
  auto v = n->value<double>();
  if (!v || !(*v > 0) || *v > 1e9) return bad(path, where + "." + key + " must be a positive number");
  return std::optional<double>(*v);
}

/// The array of tables `key` of root, each with only `allowed` keys, as TOML text.
Result<std::string> tablesText(const toml::table &root, const char *key, const std::string &path,
                               const std::set<std::string> &allowed) {
  const toml::node *n = root.get(key);
  if (!n) return std::string();
  const toml::array *a = n->as_array();
  if (!a || !a->is_array_of_tables())
    return bad(path, "`" + std::string(key) + "` must be [[" + key + "]] tables");
  std::ostringstream out;
  for (const toml::node &e : *a) {
    CFM_CHECK(onlyKeys(*e.as_table(), path, "[[" + std::string(key) + "]]", allowed));
    out << "\n[[" << key << "]]\n" << *e.as_table() << '\n';
  }
  return out.str();
}

} // namespace

Result<LocalCloudSettings> readLocalCloudSettings(const std::string &path) {
  std::string text = CFM_TRY(base::readRegularFile(path, 1 << 20));
  toml::parse_result parsed = toml::parse(text, path);
  if (!parsed) {
    const toml::parse_error &e = parsed.error();
    return bad(path, "line " + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  const toml::table &root = parsed.table();
  CFM_CHECK(onlyKeys(root, path, "the file", {"cloud", "quotas", "throttle", "images", "instance_types"}));
  LocalCloudSettings s;
  if (const toml::node *n = root.get("cloud")) {
    const toml::table *c = n->as_table();
    if (!c) return bad(path, "`cloud` must be a table");
    CFM_CHECK(onlyKeys(*c, path, "[cloud]", {"boot_delay_ms", "stop_delay_ms", "forward_ports"}));
    s.bootDelayMs = CFM_TRY(integer(*c, "boot_delay_ms", path, "cloud", 3600L * 1000));
    s.stopDelayMs = CFM_TRY(integer(*c, "stop_delay_ms", path, "cloud", 3600L * 1000));
    if (const toml::node *fp = c->get("forward_ports")) {
      const toml::array *a = fp->as_array();
      if (!a) return bad(path, "cloud.forward_ports must be an array of ports");
      std::ostringstream line;
      line << "forward_ports = [";
      for (size_t i = 0; i < a->size(); ++i) {
        auto v = (*a)[i].value_exact<int64_t>();
        if (!v || *v < 1 || *v > 65535)
          return bad(path, "cloud.forward_ports must hold ports from 1 to 65535");
        line << (i ? ", " : "") << *v;
      }
      line << "]\n";
      s.forwardPorts = line.str();
    }
  }
  if (const toml::node *n = root.get("quotas")) {
    const toml::table *q = n->as_table();
    if (!q) return bad(path, "`quotas` must be a table");
    CFM_CHECK(onlyKeys(*q, path, "[quotas]", {"instances", "vcpus", "addresses"}));
    s.instances = CFM_TRY(integer(*q, "instances", path, "quotas", 1000000));
    s.vcpus = CFM_TRY(integer(*q, "vcpus", path, "quotas", 100000000));
    s.addresses = CFM_TRY(integer(*q, "addresses", path, "quotas", 254 * 54));
  }
  if (const toml::node *n = root.get("throttle")) {
    const toml::table *t = n->as_table();
    if (!t) return bad(path, "`throttle` must be a table");
    CFM_CHECK(onlyKeys(*t, path, "[throttle]", {"rate", "burst"}));
    s.rate = CFM_TRY(number(*t, "rate", path, "throttle"));
    s.burst = CFM_TRY(number(*t, "burst", path, "throttle"));
  }
  s.imagesAndTypes = CFM_TRY(tablesText(root, "images", path, {"id", "name", "command"}));
  s.imagesAndTypes += CFM_TRY(tablesText(root, "instance_types", path, {"name", "vcpus", "memory_mib"}));
  return s;
}

} // namespace cfm::driver
