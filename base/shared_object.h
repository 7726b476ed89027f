// shared_object.h — loading a shared object that is built beside the running executable (the JIT
// engine, cfmc's manager module): its path from an environment variable or the executable's
// folder, dlopen with RTLD_NOW (a symbol it needs and does not find is an error here, not a crash
// later), and its one entry function, which returns the object's table. Every failure is an
// error value; the handle stays open for the life of the process. The base floor: POSIX only.
#pragma once

#include "base/result.h"

#include <string>

namespace cfm::base {

/// What loadBesideExecutable found: the object's path and what its entry returned.
struct LoadedObject {
  std::string path;
  const void *table = nullptr;
};

/// Loads `file` from the folder of /proc/self/exe, or the path in environment variable `env`
/// when it is set and not empty, and calls its entry `symbol` (extern "C", no arguments,
/// returning a table pointer). `what` names the object in messages ("the JIT engine"); `hint`
/// is appended to them.
Result<LoadedObject> loadBesideExecutable(const char *env, const char *file, const char *symbol,
                                          const std::string &what, const std::string &hint);

} // namespace cfm::base
