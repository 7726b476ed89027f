// run.cpp — the interpreter's entry: compile, evaluate constants, convert `--arg` values to the
// procedure's parameter types (LANGUAGE.md "Precise rules": `--arg name=value`), run it, and
// report an uncaught error with its trace.
#include "interp/interp.h"

#include "interp/exprs.h"
#include "runtime/model/values.h"
#include "runtime/sched/scheduler.h"
#include "runtime/store/store.h"
#include "support/diagnostics.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>

namespace cfm::interp {

using namespace rt;

namespace {

/// `90s`, `1.5m`, `500ms`, `-2h`: a whole number of milliseconds.
bool parseDuration(const std::string &s, int64_t &out) {
  size_t u = s.size();
  while (u > 0 && std::isalpha(static_cast<unsigned char>(s[u - 1]))) --u;
  std::string unit = s.substr(u), num = s.substr(0, u);
  long double mult = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60000 : unit == "h" ? 3600000 : 0;
  if (mult == 0 || num.empty()) return false;
  for (char c : num)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) return false;
  std::string clean;
  for (char c : num)
    if (c != '_') clean += c;
  char *end = nullptr;
  long double v = std::strtold(clean.c_str(), &end) * mult;
  if (end != clean.c_str() + clean.size() || std::floor(v) != v || std::fabs(v) > 9.2e18L) return false;
  out = static_cast<int64_t>(v);
  return true;
}

/// Reads a command-line value as a literal of type t; false with `why` when it does not fit.
bool convertArg(const std::string &text, const TypeDesc *t, const std::string &typeName, Slot &out,
                std::string &why) {
  switch (t->kind) {
  case Kind::String: out.o = newStr(text); return true;
  case Kind::Int:
    if (intOfString(text, out.i)) return true;
    break;
  case Kind::Float:
    if (floatOfString(text, out.f)) return true;
    break;
  case Kind::Bool:
    if (text == "true" || text == "false") {
      out.i = text == "true";
      return true;
    }
    break;
  case Kind::Duration:
    if (parseDuration(text, out.i)) return true;
    break;
  case Kind::Json: {
    Json *j = nullptr;
    if (parseJson(text, j)) {
      out.o = j;
      return true;
    }
    // The parser's reason and where: "expected a string key at offset 1".
    std::string reason = pendingError() ? std::string(pendingError()->message->view()) : "";
    const std::string prefix = "cannot convert to json: invalid JSON: ";
    if (reason.rfind(prefix, 0) == 0) reason = reason.substr(prefix.size());
    clearError();
    why = "`" + text + "` is not valid JSON" + (reason.empty() ? "" : ": " + reason);
    return false;
  }
  default: why = "parameters of type `" + typeName + "` cannot be given on the command line"; return false;
  }
  clearError();
  why = "`" + text + "` is not " + support::article(typeName) + " `" + typeName + "`";
  return false;
}

/// A BusinessSystem parameter given by name or id: loaded from the store at `state`.
bool loadSystemArg(const std::string &state, const std::string &key, const TypeDesc *t, Slot &out,
                   std::string &why) {
  if (state.empty()) {
    why = "a `BusinessSystem` is read from a store: give --state DB";
    return false;
  }
  std::error_code ec;
  if (!std::filesystem::exists(state, ec)) {
    why = "no store at `" + state + "` (`cfmc ovf import FILE --state " + state + "` creates one)";
    return false;
  }
  auto st = store::Store::openReadOnly(state); // never created, migrated or written here
  if (!st) {
    why = st.error().message;
    return false;
  }
  auto sys = (*st)->loadSystem(key);
  if (!sys) {
    why = sys.error().message;
    return false;
  }
  if (!*sys) {
    why = "no business system named `" + key + "` (nor with that id) in " + state;
    return false;
  }
  auto insts = (*st)->elementInstances(key);
  auto vms = (*st)->vmInstances(key);
  if (!insts || !vms) {
    why = !insts ? insts.error().message : vms.error().message;
    return false;
  }
  out.o = model::toValue(**sys, *insts, *vms, t);
  return true;
}

} // namespace

bool commandLineArg(const std::string &text, const TypeDesc *t, const std::string &typeName,
                    const std::string &statePath, Slot &out, std::string &why) {
  if (t->kind == Kind::Record && t->model && t->name == "BusinessSystem")
    return loadSystemArg(statePath, text, t, out, why);
  return convertArg(text, t, typeName, out, why);
}

namespace {

/// Runs `body` as the first task of a scheduler on this thread (every procedure runs as a task).
bool runAsMainTask(std::function<bool()> &body) {
  Slot r{0};
  auto entry = [](void *env, Slot *) { return (*static_cast<std::function<bool()> *>(env))(); };
  return sched::runMain(entry, &body, &r);
}

} // namespace

int run(const frontend::Compilation &c, const RunOptions &opts) {
  const sema::Program &sp = c.program;
  Program p;
  p.sources = &c.sources;
  p.out = opts.out;
  std::string why;
  if (!compileProgram(sp, p, why)) {
    fprintf(opts.err, "cfmc: error: %s\n", why.c_str());
    return 3;
  }
  const sema::FnInfo *proc = nullptr;
  for (const sema::FnInfo &fi : sp.functions)
    if (fi.name == opts.proc && fi.decl->fnKind == ast::FnKind::Procedure) proc = &fi;
  if (!proc) {
    fprintf(opts.err, "cfmc: error: no procedure `%s` in %s\n", opts.proc.c_str(),
            c.sources.file(0).path().c_str());
    return 1;
  }
  FnCode *fn = p.fns.at(proc).get();
  for (const auto &[name, value] : opts.args) {
    bool known = false;
    for (const sema::ParamInfo &pi : proc->params) known = known || pi.name == name;
    if (!known) {
      fprintf(opts.err, "cfmc: error: procedure `%s` has no parameter `%s`\n", proc->name.c_str(),
              name.c_str());
      return 1;
    }
  }

  // Everything runs as the first task of a scheduler: constants, defaults, the procedure.
  int status = 0;
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
          std::string problem;
          const TypeDesc *pt = fn->paramTypes[ready];
          bool ok = commandLineArg(it->second, pt, pi.type->str(), opts.statePath, args[ready], problem);
          if (!ok) {
            fprintf(opts.err, "cfmc: error: --arg %s: %s\n", pi.name.c_str(), problem.c_str());
            argsOk = false;
            break;
          }
        } else if (fn->defaults[ready]) {
          if (!fn->defaults[ready]->eval(top, args[ready])) {
            argsOk = false;
            fflush(opts.out);
            printUncaught(opts.err);
            break;
          }
        } else {
          fprintf(opts.err, "cfmc: error: procedure `%s` needs --arg %s=<%s>\n", proc->name.c_str(),
                  pi.name.c_str(), pi.type->str().c_str());
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
  if (!runAsMainTask(body)) {
    fflush(opts.out);
    printUncaught(opts.err);
    status = 1;
  }
  fflush(opts.out);
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
  if (!runAsMainTask(body)) {
    fflush(out);
    printUncaught(err);
    status = 1;
  }
  fflush(out);
  return status;
}

} // namespace cfm::interp
