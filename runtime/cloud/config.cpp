// config.cpp — reading a manager's TOML configuration with toml++ and mapping VMClasses to the
// cloud's images and instance types (config.h).
#include "runtime/cloud/config.h"

#include "base/files.h"

#define TOML_EXCEPTIONS 0 // errors are values: toml::parse returns a parse_result
#include <toml++/toml.h>

#include <filesystem>
#include <set>
#include <sstream>

namespace cfm::rt::cloud {

namespace {

constexpr uint64_t kMaxConfigBytes = uint64_t(1) << 20;

class Reader {
public:
  Reader(const std::string &path) : path_(path) {}

  Error at(const toml::source_region &where, const std::string &what) const {
    if (where.begin)
      return Error{
          ErrorKind::Usage, what,
          SourceLoc{path_, static_cast<int>(where.begin.line), static_cast<int>(where.begin.column)}};
    return Error{ErrorKind::Usage, what + " in " + path_, SourceLoc{path_, 0, 0}};
  }
  /// At a node; the whole document has no place of its own.
  Error at(const toml::node *n, const std::string &what) const {
    return n && n != root_ ? at(n->source(), what) : at(toml::source_region{}, what);
  }
  void setRoot(const toml::table *root) { root_ = root; }

  /// Every key of `t` must be one of `allowed` (a misspelt key must not be ignored).
  Result<void> onlyKeys(const toml::table &t, const std::string &where,
                        std::set<std::string_view> allowed) const {
    for (auto &&[k, v] : t)
      if (!allowed.count(k.str()))
        return at(k.source(), "unknown key `" + std::string(k.str()) + "` in " + where);
    return success();
  }

  /// A string value; `required` makes a missing one an error naming `name`.
  Result<std::string> str(const toml::table &t, std::string_view key, const std::string &name,
                          bool required) const {
    const toml::node *n = t.get(key);
    if (!n) {
      if (required) return at(&t, "missing `" + name + "` (a string)");
      return std::string();
    }
    auto s = n->value<std::string>();
    if (!s) return at(n, "`" + name + "` must be a string");
    if (required && s->empty()) return at(n, "`" + name + "` must not be empty");
    return *s;
  }

  Result<int64_t> positive(const toml::table &t, std::string_view key, const std::string &name) const {
    const toml::node *n = t.get(key);
    if (!n) return at(&t, "missing `" + name + "` (a whole number)");
    auto v = n->value<int64_t>();
    if (!n->is_integer() || !v || *v < 1) return at(n, "`" + name + "` must be a whole number of at least 1");
    return *v;
  }

  Result<const toml::table *> table(const toml::table &t, std::string_view key, const std::string &name,
                                    bool required) const {
    const toml::node *n = t.get(key);
    if (!n) {
      if (required) return at(&t, "missing table [" + name + "]");
      return static_cast<const toml::table *>(nullptr);
    }
    if (!n->is_table()) return at(n, "`" + name + "` must be a table");
    return n->as_table();
  }

  /// A path relative to the configuration file's folder.
  std::string resolve(const std::string &p) const {
    if (p.empty() || p[0] == '/') return p;
    return (std::filesystem::path(path_).parent_path() / p).lexically_normal().string();
  }

private:
  std::string path_;
  const toml::table *root_ = nullptr;
};

} // namespace

Result<std::string> readBrokerPassword(const BrokerConfig &b) {
  auto text = base::readRegularFile(b.passwordFile, 4096);
  if (!text)
    return Error{ErrorKind::Io,
                 "cannot read the broker password file " + b.passwordFile + ": " + text.error().message};
  std::string pw = *text;
  while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r' || pw.back() == ' ')) pw.pop_back();
  return pw;
}

Result<ManagerConfig> parseManagerConfig(std::string_view text, const std::string &path) {
  toml::parse_result parsed = toml::parse(text, path);
  if (!parsed) {
    const toml::parse_error &e = parsed.error();
    return Error{
        ErrorKind::Syntax, std::string(e.description()),
        SourceLoc{path, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column)}};
  }
  const toml::table &root = parsed.table();
  Reader r(path);
  r.setRoot(&root);
  ManagerConfig c;
  c.path = path;
  CFM_CHECK(
      r.onlyKeys(root, "the file", {"manager", "cloud", "mapping", "broker", "federation", "standing"}));

  const toml::table *m = CFM_TRY(r.table(root, "manager", "manager", true));
  CFM_CHECK(r.onlyKeys(*m, "[manager]", {"name", "store", "socket"}));
  c.managerName = CFM_TRY(r.str(*m, "name", "manager.name", true));
  c.storePath = r.resolve(CFM_TRY(r.str(*m, "store", "manager.store", true)));
  c.socketPath = r.resolve(CFM_TRY(r.str(*m, "socket", "manager.socket", false)));

