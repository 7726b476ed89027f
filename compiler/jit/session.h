// session.h — the process's one ORC LLJIT (internal to compiler/jit; LLVM types inside).
//
// Every module the JIT makes in a process goes through one Session: the program of `cfmc run`,
// each input of `cfmc repl --engine jit`, and the ConfigTemplates compiled at run time
// (template.cpp). A module is optimised at its own level (O0/O1/O2: one target machine per
// level), compiled to an object and linked into a JITDylib of its own (so that the names of
// different compilations never clash), with the runtime's C ABI and its type descriptors bound
// as absolute symbols (the task locals are not: code reads them through cfm_task_local(), so a
// module runs on any scheduler thread). The JITDylib lives as long as its Module handle: when
// the last handle goes, the dylib is removed and its code, data and type table freed.
#pragma once

#include "jit/lower.h"

#include "run/types.h"

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/Target/TargetMachine.h>

#include <memory>
#include <mutex>
#include <string>

namespace cfm::jit {

/// A lowered module, ready to be added to the session.
struct Lowered {
  llvm::orc::ThreadSafeContext ctx{std::make_unique<llvm::LLVMContext>()};
  std::unique_ptr<llvm::Module> module;
  ModuleInfo info;
  double lowerMs = 0;
};

/// The functions every lowered module defines for its host (lower.h kInitSymbol, ...).
using ModuleEntry = jitload::EntryPoints;

/// What adding a module cost (for `--time`) and what was made.
struct AddTimes {
  double optMs = 0, codegenMs = 0;
  bool cacheHit = false;
  size_t objectBytes = 0; // the size of the object linked
};

class Session;

/// A module added to the session: its JITDylib and its runtime type descriptors. Destroying
/// the handle removes the dylib from the session (the module's `cfm.fini` must have run, and
/// no value that refers to its types or code may be left).
class Module {
public:
  Module(Session &s, llvm::orc::JITDylib &jd) : session_(s), jd_(jd) {}
  Module(const Module &) = delete;
  Module &operator=(const Module &) = delete;
  ~Module();
  llvm::orc::JITDylib &dylib() { return jd_; }
  /// The runtime type descriptors of the module (one table per module: a compilation's sema
  /// types die with it, and a later one may reuse their addresses).
  run::TypeTable &types() { return types_; }

private:
  Session &session_;
  llvm::orc::JITDylib &jd_;
  run::TypeTable types_;
};
using ModulePtr = std::shared_ptr<Module>;

/// Runs LLVM's new pass manager default pipeline of `opt` (0, 1, 2) over `m`.
void optimize(llvm::Module &m, llvm::TargetMachine *tm, int opt);

/// LLVM's message for `e` (consumed).
std::string errorText(llvm::Error e);

class Session {
public:
  /// The process's session, created on first use; nullptr with `why` when LLVM cannot target
  /// this host.
  static Session *get(std::string &why);

  /// The target machine of level `opt` (0, 1, 2), made on first use; nullptr with `why` when
  /// it cannot be made.
  llvm::TargetMachine *targetMachine(int opt, std::string &why);

  /// Lowers `p` (with an entry for `entry`, if given, and the REPL's `capture`) into a fresh
  /// module named `name`, and verifies it; false with `why` when the IR is bad (an internal
  /// error).
  bool lower(const sema::Program &p, const support::SourceManager &sources, const sema::FnInfo *entry,
             const std::string &name, Lowered &out, std::string &why, const ReplCapture *capture = nullptr);

  /// Optimises `l` at level `opt` and compiles it into a new JITDylib, held by the returned
  /// handle. `cacheKey`: the module's key in the persistent object cache (jitload/objcache.h
  /// `key`; empty: not cached); with one, a valid cached object is linked instead of optimising and
  /// compiling (jitload/objcache.h), and a new object is stored.
  llvm::Expected<ModulePtr> add(Lowered l, int opt, const std::string &cacheKey, AddTimes *times = nullptr);

  /// The address of `name` in `m` (compiling it if it is not yet).
  llvm::Expected<void *> lookup(Module &m, const std::string &name);

  /// `cfm.init`, `cfm.entry` and `cfm.fini` of the module `m` (the first lookup links it).
  llvm::Expected<ModuleEntry> entryPoints(Module &m);

  /// How many modules are in the session now (added and not yet removed).
  size_t liveModules();

private:
  friend class Module;
  Session() = default;
  /// Removes `jd` and everything in it (Module's destructor).
  void remove(llvm::orc::JITDylib &jd);

  std::unique_ptr<llvm::orc::JITTargetMachineBuilder> jtmb_;
  std::unique_ptr<llvm::TargetMachine> tms_[3]; // per optimisation level, made on first use
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  std::mutex mu_;
  uint64_t dylibs_ = 0; // names made so far
  size_t live_ = 0;     // modules added and not removed
};

} // namespace cfm::jit
