// entry.cpp — the entry table of libcfm_jit_engine.so (jitload/engine.h): jit.h's functions
// behind the one symbol the loader looks up. Each entry keeps exceptions on this side of the
// table (an error value, or exit status 1 with the reason on `err` for the REPL).
#include "jit/jit.h"

#include <exception>

namespace cfm::jit {

namespace {

Error escaped(const char *what) {
  return Error{ErrorKind::Internal,
               std::string("the JIT engine failed: ") + (what ? what : "unknown exception")};
}

std::string unsupportedEntry(const sema::Program &p) { return unsupported(p); }

std::string unsupportedMessageEntry(const std::string &construct) { return unsupportedMessage(construct); }

Result<std::shared_ptr<Compiled>> compileEntry(const frontend::Compilation &c, const run::RunOptions &opts,
                                               const JitOptions &jo, JitStats *stats) {
  try {
    return compile(c, opts, jo, stats);
  } catch (const std::exception &e) {
    return escaped(e.what());
  } catch (...) {
    return escaped(nullptr);
  }
}

Result<int> runEntry(Compiled &program, const run::RunOptions &opts) {
  try {
    return run(program, opts);
  } catch (const std::exception &e) {
    return escaped(e.what());
  } catch (...) {
    return escaped(nullptr);
  }
}

Result<void> emitLLVMEntry(const frontend::Compilation &c, const std::string &proc, const JitOptions &jo,
                           FILE *out, JitStats *stats) {
  try {
    return emitLLVM(c, proc, jo, out, stats);
  } catch (const std::exception &e) {
    return escaped(e.what());
  } catch (...) {
    return escaped(nullptr);
  }
}

int runForReplEntry(const frontend::Compilation &c, const std::string &proc, std::vector<rt::Slot> args,
                    const std::vector<const sema::Var *> &keep, std::vector<rt::Slot> &kept,
                    std::vector<const rt::TypeDesc *> &keptTypes, std::shared_ptr<void> &holder, FILE *out,
                    FILE *err, const JitOptions &jo) {
  try {
    return runForRepl(c, proc, std::move(args), keep, kept, keptTypes, holder, out, err, jo);
  } catch (const std::exception &e) {
    fprintf(err, "cfmc: error: %s\n", escaped(e.what()).message.c_str());
  } catch (...) {
    fprintf(err, "cfmc: error: %s\n", escaped(nullptr).message.c_str());
  }
  return 1;
}

constexpr jitload::Engine kEngine{
    jitload::kEngineVersion, unsupportedEntry, unsupportedMessageEntry, compileEntry, runEntry,
    emitLLVMEntry,           runForReplEntry,
};

} // namespace

} // namespace cfm::jit

extern "C" __attribute__((visibility("default"))) const cfm::jitload::Engine *cfm_jit_engine() {
  return &cfm::jit::kEngine;
}
