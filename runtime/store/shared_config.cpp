// shared_config.cpp — the store's record of each system's shared configuration version (store.h,
// "Shared configuration"): what runtime/fed compares when configurations arrive from other
// managers and when it looks for local changes to share.
#include "runtime/store/store.h"

namespace cfm::store {

Result<std::optional<Store::SharedConfig>> Store::sharedConfig(std::string_view system) {
  Stmt s = CFM_TRY(
      db_->prepare("SELECT config_version, manager, row_version FROM shared_config WHERE system = ?"));
  s.bind(1, std::string(system));
  if (!CFM_TRY(s.step())) return std::optional<SharedConfig>();
  return std::optional<SharedConfig>(SharedConfig{std::string(system), s.i64(0), s.text(1), s.i64(2)});
}

Result<void> Store::setSharedConfig(const SharedConfig &c) {
  Stmt s = CFM_TRY(db_->prepare(
      "INSERT INTO shared_config (system, config_version, manager, row_version) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (system) DO UPDATE SET config_version = excluded.config_version, manager = "
      "excluded.manager, row_version = excluded.row_version, version = version + 1"));
  s.bind(1, c.system).bind(2, c.configVersion).bind(3, c.manager).bind(4, c.rowVersion);
  CFM_CHECK(s.run());
  return {};
}

} // namespace cfm::store
