// store.cpp — saving and loading model objects (store.h). A save compares the stored rows with the
// model table by table (syncRows): an unchanged row is left alone, a changed one is updated with
// version + 1, a new one inserted with version 1, a missing one deleted; the system row's version
// goes up when anything of the system changed. All of it runs in one transaction.
#include "runtime/store/store.h"

#include "base/sha256.h"

#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace cfm::store {

namespace {

std::string q(std::string_view s) {
  // Appended piece by piece: GCC 12 at -O3 reports `"`" + std::string` as an overlapping memcpy
  // (-Wrestrict, GCC bug 105329).
  std::string r;
  r.reserve(s.size() + 2);
  r += '`';
  r += s;
  r += '`';
  return r;
}

std::string lowerFirst(std::string s) {
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

/// A random RFC 4122 version 4 id for a new system.
std::string newUid() {
  std::random_device rd;
  unsigned char b[16];
  for (int i = 0; i < 16; i += 4) {
    uint32_t r = rd();
    for (int k = 0; k < 4; ++k) b[i + k] = static_cast<unsigned char>(r >> (8 * k));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  static const char *hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += hex[b[i] >> 4];
    out += hex[b[i] & 15];
  }
  return out;
}

struct Table {
  const char *name;
  const char *parent; ///< the column holding the owner's id
  std::vector<const char *> keys, values;
};

struct Row {
  std::vector<Value> key, values;
};

std::string join(const std::vector<const char *> &cols, const char *sep, const char *suffix = "") {
  std::string out;
  for (size_t i = 0; i < cols.size(); ++i) out += (i ? sep : "") + std::string(cols[i]) + suffix;
  return out;
}

/// Makes table T's rows under PARENT equal to ROWS (matched by key); returns their ids in order.
/// BEFORE_DELETE may refuse the deletion of a row.
Result<std::vector<int64_t>> syncRows(Db &db, const Table &t, int64_t parent, const std::vector<Row> &rows,
                                      bool &changed,
                                      const std::function<Result<void>(int64_t id)> &beforeDelete = nullptr) {
  std::map<std::vector<Value>, std::pair<int64_t, std::vector<Value>>> existing;
  {
    std::vector<const char *> cols = t.keys;
    cols.insert(cols.end(), t.values.begin(), t.values.end());
    Stmt s = CFM_TRY(
        db.prepare("SELECT id, " + join(cols, ", ") + " FROM " + t.name + " WHERE " + t.parent + " = ?"));
    s.bind(1, parent);
    while (CFM_TRY(s.step())) {
      std::vector<Value> key, vals;
      int c = 1;
      for (size_t i = 0; i < t.keys.size(); ++i) key.push_back(s.value(c++));
      for (size_t i = 0; i < t.values.size(); ++i) vals.push_back(s.value(c++));
      existing.emplace(std::move(key), std::make_pair(s.i64(0), std::move(vals)));
    }
  }
  Stmt update = CFM_TRY(db.prepare("UPDATE " + std::string(t.name) + " SET " + join(t.values, ", ", " = ?") +
                                   ", version = version + 1 WHERE id = ?"));
  std::vector<const char *> insertCols = {t.parent};
  insertCols.insert(insertCols.end(), t.keys.begin(), t.keys.end());
  insertCols.insert(insertCols.end(), t.values.begin(), t.values.end());
  std::string marks;
  for (size_t i = 0; i < insertCols.size(); ++i) marks += i ? ", ?" : "?";
  Stmt insert = CFM_TRY(db.prepare("INSERT INTO " + std::string(t.name) + " (" + join(insertCols, ", ") +
                                   ") VALUES (" + marks + ")"));
  std::vector<int64_t> ids;
  for (const Row &r : rows) {
    auto it = existing.find(r.key);
    if (it != existing.end()) {
      int64_t id = it->second.first;
      if (it->second.second != r.values) {
        update.reset();
        int c = 1;
        for (const Value &v : r.values) update.bind(c++, v);
        update.bind(c, id);
        CFM_CHECK(update.run());
        changed = true;
      }
      ids.push_back(id);
      existing.erase(it);
      continue;
    }
    insert.reset();
    int c = 1;
    insert.bind(c++, parent);
    for (const Value &v : r.key) insert.bind(c++, v);
    for (const Value &v : r.values) insert.bind(c++, v);
    CFM_CHECK(insert.run());
    ids.push_back(db.lastInsertId());
    changed = true;
  }
  if (!existing.empty()) {
    Stmt del = CFM_TRY(db.prepare("DELETE FROM " + std::string(t.name) + " WHERE id = ?"));
    for (auto &[key, row] : existing) {
      if (beforeDelete) CFM_CHECK(beforeDelete(row.first));
      del.reset();
      del.bind(1, row.first);
      CFM_CHECK(del.run());
      changed = true;
    }
  }
  return ids;
}

const Table kSystemProperty{"system_property",
                            "system_id",
                            {"class_name", "key", "instance"},
                            {"pos", "type", "value", "label", "description", "user_configurable"}};
const Table kClassProperty{"vm_class_property",
                           "vm_class_id",
                           {"class_name", "key", "instance"},
                           {"pos", "type", "value", "label", "description", "user_configurable"}};
const Table kVmClass{"vm_class", "system_id", {"name"}, {"pos", "cpus", "memory_mb", "image", "os_type"}};
const Table kDisk{"vm_class_disk", "vm_class_id", {"pos"}, {"disk_id", "capacity_mb", "file"}};
const Table kNetwork{"vm_class_network", "vm_class_id", {"pos"}, {"name"}};
const Table kElement{
    "element", "system_id", {"name"}, {"pos", "vm_class_id", "min_instances", "max_instances", "instances"}};
const Table kDependency{"element_dependency", "element_id", {"pos"}, {"depends_on"}};
const Table kVolume{"element_volume", "element_id", {"name"}, {"pos", "size_mb", "device", "mount_path"}};
const Table kAddress{"element_address", "element_id", {"name"}, {"pos", "kind", "network"}};
const Table kTemplate{"config_template", "system_id", {"name"}, {"pos", "element", "path", "mode", "text"}};
const Table kProcedureFile{"procedure_file", "system_id", {"name"}, {"hash", "text"}};

std::vector<Row> propertyRows(const std::vector<model::Property> &props) {
  std::vector<Row> rows;
  int64_t pos = 0;
  for (const model::Property &p : props)
    rows.push_back({{p.className, p.key, p.instance},
                    {pos++, p.type, p.value, p.label, p.description, int64_t(p.userConfigurable)}});
  return rows;
}

Result<std::vector<model::Property>> loadProperties(Db &db, const char *table, const char *parent,
                                                    int64_t id) {
  Stmt s =
      CFM_TRY(db.prepare(std::string("SELECT class_name, key, instance, type, value, label, description, "
                                     "user_configurable FROM ") +
                         table + " WHERE " + parent + " = ? ORDER BY pos"));
  s.bind(1, id);
  std::vector<model::Property> out;
  while (CFM_TRY(s.step())) {
    model::Property p;
    p.className = s.text(0);
    p.key = s.text(1);
    p.instance = s.text(2);
    p.type = s.text(3);
    p.value = s.text(4);
    p.label = s.text(5);
    p.description = s.text(6);
    p.userConfigurable = s.i64(7) != 0;
    out.push_back(std::move(p));
  }
  return out;
}

} // namespace

// Both ways of opening place every error they return in the store's file.
Result<std::unique_ptr<Store>> Store::open(const std::string &path, int target) {
  auto r = openIn(path, target);
  if (!r) return r.error().inFile(path);
  return r;
}

Result<std::unique_ptr<Store>> Store::openIn(const std::string &path, int target) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return Error{ErrorKind::Io, "not a regular file"};
  std::unique_ptr<Store> st_(new Store());
  Store *s = st_.get();
  s->db_ = CFM_TRY(Db::open(path, Db::Mode::Create));
  // 1 KiB pages (a new file's; an existing one keeps its own): a transaction writes each page it
  // changes to the WAL whole, and the commits on the hot paths touch a few b-tree leaves with
  // small rows (an event: the row, two index entries and the outbox's), so 4 KiB pages wrote four
  // times the bytes for nothing: cfm-fed-bench's sustained events went from 9,000-10,100 to
  // 11,000-12,100 a second (bench/README.md). Set before the first table exists.
  CFM_CHECK(s->db_->exec("PRAGMA page_size = 1024"));
  // WAL lets readers (cfmc, other processes) work while the manager writes. Switching a new file to
  // WAL needs its lock, which a concurrent creator may hold: wait like every other writer.
  CFM_CHECK(whileBusy(*s->db_, [&] { return s->db_->exec("PRAGMA journal_mode = WAL"); }));
  CFM_CHECK(s->db_->exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL"));
  {
    Stmt q = CFM_TRY(s->db_->prepare("PRAGMA foreign_keys"));
    if (!CFM_TRY(q.step()) || q.i64(0) != 1)
      return Error{ErrorKind::Store, "sqlite: foreign keys cannot be enabled"};
  }
  s->schemaVersion_ = CFM_TRY(migrate(*s->db_, target));
  return st_;
}

Result<std::unique_ptr<Store>> Store::openReadOnly(const std::string &path) {
  auto r = openReadOnlyIn(path);
  if (!r) return r.error().inFile(path);
  return r;
}

Result<std::unique_ptr<Store>> Store::openReadOnlyIn(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Error{ErrorKind::Io, "no store at " + q(path)};
    return Error{ErrorKind::Io, "store " + q(path) + ": " + lowerFirst(std::strerror(errno))};
  }
  if (!S_ISREG(st.st_mode)) return Error{ErrorKind::Io, "store " + q(path) + " is not a regular file"};
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  bool writable = ::access(path.c_str(), W_OK) == 0 && ::access(dir.c_str(), W_OK) == 0;
  bool hasWal = ::access((path + "-wal").c_str(), F_OK) == 0;
  Db::Mode mode = writable ? Db::Mode::Write : hasWal ? Db::Mode::ReadOnly : Db::Mode::Immutable;
  std::unique_ptr<Store> out(new Store());
  auto frame = [&](const Error &e) { return e.framed("store " + q(path) + ": "); };
  auto db = Db::open(path, mode);
  if (!db) return frame(db.error());
  out->db_ = std::move(*db);
  if (writable) {
    auto r = out->db_->exec("PRAGMA query_only = ON");
    if (!r) return frame(r.error());
  }
  auto version = schemaVersionOf(*out->db_);
  if (!version) return frame(version.error());
  if (*version < latestSchemaVersion())
    return Error{ErrorKind::Store, "store " + q(path) + " has schema version " + std::to_string(*version) +
                                       ", older than this " + "program's " +
                                       std::to_string(latestSchemaVersion()) +
                                       "; a command that writes it (`cfmc ovf import`) upgrades it"};
  if (*version > latestSchemaVersion())
    return Error{ErrorKind::Store, "store " + q(path) + " has schema version " + std::to_string(*version) +
                                       ", newer than this " + "program's " +
                                       std::to_string(latestSchemaVersion()) + "; use a newer cfmc"};
  out->schemaVersion_ = *version;
  return out;
}

