// light_run.h — `cfmc run` from the JIT's object cache without loading the engine (issue 18):
// on a valid hit (jitload/objcache.h, the key the engine would use), the cached object is loaded
// by jitload/objload.h, bound to this process's runtime ABI (cfm_abi_lookup), to the
// compilation's runtime type descriptors (`cfm.type.<T>` by sema::Type::str()) and to libc, and
// run by the engine's own run code (entry_run.h). LLVM (libcfm_jit_engine.so) is never mapped:
// a JIT hello-world starts as fast as the interpreter's.
//
// Anything unusual is no light run and the caller takes the engine's path, which then works as
// before: a miss, no key (no build-id, not x86-64), an object the loader refuses, a symbol the
// light path cannot bind — and `cfm_model_render`, whose ConfigTemplates rendered at run time
// need the engine's compiler. `CFM_JIT_LIGHT=0` turns the light path off.
#pragma once

#include "base/result.h"
#include "frontend/frontend.h"
#include "jitload/engine.h"
#include "jitload/objload.h"
#include "run/run.h"
#include "run/types.h"

#include <optional>
#include <string>

namespace cfm::jitload {

/// The environment variable that turns the light path off when it is `0`.
constexpr const char *kLightEnv = "CFM_JIT_LIGHT";

/// What a light run took (for `cfmc run --time`).
struct LightStats {
  double keyMs = 0;       // the cache key (sources hashed, build-ids read)
  double loadMs = 0;      // reading and validating the cache file
  double linkMs = 0;      // mapping, binding and relocating the object
  size_t objectBytes = 0; // the object's size
  std::string why;        // when not taken: why (for tests and debugging)
};

/// How the light path binds the undefined symbols of a cached object of compilation `c`:
/// `cfm.type.<T>` to the descriptor in `types` of the one type of `c` whose str() is `T`, `cfm_*`
/// to the runtime's ABI (cfm_abi_lookup), anything else (memcpy, fmod, ...) by dlsym; refused:
/// `cfm_model_render` (it needs the engine), a name two types share, a name not found. `c` and
/// `types` must outlive the resolver.
SymbolResolver cachedObjectResolver(const frontend::Compilation &c, run::TypeTable &types);

/// Runs procedure `opts.proc` of `c` from the object cache, as the engine would run it at level
/// `jo.optLevel` (same output, traces, statuses). Nothing (and `stats->why`) when there is no
/// light run to make: the caller runs the engine instead; nothing has run or printed then.
/// `beforeRun` is called once the object is loaded, just before it runs (cfmc prints --time).
std::optional<Result<int>> runFromCache(const frontend::Compilation &c, const run::RunOptions &opts,
                                        const jit::JitOptions &jo, LightStats *stats = nullptr,
                                        const std::function<void(const LightStats &)> &beforeRun = {});

} // namespace cfm::jitload
