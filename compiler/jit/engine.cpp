// engine.cpp — the JIT's driver side: the scope check, lowering, LLVM's new pass manager at
// O0/O1/O2, ORC LLJIT (the ABI and the runtime types bound as absolute symbols), and the run
// itself as the first task of the scheduler, exactly as interp::run does it (compiler/interp/
// run.cpp): constants, --arg values, the procedure, uncaught errors with their traces.
#include "jit/cache.h"
#include "jit/jit.h"
#include "jit/lower.h"
#include "jit/session.h"

#include "interp/program.h"
#include "runtime/abi.h"
#include "runtime/runtime.h"
#include "runtime/sched/scheduler.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/BLAKE3.h>
#include <llvm/Support/raw_ostream.h>

#include <chrono>
#include <functional>

namespace cfm::jit {

using namespace rt;

namespace {

/// The identity of the program for the persistent object cache: the path and text of every
/// source file in order (the paths are in the traces), the entry procedure and the level (the session adds
/// the compiler, LLVM and CPU).
std::string cacheKey(const frontend::Compilation &c, const std::string &entry, const JitOptions &jo) {
  llvm::BLAKE3 h;
  for (size_t i = 0; i < c.sources.size(); ++i) {
    const support::SourceFile &f = c.sources.file(static_cast<support::FileId>(i));
    h.update(std::to_string(f.path().size()) + ":" + f.path() + std::to_string(f.text().size()) + ":");
    h.update(f.text());
  }
  return cache::hashParts({llvm::toHex(h.final(), true), entry, std::to_string(jo.optLevel)});
}

/// The procedure `name` of the program, or nullptr.
const sema::FnInfo *findProcedure(const sema::Program &p, const std::string &name) {
  for (const sema::FnInfo &fi : p.functions)
    if (fi.name == name && fi.decl->fnKind == ast::FnKind::Procedure) return &fi;
  return nullptr;
}

} // namespace

int run(const frontend::Compilation &c, const interp::RunOptions &opts, const JitOptions &jo) {
  const sema::Program &sp = c.program;
  std::string why = unsupported(sp);
  if (!why.empty()) {
    fprintf(opts.err, "cfmc: error: the JIT does not compile %s; use --engine interp\n", why.c_str());
    return kUnsupported;
  }
  const sema::FnInfo *proc = findProcedure(sp, opts.proc);
  if (!proc) {
    fprintf(opts.err, "cfmc: error: no procedure `%s` in %s\n", opts.proc.c_str(),
            c.sources.file(0).path().c_str());
    return 1;
  }
  for (const auto &[name, value] : opts.args) {
    bool known = false;
    for (const sema::ParamInfo &pi : proc->params) known = known || pi.name == name;
    if (!known) {
      fprintf(opts.err, "cfmc: error: procedure `%s` has no parameter `%s`\n", proc->name.c_str(),
              name.c_str());
      return 1;
    }
  }

  auto t0 = std::chrono::steady_clock::now();
  auto msSince = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
  };
  Session *session = Session::get(jo.optLevel, why);
  double setupMs = msSince(t0);
  installTemplateCompiler(jo.optLevel);
  Lowered l;
  if (!session || !session->lower(sp, c.sources, proc, c.sources.file(0).path(), l, why)) {
    fprintf(opts.err, "cfmc: error: %s\n", why.c_str());
    return 1;
  }
  double lowerMs = l.lowerMs;
  AddTimes times;
  auto jd = session->add(std::move(l), jo.cache ? cacheKey(c, opts.proc, jo) : std::string(), &times);
  t0 = std::chrono::steady_clock::now();
  auto points = jd ? session->entryPoints(**jd) : llvm::Expected<ModuleEntry>(jd.takeError()); // links it
  double linkMs = msSince(t0);
  if (!points) {
    fprintf(opts.err, "cfmc: error: %s\n", errorText(points.takeError()).c_str());
    return 1;
  }
  // Plain copies, not a structured binding: clang 14 (the fuzz build) cannot capture those.
  auto init = points->init;
  auto entry = points->entry;
  auto fini = points->fini;
  if (jo.time) {
    const auto &t = c.times;
    fprintf(stderr, "front end: lex %.3fs, parse %.3fs, build %.3fs, check %.3fs\n", t.lex, t.parse, t.build,
            t.check);
    fprintf(stderr, "jit (O%d): setup %.2fms, lower %.2fms, optimize %.2fms, codegen %.2fms, link %.2fms%s\n",
            jo.optLevel, setupMs, lowerMs, times.optMs, times.codegenMs, linkMs,
            times.cacheHit ? " (object cache hit)" : "");
  }

  // Everything runs as the first task of a scheduler: constants, defaults, the procedure.
  int status = 0;
  std::function<bool()> body = [&]() -> bool {
    if (init(opts.out) != 0) {
      fflush(opts.out);
      printUncaught(opts.err);
      status = 1;
      return true;
    }
    std::vector<Slot> args(proc->params.size(), Slot{0});
    std::vector<uint8_t> given(proc->params.size(), 0);
    for (size_t i = 0; i < proc->params.size() && status == 0; ++i) {
      const sema::ParamInfo &pi = proc->params[i];
      auto it = opts.args.find(pi.name);
      std::string problem;
      if (it != opts.args.end()) {
        if (interp::commandLineArg(it->second, session->typesOf(**jd).get(pi.type), pi.type->str(),
                                   opts.statePath, args[i], problem)) {
          given[i] = 1;
          continue;
        }
        fprintf(opts.err, "cfmc: error: --arg %s: %s\n", pi.name.c_str(), problem.c_str());
        status = 1;
      } else if (!pi.decl->defaultValue) {
        fprintf(opts.err, "cfmc: error: procedure `%s` needs --arg %s=<%s>\n", proc->name.c_str(),
                pi.name.c_str(), pi.type->str().c_str());
        status = 1;
      }
    }
    if (status != 0) {
      for (size_t i = 0; i < args.size(); ++i)
        if (given[i]) releaseSlot(args[i], session->typesOf(**jd).get(proc->params[i].type));
      return true;
    }
    if (entry(args.data(), given.data(), nullptr) != 0) {
      fflush(opts.out);
      printUncaught(opts.err);
      status = 1;
    }
    return true;
  };
  Slot r{0};
  auto task = [](void *env, Slot *) { return (*static_cast<std::function<bool()> *>(env))(); };
  if (!sched::runMain(task, &body, &r)) {
    fflush(opts.out);
    printUncaught(opts.err);
    status = 1;
  }
  fini();
  fflush(opts.out);
  return status;
}

int emitLLVM(const frontend::Compilation &c, const std::string &proc, const JitOptions &jo, FILE *out,
             FILE *err) {
  std::string why = unsupported(c.program);
  if (!why.empty()) {
    fprintf(err, "cfmc: error: the JIT does not compile %s; use --engine interp\n", why.c_str());
    return kUnsupported;
  }
  Session *session = Session::get(jo.optLevel, why);
  Lowered l;
  if (!session || !session->lower(c.program, c.sources, findProcedure(c.program, proc),
                                  c.sources.file(0).path(), l, why)) {
    fprintf(err, "cfmc: error: %s\n", why.c_str());
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  optimize(*l.module, &session->targetMachine(), jo.optLevel);
  double optMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::string text;
  llvm::raw_string_ostream os(text);
  l.module->print(os, nullptr);
  os.flush();
  fwrite(text.data(), 1, text.size(), out);
  if (jo.time) fprintf(stderr, "jit (O%d): lower %.2fms, optimize %.2fms\n", jo.optLevel, l.lowerMs, optMs);
  return 0;
}

} // namespace cfm::jit
