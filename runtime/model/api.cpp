// api.cpp — the procedure API through the current manager (api.h).
#include "runtime/model/api.h"

#include "runtime/model/manager.h"
#include "runtime/model/values.h"
#include "runtime/runtime.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cfm::model {

using namespace rt;

namespace {

/// The manager, or nullptr after raising the "cloud" error `no_manager`.
Manager *manager() {
  Manager *m = currentManager();
  if (!m) (void)raise(ErrKind::Cloud, "no_manager", noManagerMessage);
  return m;
}

/// The result of a manager's call: a failure with no error pending (a broken manager) still
/// fails with an error the program can see.
bool done(bool ok) {
  if (!ok && !pendingError())
    return raise(ErrKind::Cloud, "internal", "the manager failed without saying why");
  return ok;
}

/// A string field of a model record, by name ("" when the program's type has no such field).
std::string_view textField(const Record *r, std::string_view name) {
  const auto &names = r->type->fieldNames;
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name && r->type->fieldTypes[i]->kind == Kind::String)
      return static_cast<const Str *>(r->fields[i].o)->view();
  return {};
}

/// A system is known to the manager by its id; one written as a literal may have only its name
/// (the store finds a system by either).
std::string_view systemKey(const Record *sys) {
  std::string_view id = textField(sys, "id");
  return id.empty() ? textField(sys, "name") : id;
}

/// A timeout that has passed already (a negative duration) is 0, as `wait`'s is.
int64_t timeout(int64_t ms) { return std::max<int64_t>(ms, 0); }

Record *systemValue(const Manager::SystemState &st, const TypeDesc *sysType) {
  return toValue(st.system, st.elementInstances, st.vmInstances, sysType);
}

} // namespace

bool apiRunVm(const Record *sys, const Str *element, int64_t timeoutMs, const TypeDesc *vmType, Slot &out) {
  Manager *m = manager();
  if (!m) return false;
  VMInstance vm;
  if (!done(m->runVm(systemKey(sys), element->view(), timeout(timeoutMs), vm))) return false;
  out.o = toValue(vm, vmType);
  return true;
}

bool apiTerminateVm(const Record *vm, int64_t timeoutMs) {
  Manager *m = manager();
  return m && done(m->terminateVm(textField(vm, "id"), timeout(timeoutMs)));
}

bool apiAttachVolume(const Record *vm, int64_t sizeGb, const Str *device, const Str *volume, Slot &out) {
  Manager *m = manager();
  if (!m) return false;
  std::string id;
  if (!done(m->attachVolume(textField(vm, "id"), sizeGb, device->view(), volume->view(), id))) return false;
  out.o = newStr(id);
  return true;
}

bool apiAssociateAddress(const Record *vm, const Str *address, Slot &out) {
  Manager *m = manager();
  if (!m) return false;
  std::string addr;
  if (!done(m->associateAddress(textField(vm, "id"), address->view(), addr))) return false;
  out.o = newStr(addr);
  return true;
}

bool apiReload(const Record *sys, Slot &out) {
  Manager *m = manager();
  if (!m) return false;
  Manager::SystemState st;
  if (!done(m->reload(systemKey(sys), st))) return false;
  out.o = systemValue(st, sys->type);
  return true;
}

bool apiSetProperty(const Record *sys, const Str *id, const Json *value, Slot &out) {
  Manager *m = manager();
  if (!m) return false;
  std::string text;
  writeJson(text, value);
  Manager::SystemState st;
  if (!done(m->setProperty(systemKey(sys), id->view(), text, st))) return false;
  out.o = systemValue(st, sys->type);
  return true;
}

bool apiThisManager(Slot &out) {
  Manager *m = manager();
  if (!m) return false;
  out.o = newStr(m->managerName());
  return true;
}

bool apiRunAgentCommand(const Record *vm, const Str *command, int64_t timeoutMs, const Map *env,
                        const TypeDesc *resultType, Slot &out) {
  Manager *m = manager();
  if (!m) return false;
  std::vector<std::pair<std::string, std::string>> vars;
  if (env)
    for (const Map::Entry &e : env->entries)
      if (e.live)
        vars.emplace_back(std::string(static_cast<const Str *>(e.key.o)->view()),
                          std::string(static_cast<const Str *>(e.value.o)->view()));
  Manager::CommandResult r;
  if (!done(m->runAgentCommand(textField(vm, "id"), command->view(), timeout(timeoutMs), vars, r)))
    return false;
  out.o = toValue(r, resultType);
  return true;
}

bool apiPutFile(const Record *vm, const Str *path, const Str *content, const Str *mode) {
  Manager *m = manager();
  return m && done(m->putFile(textField(vm, "id"), path->view(), content->view(), mode->view()));
}

bool apiThisCloud(Slot &out) {
  Manager *m = manager();
  if (!m) return false;
  out.o = newStr(m->cloudName());
  return true;
}

} // namespace cfm::model
