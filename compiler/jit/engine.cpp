// engine.cpp — the JIT's driver side: the scope check, lowering, LLVM's new pass manager at
// O0/O1/O2, a module of the process's Session per compiled program, and each run as the first
// task of a scheduler, on the run set-up the interpreter shares (compiler/run): constants,
// --arg values, the procedure, uncaught errors with their traces. Nothing here prints but the
// program's own output and uncaught errors; the rest comes back as errors and statistics.
#include "jit/jit.h"
#include "jit/lower.h"
#include "jit/session.h"

#include "jitload/entry_run.h"
#include "jitload/objcache.h"
#include "runtime/abi.h"
#include "runtime/runtime.h"

#include <llvm/Support/raw_ostream.h>

#include <chrono>

namespace cfm::jit {

using namespace rt;

class Compiled {
public:
  const frontend::Compilation *comp = nullptr;
  const sema::FnInfo *proc = nullptr;
  int optLevel = 2;
  ModulePtr module;
  ModuleEntry points;
};

namespace {

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

/// The program's key in the persistent object cache (jitload/objcache.h): its sources, the entry
/// procedure, the level, and the compiler — the executable and the object holding this code (the
/// engine under cfmc) — with LLVM and the CPU. cfmc's light path computes the same key.
std::string cacheKey(const frontend::Compilation &c, const std::string &entry, const JitOptions &jo) {
  return jitload::objcache::key(
      c, entry, jo.optLevel, jitload::objcache::compilerIdLoaded(reinterpret_cast<const void *>(&cacheKey)));
}

/// The procedure `name` of the program, or nullptr.
const sema::FnInfo *procedureNamed(const sema::Program &p, const std::string &name) {
  for (const sema::FnInfo &fi : p.functions)
    if (fi.name == name && fi.decl->fnKind == ast::FnKind::Procedure) return &fi;
  return nullptr;
}

} // namespace

std::string unsupportedMessage(const std::string &construct) {
  return "the JIT does not compile " + construct + "; use --engine interp";
}

size_t liveModules() {
  std::string why;
  Session *s = Session::get(why);
  return s ? s->liveModules() : 0;
}

Result<std::shared_ptr<Compiled>> compile(const frontend::Compilation &c, const run::RunOptions &opts,
                                          const JitOptions &jo, JitStats *stats) {
  const sema::Program &sp = c.program;
  std::string why = unsupported(sp);
  if (!why.empty()) return Error{ErrorKind::Usage, unsupportedMessage(why)};
  Result<const sema::FnInfo *> proc = run::findProcedure(sp, opts, c.sources.file(0).path());
  if (!proc) return proc.takeError();

  auto t0 = Clock::now();
  Session *session = Session::get(why);
  JitStats local;
  JitStats &st = stats ? *stats : local;
  st.optLevel = jo.optLevel;
  st.setupMs = msSince(t0);
  Lowered l;
  if (!session || !session->lower(sp, c.sources, *proc, c.sources.file(0).path(), l, why))
    return Error{ErrorKind::Internal, why};
  st.lowerMs = l.lowerMs;
  AddTimes times;
  auto m =
      session->add(std::move(l), jo.optLevel, jo.cache ? cacheKey(c, opts.proc, jo) : std::string(), &times);
  st.optMs = times.optMs;
  st.codegenMs = times.codegenMs;
  st.cacheHit = times.cacheHit;
  st.objectBytes = times.objectBytes;
  t0 = Clock::now();
  auto points = m ? session->entryPoints(**m) : llvm::Expected<ModuleEntry>(m.takeError()); // links it
  st.linkMs = msSince(t0);
  if (!points) return Error{ErrorKind::Internal, errorText(points.takeError())};
  auto out = std::make_shared<Compiled>();
  out->comp = &c;
  out->proc = *proc;
  out->optLevel = jo.optLevel;
  out->module = std::move(*m);
  out->points = *points;
  return out;
}

Result<int> run(Compiled &program, const run::RunOptions &opts) {
  // The ConfigTemplates this run renders: compiled for it, freed when it ends.
  TemplateCache templates(program.optLevel, opts.out);
  model::TemplateCompiler compiler = templates.compiler();
  model::AbiTemplateScope scope(compiler);
  // The run itself is cfmc's light path's too (a cached object run without the engine).
  return jitload::runEntryPoints(program.points, *program.proc, program.module->types(), opts);
}

Result<int> run(const frontend::Compilation &c, const run::RunOptions &opts, const JitOptions &jo,
                JitStats *stats) {
  Result<std::shared_ptr<Compiled>> program = compile(c, opts, jo, stats);
  if (!program) return program.takeError();
  return run(**program, opts);
}

Result<void> emitLLVM(const frontend::Compilation &c, const std::string &proc, const JitOptions &jo,
                      FILE *out, JitStats *stats) {
  std::string why = unsupported(c.program);
  if (!why.empty()) return Error{ErrorKind::Usage, unsupportedMessage(why)};
  Session *session = Session::get(why);
  Lowered l;
  if (!session || !session->lower(c.program, c.sources, procedureNamed(c.program, proc),
                                  c.sources.file(0).path(), l, why))
    return Error{ErrorKind::Internal, why};
  llvm::TargetMachine *tm = session->targetMachine(jo.optLevel, why);
  if (!tm) return Error{ErrorKind::Internal, why};
  auto t0 = Clock::now();
  optimize(*l.module, tm, jo.optLevel);
  double optMs = msSince(t0);
  std::string text;
  llvm::raw_string_ostream os(text);
  l.module->print(os, nullptr);
  os.flush();
  fwrite(text.data(), 1, text.size(), out);
  if (stats) {
    stats->optLevel = jo.optLevel;
    stats->lowerMs = l.lowerMs;
    stats->optMs = optMs;
  }
  return success();
}

} // namespace cfm::jit
