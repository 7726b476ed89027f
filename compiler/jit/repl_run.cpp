// repl_run.cpp — the JIT's side of `cfmc repl --engine jit` (jit::runForRepl, the contract of
// interp::runForRepl): lowers an input's compilation with the entry `__repl` and a capture of the
// session's variables (lower.h ReplCapture), adds it to the process's Session (one module per
// input), runs it as the first task of a scheduler and hands back the captured values. The
// module of an input that keeps values goes to the caller's `holder` (the values refer to its
// type descriptors); the module of one that keeps nothing, or fails, is freed at once.
#include "jit/jit.h"
#include "jit/lower.h"
#include "jit/session.h"

#include "runtime/abi.h"
#include "runtime/runtime.h"

#include <functional>

namespace cfm::jit {

using namespace rt;

int runForRepl(const frontend::Compilation &c, const std::string &proc, std::vector<Slot> args,
               const std::vector<const sema::Var *> &keep, std::vector<Slot> &kept,
               std::vector<const TypeDesc *> &keptTypes, std::shared_ptr<void> &holder, FILE *out, FILE *err,
               const JitOptions &jo) {
  holder.reset();
  const sema::Program &sp = c.program;
  const sema::FnInfo *fi = nullptr;
  for (const sema::FnInfo &f : sp.functions)
    if (f.name == proc) fi = &f;
  std::string why = fi ? unsupported(sp) : "no procedure `" + proc + "`";
  Session *session = why.empty() ? Session::get(why) : nullptr;
  run::TypeTable *types = nullptr; // the module's, once it is added
  auto dropArgs = [&] {
    run::TypeTable own;
    for (size_t i = 0; fi && i < args.size() && i < fi->params.size(); ++i)
      releaseSlot(args[i], (types ? *types : own).get(fi->params[i].type));
  };
  if (!why.empty()) { // the driver asks jit::unsupported first: this is not expected
    dropArgs();
    fprintf(err, "error: %s\n", why.c_str());
    return kUnsupported;
  }
  ReplCapture capture{fi, keep};
  Lowered l;
  if (!session->lower(sp, c.sources, fi, "<repl>", l, why, &capture)) {
    dropArgs();
    fprintf(err, "error: %s\n", why.c_str());
    return kUnsupported;
  }
  auto m = session->add(std::move(l), jo.optLevel, std::string()); // inputs are not cached
  auto points = m ? session->entryPoints(**m) : llvm::Expected<ModuleEntry>(m.takeError());
  auto captureSym =
      points ? session->lookup(**m, kCaptureSymbol) : llvm::Expected<void *>(points.takeError());
  if (!captureSym) {
    dropArgs();
    fprintf(err, "error: %s\n", errorText(captureSym.takeError()).c_str());
    return kUnsupported;
  }
  // Plain copies, not a structured binding: clang 14 (the fuzz build) cannot capture those.
  auto init = points->init;
  auto entry = points->entry;
  auto fini = points->fini;
  auto captureOut = static_cast<Slot **>(*captureSym);
  ModulePtr module = std::move(*m);
  types = &module->types();
  for (const sema::Var *v : keep) keptTypes.push_back(types->get(v->type));

  std::vector<Slot> values(keep.size(), Slot{0});
  *captureOut = values.data();
  int status = 0;
  TemplateCache templates(jo.optLevel, out); // the input's ConfigTemplates, freed when it ends
  model::TemplateCompiler compiler = templates.compiler();
  model::AbiTemplateScope scope(compiler);
  std::function<bool()> body = [&]() -> bool {
    if (init(out) != 0) {
      dropArgs();
      return false;
    }
    std::vector<uint8_t> given(args.size(), 1); // every parameter is given: the session's values
    if (entry(args.data(), given.data(), nullptr) != 0) return false;
    kept = std::move(values);
    return true;
  };
  if (!run::onMainTask(body)) {
    fflush(out);
    printUncaught(err);
    status = 1;
  }
  *captureOut = nullptr;
  fini();
  fflush(out);
  if (status == 0 && !keep.empty()) holder = std::move(module); // the kept values need it
  return status;
}

} // namespace cfm::jit
