// shared_object.cpp — pathBesideExecutable and loadBesideExecutable (shared_object.h).
#include "base/shared_object.h"

#include <cstdlib>
#include <dlfcn.h>
#include <unistd.h>

namespace cfm::base {

Result<std::string> pathBesideExecutable(const char *env, const char *file, const std::string &what) {
  if (const char *p = std::getenv(env); p && *p) return std::string(p);
  std::string exe(4096, '\0');
  ssize_t n = readlink("/proc/self/exe", exe.data(), exe.size());
  if (n <= 0 || static_cast<size_t>(n) >= exe.size())
    return Error{ErrorKind::Io, "cannot find " + what + ": /proc/self/exe is unreadable"};
  exe.resize(static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/') + 1) + file;
}

Result<LoadedObject> loadBesideExecutable(const char *env, const char *file, const char *symbol,
                                          const std::string &what, const std::string &hint) {
  LoadedObject out;
  Result<std::string> path = pathBesideExecutable(env, file, what);
  if (!path) return path.takeError();
  out.path = *path;
  void *handle = dlopen(out.path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    return Error{ErrorKind::Io,
                 "cannot load " + what + " " + out.path + ": " + (why ? why : "unknown reason") + hint};
  }
  auto entry = reinterpret_cast<const void *(*)()>(dlsym(handle, symbol));
  if (!entry) return Error{ErrorKind::Io, what + " " + out.path + " has no entry `" + symbol + "`" + hint};
  out.table = entry();
  return out;
}

} // namespace cfm::base
