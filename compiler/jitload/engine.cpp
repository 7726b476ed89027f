// engine.cpp — the loader of the JIT engine (engine.h): dlopen of libcfm_jit_engine.so beside
// the running executable on first use, once per process, every failure an error value.
#include "jitload/engine.h"

#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <unistd.h>

namespace cfm::jitload {

namespace {

/// Where the engine is: $CFM_JIT_ENGINE, else beside the executable.
Result<std::string> enginePath() {
  if (const char *env = std::getenv(kEngineEnv); env && *env) return std::string(env);
  std::string exe(4096, '\0');
  ssize_t n = readlink("/proc/self/exe", exe.data(), exe.size());
  if (n <= 0 || static_cast<size_t>(n) >= exe.size())
    return Error{ErrorKind::Io, "cannot find the JIT engine: /proc/self/exe is unreadable"};
  exe.resize(static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/') + 1) + kEngineFile;
}

Result<const Engine *> load() {
  auto path = enginePath();
  if (!path) return path.takeError();
  const std::string hint = " (the JIT engine is built beside cfmc; `--engine interp` runs without it)";
  // RTLD_NOW: a symbol the engine needs from the executable and does not find is reported here,
  // not as a crash in the middle of a run.
  void *handle = dlopen(path->c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    return Error{ErrorKind::Io,
                 "cannot load the JIT engine " + *path + ": " + (why ? why : "unknown reason") + hint};
  }
  auto entry = reinterpret_cast<const Engine *(*)()>(dlsym(handle, kEntrySymbol));
  if (!entry)
    return Error{ErrorKind::Io, "the JIT engine " + *path + " has no entry `" + kEntrySymbol + "`" + hint};
  const Engine *e = entry();
  if (!e || e->version != kEngineVersion)
    return Error{ErrorKind::Usage, "the JIT engine " + *path + " is of another version than this cfmc (" +
                                       std::to_string(e ? e->version : 0) + ", expected " +
                                       std::to_string(kEngineVersion) + ")"};
  return e; // the handle stays open for the life of the process
}

} // namespace

Result<const Engine *> engine() {
  static std::once_flag once;
  static Result<const Engine *> loadedEngine = Error{ErrorKind::Internal, "the JIT engine was not loaded"};
  std::call_once(once, [] { loadedEngine = load(); });
  if (!loadedEngine) return loadedEngine.error();
  return *loadedEngine;
}

} // namespace cfm::jitload
