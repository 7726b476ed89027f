// entry_run.cpp — runEntryPoints (entry_run.h): a module's init, entry and fini on the main task
// of a scheduler, with the `--arg` values and the uncaught errors of a run.
#include "jitload/entry_run.h"

#include "runtime/runtime.h"

#include <functional>
#include <optional>
#include <vector>

namespace cfm::jitload {

Result<int> runEntryPoints(const EntryPoints &points, const sema::FnInfo &proc, run::TypeTable &types,
                           const run::RunOptions &opts) {
  CFM_CHECK(run::checkArgNames(proc, opts));
  // Plain copies, not a structured binding: clang 14 (the fuzz build) cannot capture those.
  auto init = points.init;
  auto entry = points.entry;
  auto fini = points.fini;

  // Everything runs as the first task of a scheduler: constants, defaults, the procedure.
  int status = 0;
  std::optional<Error> problem; // a bad or missing --arg
  std::function<bool()> body = [&]() -> bool {
    if (init(opts.out) != 0) {
      fflush(opts.out);
      rt::printUncaught(opts.err);
      status = 1;
      return true;
    }
    std::vector<rt::Slot> args(proc.params.size(), rt::Slot{0});
    std::vector<uint8_t> given(proc.params.size(), 0);
    for (size_t i = 0; i < proc.params.size() && !problem; ++i) {
      const sema::ParamInfo &pi = proc.params[i];
      auto it = opts.args.find(pi.name);
      if (it != opts.args.end()) {
        Result<rt::Slot> v = run::commandLineArg(pi, it->second, types.get(pi.type), opts);
        if (!v) {
          problem = v.takeError();
          break;
        }
        args[i] = *v;
        given[i] = 1;
      } else if (!pi.decl->defaultValue) {
        problem = run::missingArg(proc, pi);
      }
    }
    if (problem) {
      for (size_t i = 0; i < args.size(); ++i)
        if (given[i]) rt::releaseSlot(args[i], types.get(proc.params[i].type));
      return true;
    }
    if (entry(args.data(), given.data(), nullptr) != 0) {
      fflush(opts.out);
      rt::printUncaught(opts.err);
      status = 1;
    }
    return true;
  };
  if (!run::onMainTask(body)) {
    fflush(opts.out);
    rt::printUncaught(opts.err);
    status = 1;
  }
  fini();
  fflush(opts.out);
  if (problem) return std::move(*problem);
  return status;
}

} // namespace cfm::jitload