  const toml::table *cl = CFM_TRY(r.table(root, "cloud", "cloud", true));
  CFM_CHECK(r.onlyKeys(*cl, "[cloud]", {"name", "endpoint", "region", "credentials", "profile"}));
  c.cloudName = CFM_TRY(r.str(*cl, "name", "cloud.name", true));
  c.endpoint = CFM_TRY(r.str(*cl, "endpoint", "cloud.endpoint", true));
  if (c.endpoint.rfind("http://", 0) != 0 && c.endpoint.rfind("https://", 0) != 0)
    return r.at(cl->get("endpoint"),
                "`cloud.endpoint` must be an http:// or https:// URL, not `" + c.endpoint + "`");
  c.region = CFM_TRY(r.str(*cl, "region", "cloud.region", true));
  c.credentialsPath = r.resolve(CFM_TRY(r.str(*cl, "credentials", "cloud.credentials", true)));
  if (std::string p = CFM_TRY(r.str(*cl, "profile", "cloud.profile", false)); !p.empty()) c.profile = p;

  if (const toml::table *b = CFM_TRY(r.table(root, "broker", "broker", false))) {
    CFM_CHECK(r.onlyKeys(*b, "[broker]", {"url", "username", "password_file"}));
    BrokerConfig broker;
    broker.url = CFM_TRY(r.str(*b, "url", "broker.url", true));
    if (broker.url.rfind("tcp://", 0) != 0)
      return r.at(b->get("url"), "`broker.url` must be a tcp:// URL, not `" + broker.url + "`");
    broker.username = CFM_TRY(r.str(*b, "username", "broker.username", true));
    broker.passwordFile = r.resolve(CFM_TRY(r.str(*b, "password_file", "broker.password_file", true)));
    c.broker = std::move(broker);
  }

  if (const toml::table *f = CFM_TRY(r.table(root, "federation", "federation", false))) {
    CFM_CHECK(r.onlyKeys(*f, "[federation]", {"follow"}));
    if (!c.broker) return r.at(f, "[federation] needs a [broker] section: managers share events through it");
    if (const toml::node *n = f->get("follow")) {
      const toml::array *a = n->as_array();
      if (!a) return r.at(n, "`federation.follow` must be a list of system names or ids");
      for (const toml::node &e : *a) {
        auto v = e.value<std::string>();
        if (!e.is_string() || !v || v->empty() || v->find_first_of("/+#") != std::string::npos)
          return r.at(&e, "`federation.follow` lists system names or ids: non-empty strings without / + #");
        c.follow.push_back(*v);
      }
    }
  }

  if (const toml::node *st = root.get("standing")) {
    const toml::array *a = st->as_array();
    if (!a || !a->is_array_of_tables())
      return r.at(st, "`standing` must be [[standing]] tables { file, proc, engine, args }");
    for (const toml::node &e : *a) {
      const toml::table &t = *e.as_table();
      CFM_CHECK(r.onlyKeys(t, "[[standing]]", {"file", "proc", "engine", "args", "system"}));
      StandingRun run;
      // With `system`, `file` names one of that system's procedure files in the store.
      run.system = CFM_TRY(r.str(t, "system", "standing.system", false));
      std::string file = CFM_TRY(r.str(t, "file", "standing.file", true));
      run.file = run.system.empty() ? r.resolve(file) : file;
      if (std::string p = CFM_TRY(r.str(t, "proc", "standing.proc", false)); !p.empty()) run.proc = p;
      if (std::string en = CFM_TRY(r.str(t, "engine", "standing.engine", false)); !en.empty())
        run.engine = en;
      if (run.engine != "jit" && run.engine != "interp")
        return r.at(t.get("engine"),
                    "`standing.engine` must be \"jit\" or \"interp\", not `" + run.engine + "`");
      if (const toml::node *args = t.get("args")) {
        const toml::table *at = args->as_table();
        if (!at) return r.at(args, "`standing.args` must be a table { NAME = VALUE }");
        for (const auto &[k, v] : *at) {
          std::string value;
          if (auto s2 = v.value_exact<std::string>())
            value = *s2;
          else if (auto i = v.value_exact<int64_t>())
            value = std::to_string(*i);
          else if (auto b = v.value_exact<bool>())
            value = *b ? "true" : "false";
          else
            return r.at(&v, "`standing.args." + std::string(k.str()) +
                                "` must be a string, an integer or a boolean");
          run.args[std::string(k.str())] = value;
        }
      }
      c.standing.push_back(std::move(run));
    }
  }

