// abi_model.cpp — the C ABI's model-object functions (runtime/abi.def, "model objects") and
// its procedure API functions ("the procedure API"): they convert and forward to methods.h and
// api.h, in the model floor so that the runtime's core ABI
// (runtime/abi.cpp) does not depend on the floor above it. And `cfm_abi_lookup`, the table of
// every ABI function (core and model): it names both floors' functions, so it lives in the
// upper one.
#include "runtime/abi.h"
#include "runtime/model/api.h"
#include "runtime/model/methods.h"

#include <cstring>

using namespace cfm::rt;

namespace {
cfm_status status(bool ok) { return ok ? 0 : 1; }
} // namespace

extern "C" {

cfm_status cfm_model_find(const cfm_record *sys, int64_t which, const cfm_str *key, cfm_slot *out) {
  return status(cfm::model::find(sys, static_cast<cfm::model::Named>(which), key, *out));
}
cfm_status cfm_model_property(const cfm_record *r, const cfm_str *id, cfm_slot *out) {
  return status(cfm::model::property(r, id, *out));
}
cfm_status cfm_model_instances_of(const cfm_record *sys, const cfm_str *element, const cfm_type *listType,
                                  cfm_slot *out) {
  return status(cfm::model::instancesOf(sys, element, listType, *out));
}
cfm_status cfm_model_render(const cfm_record *tpl, const cfm_json *vars, cfm_slot *out) {
  return status(cfm::model::abiRender(tpl, vars, *out));
}

cfm_status cfm_api_run_vm(const cfm_record *sys, const cfm_str *element, int64_t timeoutMs,
                          const cfm_type *vmType, cfm_slot *out) {
  return status(cfm::model::apiRunVm(sys, element, timeoutMs, vmType, *out));
}
cfm_status cfm_api_terminate_vm(const cfm_record *vm, int64_t timeoutMs) {
  return status(cfm::model::apiTerminateVm(vm, timeoutMs));
}
cfm_status cfm_api_attach_volume(const cfm_record *vm, int64_t sizeGb, const cfm_str *device,
                                 const cfm_str *volume, cfm_slot *out) {
  return status(cfm::model::apiAttachVolume(vm, sizeGb, device, volume, *out));
}
cfm_status cfm_api_associate_address(const cfm_record *vm, const cfm_str *address, cfm_slot *out) {
  return status(cfm::model::apiAssociateAddress(vm, address, *out));
}
cfm_status cfm_api_reload(const cfm_record *sys, cfm_slot *out) {
  return status(cfm::model::apiReload(sys, *out));
}
cfm_status cfm_api_set_property(const cfm_record *sys, const cfm_str *id, const cfm_json *value,
                                cfm_slot *out) {
  return status(cfm::model::apiSetProperty(sys, id, value, *out));
}
cfm_status cfm_api_this_manager(cfm_slot *out) { return status(cfm::model::apiThisManager(*out)); }
cfm_status cfm_api_this_cloud(cfm_slot *out) { return status(cfm::model::apiThisCloud(*out)); }
cfm_status cfm_api_run_agent_command(const cfm_record *vm, const cfm_str *command, int64_t timeoutMs,
                                     const cfm_map *env, const cfm_type *resultType, cfm_slot *out) {
  return status(cfm::model::apiRunAgentCommand(vm, command, timeoutMs, env, resultType, *out));
}
cfm_status cfm_api_put_file(const cfm_record *vm, const cfm_str *path, const cfm_str *content,
                            const cfm_str *mode) {
  return status(cfm::model::apiPutFile(vm, path, content, mode));
}

void *cfm_abi_lookup(const char *name) {
  struct Entry {
    const char *name;
    void *address;
  };
  static const Entry table[] = {
#define ABI(ret, fn, params) {#fn, reinterpret_cast<void *>(&fn)},
#include "runtime/abi.def"
#undef ABI
  };
  for (const Entry &e : table)
    if (std::strcmp(e.name, name) == 0) return e.address;
  return nullptr;
}

} // extern "C"
