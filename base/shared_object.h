// shared_object.h — loading a shared object that is built beside the running executable (the JIT
// engine, cfmc's manager module): its path from an environment variable or the executable's
// folder, dlopen with RTLD_NOW (a symbol it needs and does not find is an error here, not a crash
// later), and its one entry function, which returns the object's table, whose version is checked.
// Every failure is an error value; the handle stays open for the life of the process. The base
// floor: POSIX only.
#pragma once

#include "base/result.h"

#include <string>

namespace cfm::base {

/// What loadBesideExecutable found: the object's path and what its entry returned.
struct LoadedObject {
  std::string path;
  const void *table = nullptr;
};

/// The path of `file` in the folder of /proc/self/exe, or the path in environment variable
/// `env` when it is set and not empty (what loadBesideExecutable opens); `what` names the object
/// in the message when /proc/self/exe is unreadable.
Result<std::string> pathBesideExecutable(const char *env, const char *file, const std::string &what);

/// Loads `file` from the folder of /proc/self/exe, or the path in environment variable `env`
/// when it is set and not empty, and calls its entry `symbol` (extern "C", no arguments,
/// returning a table pointer). `what` names the object in messages ("the JIT engine"); `hint`
/// is appended to them.
Result<LoadedObject> loadBesideExecutable(const char *env, const char *file, const char *symbol,
                                          const std::string &what, const std::string &hint);

/// loadBesideExecutable, then the table's `version` member compared with `version`: an object
/// of another build is refused (a usage error naming both versions).
template <class Table, class Version>
Result<const Table *> loadVersionedTable(const char *env, const char *file, const char *symbol,
                                         const std::string &what, const std::string &hint, Version version) {
  auto o = loadBesideExecutable(env, file, symbol, what, hint);
  if (!o) return o.takeError();
  const Table *t = static_cast<const Table *>(o->table);
  if (!t || t->version != version)
    return Error{ErrorKind::Usage, what + " " + o->path + " is of another version than this cfmc (" +
                                       std::to_string(t ? t->version : 0) + ", expected " +
                                       std::to_string(version) + ")"};
  return t;
}

} // namespace cfm::base
