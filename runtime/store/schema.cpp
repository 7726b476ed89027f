// schema.cpp — the store's schema as ordered migrations. Each migration runs in its own
// transaction together with the schema_version update, so a database is always at one version.
// Never edit a released migration: add the next one.
//
// Conventions: every table has `version INTEGER NOT NULL DEFAULT 1` (bumped by the store when the
// row changes) and, for ordered lists, `pos`. Configuration rows cascade from their system;
// running state (vm_instance, element_instance) does not, so configuration cannot be removed from
// under a running system.
#include "runtime/store/store.h"

namespace cfm::store {

namespace {

struct Migration {
  int version;
  const char *what;
  const char *sql;
};

const Migration kMigrations[] = {
    {1, "business systems, VM classes, elements, templates, instances", R"sql(
CREATE TABLE business_system (
  id INTEGER PRIMARY KEY,
  uid TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  version INTEGER NOT NULL DEFAULT 1);
CREATE TABLE system_property (
  id INTEGER PRIMARY KEY,
  system_id INTEGER NOT NULL REFERENCES business_system(id) ON DELETE CASCADE,
  class_name TEXT NOT NULL, key TEXT NOT NULL, instance TEXT NOT NULL,
  pos INTEGER NOT NULL, type TEXT NOT NULL, value TEXT NOT NULL, label TEXT NOT NULL,
  description TEXT NOT NULL, user_configurable INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (system_id, class_name, key, instance));
CREATE TABLE vm_class (
  id INTEGER PRIMARY KEY,
  system_id INTEGER NOT NULL REFERENCES business_system(id) ON DELETE CASCADE,
  name TEXT NOT NULL, pos INTEGER NOT NULL, cpus INTEGER NOT NULL, memory_mb INTEGER NOT NULL,
  image TEXT NOT NULL, os_type TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (system_id, name));
CREATE TABLE vm_class_property (
  id INTEGER PRIMARY KEY,
  vm_class_id INTEGER NOT NULL REFERENCES vm_class(id) ON DELETE CASCADE,
  class_name TEXT NOT NULL, key TEXT NOT NULL, instance TEXT NOT NULL,
  pos INTEGER NOT NULL, type TEXT NOT NULL, value TEXT NOT NULL, label TEXT NOT NULL,
  description TEXT NOT NULL, user_configurable INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (vm_class_id, class_name, key, instance));
CREATE TABLE vm_class_disk (
  id INTEGER PRIMARY KEY,
  vm_class_id INTEGER NOT NULL REFERENCES vm_class(id) ON DELETE CASCADE,
  pos INTEGER NOT NULL, disk_id TEXT NOT NULL, capacity_mb INTEGER NOT NULL, file TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (vm_class_id, pos));
CREATE TABLE vm_class_network (
  id INTEGER PRIMARY KEY,
  vm_class_id INTEGER NOT NULL REFERENCES vm_class(id) ON DELETE CASCADE,
  pos INTEGER NOT NULL, name TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (vm_class_id, pos));
CREATE TABLE element (
  id INTEGER PRIMARY KEY,
  system_id INTEGER NOT NULL REFERENCES business_system(id) ON DELETE CASCADE,
  name TEXT NOT NULL, pos INTEGER NOT NULL,
  vm_class_id INTEGER NOT NULL REFERENCES vm_class(id) DEFERRABLE INITIALLY DEFERRED,
  min_instances INTEGER NOT NULL, max_instances INTEGER NOT NULL, instances INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (system_id, name));
CREATE TABLE element_dependency (
  id INTEGER PRIMARY KEY,
  element_id INTEGER NOT NULL REFERENCES element(id) ON DELETE CASCADE,
  pos INTEGER NOT NULL, depends_on TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (element_id, pos));
CREATE TABLE config_template (
  id INTEGER PRIMARY KEY,
  system_id INTEGER NOT NULL REFERENCES business_system(id) ON DELETE CASCADE,
  name TEXT NOT NULL, pos INTEGER NOT NULL, element TEXT NOT NULL, path TEXT NOT NULL, text TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (system_id, name));
CREATE TABLE vm_instance (
  id INTEGER PRIMARY KEY,
  system_id INTEGER NOT NULL REFERENCES business_system(id),
  instance_id TEXT NOT NULL UNIQUE, vm_class TEXT NOT NULL, cloud TEXT NOT NULL, state TEXT NOT NULL,
  private_address TEXT NOT NULL, public_address TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1);
CREATE TABLE element_instance (
  id INTEGER PRIMARY KEY,
  element_id INTEGER NOT NULL REFERENCES element(id),
  idx INTEGER NOT NULL, vm_instance TEXT NOT NULL, state TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (element_id, idx));
)sql"},
    {2, "element volumes and addresses, template file modes, VM instance volumes", R"sql(
ALTER TABLE config_template ADD COLUMN mode TEXT NOT NULL DEFAULT '0644';
CREATE TABLE element_volume (
  id INTEGER PRIMARY KEY,
  element_id INTEGER NOT NULL REFERENCES element(id) ON DELETE CASCADE,
  name TEXT NOT NULL, pos INTEGER NOT NULL, size_mb INTEGER NOT NULL, device TEXT NOT NULL,
  mount_path TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (element_id, name));
CREATE TABLE element_address (
  id INTEGER PRIMARY KEY,
  element_id INTEGER NOT NULL REFERENCES element(id) ON DELETE CASCADE,
  name TEXT NOT NULL, pos INTEGER NOT NULL, kind TEXT NOT NULL, network TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (element_id, name));
CREATE TABLE vm_instance_volume (
  id INTEGER PRIMARY KEY,
  vm_instance_id INTEGER NOT NULL REFERENCES vm_instance(id) ON DELETE CASCADE,
  pos INTEGER NOT NULL, volume_id TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (vm_instance_id, pos));
)sql"},
    {3, "the agent credentials of VM instances (docs/agent-protocol.md)", R"sql(
CREATE TABLE vm_instance_agent (
  instance_id TEXT PRIMARY KEY,
  key_hex TEXT NOT NULL, password TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1);
)sql"},
    {4, "cloud events: every followed system's history and this manager's outbox (store/events.cpp)", R"sql(
CREATE TABLE cloud_event (
  id INTEGER PRIMARY KEY,
  system TEXT NOT NULL, source TEXT NOT NULL, seq INTEGER NOT NULL,
  name TEXT NOT NULL, data TEXT NOT NULL,
  published_at INTEGER NOT NULL, received_at INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (system, source, seq));
CREATE INDEX cloud_event_by_name ON cloud_event (system, name, id);
CREATE TABLE event_outbox (
  event_id INTEGER PRIMARY KEY REFERENCES cloud_event(id),
  version INTEGER NOT NULL DEFAULT 1);
)sql"},
    {5,
     "shared configuration: each system's configuration version and owner among the managers "
     "(store/shared_config.cpp)",
     R"sql(
CREATE TABLE shared_config (
  system TEXT PRIMARY KEY,
  config_version INTEGER NOT NULL, manager TEXT NOT NULL,
  row_version INTEGER NOT NULL,
  owner TEXT NOT NULL, epoch INTEGER NOT NULL, held_epoch INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1);
)sql"},
    {6, "runs: the manager daemon's runs and their output (store/runs.cpp)", R"sql(
CREATE TABLE run (
  id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE,
  file TEXT NOT NULL, proc TEXT NOT NULL, state TEXT NOT NULL,
  exit_code INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1);
CREATE TABLE run_output (
  run TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
  n INTEGER NOT NULL, err INTEGER NOT NULL, text TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (run, n));
)sql"},
    {7, "procedure files: each system's .cfp files, part of its shared configuration (store/procs.cpp)",
     R"sql(
CREATE TABLE procedure_file (
  id INTEGER PRIMARY KEY,
  system_id INTEGER NOT NULL REFERENCES business_system(id) ON DELETE CASCADE,
  name TEXT NOT NULL, hash TEXT NOT NULL, text TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (system_id, name));
)sql"},
    {8, "element instances found by their VM (terminate_vm marks them in one indexed update)", R"sql(
CREATE INDEX element_instance_by_vm ON element_instance (vm_instance);
)sql"},
};

} // namespace

int latestSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

Result<int> schemaVersionOf(Db &db) {
  auto s = db.prepare("SELECT max(version) FROM schema_version");
  if (!s) {
    if (s.error().message.find("no such table") != std::string::npos)
      return Error{ErrorKind::Store, "not a CFM store (it has no `schema_version` table)"};
    return s.takeError();
  }
  if (!CFM_TRY(s->step())) return 0;
  return static_cast<int>(s->i64(0));
}

Result<int> migrate(Db &db, int target) {
  // Up to date (the common case): no lock needed.
  if (auto v = schemaVersionOf(db); v && *v == target) return *v;
  for (;;) {
    auto tx = CFM_TRY(Tx::begin(db)); // BEGIN IMMEDIATE: waits for a concurrent creator
    CFM_CHECK(db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
    int current = CFM_TRY(schemaVersionOf(db));
    if (current > target)
      return Error{ErrorKind::Store, "the store's schema version is " + std::to_string(current) +
                                         ", newer than this program's " + std::to_string(target) +
                                         "; use a newer cfmc"};
    const Migration *next = nullptr;
    for (const Migration &m : kMigrations)
      if (m.version > current && m.version <= target) {
        next = &m;
        break;
      }
    if (!next) {
      CFM_CHECK(tx->commit());
      return current;
    }
    auto applied = db.exec(next->sql);
    if (!applied)
      return Error{ErrorKind::Store, "migration to schema version " + std::to_string(next->version) + " (" +
                                         next->what + ") failed: " + applied.error().message};
    CFM_CHECK(db.exec("DELETE FROM schema_version; INSERT INTO schema_version VALUES (" +
                      std::to_string(next->version) + ")"));
    CFM_CHECK(tx->commit());
  }
}

} // namespace cfm::store
