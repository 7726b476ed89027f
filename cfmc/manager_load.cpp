// manager_load.cpp — the loader of libcfm_manager_module.so (manager_module.h): dlopen beside the
// running executable on first use, once per process, every failure an error value.
#include "cfmc/manager_module.h"

#include <cstdlib>
#include <dlfcn.h>
#include <iostream>
#include <mutex>
#include <unistd.h>

namespace cfm::driver {

namespace {

/// Where the module is: $CFM_MANAGER_MODULE, else beside the executable.
Result<std::string> modulePath() {
  if (const char *env = std::getenv(kManagerModuleEnv); env && *env) return std::string(env);
  std::string exe(4096, '\0');
  ssize_t n = readlink("/proc/self/exe", exe.data(), exe.size());
  if (n <= 0 || static_cast<size_t>(n) >= exe.size())
    return Error{ErrorKind::Io, "cannot find the manager module: /proc/self/exe is unreadable"};
  exe.resize(static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/') + 1) + kManagerModuleFile;
}

Result<const ManagerModule *> load() {
  auto path = modulePath();
  if (!path) return path.takeError();
  const std::string hint =
      " (it is built beside cfmc; commands that reach a cloud or a broker in this process need it)";
  // RTLD_NOW: a symbol the module needs from cfmc and does not find is reported here.
  void *handle = dlopen(path->c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    return Error{ErrorKind::Io,
                 "cannot load the manager module " + *path + ": " + (why ? why : "unknown reason") + hint};
  }
  auto entry = reinterpret_cast<const ManagerModule *(*)()>(dlsym(handle, kManagerModuleEntry));
  if (!entry)
    return Error{ErrorKind::Io,
                 "the manager module " + *path + " has no entry `" + kManagerModuleEntry + "`" + hint};
  const ManagerModule *m = entry();
  if (!m || m->version != kManagerModuleVersion)
    return Error{ErrorKind::Usage, "the manager module " + *path + " is of another version than this cfmc (" +
                                       std::to_string(m ? m->version : 0) + ", expected " +
                                       std::to_string(kManagerModuleVersion) + ")"};
  return m; // the handle stays open for the life of the process
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
