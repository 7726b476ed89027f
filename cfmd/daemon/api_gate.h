// api_gate.h — cfmd's guard around the process's one manager (runtime/model/manager.h). The
// CloudManager and its store were written for one run in one process: the store's SQLite
// connection is one thread at a time (sql/sqlite.h) and the event cursor is the manager's. So in
// cfmd a run's first call of the procedure API (run_vm, set_property, publish_cloud_event, ...)
// takes the manager for that run until it ends: runs that use the API run one after another
// (the next one waits at its first call), runs that do not (print, sleep, compute) stay
// concurrent. managerName()/cloudName() need no guard.
#pragma once

#include "runtime/model/manager.h"

namespace cfm::cfmd {

/// Forwards every call to `inner`, first taking the manager for the calling run (above).
class GatedManager : public model::Manager {
public:
  explicit GatedManager(model::Manager &inner) : inner_(inner) {}
  std::string managerName() const override { return inner_.managerName(); }
  std::string cloudName() const override { return inner_.cloudName(); }
  bool runVm(std::string_view systemId, std::string_view element, int64_t timeoutMs,
             model::VMInstance &vm) override;
  bool terminateVm(std::string_view vmId, int64_t timeoutMs) override;
  bool attachVolume(std::string_view vmId, int64_t sizeGb, std::string_view device, std::string_view volume,
                    std::string &volumeId) override;
  bool associateAddress(std::string_view vmId, std::string_view address, std::string &out) override;
  bool reload(std::string_view systemId, SystemState &out) override;
  bool setProperty(std::string_view systemId, std::string_view propertyId, std::string_view valueJson,
                   SystemState &out) override;
  bool runAgentCommand(std::string_view vmId, std::string_view command, int64_t timeoutMs,
                       const std::vector<std::pair<std::string, std::string>> &env,
                       CommandResult &out) override;
  bool putFile(std::string_view vmId, std::string_view path, std::string_view content,
               std::string_view mode) override;
  bool publishCloudEvent(std::string_view systemId, std::string_view name,
                         std::string_view dataJson) override;
  bool waitCloudEvent(std::string_view systemId, std::string_view name, int64_t timeoutMs,
                      const std::function<bool(std::string_view dataJson)> &accept, CloudEvent &out) override;

private:
  model::Manager &inner_;
};

/// Takes the manager for the calling run (waiting for the run that has it): before the run
/// reads the store itself (a `BusinessSystem` argument, runner.cpp).
void takeManagerForThisRun();
/// Gives the manager back if the calling thread (a run's) took it; runner.cpp calls it when the
/// run's engine has returned, on the thread that ran it.
void releaseManagerForThisRun();

} // namespace cfm::cfmd
