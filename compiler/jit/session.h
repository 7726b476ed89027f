// session.h — the process's one ORC LLJIT (internal to compiler/jit; LLVM types inside).
//
// Every module the JIT makes in a process goes through one Session: the program of `cfmc run`,
// each input of `cfmc repl --engine jit`, and the ConfigTemplates compiled at run time
// (template.cpp). A module is optimised at the session's level, compiled to an object and linked
// into a JITDylib of its own (so that the names of different compilations never clash), with
// the runtime's C ABI, its type descriptors and the task locals bound as absolute symbols.
#pragma once

#include "jit/lower.h"

#include "interp/program.h"

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/Target/TargetMachine.h>

#include <map>
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
struct ModuleEntry {
  int (*init)(FILE *out) = nullptr;                                               // 1: an error is pending
  int (*entry)(rt::Slot *args, const uint8_t *given, rt::Slot *result) = nullptr; // 1: failed
  void (*fini)() = nullptr;
};

/// What adding a module cost (for `--time`).
struct AddTimes {
  double optMs = 0, codegenMs = 0;
  bool cacheHit = false;
};

/// Runs LLVM's new pass manager default pipeline of `opt` (0, 1, 2) over `m`.
void optimize(llvm::Module &m, llvm::TargetMachine *tm, int opt);

/// LLVM's message for `e` (consumed).
std::string errorText(llvm::Error e);

class Session {
public:
  /// The process's session, created on first use at optimisation level `opt`; nullptr with
  /// `why` when LLVM cannot target this host. Later calls return the same session (whatever
  /// `opt` they pass).
  static Session *get(int opt, std::string &why);

  int optLevel() const { return opt_; }
  llvm::TargetMachine &targetMachine() { return *tm_; }

  /// Lowers `p` (with an entry for `entry`, if given, and the REPL's `capture`) into a fresh
  /// module named `name`, and verifies it; false with `why` when the IR is bad (an internal
  /// error).
  bool lower(const sema::Program &p, const support::SourceManager &sources, const sema::FnInfo *entry,
             const std::string &name, Lowered &out, std::string &why, const ReplCapture *capture = nullptr);

  /// Optimises and compiles `l` into a new JITDylib and returns it. `cacheKey`: the identity of
  /// the module's source for the persistent object cache (empty: not cached); with one, a valid
  /// cached object is linked instead of optimising and compiling (cache.h), and a new object is
  /// stored.
  llvm::Expected<llvm::orc::JITDylib *> add(Lowered l, const std::string &cacheKey,
                                            AddTimes *times = nullptr);

  /// The address of `name` in `jd` (compiling it if it is not yet).
  llvm::Expected<void *> lookup(llvm::orc::JITDylib &jd, const std::string &name);

  /// `cfm.init`, `cfm.entry` and `cfm.fini` of the module added as `jd` (the first lookup links it).
  llvm::Expected<ModuleEntry> entryPoints(llvm::orc::JITDylib &jd);

  /// The runtime type descriptors of the module added as `jd` (one table per module: a
  /// compilation's sema types die with it, and a later one may reuse their addresses).
  interp::TypeTable &typesOf(llvm::orc::JITDylib &jd);

private:
  Session() = default;
  int opt_ = 2;
  std::unique_ptr<llvm::TargetMachine> tm_;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  std::map<const llvm::orc::JITDylib *, std::unique_ptr<interp::TypeTable>> tables_;
  std::mutex mu_;
  int dylibs_ = 0;
};

} // namespace cfm::jit
