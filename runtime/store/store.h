// store.h — the manager's SQLite store of model objects (runtime/README.md, "Store"): business
// systems with their elements, VM classes, templates and properties, and the running VM and
// element instances. WAL, foreign keys on, one transaction per change, a schema_version with
// ordered migrations (schema.cpp), and a `version` on every row, incremented when the row changes,
// so that a later change can replicate configuration between managers.
#pragma once

#include "base/result.h"
#include "runtime/model/model.h"
#include "runtime/store/sqlite.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cfm::store {

/// The schema this program writes (schema.cpp lists every migration up to it).
int latestSchemaVersion();

struct SystemSummary {
  std::string id, name;
  int64_t version = 0;
  size_t elements = 0, vmClasses = 0, templates = 0;
};

struct SaveResult {
  std::string id;
  bool created = false; ///< a new system (else an update of the stored one)
  bool changed = false; ///< something was inserted, updated or deleted
  int64_t version = 0;  ///< the system row's version after the save
};

class Store {
public:
  /// Opens (creating if need be) the store at PATH and migrates it to TARGET (tests migrate to an
  /// older version to test the migrations). A store newer than TARGET is an error.
  static Result<std::unique_ptr<Store>> open(const std::string &path, int target = latestSchemaVersion());

  int schemaVersion() const { return schemaVersion_; }

  /// Stores SYS in one transaction: a new system, or an update of the one with its id (or, when
  /// SYS has no id, its name). Rows that did not change keep their version; a failure changes
  /// nothing. Removing an element that still has instances is an error.
  Result<SaveResult> saveSystem(const model::BusinessSystem &sys);

  /// The system whose name or id is KEY; nullopt when there is none.
  Result<std::optional<model::BusinessSystem>> loadSystem(std::string_view key);
  /// The system row's version, 0 when there is no such system.
  Result<int64_t> systemVersion(std::string_view key);
  Result<std::vector<SystemSummary>> listSystems();
  /// Removes a system and its configuration; fails while it has VM instances.
  Result<void> removeSystem(std::string_view key);

  /// Inserts or updates (by id) a VM instance of system KEY.
  Result<void> saveVmInstance(std::string_view key, const model::VMInstance &vm);
  Result<std::vector<model::VMInstance>> vmInstances(std::string_view key);
  /// Inserts or updates (by element and index) an element instance of system KEY.
  Result<void> saveElementInstance(std::string_view key, const model::BusinessSystemElementInstance &inst);
  Result<std::vector<model::BusinessSystemElementInstance>> elementInstances(std::string_view key);

  /// The connection, for tests and later parts (replication) that need plain SQL.
  Db &db() { return *db_; }

private:
  Store() = default;
  Result<std::optional<int64_t>> findSystem(std::string_view key);
  Result<int64_t> requireSystem(std::string_view key);
  std::unique_ptr<Db> db_;
  int schemaVersion_ = 0;
};

/// Applies the migrations after the database's version up to TARGET (schema.cpp).
Result<int> migrate(Db &db, int target);

} // namespace cfm::store
