// api.h — the procedure API of API.md "Cloud" (run_vm, terminate_vm, attach_volume,
// associate_address, reload, set_property, this_manager, this_cloud) and "Agents"
// (run_agent_command, put_file), written once for both
// engines: the interpreter calls these functions, the JIT's code the `cfm_api_*` functions of
// the C ABI (runtime/abi.def) that forward to them.
//
// Each converts its language values to the Manager interface's arguments (manager.h: a system
// by its id, a VM by its id, a timeout in ms, a json value as its text), calls the process's
// current manager and converts the result back to a value of the program's types. Without a
// manager it raises the "cloud" error with code `no_manager` and message noManagerMessage. The
// manager raises its own errors ("cloud" with the EC2 code, "timeout", ...) and may suspend the
// running task: these functions run on the calling task's stack (at least the runtime's reserve
// below the engines' stack check is free, docs/tasks.md), so a manager does deep non-suspending
// work (SQLite, XML) through sched::withStack or on another thread. Arguments are borrowed;
// results are new references. Like every runtime operation, they return false with the error
// pending.
#pragma once

#include "runtime/value.h"

#include <cstdint>

namespace cfm::model {

/// run_vm(sys, element, timeout): the new VMInstance, a record of `vmType`.
bool apiRunVm(const rt::Record *sys, const rt::Str *element, int64_t timeoutMs, const rt::TypeDesc *vmType,
              rt::Slot &out);
/// terminate_vm(vm, timeout).
bool apiTerminateVm(const rt::Record *vm, int64_t timeoutMs);
/// attach_volume(vm, size_gb, device, volume): the volume id.
bool apiAttachVolume(const rt::Record *vm, int64_t sizeGb, const rt::Str *device, const rt::Str *volume,
                     rt::Slot &out);
/// associate_address(vm, address): the address.
bool apiAssociateAddress(const rt::Record *vm, const rt::Str *address, rt::Slot &out);
/// reload(sys): the system as the store holds it, a record of sys's own type.
bool apiReload(const rt::Record *sys, rt::Slot &out);
/// set_property(sys, id, value): the reloaded system.
bool apiSetProperty(const rt::Record *sys, const rt::Str *id, const rt::Json *value, rt::Slot &out);
/// this_manager(), this_cloud(): names (strings).
bool apiThisManager(rt::Slot &out);
bool apiThisCloud(rt::Slot &out);
/// run_agent_command(vm, command, timeout, env): a CommandResult, a record of `resultType`;
/// `env` null is the empty map (the default).
bool apiRunAgentCommand(const rt::Record *vm, const rt::Str *command, int64_t timeoutMs, const rt::Map *env,
                        const rt::TypeDesc *resultType, rt::Slot &out);
/// put_file(vm, path, content, mode).
bool apiPutFile(const rt::Record *vm, const rt::Str *path, const rt::Str *content, const rt::Str *mode);

} // namespace cfm::model
