// light_run.cpp — runFromCache (light_run.h): key, cache file, object loader and the shared run,
// with the symbols bound without the engine.
#include "jitload/light_run.h"

#include "jitload/entry_run.h"
#include "jitload/objcache.h"
#include "jitload/objload.h"
#include "run/types.h"
#include "runtime/abi.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <memory>
#include <unordered_map>

namespace cfm::jitload {

namespace {

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

/// Symbols whose code needs the engine at run time: an object naming one is run by the engine.
constexpr const char *kNeedsEngine[] = {"cfm_model_render"};

constexpr std::string_view kTypePrefix = "cfm.type.";

} // namespace

SymbolResolver cachedObjectResolver(const frontend::Compilation &c, run::TypeTable &types) {
  // The module's runtime type descriptors, by the names the lowering gives them. A name two
  // types share (records of the same name from different files) is not bound here.
  auto byName = std::make_shared<std::unordered_map<std::string, const sema::Type *>>();
  c.program.types.forEach([&byName](const sema::Type *t) {
    auto [it, fresh] = byName->emplace(t->str(), t);
    if (!fresh && it->second != t) it->second = nullptr;
  });
  return [byName, &types](const std::string &name) -> Result<void *> {
    for (const char *n : kNeedsEngine)
      if (name == n) return Error{ErrorKind::Internal, "`" + name + "` needs the JIT engine"};
    if (name.compare(0, kTypePrefix.size(), kTypePrefix) == 0) {
      auto it = byName->find(name.substr(kTypePrefix.size()));
      if (it == byName->end() || !it->second)
        return Error{ErrorKind::Internal, "no single type for `" + name + "`"};
      return const_cast<void *>(static_cast<const void *>(types.get(it->second)));
    }
    void *a =
        name.compare(0, 4, "cfm_") == 0 ? cfm_abi_lookup(name.c_str()) : dlsym(RTLD_DEFAULT, name.c_str());
    if (!a) return Error{ErrorKind::Internal, "unresolved symbol `" + name + "`"};
    return a;
  };
}

std::optional<Result<int>> runFromCache(const frontend::Compilation &c, const run::RunOptions &opts,
                                        const jit::JitOptions &jo, LightStats *stats,
                                        const std::function<void(const LightStats &)> &beforeRun) {
  LightStats local;
  LightStats &st = stats ? *stats : local;
  auto no = [&st](std::string why) -> std::optional<Result<int>> {
    st.why = std::move(why);
    return std::nullopt;
  };
  if (const char *v = std::getenv(kLightEnv); v && std::strcmp(v, "0") == 0) return no("turned off");
  if (!jo.cache) return no("no cache");
  // The engine's compile() checks the procedure and the --arg names first: its errors come from it.
  Result<const sema::FnInfo *> proc = run::findProcedure(c.program, opts, c.sources.file(0).path());
  if (!proc) return no("no such procedure");
  auto t0 = Clock::now();
  std::string dir = objcache::directory();
  std::string key = dir.empty() ? "" : objcache::key(c, opts.proc, jo.optLevel, objcache::compilerIdOnDisk());
  st.keyMs = msSince(t0);
  if (key.empty()) return no("no cache key");
  t0 = Clock::now();
  std::optional<std::string> object = objcache::load(dir, key);
  st.loadMs = msSince(t0);
  if (!object) return no("not in the cache");
  st.objectBytes = object->size();

  t0 = Clock::now();
  run::TypeTable types;
  Result<std::unique_ptr<ObjectImage>> image = loadObject(*object, cachedObjectResolver(c, types));
  if (!image) return no(image.error().message);
  EntryPoints points;
  points.init = reinterpret_cast<int (*)(FILE *)>((*image)->symbol(kModuleInit));
  points.entry =
      reinterpret_cast<int (*)(rt::Slot *, const uint8_t *, rt::Slot *)>((*image)->symbol(kModuleEntry));
  points.fini = reinterpret_cast<void (*)()>((*image)->symbol(kModuleFini));
  if (!points.init || !points.entry || !points.fini) return no("the object lacks an entry point");
  st.linkMs = msSince(t0);
  if (beforeRun) beforeRun(st);
  Result<int> status = runEntryPoints(points, **proc, types, opts);
  // The image is freed here, after fini: as the engine frees the module after its run.
  return status;
}

} // namespace cfm::jitload