Result<std::optional<int64_t>> Store::findSystem(std::string_view key) {
  Stmt s = CFM_TRY(db_->prepare("SELECT id FROM business_system WHERE name = ?1 UNION ALL "
                                "SELECT id FROM business_system WHERE uid = ?1 LIMIT 1"));
  s.bind(1, std::string(key));
  if (CFM_TRY(s.step())) return std::optional<int64_t>(s.i64(0));
  return std::optional<int64_t>();
}

Result<int64_t> Store::requireSystem(std::string_view key) {
  auto id = CFM_TRY(findSystem(key));
  if (!id) return Error{ErrorKind::Store, "no business system " + q(key) + " in the store"};
  return *id;
}

Result<SaveResult> Store::saveSystem(const model::BusinessSystem &sys,
                                     const std::vector<ProcedureFile> *procs) {
  if (sys.name.empty()) return Error{ErrorKind::Store, "a business system needs a name"};
  for (const model::BusinessSystemElement &e : sys.elements)
    if (!sys.vmClass(e.vmClass))
      return Error{ErrorKind::Store, "element " + q(e.name) + " names vm class " + q(e.vmClass) +
                                         ", which the system does not have"};
  auto tx = CFM_TRY(Tx::begin(*db_));
  SaveResult res;
  bool changed = false;

  // The system row: matched by id when the model has one, else by name.
  int64_t sysId = 0;
  {
    Stmt s = CFM_TRY(db_->prepare("SELECT id, uid, name, description FROM business_system WHERE " +
                                  std::string(sys.id.empty() ? "name" : "uid") + " = ?"));
    s.bind(1, sys.id.empty() ? sys.name : sys.id);
    if (CFM_TRY(s.step())) {
      sysId = s.i64(0);
      res.id = s.text(1);
      if (s.text(2) != sys.name || s.text(3) != sys.description) {
        Stmt u = CFM_TRY(db_->prepare("UPDATE business_system SET name = ?, description = ? WHERE id = ?"));
        u.bind(1, sys.name).bind(2, sys.description).bind(3, sysId);
        auto r = u.run();
        if (!r)
          return Error{ErrorKind::Store, "cannot rename system " + q(s.text(2)) + " to " + q(sys.name) +
                                             ": " + r.error().message};
        changed = true;
      }
    } else {
      res.id = sys.id.empty() ? newUid() : sys.id;
      Stmt i = CFM_TRY(db_->prepare("INSERT INTO business_system (uid, name, description) VALUES (?, ?, ?)"));
      i.bind(1, res.id).bind(2, sys.name).bind(3, sys.description);
      auto r = i.run();
      if (!r)
        return Error{ErrorKind::Store, "cannot add system " + q(sys.name) + " (id " + res.id +
                                           "): " + r.error().message +
                                           (sys.id.empty() ? "" : "; another system has that name")};
      sysId = db_->lastInsertId();
      res.created = true;
    }
  }

  CFM_TRY(syncRows(*db_, kSystemProperty, sysId, propertyRows(sys.properties), changed));

  std::vector<Row> classRows;
  int64_t pos = 0;
  for (const model::VMClass &c : sys.vmClasses)
    classRows.push_back({{c.name}, {pos++, int64_t(c.cpus), c.memoryMb, c.image, c.osType}});
  std::vector<int64_t> classIds = CFM_TRY(syncRows(*db_, kVmClass, sysId, classRows, changed));
  std::map<std::string, int64_t> classId;
  for (size_t i = 0; i < sys.vmClasses.size(); ++i) {
    const model::VMClass &c = sys.vmClasses[i];
    classId[c.name] = classIds[i];
    CFM_TRY(syncRows(*db_, kClassProperty, classIds[i], propertyRows(c.properties), changed));
    std::vector<Row> disks, nets;
    pos = 0;
    for (const model::Disk &d : c.disks) disks.push_back({{pos++}, {d.id, d.capacityMb, d.file}});
    pos = 0;
    for (const std::string &n : c.networks) nets.push_back({{pos++}, {n}});
    CFM_TRY(syncRows(*db_, kDisk, classIds[i], disks, changed));
    CFM_TRY(syncRows(*db_, kNetwork, classIds[i], nets, changed));
  }

  std::vector<Row> elementRows;
  pos = 0;
  for (const model::BusinessSystemElement &e : sys.elements)
    elementRows.push_back({{e.name},
                           {pos++, classId[e.vmClass], int64_t(e.minInstances), int64_t(e.maxInstances),
                            int64_t(e.instances)}});
  // An element with instances cannot go: its instances are running state, not configuration.
  auto refuseRunning = [&](int64_t elementId) -> Result<void> {
    Stmt s = CFM_TRY(
        db_->prepare("SELECT e.name, count(*) FROM element e JOIN element_instance i ON i.element_id = "
                     "e.id WHERE e.id = ? GROUP BY e.name"));
    s.bind(1, elementId);
    if (CFM_TRY(s.step()))
      return Error{ErrorKind::Store, "cannot remove element " + q(s.text(0)) + " from system " + q(sys.name) +
                                         ": it has " + std::to_string(s.i64(1)) + " instance(s)"};
    return success();
  };
  std::vector<int64_t> elementIds =
      CFM_TRY(syncRows(*db_, kElement, sysId, elementRows, changed, refuseRunning));
  for (size_t i = 0; i < sys.elements.size(); ++i) {
    const model::BusinessSystemElement &e = sys.elements[i];
    std::vector<Row> deps, vols, addrs;
    pos = 0;
    for (const std::string &d : e.dependsOn) deps.push_back({{pos++}, {d}});
    pos = 0;
    for (const model::Volume &v : e.volumes)
      vols.push_back({{v.name}, {pos++, v.sizeMb, v.device, v.mountPath}});
    pos = 0;
    for (const model::Address &a : e.addresses) addrs.push_back({{a.name}, {pos++, a.kind, a.network}});
    CFM_TRY(syncRows(*db_, kDependency, elementIds[i], deps, changed));
    CFM_TRY(syncRows(*db_, kVolume, elementIds[i], vols, changed));
    CFM_TRY(syncRows(*db_, kAddress, elementIds[i], addrs, changed));
  }

  std::vector<Row> templateRows;
  pos = 0;
  for (const model::ConfigTemplate &t : sys.templates)
    templateRows.push_back({{t.name}, {pos++, t.element, t.path, t.mode, t.text}});
  CFM_TRY(syncRows(*db_, kTemplate, sysId, templateRows, changed));

  if (procs) {
    std::vector<Row> procRows;
    for (const ProcedureFile &f : *procs) {
      if (std::string why = procedureNameProblem(f.name); !why.empty()) return Error{ErrorKind::Store, why};
      procRows.push_back({{f.name}, {base::sha256Hex(f.text), f.text}});
    }
    CFM_TRY(syncRows(*db_, kProcedureFile, sysId, procRows, changed));
  }

  if (changed && !res.created) {
    Stmt u = CFM_TRY(db_->prepare("UPDATE business_system SET version = version + 1 WHERE id = ?"));
    u.bind(1, sysId);
    CFM_CHECK(u.run());
  }
  {
    Stmt s = CFM_TRY(db_->prepare("SELECT version FROM business_system WHERE id = ?"));
    s.bind(1, sysId);
    if (CFM_TRY(s.step())) res.version = s.i64(0);
  }
  auto committed = tx->commit();
  if (!committed)
    return Error{ErrorKind::Store, "cannot save system " + q(sys.name) + ": " + committed.error().message};
  res.changed = changed || res.created;
  return res;
}

