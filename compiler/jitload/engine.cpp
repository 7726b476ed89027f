// engine.cpp — the loader of the JIT engine (engine.h): libcfm_jit_engine.so beside the running
// executable (base/shared_object.h) on first use, once per process, every failure an error value.
#include "jitload/engine.h"

#include "base/shared_object.h"

#include <mutex>

namespace cfm::jitload {

namespace {

Result<const Engine *> load() {
  // RTLD_NOW: a symbol the engine needs from the executable and does not find is reported here,
  // not as a crash in the middle of a run.
  auto o =
      base::loadBesideExecutable(kEngineEnv, kEngineFile, kEntrySymbol, "the JIT engine",
                                 " (the JIT engine is built beside cfmc; `--engine interp` runs without it)");
  if (!o) return o.takeError();
  const Engine *e = static_cast<const Engine *>(o->table);
  if (!e || e->version != kEngineVersion)
    return Error{ErrorKind::Usage, "the JIT engine " + o->path + " is of another version than this cfmc (" +
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
