// manager_load.cpp — the loader of libcfm_manager_module.so (manager_module.h): beside the running
// executable (base/shared_object.h) on first use, once per process, every failure an error value.
#include "cfmc/manager_module.h"

#include "base/shared_object.h"

#include <iostream>
#include <mutex>

namespace cfm::driver {

namespace {

Result<const ManagerModule *> load() {
  // RTLD_NOW: a symbol the module needs from cfmc and does not find is reported here.
  // The handle stays open for the life of the process.
  return base::loadVersionedTable<ManagerModule>(
      kManagerModuleEnv, kManagerModuleFile, kManagerModuleEntry, "the manager module",
      " (it is built beside cfmc; commands that reach a cloud or a broker in this process need it)",
      kManagerModuleVersion);
}

} // namespace

Result<const ManagerModule *> managerModule() {
  static std::once_flag once;
  static Result<const ManagerModule *> loaded =
      Error{ErrorKind::Internal, "the manager module was not loaded"};
  std::call_once(once, [] { loaded = load(); });
  if (!loaded) return loaded.error();
  return *loaded;
}

int cmdDemoInModule(const std::vector<std::string> &args) {
  auto m = managerModule();
  if (!m) {
    std::cerr << "cfmc: error: " << m.error().describe() << '\n';
    return 1;
  }
  return (*m)->demo(args);
}

Result<std::unique_ptr<rt::cloud::OpenedManager>> openManagerInModule(const std::string &configPath) {
  auto m = managerModule();
  if (!m) return m.takeError();
  return (*m)->openManager(configPath);
}

} // namespace cfm::driver
