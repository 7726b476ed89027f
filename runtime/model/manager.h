// manager.h — the procedure API's door to the manager a procedure runs in (API.md "Cloud"):
// the engines call the API functions (run_vm, terminate_vm, attach_volume, associate_address,
// reload, set_property, this_manager, this_cloud; run_agent_command and put_file of API.md
// "Agents"; publish_cloud_event and wait_cloud_event of "Cloud events") through this interface, and the
// program that runs them (cfmc with --manager/--config; later cfmd) installs the implementation, which lives
// above the store (runtime/cloud: the EC2 driver, the manager's store). So the engines reach a
// cloud without depending on the driver, the store or net/, as the ABI's model functions reach
// templates through an argument.
//
// Every operation runs on the calling task and may suspend it (the scheduler's completion API);
// it returns false after raising the runtime error (rt::raise with kind and code: "cloud" with
// the EC2 code, "timeout", ...), true with its result otherwise. Without an installed manager
// the engines raise the "cloud" error `no manager: pass --manager NAME or set CFM_MANAGER`
// (noManagerMessage), kind "cloud", code "no_manager".
#pragma once

#include "runtime/model/model.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cfm::model {

class Manager {
public:
  virtual ~Manager() = default;

  virtual std::string managerName() const = 0;
  virtual std::string cloudName() const = 0;

  /// Starts one VM for element `element` of system `systemId` (its VMClass mapped to an image
  /// and instance type by the manager's configuration), waits (at most timeoutMs) until it is
  /// running, records the new element instance and VM instance in the store; `vm` is the VM.
  virtual bool runVm(std::string_view systemId, std::string_view element, int64_t timeoutMs,
                     VMInstance &vm) = 0;
  /// Terminates the VM, waits until terminated, marks its records terminated.
  virtual bool terminateVm(std::string_view vmId, int64_t timeoutMs) = 0;
  /// Creates a volume in the VM's zone when `volume` is empty, attaches it at `device`, waits
  /// until attached, records it on the VM instance; `volumeId` is its id.
  virtual bool attachVolume(std::string_view vmId, int64_t sizeGb, std::string_view device,
                            std::string_view volume, std::string &volumeId) = 0;
  /// Allocates an elastic address when `address` is empty, associates it with the VM, records it
  /// as the VM's public address; `out` is the address.
  virtual bool associateAddress(std::string_view vmId, std::string_view address, std::string &out) = 0;

  /// The system as the store holds it now, with its element and VM instances.
  struct SystemState {
    BusinessSystem system;
    std::vector<BusinessSystemElementInstance> elementInstances;
    std::vector<VMInstance> vmInstances;
  };
  virtual bool reload(std::string_view systemId, SystemState &out) = 0;
  /// Stores one system property (`valueJson`: the json value's text), then reloads.
  virtual bool setProperty(std::string_view systemId, std::string_view propertyId, std::string_view valueJson,
                           SystemState &out) = 0;

  /// What a command run by a VM's agent gave (API.md's CommandResult; docs/agent-protocol.md).
  struct CommandResult {
    int64_t exitCode = 0; ///< -1 when a signal ended the command
    std::string stdoutText, stderrText;
    bool truncated = false;
    int64_t durationMs = 0;
  };
  /// Runs `/bin/sh -c command` on the VM through its agent with `env` added to its environment;
  /// a non-zero exit status is a result. Errors: "agent" (codes unreachable, rejected, io),
  /// "timeout" when the command ran longer than timeoutMs (the agent killed it).
  virtual bool runAgentCommand(std::string_view vmId, std::string_view command, int64_t timeoutMs,
                               const std::vector<std::pair<std::string, std::string>> &env,
                               CommandResult &out) = 0;
  /// Writes `content` atomically to `path` (absolute inside the VM's file root) with `mode`
  /// (octal text); a path leaving the root is the "agent" error `rejected`.
  virtual bool putFile(std::string_view vmId, std::string_view path, std::string_view content,
                       std::string_view mode) = 0;

  /// A cloud event as a manager keeps it (API.md's CloudEvent; `dataJson` is the data's JSON text).
  struct CloudEvent {
    std::string system, name, dataJson, source;
    int64_t seq = 0, publishedAt = 0; ///< published_at: Unix milliseconds
  };
  /// Publishes event `name` of system `systemId` with `dataJson` (checked by the caller: a valid
  /// name, at most 256 KiB) to every manager following the system, this one included; returns
  /// once the event is durable in this manager's outbox. Errors: "event" `not_connected`.
  virtual bool publishCloudEvent(std::string_view systemId, std::string_view name,
                                 std::string_view dataJson) = 0;
  /// The next event named `name` of `systemId` that reached this manager after the run started,
  /// that this run has not been given yet and whose data `accept` takes (called on the calling
  /// task with the data's JSON text); waits at most timeoutMs for one ("timeout" error).
  /// One Manager serves one run: the run's cursor is the manager's.
  virtual bool waitCloudEvent(std::string_view systemId, std::string_view name, int64_t timeoutMs,
                              const std::function<bool(std::string_view dataJson)> &accept,
                              CloudEvent &out) = 0;
};

/// The manager of the calling thread: the one setThreadManager gave it, else the process's
/// (nullptr: none). Set by the program before it runs a procedure: cfmc sets the process's,
/// cfmd one per run on the thread that runs it (each run has its own manager).
Manager *currentManager();
void setCurrentManager(Manager *m);
void setThreadManager(Manager *m);

/// The message of the error an API call raises when there is no manager.
inline constexpr const char *noManagerMessage = "no manager: pass --manager NAME or set CFM_MANAGER";

} // namespace cfm::model
