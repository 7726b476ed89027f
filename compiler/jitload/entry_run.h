// entry_run.h — running a JIT-compiled module's entry points (`cfm.init`, `cfm.entry`,
// `cfm.fini`) as a program run: the code the engine (compiler/jit/engine.cpp) and cfmc's light
// path (light.h, an object of the cache loaded without LLVM) share, so that both give the same
// output, uncaught-error traces, exit statuses and `--arg` errors, byte for byte.
#pragma once

#include "base/result.h"
#include "run/run.h"
#include "run/types.h"

#include <cstdint>
#include <cstdio>

namespace cfm::jitload {

/// The symbols a lowered module defines for its host (compiler/jit/lower.h names them too).
inline constexpr const char *kModuleInit = "cfm.init"; // i32 (ptr out): constants; 1 = error
// i32 (ptr args, ptr given, ptr result): calls the entry function with the cfm_slot `args` (the
// ones whose `given` byte is 0 take their defaults); its result, if any, goes to the cfm_slot
// `result` when that is not null (else it is released); 1 = it failed (error pending)
inline constexpr const char *kModuleEntry = "cfm.entry";
inline constexpr const char *kModuleFini = "cfm.fini"; // void (): releases constants, literals

/// The functions every lowered module defines for its host (kModuleInit, kModuleEntry, kModuleFini).
struct EntryPoints {
  int (*init)(FILE *out) = nullptr;                                               // 1: an error is pending
  int (*entry)(rt::Slot *args, const uint8_t *given, rt::Slot *result) = nullptr; // 1: failed
  void (*fini)() = nullptr;
};

/// Runs the module's procedure `proc` (its `--arg` names checked) as the first task of a new
/// scheduler on this thread, as interp::run does: the constants (`init`), the `--arg` values
/// converted with run::commandLineArg to the descriptors of `types` (the module's table) or the
/// defaults, the procedure, an uncaught error printed with its trace on `opts.err` (status 1),
/// then `fini`. 0 or 1; an error for a bad or missing `--arg`.
Result<int> runEntryPoints(const EntryPoints &points, const sema::FnInfo &proc, run::TypeTable &types,
                           const run::RunOptions &opts);

} // namespace cfm::jitload
