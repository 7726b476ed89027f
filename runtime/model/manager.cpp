// manager.cpp — the process's current manager (manager.h).
#include "runtime/model/manager.h"

#include <atomic>

namespace cfm::model {

namespace {
std::atomic<Manager *> gManager{nullptr};
thread_local Manager *tManager = nullptr;
} // namespace

Manager *currentManager() {
  if (tManager) return tManager;
  return gManager.load(std::memory_order_acquire);
}
void setThreadManager(Manager *m) { tManager = m; }
void setCurrentManager(Manager *m) { gManager.store(m, std::memory_order_release); }

} // namespace cfm::model