Result<std::optional<ElementClass>> Store::elementClass(std::string_view key, std::string_view element) {
  auto found = CFM_TRY(findSystem(key));
  if (!found) return std::optional<ElementClass>();
  Stmt s =
      CFM_TRY(db_->prepare("SELECT s.uid, s.name, e.id, c.id, c.name, c.cpus, c.memory_mb, c.image, "
                           "c.os_type FROM business_system s LEFT JOIN element e ON e.system_id = s.id "
                           "AND e.name = ?2 LEFT JOIN vm_class c ON c.id = e.vm_class_id WHERE s.id = ?1"));
  s.bind(1, *found);
  s.bind(2, std::string(element));
  if (!CFM_TRY(s.step())) return std::optional<ElementClass>();
  ElementClass out;
  out.systemId = s.text(0);
  out.systemName = s.text(1);
  auto isNull = [&](int col) { return std::holds_alternative<std::monostate>(s.value(col)); };
  out.elementFound = !isNull(2);
  if (out.elementFound && !isNull(3)) {
    model::VMClass c;
    c.name = s.text(4);
    c.cpus = static_cast<int>(s.i64(5));
    c.memoryMb = s.i64(6);
    c.image = s.text(7);
    c.osType = s.text(8);
    out.vmClass = std::move(c);
  }
  return std::optional<ElementClass>(std::move(out));
}

