// abi_model.cpp — the C ABI's model-object functions (runtime/abi.def, "model objects"): they
// convert and forward to methods.h, in the model floor so that the runtime's core ABI
// (runtime/abi.cpp) does not depend on the floor above it. And `cfm_abi_lookup`, the table of
// every ABI function (core and model): it names both floors' functions, so it lives in the
// upper one.
#include "runtime/abi.h"
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
