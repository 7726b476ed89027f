// manager.cpp — the process's current manager (manager.h).
#include "runtime/model/manager.h"

#include <atomic>

namespace cfm::model {

namespace {
std::atomic<Manager *> gManager{nullptr};
}

Manager *currentManager() { return gManager.load(std::memory_order_acquire); }
void setCurrentManager(Manager *m) { gManager.store(m, std::memory_order_release); }

} // namespace cfm::model