  const toml::table *mp = CFM_TRY(r.table(root, "mapping", "mapping", false));
  if (!mp) return c;
  CFM_CHECK(r.onlyKeys(*mp, "[mapping]", {"default_image", "images", "instance_types", "vm_classes"}));
  c.defaultImage = CFM_TRY(r.str(*mp, "default_image", "mapping.default_image", false));
  if (const toml::table *imgs = CFM_TRY(r.table(*mp, "images", "mapping.images", false)))
    for (auto &&[k, v] : *imgs) {
      auto id = v.value<std::string>();
      if (!id || id->empty())
        return r.at(&v, "mapping.images.\"" + std::string(k.str()) +
                            "\" must be a non-empty string (an image id)");
      c.images[std::string(k.str())] = *id;
    }
  if (const toml::node *ts = mp->get("instance_types")) {
    const toml::array *a = ts->as_array();
    if (!a) return r.at(ts, "`mapping.instance_types` must be an array of tables");
    for (const toml::node &e : *a) {
      const toml::table *t = e.as_table();
      if (!t) return r.at(&e, "each of `mapping.instance_types` must be a table { name, vcpus, memory_mib }");
      CFM_CHECK(r.onlyKeys(*t, "an instance type", {"name", "vcpus", "memory_mib"}));
      InstanceType it;
      it.name = CFM_TRY(r.str(*t, "name", "name", true));
      it.vcpus = static_cast<int>(CFM_TRY(r.positive(*t, "vcpus", "vcpus")));
      it.memoryMib = CFM_TRY(r.positive(*t, "memory_mib", "memory_mib"));
      c.instanceTypes.push_back(std::move(it));
    }
  }
  if (const toml::table *vcs = CFM_TRY(r.table(*mp, "vm_classes", "mapping.vm_classes", false)))
    for (auto &&[k, v] : *vcs) {
      std::string where = "mapping.vm_classes." + std::string(k.str());
      const toml::table *t = v.as_table();
      if (!t) return r.at(&v, "`" + where + "` must be a table");
      CFM_CHECK(r.onlyKeys(*t, "[" + where + "]", {"image", "instance_type"}));
      VMClassMapping vm{CFM_TRY(r.str(*t, "image", where + ".image", false)),
                        CFM_TRY(r.str(*t, "instance_type", where + ".instance_type", false))};
      c.vmClasses[std::string(k.str())] = std::move(vm);
    }
  return c;
}

Result<ManagerConfig> readManagerConfig(const std::string &path) {
  auto text = base::readRegularFile(path, kMaxConfigBytes);
  if (!text)
    return Error{text.error().kind,
                 "cannot read the manager configuration " + path + ": " + text.error().message,
                 SourceLoc{path, 0, 0}};
  return parseManagerConfig(*text, path);
}

Result<Credentials> readCredentials(const std::string &path, const std::string &profile) {
  auto text = base::readRegularFile(path, kMaxConfigBytes);
  if (!text)
    return Error{text.error().kind, "cannot read the credentials " + path + ": " + text.error().message,
                 SourceLoc{path, 0, 0}};
  std::istringstream in(*text);
  std::string line, section;
  Credentials c;
  bool found = false;
  auto trim = [](std::string s) {
    size_t b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(line.substr(1, line.size() - 2));
      if (section == profile) found = true;
      continue;
    }
    if (section != profile) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
    if (k == "aws_access_key_id") c.accessKeyId = v;
    if (k == "aws_secret_access_key") c.secretAccessKey = v;
    if (k == "aws_session_token") c.sessionToken = v;
  }
  if (!found) return Error{ErrorKind::Usage, "no profile [" + profile + "] in the credentials " + path};
  if (c.accessKeyId.empty() || c.secretAccessKey.empty())
    return Error{ErrorKind::Usage, "profile [" + profile + "] in " + path +
                                       " needs aws_access_key_id and aws_secret_access_key"};
  return c;
}

Result<Placement> placeVMClass(const ManagerConfig &c, std::string_view vmClass, std::string_view image,
                               int cpus, int64_t memoryMib) {
  Placement p;
  const VMClassMapping *own = nullptr;
  if (auto it = c.vmClasses.find(std::string(vmClass)); it != c.vmClasses.end()) own = &it->second;
  std::string cls = "VMClass `" + std::string(vmClass) + "`";
  if (own && !own->image.empty()) {
    p.imageId = own->image;
  } else if (auto it = c.images.find(std::string(image)); it != c.images.end()) {
    p.imageId = it->second;
  } else if (!c.defaultImage.empty()) {
    p.imageId = c.defaultImage;
  } else {
    return Error{ErrorKind::Usage, cls + ": cloud `" + c.cloudName + "` has no image for `" +
                                       std::string(image) + "` (add it to " +
                                       "[mapping.images] or set mapping.default_image in " + c.path + ")"};
  }
  if (own && !own->instanceType.empty()) {
    p.instanceType = own->instanceType;
    return p;
  }
  const InstanceType *best = nullptr;
  for (const InstanceType &t : c.instanceTypes)
    if (t.vcpus >= cpus && t.memoryMib >= memoryMib &&
        (!best || t.vcpus < best->vcpus || (t.vcpus == best->vcpus && t.memoryMib < best->memoryMib)))
      best = &t;
  if (!best)
    return Error{ErrorKind::Usage, cls + ": cloud `" + c.cloudName + "` has no instance type with " +
                                       std::to_string(cpus) + " CPUs and " + std::to_string(memoryMib) +
                                       " MiB (list one in mapping.instance_types or set " +
                                       "[mapping.vm_classes." + std::string(vmClass) + "] instance_type in " +
                                       c.path + ")"};
  p.instanceType = best->name;
  return p;
}

} // namespace cfm::rt::cloud
