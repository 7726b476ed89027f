// shared_config.cpp — the store's record of each system's shared configuration version and owner
// (store.h, "Shared configuration"): what runtime/fed compares when configurations arrive from
// other managers and when it looks for local changes to share, and what a takeover raises.
#include "runtime/store/store.h"

namespace cfm::store {

namespace {

constexpr const char *kSelect = "SELECT config_version, manager, row_version, owner, epoch, held_epoch FROM "
                                "shared_config WHERE system = ?";

Store::SharedConfig rowOf(std::string system, const Stmt &s) {
  return Store::SharedConfig{std::move(system), s.i64(0), s.text(1), s.i64(2), s.text(3), s.i64(4), s.i64(5)};
}

Result<void> write(Db &db, const Store::SharedConfig &c) {
  Stmt s = CFM_TRY(db.prepare(
      "INSERT INTO shared_config (system, config_version, manager, row_version, owner, epoch, held_epoch) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (system) DO UPDATE SET config_version = "
      "excluded.config_version, manager = excluded.manager, row_version = excluded.row_version, owner = "
      "excluded.owner, epoch = excluded.epoch, held_epoch = excluded.held_epoch, version = version + 1"));
  s.bind(1, c.system).bind(2, c.configVersion).bind(3, c.manager).bind(4, c.rowVersion);
  s.bind(5, c.owner).bind(6, c.epoch).bind(7, c.heldEpoch);
  CFM_CHECK(s.run());
  return {};
}

} // namespace

Result<std::optional<Store::SharedConfig>> Store::sharedConfig(std::string_view system) {
  Stmt s = CFM_TRY(db_->prepare(kSelect));
  s.bind(1, std::string(system));
  if (!CFM_TRY(s.step())) return std::optional<SharedConfig>();
  return std::optional<SharedConfig>(rowOf(std::string(system), s));
}

Result<void> Store::setSharedConfig(const SharedConfig &c) { return write(*db_, c); }

Result<Store::SharedConfig> Store::takeOver(std::string_view key, std::string_view manager) {
  auto tx = CFM_TRY(Tx::begin(*db_));
  int64_t rowId = CFM_TRY(requireSystem(key));
  std::string id;
  int64_t rowVersion = 0;
  {
    Stmt s = CFM_TRY(db_->prepare("SELECT uid, version FROM business_system WHERE id = ?"));
    s.bind(1, rowId);
    if (!CFM_TRY(s.step())) return Error{ErrorKind::Store, "no system " + std::string(key)};
    id = s.text(0);
    rowVersion = s.i64(1);
  }
  SharedConfig c{id, 0, std::string(manager), rowVersion, "", 0, 0};
  {
    Stmt s = CFM_TRY(db_->prepare(kSelect));
    s.bind(1, id);
    if (CFM_TRY(s.step())) c = rowOf(id, s);
  }
  c.owner = std::string(manager);
  c.epoch += 1;
  c.heldEpoch = c.epoch;
  // The row version moves past the recorded one: the node's next scan shares it as a local change.
  Stmt u = CFM_TRY(db_->prepare("UPDATE business_system SET version = version + 1 WHERE id = ?"));
  u.bind(1, rowId);
  CFM_CHECK(u.run());
  CFM_CHECK(write(*db_, c));
  CFM_CHECK(tx->commit());
  return c;
}

} // namespace cfm::store