Result<std::optional<model::BusinessSystem>> Store::loadSystem(std::string_view key) {
  auto found = CFM_TRY(findSystem(key));
  if (!found) return std::optional<model::BusinessSystem>();
  int64_t sysId = *found;
  model::BusinessSystem sys;
  {
    Stmt s = CFM_TRY(db_->prepare("SELECT uid, name, description FROM business_system WHERE id = ?"));
    s.bind(1, sysId);
    if (!CFM_TRY(s.step())) return std::optional<model::BusinessSystem>();
    sys.id = s.text(0);
    sys.name = s.text(1);
    sys.description = s.text(2);
  }
  sys.properties = CFM_TRY(loadProperties(*db_, "system_property", "system_id", sysId));
  std::map<int64_t, std::string> className;
  {
    Stmt s = CFM_TRY(db_->prepare(
        "SELECT id, name, cpus, memory_mb, image, os_type FROM vm_class WHERE system_id = ? ORDER BY pos"));
    s.bind(1, sysId);
    std::vector<int64_t> ids;
    while (CFM_TRY(s.step())) {
      model::VMClass c;
      ids.push_back(s.i64(0));
      c.name = s.text(1);
      c.cpus = static_cast<int>(s.i64(2));
      c.memoryMb = s.i64(3);
      c.image = s.text(4);
      c.osType = s.text(5);
      className[ids.back()] = c.name;
      sys.vmClasses.push_back(std::move(c));
    }
    for (size_t i = 0; i < ids.size(); ++i) {
      model::VMClass &c = sys.vmClasses[i];
      c.properties = CFM_TRY(loadProperties(*db_, "vm_class_property", "vm_class_id", ids[i]));
      Stmt d = CFM_TRY(db_->prepare(
          "SELECT disk_id, capacity_mb, file FROM vm_class_disk WHERE vm_class_id = ? ORDER BY pos"));
      d.bind(1, ids[i]);
      while (CFM_TRY(d.step())) c.disks.push_back({d.text(0), d.i64(1), d.text(2)});
      Stmt n = CFM_TRY(db_->prepare("SELECT name FROM vm_class_network WHERE vm_class_id = ? ORDER BY pos"));
      n.bind(1, ids[i]);
      while (CFM_TRY(n.step())) c.networks.push_back(n.text(0));
    }
  }
  {
    Stmt s =
        CFM_TRY(db_->prepare("SELECT id, name, vm_class_id, min_instances, max_instances, instances FROM "
                             "element WHERE system_id = ? ORDER BY pos"));
    s.bind(1, sysId);
    std::vector<int64_t> ids;
    while (CFM_TRY(s.step())) {
      model::BusinessSystemElement e;
      ids.push_back(s.i64(0));
      e.name = s.text(1);
      e.vmClass = className[s.i64(2)];
      e.minInstances = static_cast<int>(s.i64(3));
      e.maxInstances = static_cast<int>(s.i64(4));
      e.instances = static_cast<int>(s.i64(5));
      sys.elements.push_back(std::move(e));
    }
    for (size_t i = 0; i < ids.size(); ++i) {
      model::BusinessSystemElement &e = sys.elements[i];
      Stmt d = CFM_TRY(
          db_->prepare("SELECT depends_on FROM element_dependency WHERE element_id = ? ORDER BY pos"));
      d.bind(1, ids[i]);
      while (CFM_TRY(d.step())) e.dependsOn.push_back(d.text(0));
      Stmt v = CFM_TRY(db_->prepare(
          "SELECT name, size_mb, device, mount_path FROM element_volume WHERE element_id = ? ORDER BY pos"));
      v.bind(1, ids[i]);
      while (CFM_TRY(v.step())) e.volumes.push_back({v.text(0), v.i64(1), v.text(2), v.text(3)});
      Stmt a = CFM_TRY(
          db_->prepare("SELECT name, kind, network FROM element_address WHERE element_id = ? ORDER BY pos"));
      a.bind(1, ids[i]);
      while (CFM_TRY(a.step())) e.addresses.push_back({a.text(0), a.text(1), a.text(2)});
    }
  }
  {
    Stmt s = CFM_TRY(db_->prepare(
        "SELECT name, element, path, mode, text FROM config_template WHERE system_id = ? ORDER BY pos"));
    s.bind(1, sysId);
    while (CFM_TRY(s.step()))
      sys.templates.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)});
  }
  return std::optional<model::BusinessSystem>(std::move(sys));
}

