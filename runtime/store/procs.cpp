// procs.cpp — a system's procedure files in the store (store.h, "Procedure files"): put,
// remove, list, read; every change moves the system row's version, so the federation shares it
// as a configuration change (runtime/fed/README.md, "Configuration").
#include "runtime/store/store.h"

#include "base/sha256.h"

#include <map>

namespace cfm::store {

namespace {

std::string q(std::string_view s) { return "`" + std::string(s) + "`"; }

Result<void> bumpSystem(Db &db, int64_t sysId) {
  Stmt u = CFM_TRY(db.prepare("UPDATE business_system SET version = version + 1 WHERE id = ?"));
  u.bind(1, sysId);
  CFM_CHECK(u.run());
  return {};
}

Result<int64_t> systemRowVersion(Db &db, int64_t sysId) {
  Stmt s = CFM_TRY(db.prepare("SELECT version FROM business_system WHERE id = ?"));
  s.bind(1, sysId);
  if (!CFM_TRY(s.step())) return Error{ErrorKind::Store, "the system is gone"};
  return s.i64(0);
}

} // namespace

std::string Store::procedureNameProblem(std::string_view name) {
  std::string shown =
      name.size() > kMaxProcedureNameBytes ? std::string(name.substr(0, 40)) + "..." : q(name);
  if (name.empty()) return "a procedure file needs a name";
  if (name.size() > kMaxProcedureNameBytes)
    return "procedure file name " + shown + " is over " + std::to_string(kMaxProcedureNameBytes) + " bytes";
  if (name[0] == '/') return "procedure file name " + shown + " is absolute: give a relative path";
  size_t start = 0;
  for (;;) {
    size_t slash = name.find('/', start);
    std::string_view part = name.substr(start, slash == std::string_view::npos ? name.npos : slash - start);
    if (part.empty()) return "procedure file name " + shown + " has an empty path part";
    if (part == "." || part == "..") return "procedure file name " + shown + " has a `.` or `..` part";
    for (char c : part)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
            c == '_' || c == '-'))
        return "procedure file name " + shown +
               " has a character other than letters, digits, `.`, `_`, `-` and `/`";
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (name.size() < 5 || name.substr(name.size() - 4) != ".cfp")
    return "procedure file name " + shown + " does not end in `.cfp`";
  return "";
}

Result<Store::ProcsPut>
Store::putProcedureFiles(std::string_view key,
                         const std::vector<std::pair<std::string, std::string>> &files) {
  std::map<std::string, std::string> wanted;
  for (const auto &[name, text] : files) {
    if (std::string why = procedureNameProblem(name); !why.empty()) return Error{ErrorKind::Usage, why};
    if (text.size() > kMaxProcedureFileBytes)
      return Error{ErrorKind::Limit, "procedure file " + q(name) + " is " + std::to_string(text.size()) +
                                         " bytes, over the limit of " +
                                         std::to_string(kMaxProcedureFileBytes)};
    if (!wanted.emplace(name, text).second)
      return Error{ErrorKind::Usage, "procedure file " + q(name) + " is given twice"};
  }
  auto tx = CFM_TRY(Tx::begin(*db_));
  int64_t sysId = CFM_TRY(requireSystem(key));
  // The system's files after the put, for the limits on their number and total size.
  std::map<std::string, std::pair<std::string, int64_t>> have; // name -> (hash, size)
  {
    Stmt s = CFM_TRY(db_->prepare("SELECT name, hash, length(CAST(text AS BLOB)) FROM procedure_file WHERE "
                                  "system_id = ?"));
    s.bind(1, sysId);
    while (CFM_TRY(s.step())) have[s.text(0)] = {s.text(1), s.i64(2)};
  }
  size_t count = have.size(), total = 0;
  for (auto &[name, h] : have)
    if (!wanted.count(name)) total += size_t(h.second);
  for (auto &[name, text] : wanted) {
    total += text.size();
    if (!have.count(name)) ++count;
  }
  if (count > kMaxProcedureFiles)
    return Error{ErrorKind::Limit, "system " + q(key) + " would have " + std::to_string(count) +
                                       " procedure files, over the limit of " +
                                       std::to_string(kMaxProcedureFiles)};
  if (total > kMaxProcedureBytes)
    return Error{ErrorKind::Limit, "system " + q(key) + "'s procedure files would be " +
                                       std::to_string(total) + " bytes, over the limit of " +
                                       std::to_string(kMaxProcedureBytes)};
  ProcsPut res;
  Stmt up = CFM_TRY(
      db_->prepare("INSERT INTO procedure_file (system_id, name, hash, text) VALUES (?, ?, ?, ?) ON CONFLICT "
                   "(system_id, name) "
                   "DO UPDATE SET hash = excluded.hash, text = excluded.text, version = version + 1"));
  for (auto &[name, text] : wanted) {
    std::string hash = base::sha256Hex(text);
    auto it = have.find(name);
    if (it != have.end() && it->second.first == hash) continue; // unchanged
    up.reset();
    up.bind(1, sysId).bind(2, name).bind(3, hash).bind(4, text);
    CFM_CHECK(up.run());
    res.changed = true;
  }
  if (res.changed) CFM_CHECK(bumpSystem(*db_, sysId));
  res.version = CFM_TRY(systemRowVersion(*db_, sysId));
  CFM_CHECK(tx->commit());
  return res;
}

