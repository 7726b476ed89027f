// engine.cpp — the loader of the JIT engine (engine.h): libcfm_jit_engine.so beside the running
// executable (base/shared_object.h) on first use, once per process, every failure an error value.
#include "jitload/engine.h"

#include "base/shared_object.h"
#include "jitload/entry_run.h"
#include "jitload/objcache.h"

#include <mutex>

namespace cfm::jitload {

/// What the engine calls of jitload: it is built without jitload's objects and binds to those of
/// the program that loads it. Every such program calls engine() below, so these references link
/// them into each (cfmc, cfmd), whether or not the program calls them itself (cfmd does not).
extern const void *const kForTheEngine[];
const void *const kForTheEngine[] = {
    reinterpret_cast<const void *>(&runEntryPoints),
    reinterpret_cast<const void *>(&objcache::key),
    reinterpret_cast<const void *>(&objcache::load),
    reinterpret_cast<const void *>(&objcache::store),
    reinterpret_cast<const void *>(&objcache::directory),
    reinterpret_cast<const void *>(&objcache::compilerIdLoaded),
};

namespace {

Result<const Engine *> load() {
  // RTLD_NOW: a symbol the engine needs from the executable and does not find is reported here,
  // not as a crash in the middle of a run.
  // The handle stays open for the life of the process.
  return base::loadVersionedTable<Engine>(
      kEngineEnv, kEngineFile, kEntrySymbol, "the JIT engine",
      " (the JIT engine is built beside cfmc; `--engine interp` runs without it)", kEngineVersion);
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