Result<int64_t> Store::systemVersion(std::string_view key) {
  auto id = CFM_TRY(findSystem(key));
  if (!id) return int64_t(0);
  Stmt s = CFM_TRY(db_->prepare("SELECT version FROM business_system WHERE id = ?"));
  s.bind(1, *id);
  return CFM_TRY(s.step()) ? s.i64(0) : int64_t(0);
}

Result<std::vector<SystemSummary>> Store::listSystems() {
  Stmt s = CFM_TRY(db_->prepare(
      "SELECT uid, name, version, (SELECT count(*) FROM element WHERE system_id = b.id), (SELECT count(*) "
      "FROM "
      "vm_class WHERE system_id = b.id), (SELECT count(*) FROM config_template WHERE system_id = b.id) FROM "
      "business_system b ORDER BY name"));
  std::vector<SystemSummary> out;
  while (CFM_TRY(s.step()))
    out.push_back({s.text(0), s.text(1), s.i64(2), static_cast<size_t>(s.i64(3)),
                   static_cast<size_t>(s.i64(4)), static_cast<size_t>(s.i64(5))});
  return out;
}

Result<void> Store::removeSystem(std::string_view key) {
  int64_t id = CFM_TRY(requireSystem(key));
  auto tx = CFM_TRY(Tx::begin(*db_));
  Stmt s = CFM_TRY(db_->prepare("SELECT count(*) FROM vm_instance WHERE system_id = ?"));
  s.bind(1, id);
  if (CFM_TRY(s.step()) && s.i64(0) > 0)
    return Error{ErrorKind::Store, "cannot remove system " + q(key) + ": it has " + std::to_string(s.i64(0)) +
                                       " VM instance(s)"};
  Stmt d = CFM_TRY(db_->prepare(
      "DELETE FROM element_instance WHERE element_id IN (SELECT id FROM element WHERE system_id = ?)"));
  d.bind(1, id);
  CFM_CHECK(d.run());
  Stmt b = CFM_TRY(db_->prepare("DELETE FROM business_system WHERE id = ?"));
  b.bind(1, id);
  CFM_CHECK(b.run());
  return tx->commit();
}