Result<bool> Store::removeProcedureFile(std::string_view key, std::string_view name) {
  auto tx = CFM_TRY(Tx::begin(*db_));
  int64_t sysId = CFM_TRY(requireSystem(key));
  {
    Stmt s = CFM_TRY(db_->prepare("SELECT 1 FROM procedure_file WHERE system_id = ? AND name = ?"));
    s.bind(1, sysId).bind(2, std::string(name));
    if (!CFM_TRY(s.step())) return false;
  }
  Stmt d = CFM_TRY(db_->prepare("DELETE FROM procedure_file WHERE system_id = ? AND name = ?"));
  d.bind(1, sysId).bind(2, std::string(name));
  CFM_CHECK(d.run());
  CFM_CHECK(bumpSystem(*db_, sysId));
  CFM_CHECK(tx->commit());
  return true;
}

Result<std::vector<ProcedureFile>> Store::procedureFiles(std::string_view key, bool withText) {
  int64_t sysId = CFM_TRY(requireSystem(key));
  Stmt s = CFM_TRY(db_->prepare(std::string("SELECT name, hash, length(CAST(text AS BLOB)), version") +
                                (withText ? ", text" : "") +
                                " FROM procedure_file WHERE system_id = ? ORDER BY name"));
  s.bind(1, sysId);
  std::vector<ProcedureFile> out;
  while (CFM_TRY(s.step())) {
    ProcedureFile f;
    f.name = s.text(0);
    f.hash = s.text(1);
    f.size = s.i64(2);
    f.version = s.i64(3);
    if (withText) f.text = s.text(4);
    out.push_back(std::move(f));
  }
  return out;
}

Result<std::optional<ProcedureFile>> Store::procedureFile(std::string_view key, std::string_view name) {
  int64_t sysId = CFM_TRY(requireSystem(key));
  Stmt s =
      CFM_TRY(db_->prepare("SELECT name, hash, length(CAST(text AS BLOB)), version, text FROM procedure_file "
                           "WHERE system_id = ? AND name = ?"));
  s.bind(1, sysId).bind(2, std::string(name));
  if (!CFM_TRY(s.step())) return std::optional<ProcedureFile>();
  ProcedureFile f{s.text(0), s.text(4), s.text(1), s.i64(2), s.i64(3)};
  return std::optional<ProcedureFile>(std::move(f));
}

} // namespace cfm::store
