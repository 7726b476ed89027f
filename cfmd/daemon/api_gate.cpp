// api_gate.cpp — the manager taken by one run at a time (api_gate.h).
#include "cfmd/daemon/api_gate.h"

#include <mutex>

namespace cfm::cfmd {

namespace {

std::mutex gManagerMu;            // held by the run that uses the manager
thread_local bool tHolds = false; // this thread (a run's scheduler thread) holds it

/// Takes the manager for the calling run, waiting for the run that has it to end.
void takeManager() {
  if (tHolds) return;
  gManagerMu.lock();
  tHolds = true;
}

} // namespace

void takeManagerForThisRun() { takeManager(); }

void releaseManagerForThisRun() {
  if (!tHolds) return;
  tHolds = false;
  gManagerMu.unlock();
}

bool GatedManager::runVm(std::string_view systemId, std::string_view element, int64_t timeoutMs,
                         model::VMInstance &vm) {
  takeManager();
  return inner_.runVm(systemId, element, timeoutMs, vm);
}
bool GatedManager::terminateVm(std::string_view vmId, int64_t timeoutMs) {
  takeManager();
  return inner_.terminateVm(vmId, timeoutMs);
}
bool GatedManager::attachVolume(std::string_view vmId, int64_t sizeGb, std::string_view device,
                                std::string_view volume, std::string &volumeId) {
  takeManager();
  return inner_.attachVolume(vmId, sizeGb, device, volume, volumeId);
}
bool GatedManager::associateAddress(std::string_view vmId, std::string_view address, std::string &out) {
  takeManager();
  return inner_.associateAddress(vmId, address, out);
}
bool GatedManager::reload(std::string_view systemId, SystemState &out) {
  takeManager();
  return inner_.reload(systemId, out);
}
bool GatedManager::setProperty(std::string_view systemId, std::string_view propertyId,
                               std::string_view valueJson, SystemState &out) {
  takeManager();
  return inner_.setProperty(systemId, propertyId, valueJson, out);
}
bool GatedManager::runAgentCommand(std::string_view vmId, std::string_view command, int64_t timeoutMs,
                                   const std::vector<std::pair<std::string, std::string>> &env,
                                   CommandResult &out) {
  takeManager();
  return inner_.runAgentCommand(vmId, command, timeoutMs, env, out);
}
bool GatedManager::putFile(std::string_view vmId, std::string_view path, std::string_view content,
                           std::string_view mode) {
  takeManager();
  return inner_.putFile(vmId, path, content, mode);
}
bool GatedManager::publishCloudEvent(std::string_view systemId, std::string_view name,
                                     std::string_view dataJson) {
  takeManager();
  return inner_.publishCloudEvent(systemId, name, dataJson);
}
bool GatedManager::waitCloudEvent(std::string_view systemId, std::string_view name, int64_t timeoutMs,
                                  const std::function<bool(std::string_view dataJson)> &accept,
                                  CloudEvent &out) {
  takeManager();
  return inner_.waitCloudEvent(systemId, name, timeoutMs, accept, out);
}

} // namespace cfm::cfmd