Result<void> Store::saveAgentCredentials(std::string_view instanceId, const AgentCredentials &c) {
  Stmt s =
      CFM_TRY(db_->prepare("INSERT INTO vm_instance_agent (instance_id, key_hex, password) VALUES (?, ?, ?) "
                           "ON CONFLICT (instance_id) DO UPDATE SET key_hex = excluded.key_hex, "
                           "password = excluded.password, version = version + 1"));
  s.bind(1, std::string(instanceId));
  s.bind(2, c.keyHex);
  s.bind(3, c.password);
  return s.run();
}

Result<std::optional<Store::AgentCredentials>> Store::agentCredentials(std::string_view instanceId) {
  Stmt s = CFM_TRY(db_->prepare("SELECT key_hex, password FROM vm_instance_agent WHERE instance_id = ?"));
  s.bind(1, std::string(instanceId));
  if (!CFM_TRY(s.step())) return std::optional<AgentCredentials>();
  return std::optional<AgentCredentials>(AgentCredentials{s.text(0), s.text(1)});
}

Result<void> Store::removeAgentCredentials(std::string_view instanceId) {
  Stmt s = CFM_TRY(db_->prepare("DELETE FROM vm_instance_agent WHERE instance_id = ?"));
  s.bind(1, std::string(instanceId));
  return s.run();
}

Result<void> Store::saveVmInstance(std::string_view key, const model::VMInstance &vm) {
  int64_t sysId = CFM_TRY(requireSystem(key));
  if (vm.id.empty()) return Error{ErrorKind::Store, "a VM instance needs an id"};
  auto tx = CFM_TRY(Tx::begin(*db_));
  CFM_CHECK(writeVmInstance(sysId, vm));
  return tx->commit();
}

Result<void> Store::saveVmAndElementInstance(std::string_view key, const model::VMInstance &vm,
                                             const model::BusinessSystemElementInstance &inst) {
  int64_t sysId = CFM_TRY(requireSystem(key));
  if (vm.id.empty()) return Error{ErrorKind::Store, "a VM instance needs an id"};
  auto tx = CFM_TRY(Tx::begin(*db_));
  CFM_CHECK(writeVmInstance(sysId, vm));
  CFM_CHECK(writeElementInstance(sysId, key, inst));
  return tx->commit();
}

Result<void> Store::writeVmInstance(int64_t sysId, const model::VMInstance &vm) {
  bool changed = false;
  Stmt s = CFM_TRY(db_->prepare("SELECT id, system_id FROM vm_instance WHERE instance_id = ?"));
  s.bind(1, vm.id);
  int64_t rowId = 0;
  std::vector<Row> self = {{{vm.id}, {vm.vmClass, vm.cloud, vm.state, vm.privateAddress, vm.publicAddress}}};
  if (CFM_TRY(s.step()) && s.i64(1) != sysId)
    return Error{ErrorKind::Store, "VM instance " + q(vm.id) + " belongs to another system"};
  {
    Stmt f = CFM_TRY(db_->prepare("SELECT id, vm_class, cloud, state, private_address, public_address FROM "
                                  "vm_instance WHERE instance_id = ?"));
    f.bind(1, vm.id);
    if (CFM_TRY(f.step())) {
      rowId = f.i64(0);
      std::vector<Value> now = {f.value(1), f.value(2), f.value(3), f.value(4), f.value(5)};
      if (now != self[0].values) {
        Stmt u = CFM_TRY(
            db_->prepare("UPDATE vm_instance SET vm_class = ?, cloud = ?, state = ?, private_address = "
                         "?, public_address = ?, version = version + 1 WHERE id = ?"));
        int c = 1;
        for (const Value &v : self[0].values) u.bind(c++, v);
        u.bind(c, rowId);
        CFM_CHECK(u.run());
      }
    } else {
      Stmt i =
          CFM_TRY(db_->prepare("INSERT INTO vm_instance (system_id, instance_id, vm_class, cloud, state, "
                               "private_address, public_address) VALUES (?, ?, ?, ?, ?, ?, ?)"));
      i.bind(1, sysId).bind(2, vm.id);
      int c = 3;
      for (const Value &v : self[0].values) i.bind(c++, v);
      CFM_CHECK(i.run());
      rowId = db_->lastInsertId();
    }
  }
  std::vector<Row> vols;
  int64_t pos = 0;
  for (const std::string &v : vm.volumes) vols.push_back({{pos++}, {v}});
  const Table volTable{"vm_instance_volume", "vm_instance_id", {"pos"}, {"volume_id"}};
  CFM_TRY(syncRows(*db_, volTable, rowId, vols, changed));
  return success();
}

