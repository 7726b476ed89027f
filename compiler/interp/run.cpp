// run.cpp — the interpreter's entry: compile, evaluate constants, take the procedure's `--arg`
// values (converted by the shared run set-up, compiler/run), run it, and report an uncaught
// error with its trace.
#include "interp/interp.h"

#include "interp/exprs.h"
#include "runtime/sched/scheduler.h"

#include <functional>
#include <optional>

namespace cfm::interp {

using namespace rt;

Result<int> run(const frontend::Compilation &c, const run::RunOptions &opts) {
  const sema::Program &sp = c.program;
  Program p;
  p.sources = &c.sources;
  p.out = opts.out;
  std::string why;
  if (!compileProgram(sp, p, why)) return Error{ErrorKind::Usage, why};
  Result<const sema::FnInfo *> found = run::findProcedure(sp, opts, c.sources.file(0).path());
  if (!found) return found.takeError();
  const sema::FnInfo *proc = *found;
  FnCode *fn = p.fns.at(proc).get();

  // Everything runs as the first task of a scheduler: constants, defaults, the procedure.
  int status = 0;
  std::optional<Error> problem; // a bad or missing --arg
  std::function<bool()> body = [&]() -> bool {
    support::Loc where;
    if (!evalConstants(sp, p, where)) {
      fflush(opts.out);
      printUncaught(opts.err);
      status = 1;
    } else {
      std::vector<Slot> args(proc->params.size(), Slot{0});
      size_t ready = 0;
      bool argsOk = true;
      Frame top{nullptr, &p};
      for (; ready < proc->params.size(); ++ready) {
        const sema::ParamInfo &pi = proc->params[ready];
        auto it = opts.args.find(pi.name);
        if (it != opts.args.end()) {
          Result<Slot> v = run::commandLineArg(pi, it->second, fn->paramTypes[ready], opts);
          if (!v) {
            problem = v.takeError();
            argsOk = false;
            break;
          }
          args[ready] = *v;
        } else if (fn->defaults[ready]) {
          if (!fn->defaults[ready]->eval(top, args[ready])) {
            argsOk = false;
            fflush(opts.out);
            printUncaught(opts.err);
            break;
          }
        } else {
          problem = run::missingArg(*proc, pi);
          argsOk = false;
          break;
        }
      }
      if (!argsOk) {
        for (size_t i = 0; i < ready; ++i) releaseSlot(args[i], fn->paramTypes[i]);
        status = 1;
      } else {
        Slot result{0};
        if (callFunction(p, fn, args.data(), result, proc->decl->nameLoc, nullptr)) {
          releaseSlot(result, fn->ret);
        } else {
          fflush(opts.out);
          printUncaught(opts.err);
          status = 1;
        }
      }
    }
    return true;
  };
  if (!run::onMainTask(body)) {
    fflush(opts.out);
    printUncaught(opts.err);
    status = 1;
  }
  fflush(opts.out);
  if (problem) return std::move(*problem);
  return status;
}

int runForRepl(const frontend::Compilation &c, const std::string &proc, std::vector<Slot> args,
               const std::vector<const sema::Var *> &keep, std::vector<Slot> &kept,
               std::vector<const TypeDesc *> &keptTypes, std::shared_ptr<void> &holder, FILE *out,
               FILE *err) {
  const sema::Program &sp = c.program;
  auto p = std::make_shared<Program>();
  holder = p;
  p->sources = &c.sources;
  p->out = out;
  std::string why;
  const sema::FnInfo *fi = nullptr;
  for (const sema::FnInfo &f : sp.functions)
    if (f.name == proc) fi = &f;
  auto dropArgs = [&] {
    for (size_t i = 0; fi && i < args.size() && i < fi->params.size(); ++i)
      releaseSlot(args[i], p->types.get(fi->params[i].type));
  };
  if (!compileProgram(sp, *p, why)) {
    dropArgs();
    fprintf(err, "error: %s\n", why.c_str());
    return 3;
  }
  FnCode *fn = p->fns.at(fi).get();
  p->captureFn = fn;
  for (const sema::Var *v : keep) {
    p->captureSlots.push_back(v->slot);
    keptTypes.push_back(p->types.get(v->type));
  }
  int status = 0;
  std::function<bool()> body = [&]() -> bool {
    support::Loc where;
    if (!evalConstants(sp, *p, where)) {
      dropArgs();
      return false;
    }
    Slot result{0};
    if (!callFunction(*p, fn, args.data(), result, fi->decl->nameLoc, nullptr)) return false;
    releaseSlot(result, fn->ret);
    kept = std::move(p->captured);
    return true;
  };
  if (!run::onMainTask(body)) {
    fflush(out);
    printUncaught(err);
    status = 1;
  }
  fflush(out);
  return status;
}

} // namespace cfm::interp
