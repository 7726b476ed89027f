// run.cpp — the run set-up both engines share (run.h): the procedure and its `--arg` names,
// command-line values converted to parameter types, the first task of a run.
#include "run/run.h"

#include "runtime/runtime.h"
#include "runtime/sched/scheduler.h"
#include "support/diagnostics.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace cfm::run {

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

} // namespace

Result<const sema::FnInfo *> findProcedure(const sema::Program &p, const RunOptions &opts,
                                           const std::string &mainFile) {
  const sema::FnInfo *proc = nullptr;
  for (const sema::FnInfo &fi : p.functions)
    if (fi.name == opts.proc && fi.decl->fnKind == ast::FnKind::Procedure) proc = &fi;
  if (!proc) return Error{ErrorKind::Usage, "no procedure `" + opts.proc + "` in " + mainFile};
  CFM_CHECK(checkArgNames(*proc, opts));
  return proc;
}

Result<void> checkArgNames(const sema::FnInfo &proc, const RunOptions &opts) {
  for (const auto &[name, value] : opts.args) {
    bool known = false;
    for (const sema::ParamInfo &pi : proc.params) known = known || pi.name == name;
    if (!known)
      return Error{ErrorKind::Usage, "procedure `" + proc.name + "` has no parameter `" + name + "`"};
  }
  return success();
}

Result<Slot> commandLineArg(const sema::ParamInfo &param, const std::string &text, const TypeDesc *t,
                            const RunOptions &opts) {
  auto fail = [&](const std::string &why) {
    return Error{ErrorKind::Usage, "--arg " + param.name + ": " + why};
  };
  Slot out{0};
  if (t->kind == Kind::Record && t->model && t->name == "BusinessSystem") {
    if (!opts.loadSystem)
      return fail(
          "a `BusinessSystem` is read from a store: give --state DB, or --manager NAME (or set CFM_MANAGER)");
    Result<Obj *> sys = opts.loadSystem(text, t);
    if (!sys) return fail(sys.error().message);
    out.o = *sys;
    return out;
  }
  std::string why;
  if (!convertArg(text, t, param.type->str(), out, why)) return fail(why);
  return out;
}

Error missingArg(const sema::FnInfo &proc, const sema::ParamInfo &param) {
  return Error{ErrorKind::Usage,
               "procedure `" + proc.name + "` needs --arg " + param.name + "=<" + param.type->str() + ">"};
}

bool onMainTask(std::function<bool()> &body) {
  Slot r{0};
  auto entry = [](void *env, Slot *) { return (*static_cast<std::function<bool()> *>(env))(); };
  return sched::runMain(entry, &body, &r);
}

namespace {
/// Whether `--arg` can give a value of type `t`: a scalar, `json`, or a `BusinessSystem` read
/// from the store (run::commandLineArg converts them for both engines).
bool givenOnCommandLine(const sema::Type *t) {
  using K = sema::TypeKind;
  switch (t->kind) {
  case K::Int:
  case K::Float:
  case K::Bool:
  case K::String:
  case K::Duration:
  case K::Json: return true;
  case K::Record: return t->record && t->record->model && t->record->name == "BusinessSystem";
  default: return false;
  }
}

} // namespace

/// A procedure is run from the command line only if every parameter without a default (and
/// every one given with `--arg`) has a type `--arg` can give; the message names the first that
/// has not (a `Task`, a list, a record, ...) instead of asking for an `--arg` no value fits.
std::string commandLineProblem(const sema::Program &p, const RunOptions &opts) {
  for (const sema::FnInfo &f : p.functions) {
    if (f.name != opts.proc || f.decl->fnKind != ast::FnKind::Procedure) continue;
    for (const sema::ParamInfo &pi : f.params) {
      bool wanted = !pi.decl->defaultValue || opts.args.count(pi.name);
      if (wanted && !givenOnCommandLine(pi.type))
        return "procedure `" + f.name + "` cannot be run from the command line: parameter `" + pi.name +
               "` has type `" + pi.type->str() + "`, which `--arg` cannot give";
    }
  }
  return "";
}

} // namespace cfm::run