Result<std::vector<model::VMInstance>> Store::vmInstances(std::string_view key) {
  int64_t sysId = CFM_TRY(requireSystem(key));
  Stmt s =
      CFM_TRY(db_->prepare("SELECT id, instance_id, vm_class, cloud, state, private_address, public_address "
                           "FROM vm_instance WHERE system_id = ? ORDER BY id"));
  s.bind(1, sysId);
  std::vector<model::VMInstance> out;
  std::vector<int64_t> ids;
  while (CFM_TRY(s.step())) {
    ids.push_back(s.i64(0));
    out.push_back({s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), {}});
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    Stmt v = CFM_TRY(
        db_->prepare("SELECT volume_id FROM vm_instance_volume WHERE vm_instance_id = ? ORDER BY pos"));
    v.bind(1, ids[i]);
    while (CFM_TRY(v.step())) out[i].volumes.push_back(v.text(0));
  }
  return out;
}

Result<std::optional<std::pair<std::string, model::VMInstance>>>
Store::findVmInstance(std::string_view instanceId) {
  using Found = std::optional<std::pair<std::string, model::VMInstance>>;
  Stmt s = CFM_TRY(db_->prepare(
      "SELECT v.id, CASE WHEN b.uid = '' THEN b.name ELSE b.uid END, v.instance_id, v.vm_class, v.cloud, "
      "v.state, v.private_address, v.public_address FROM vm_instance v JOIN business_system b ON b.id = "
      "v.system_id WHERE v.instance_id = ?"));
  s.bind(1, std::string(instanceId));
  if (!CFM_TRY(s.step())) return Found();
  int64_t rowId = s.i64(0);
  model::VMInstance vm{s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), s.text(7), {}};
  std::string key = s.text(1);
  Stmt v =
      CFM_TRY(db_->prepare("SELECT volume_id FROM vm_instance_volume WHERE vm_instance_id = ? ORDER BY pos"));
  v.bind(1, rowId);
  while (CFM_TRY(v.step())) vm.volumes.push_back(v.text(0));
  return Found(std::pair(std::move(key), std::move(vm)));
}

Result<void> Store::setElementInstanceStateOfVm(std::string_view key, std::string_view vmId,
                                                std::string_view state) {
  int64_t sysId = CFM_TRY(requireSystem(key));
  Stmt u = CFM_TRY(db_->prepare(
      "UPDATE element_instance SET state = ?, version = version + 1 WHERE vm_instance = ? AND state <> ? "
      "AND element_id IN (SELECT id FROM element WHERE system_id = ?)"));
  u.bind(1, std::string(state)).bind(2, std::string(vmId)).bind(3, std::string(state)).bind(4, sysId);
  return u.run();
}

Result<void> Store::saveElementInstance(std::string_view key,
                                        const model::BusinessSystemElementInstance &inst) {
  int64_t sysId = CFM_TRY(requireSystem(key));
  auto tx = CFM_TRY(Tx::begin(*db_));
  CFM_CHECK(writeElementInstance(sysId, key, inst));
  return tx->commit();
}

Result<void> Store::writeElementInstance(int64_t sysId, std::string_view key,
                                         const model::BusinessSystemElementInstance &inst) {
  Stmt e = CFM_TRY(db_->prepare("SELECT id FROM element WHERE system_id = ? AND name = ?"));
  e.bind(1, sysId).bind(2, inst.element);
  if (!CFM_TRY(e.step()))
    return Error{ErrorKind::Store, "system " + q(key) + " has no element " + q(inst.element)};
  int64_t elementId = e.i64(0);
  Stmt s = CFM_TRY(
      db_->prepare("SELECT id, vm_instance, state FROM element_instance WHERE element_id = ? AND idx = ?"));
  s.bind(1, elementId).bind(2, int64_t(inst.index));
  if (CFM_TRY(s.step())) {
    if (s.text(1) != inst.vmInstance || s.text(2) != inst.state) {
      Stmt u = CFM_TRY(db_->prepare(
          "UPDATE element_instance SET vm_instance = ?, state = ?, version = version + 1 WHERE id = ?"));
      u.bind(1, inst.vmInstance).bind(2, inst.state).bind(3, s.i64(0));
      CFM_CHECK(u.run());
    }
  } else {
    Stmt i = CFM_TRY(db_->prepare(
        "INSERT INTO element_instance (element_id, idx, vm_instance, state) VALUES (?, ?, ?, ?)"));
    i.bind(1, elementId).bind(2, int64_t(inst.index)).bind(3, inst.vmInstance).bind(4, inst.state);
    CFM_CHECK(i.run());
  }
  return success();
}

Result<int> Store::claimElementInstance(std::string_view key, std::string_view element) {
  int64_t sysId = CFM_TRY(requireSystem(key));
  auto tx = CFM_TRY(Tx::begin(*db_));
  Stmt e = CFM_TRY(db_->prepare("SELECT id FROM element WHERE system_id = ? AND name = ?"));
  e.bind(1, sysId).bind(2, std::string(element));
  if (!CFM_TRY(e.step()))
    return Error{ErrorKind::Store, "system " + q(key) + " has no element " + q(element)};
  int64_t elementId = e.i64(0);
  // The lowest free index. Indexes are unique and from 0, so when there are as many as the
  // highest plus one there is no gap and the next is their count: found in the (element_id, idx)
  // index without stepping through every instance (1,000 run_vm of one element made claiming
  // quadratic). Otherwise the first gap.
  Stmt c = CFM_TRY(
      db_->prepare("SELECT count(*), coalesce(max(idx), -1) FROM element_instance WHERE element_id = ?"));
  c.bind(1, elementId);
  CFM_TRY(c.step());
  int64_t next = c.i64(0);
  if (c.i64(1) != next - 1) {
    Stmt s = CFM_TRY(db_->prepare("SELECT idx FROM element_instance WHERE element_id = ? ORDER BY idx"));
    s.bind(1, elementId);
    next = 0;
    while (CFM_TRY(s.step()) && s.i64(0) <= next) next = s.i64(0) + 1;
  }
  Stmt i = CFM_TRY(db_->prepare(
      "INSERT INTO element_instance (element_id, idx, vm_instance, state) VALUES (?, ?, '', 'pending')"));
  i.bind(1, elementId).bind(2, next);
  CFM_CHECK(i.run());
  CFM_CHECK(tx->commit());
  return static_cast<int>(next);
}

Result<void> Store::setProperty(std::string_view key, std::string_view id, std::string_view value,
                                std::string_view type) {
  int64_t sysId = CFM_TRY(requireSystem(key));
  auto tx = CFM_TRY(Tx::begin(*db_));
  Stmt s = CFM_TRY(db_->prepare(
      "SELECT id, class_name, key, instance, value FROM system_property WHERE system_id = ? ORDER BY pos"));
  s.bind(1, sysId);
  std::optional<int64_t> row;
  bool same = false;
  while (CFM_TRY(s.step())) {
    model::Property p;
    p.className = s.text(1);
    p.key = s.text(2);
    p.instance = s.text(3);
    if (p.id() != id) continue;
    row = s.i64(0);
    same = s.text(4) == value;
    break;
  }
  if (same) return tx->commit();
  if (row) {
    Stmt u =
        CFM_TRY(db_->prepare("UPDATE system_property SET value = ?, version = version + 1 WHERE id = ?"));
    u.bind(1, std::string(value)).bind(2, *row);
    CFM_CHECK(u.run());
  } else {
    // OVF's parts of the id (model::Property::id joins them with `.`): class, key, instance.
    std::vector<std::string> parts;
    for (size_t at = 0;;) {
      size_t dot = id.find('.', at);
      parts.emplace_back(id.substr(at, dot == std::string_view::npos ? std::string_view::npos : dot - at));
      if (dot == std::string_view::npos) break;
      at = dot + 1;
    }
    bool bad = parts.size() > 3 || id.find(':') != std::string_view::npos;
    for (const std::string &p : parts) bad = bad || p.empty();
    if (bad)
      return Error{ErrorKind::Store,
                   "property id `" + std::string(id) +
                       "`: give KEY, CLASS.KEY or CLASS.KEY.INSTANCE (no part empty, no `:`)"};
    std::string cls = parts.size() > 1 ? parts[0] : "", k = parts.size() > 1 ? parts[1] : parts[0];
    std::string inst = parts.size() > 2 ? parts[2] : "";
    Stmt i = CFM_TRY(db_->prepare(
        "INSERT INTO system_property (system_id, class_name, key, instance, pos, type, value, label, "
        "description, user_configurable) VALUES (?, ?, ?, ?, (SELECT coalesce(max(pos), -1) + 1 FROM "
        "system_property WHERE system_id = ?), ?, ?, '', '', 0)"));
    i.bind(1, sysId).bind(2, cls).bind(3, k).bind(4, inst).bind(5, sysId).bind(6, std::string(type));
    i.bind(7, std::string(value));
    CFM_CHECK(i.run());
  }
  Stmt v = CFM_TRY(db_->prepare("UPDATE business_system SET version = version + 1 WHERE id = ?"));
  v.bind(1, sysId);
  CFM_CHECK(v.run());
  return tx->commit();
}

Result<std::vector<model::BusinessSystemElementInstance>> Store::elementInstances(std::string_view key) {
  int64_t sysId = CFM_TRY(requireSystem(key));
  Stmt s = CFM_TRY(
      db_->prepare("SELECT e.name, i.idx, i.vm_instance, i.state FROM element_instance i JOIN element e "
                   "ON e.id = i.element_id WHERE e.system_id = ? ORDER BY e.pos, i.idx"));
  s.bind(1, sysId);
  std::vector<model::BusinessSystemElementInstance> out;
  while (CFM_TRY(s.step())) out.push_back({s.text(0), static_cast<int>(s.i64(1)), s.text(2), s.text(3)});
  return out;
}

} // namespace cfm::store
