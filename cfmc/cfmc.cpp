// cfmc.cpp — the `cfmc` command: checks (and, as later parts land, runs and compiles)
// procedure files. Subcommands are listed once in kCommands.
#include "base/sanitizers.h"
#include "base/text.h"
#include "cfmc/context.h"
#include "cfmc/daemon_client.h"
#include "cfmc/events_cmd.h"
#include "cfmc/fmt_cmd.h"
#include "cfmc/local_cmd.h"
#include "cfmc/lsp_cmd.h"
#include "cfmc/manager_module.h"
#include "cfmc/ovf_cmd.h"
#include "cfmc/procs_cmd.h"
#include "cfmc/repl.h"
#include "cfmc/takeover_cmd.h"
#include "frontend/frontend.h"
#include "interp/interp.h"
#include "jitload/engine.h"
#include "jitload/light_run.h"
#include "runtime/cloud/open.h"
#include "runtime/model/values.h"
#include "runtime/runtime.h"
#include "runtime/sched/scheduler.h"
#include "runtime/sched/stack.h"
#include "runtime/store/store.h"
#include "support/diagnostics.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

// Like clang's -disable-free: at exit the (large) trees are not torn down node by node. Builds
// with AddressSanitizer free everything, so that its leak checker sees only real leaks.
constexpr bool kFreeAtExit = cfm::base::kAsan;

constexpr const char *kVersion = "0.1.0";

const char *const kMainHelp = R"(usage: cfmc <command> [options] [args]

cfmc is the compiler of CFM's procedure language (.cfp files).

commands:
  check     parse and type-check procedure files and report every error
  run       check a procedure file and run one of its procedures
  build     compile a procedure file (today: print its LLVM IR with --emit-llvm)
  repl      an interactive session (declarations, statements, expressions)
  lsp       the language server (LSP over stdin and stdout) that editors start
  ovf       validate, import, show and export OVF descriptors of business systems
  local     start, show, stop or kill the local federation (clouds on this machine)
  runs      list the runs of a manager's daemon (cfmd)
  logs      print or follow the output of a run of a manager's daemon
  cancel    cancel a run of a manager's daemon
  procs     put, list, show or remove a business system's procedure files in a manager
            (shared with the other managers; run one with `cfmc run --stored SYSTEM`)
  events    print a business system's cloud events as a manager holds them (--follow)
  owner     show who owns a business system (owner, epoch) as a manager records it
  takeover  make a manager the owner of a business system (disaster recovery; fencing)
  fmt       lay procedure files out in the canonical layout, or check that they are (--check)
  demo      the main job end to end: web3 started, scaled out into a peer cloud, recovered
            there after a disaster, with RTO and RPO measured (docs/demo.md)

options:
  -h, --help     show this help (or `cfmc <command> --help` for a command)
  --version      print the version

Run `cfmc check --help` or `cfmc run --help` for the options of a command.
)";

const char *const kCheckHelp = R"(usage: cfmc check [--format text|json] [--time] FILE...

Parses and type-checks each FILE (and the files it imports) and reports every error:
  text (default): `file:line:col: error: message`, the source line and a caret, on stderr
  json:           {"diagnostics":[{"file","line","column","endLine","endColumn",
                   "severity","kind","message"}...]} on stdout, for editors and CI

Exit status: 0 when every file checks clean, 1 when errors were reported, 2 on bad usage.

options:
  --format FMT   `text` or `json`
  --time         print the time spent in each front-end phase on stderr
  -h, --help     show this help
)";

const char *const kRunHelp = R"(usage: cfmc run [options] FILE

Checks FILE (and its imports) and runs its procedure `main`, or the one named by --proc.
Procedure parameters come from --arg; each value is read as a literal of the parameter's type
(`42`, `2.5`, `true`, `90s`, a string verbatim, json text); parameters with a default may be
left out. An uncaught error ends the run with `error: <message>` and one `  at <file>:<line>`
per frame on stderr.

Exit status: 0 on success; 1 for compile errors, an uncaught error or a bad --arg; 2 on bad
usage; 3 when the program uses something the engine does not run (none today; the message
names the construct and its line).

options:
  --engine E        `jit` (the default: LLVM ORC compiles the program to machine code) or
                    `interp` (the tree-walking interpreter: no compile step); both give the
                    same output, errors and exit status
  --opt N           the JIT's optimisation level: 0, 1 or 2 (default 2)
  --time            the JIT: print the time spent in the front end, lowering, optimising and
                    generating code on stderr (and whether the object cache had the code)
  --no-cache        the JIT: do not use the persistent object cache (compile, store nothing)
  --proc NAME       the procedure to run (default: main)
  --arg NAME=VALUE  a parameter of the procedure (repeatable); a `BusinessSystem` parameter
                    is given by the system's name or id and read from the --state store
  --state DB        the SQLite store of model objects (`cfmc ovf import FILE --state DB`)
  --manager NAME    run in manager NAME of the context file (`cfmc local up` writes it): its
                    configuration names its cloud and store, which replaces --state; the
                    procedure API (run_vm, ...) acts on that cloud (default: $CFM_MANAGER).
                    When the manager's daemon (cfmd) answers on its socket (the context's
                    `socket`, else the configuration's `[manager] socket`, else cfmd.sock
                    beside its store), the file and its imports are sent to it and run there:
                    output and exit status come back as for a local run, Ctrl-C cancels the
                    run. Otherwise the manager is opened in this process.
  --stored SYSTEM   with a daemon: FILE is the name of SYSTEM's procedure file in the
                    manager's store (`cfmc procs`), run with its imports among the system's
                    stored files; nothing is read here
  --detach          with a daemon: leave the run in the manager, print its id and exit 0
                    (`cfmc logs RUN`, `cfmc cancel RUN`)
  --config FILE     the same with a manager configuration file (docs/manager-config.md)
  --context FILE    the context file for --manager (default: $CFM_CONTEXT, else
                    ./.cfm/context.json)
  -h, --help        show this help

environment: CFM_TASK_STACK=SIZE (a task's stack, 256k by default), CFM_TASK_STACKS=own (a stack
per task instead of the shared, copied one), CFM_SCHED_STRESS=1 (yield at
every suspension point, run ready tasks in random order; CFM_SCHED_SEED=N repeats a run),
CFM_CACHE_DIR=DIR (the JIT's object cache; default $XDG_CACHE_HOME/cfm/jit, else
~/.cache/cfm/jit; the newest 256 objects, 256 MiB at most; an object found there runs without
loading the JIT engine and LLVM, unless CFM_JIT_LIGHT=0), CFM_MANAGER=NAME, CFM_CONTEXT=FILE
)";

int usageError(const std::string &msg, const char *help) {
  std::cerr << "cfmc: " << msg << "\n\n" << help;
  return 2;
}

/// Runs `fn` on this thread, on a fresh guarded 512 MiB stack segment that stands in for the
/// thread's own (sched::callAsThreadStack: every stack check measures against it). The front end
/// recurses over trees whose depth kMaxNesting/kMaxExprDepth bound, which needs more than the
/// main thread's 8 MiB. A thread started and joined for it (frontend::runWithLargeStack) cost a
/// hello-world about 0.4 ms of its 8-12 ms (bench/README.md "Start-up", sixth step).
/// `check`, `run --engine interp` and, except under ASan, `run` under the JIT. A JIT run on a
/// thread of its own spent 2-25 ms off the CPU on this kind of guest, waking a second vCPU and
/// joining it (maps.cfp with the object cache warm: 74.8 against 48.9 ms, medians of 25
/// interleaved runs; bench/README.md "Map updates against LuaJIT"). Under ASan a JIT run keeps
/// its thread: with the engine's thread-local storage on the main thread, LeakSanitizer's tracer
/// crashed at exit in 8 of 471 ASan runs that loaded the engine (bench/README.md "No thread for
/// the command"), which was not explained. `build` and the REPL keep a thread started for them.
void onCommandStack(const std::function<void()> &fn) {
  cfm::rt::sched::callAsThreadStack(
      size_t(512) << 20, [](void *f) { (*static_cast<const std::function<void()> *>(f))(); },
      const_cast<std::function<void()> *>(&fn));
}

int cmdCheck(const std::vector<std::string> &args) {
  std::string format = "text";
  bool timing = false;
  std::vector<std::string> files;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kCheckHelp;
      return 0;
    }
    if (a == "--format" || a.rfind("--format=", 0) == 0) {
      if (a == "--format") {
        if (i + 1 >= args.size())
          return usageError("`--format` needs a value (`text` or `json`)", kCheckHelp);
        format = args[++i];
      } else {
        format = a.substr(9);
      }
      if (format != "text" && format != "json")
        return usageError("unknown format `" + format + "` (use `text` or `json`)", kCheckHelp);
      continue;
    }
    if (a == "--time") {
      timing = true;
      continue;
    }
    if (a == "--") {
      files.insert(files.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (a.size() > 1 && a[0] == '-') return usageError("unknown option `" + a + "`", kCheckHelp);
    files.push_back(a);
  }
  if (files.empty()) return usageError("no input files", kCheckHelp);

  int status = 0;
  bool first = true;
  std::vector<std::unique_ptr<cfm::frontend::Compilation>> keep;
  if (format == "json") std::cout << "{\"diagnostics\":[";
  for (const std::string &f : files) {
    std::unique_ptr<cfm::frontend::Compilation> comp;
    std::optional<cfm::Error> readError;
    onCommandStack([&] {
      auto r = cfm::frontend::compileFile(f);
      if (r)
        comp = std::move(*r);
      else
        readError = r.takeError();
    });
    if (!comp) {
      std::cerr << "cfmc: error: " << readError->message << '\n';
      if (format == "json") {
        std::cout << (first ? "" : ",") << cfm::base::errorJson(*readError);
        first = false;
      }
      status = 1;
      continue;
    }
    if (!comp->ok()) status = 1;
    keep.push_back(nullptr);
    if (timing) {
      const auto &t = comp->times;
      fprintf(stderr, "%s: lex %.3fs, parse %.3fs, build %.3fs, check %.3fs\n", f.c_str(), t.lex, t.parse,
              t.build, t.check);
    }
    if (format == "json")
      cfm::support::appendJson(comp->diags, std::cout, first);
    else
      cfm::support::printConsole(comp->diags, std::cerr);
  }
  if (format == "json") std::cout << "]}\n";
  if (!kFreeAtExit)
    for (auto &c : keep) (void)c.release();
  return status;
}

/// `--opt N`: 0, 1 or 2; false for anything else.
bool parseOpt(const std::string &v, int &out) {
  if (v != "0" && v != "1" && v != "2") return false;
  out = v[0] - '0';
  return true;
}

/// The value of option `--NAME` at args[i], written `--NAME VALUE` (i moves on) or `--NAME=VALUE`;
/// false when VALUE is missing.
bool optionValue(const std::vector<std::string> &args, size_t &i, const char *name, std::string &out) {
  std::string flag = std::string("--") + name;
  if (args[i] == flag) {
    if (i + 1 >= args.size()) return false;
    out = args[++i];
    return true;
  }
  out = args[i].substr(flag.size() + 1);
  return true;
}

/// `--engine jit|interp` and `--opt 0|1|2`, for `run` and `repl`: 1 when args[i] is one of them
/// (taken), 0 when it is not, 2 after a usage error (reported, with `help`).
int engineOption(const std::vector<std::string> &args, size_t &i, std::string &engine, int &optLevel,
                 const char *help) {
  const std::string &a = args[i];
  if (a == "--engine" || a.rfind("--engine=", 0) == 0) {
    if (!optionValue(args, i, "engine", engine)) return usageError("`--engine` needs a value", help);
    if (engine != "interp" && engine != "jit")
      return usageError("unknown engine `" + engine + "` (use `interp` or `jit`)", help);
    return 1;
  }
  if (a == "--opt" || a.rfind("--opt=", 0) == 0) {
    std::string level;
    if (!optionValue(args, i, "opt", level) || !parseOpt(level, optLevel))
      return usageError("`--opt` needs 0, 1 or 2", help);
    return 1;
  }
  return 0;
}

/// `--arg sys=KEY` of a BusinessSystem: the system named KEY (or with that id) in the store at
/// `state`, opened read-only (never created, migrated or written here) on the first such
/// argument and kept for the run; or in `managerStore`, a manager's store already open.
cfm::run::SystemLoader storeLoader(const std::string &state, cfm::store::Store *managerStore = nullptr) {
  auto opened = std::make_shared<std::unique_ptr<cfm::store::Store>>();
  return [state, opened, managerStore](const std::string &key,
                                       const cfm::rt::TypeDesc *t) -> cfm::Result<cfm::rt::Obj *> {
    if (!*opened && !managerStore) {
      std::error_code ec;
      if (!std::filesystem::exists(state, ec))
        return cfm::Error{cfm::ErrorKind::Usage, "no store at `" + state +
                                                     "` (`cfmc ovf import FILE --state " + state +
                                                     "` creates one)"};
      auto st = cfm::store::Store::openReadOnly(state);
      if (!st) return st.takeError();
      *opened = std::move(*st);
    }
    cfm::store::Store &st = managerStore ? *managerStore : **opened;
    auto sys = st.loadSystem(key);
    if (!sys) return sys.takeError();
    if (!*sys)
      return cfm::Error{cfm::ErrorKind::Usage,
                        "no business system named `" + key + "` (nor with that id) in " + state};
    auto insts = st.elementInstances(key);
    if (!insts) return insts.takeError();
    auto vms = st.vmInstances(key);
    if (!vms) return vms.takeError();
    return cfm::model::toValue(**sys, *insts, *vms, t);
  };
}

/// `--time` of `cfmc run` and `cfmc build`: where the front end and the JIT spent their time.
void printTimes(const cfm::frontend::Compilation &c, const cfm::jit::JitStats &st, bool built) {
  const auto &t = c.times;
  if (built) {
    fprintf(stderr, "jit (O%d): lower %.2fms, optimize %.2fms\n", st.optLevel, st.lowerMs, st.optMs);
    return;
  }
  fprintf(stderr, "front end: lex %.3fs, parse %.3fs, build %.3fs, check %.3fs\n", t.lex, t.parse, t.build,
          t.check);
  fprintf(stderr, "jit (O%d): setup %.2fms, lower %.2fms, optimize %.2fms, codegen %.2fms, link %.2fms%s\n",
          st.optLevel, st.setupMs, st.lowerMs, st.optMs, st.codegenMs, st.linkMs,
          st.cacheHit ? " (object cache hit)" : "");
}

/// `--time` for a run from the object cache without the engine (jitload/light_run.h).
void printLightTimes(const cfm::frontend::Compilation &c, const cfm::jit::JitOptions &jo,
                     const cfm::jitload::LightStats &st) {
  const auto &t = c.times;
  fprintf(stderr, "front end: lex %.3fs, parse %.3fs, build %.3fs, check %.3fs\n", t.lex, t.parse, t.build,
          t.check);
  fprintf(stderr, "jit (O%d): object cache hit, LLVM not loaded: key %.2fms, load %.2fms, link %.2fms\n",
          jo.optLevel, st.keyMs, st.loadMs, st.linkMs);
}

/// The exit status of an engine's run; a run that could not start is reported here.
int runStatus(cfm::Result<int> r) {
  if (r) return *r;
  std::cerr << "cfmc: error: " << r.error().message << '\n';
  return 1;
}

int cmdRun(const std::vector<std::string> &args) {
  cfm::run::RunOptions opts;
  cfm::jit::JitOptions jopts;
  std::string file, engine = "jit", statePath, storedSystem;
  cfm::driver::ManagerChoice choice;
  bool time = false, detach = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kRunHelp;
      return 0;
    }
    if (a == "--detach") {
      detach = true;
      continue;
    }
    auto value = [&](const char *name, std::string &out) { return optionValue(args, i, name, out); };
    if (int r = engineOption(args, i, engine, jopts.optLevel, kRunHelp)) {
      if (r == 2) return 2;
      continue;
    }
    if (a == "--time") {
      time = true;
      continue;
    }
    if (a == "--no-cache") {
      jopts.cache = false;
      continue;
    }
    if (a == "--state" || a.rfind("--state=", 0) == 0) {
      if (!value("state", statePath) || statePath.empty())
        return usageError("`--state` needs a database path", kRunHelp);
      continue;
    }
    if (a == "--manager" || a.rfind("--manager=", 0) == 0) {
      if (!value("manager", choice.manager) || choice.manager.empty())
        return usageError("`--manager` needs a name", kRunHelp);
      continue;
    }
    if (a == "--config" || a.rfind("--config=", 0) == 0) {
      if (!value("config", choice.config) || choice.config.empty())
        return usageError("`--config` needs a file", kRunHelp);
      continue;
    }
    if (a == "--context" || a.rfind("--context=", 0) == 0) {
      if (!value("context", choice.context) || choice.context.empty())
        return usageError("`--context` needs a file", kRunHelp);
      continue;
    }
    if (a == "--stored" || a.rfind("--stored=", 0) == 0) {
      if (!value("stored", storedSystem) || storedSystem.empty())
        return usageError("`--stored` needs a system", kRunHelp);
      continue;
    }
    if (a == "--proc" || a.rfind("--proc=", 0) == 0) {
      if (!value("proc", opts.proc) || opts.proc.empty())
        return usageError("`--proc` needs a name", kRunHelp);
      continue;
    }
    if (a == "--arg" || a.rfind("--arg=", 0) == 0) {
      std::string kv;
      if (!value("arg", kv)) return usageError("`--arg` needs NAME=VALUE", kRunHelp);
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        return usageError("`--arg " + kv + "`: expected NAME=VALUE", kRunHelp);
      if (!opts.args.emplace(kv.substr(0, eq), kv.substr(eq + 1)).second)
        return usageError("`--arg " + kv.substr(0, eq) + "` is given twice", kRunHelp);
      continue;
    }
    if (a.size() > 1 && a[0] == '-') return usageError("unknown option `" + a + "`", kRunHelp);
    if (!file.empty()) return usageError("one FILE only (`" + file + "` and `" + a + "`)", kRunHelp);
    file = a;
  }
  if (file.empty()) return usageError("no input file", kRunHelp);
  if (!choice.config.empty() && !choice.manager.empty())
    return usageError("give `--manager NAME` or `--config FILE`, not both", kRunHelp);
  auto configPath = cfm::driver::managerConfigPath(choice);
  if (!configPath) {
    std::cerr << "cfmc: error: " << configPath.error().describe() << '\n';
    return 1;
  }
  if (!configPath->empty() && statePath.empty()) {
    // A manager whose daemon answers runs the procedure (API.md "Where procedures run").
    auto target = cfm::driver::daemonTarget(choice);
    if (target && cfm::driver::daemonAnswers(*target))
      return cfm::driver::runOnDaemon(*target, {file, opts.proc, opts.args, engine, detach, storedSystem});
    if (detach || !storedSystem.empty()) {
      std::cerr << "cfmc: error: "
                << (target
                        ? "cannot reach manager " + target->name + " at " + target->socket +
                              ": no daemon answers (`" + (detach ? "--detach" : "--stored") + "` needs cfmd)"
                        : target.error().describe())
                << '\n';
      return 1;
    }
  } else if (detach) {
    return usageError("`--detach` needs `--manager NAME` (a manager's daemon)", kRunHelp);
  } else if (!storedSystem.empty()) {
    return usageError("`--stored` needs `--manager NAME` (a manager's daemon)", kRunHelp);
  }
  std::unique_ptr<cfm::rt::cloud::OpenedManager> manager;
  if (!configPath->empty()) {
    if (!statePath.empty()) {
      auto config = cfm::rt::cloud::readManagerConfig(*configPath);
      std::string store = config ? " (" + config->storePath + ")" : "";
      return usageError("`--state " + statePath + "` and the manager's store" + store + " conflict: give one",
                        kRunHelp);
    }
    auto m = cfm::driver::openManagerInModule(*configPath);
    if (!m) {
      std::cerr << "cfmc: error: " << m.error().describe() << '\n';
      return 1;
    }
    manager = std::move(*m);
    opts.loadSystem = storeLoader(manager->config.storePath, manager->store.get());
    cfm::model::setCurrentManager(manager->manager.get());
  } else if (!statePath.empty()) {
    opts.loadSystem = storeLoader(statePath);
  }
  int status = 0;
  auto work = [&] {
    auto r = cfm::frontend::compileFile(file);
    if (!r) {
      std::cerr << "cfmc: error: " << r.error().message << '\n';
      status = 1;
      return;
    }
    auto &comp = *r;
    if (!comp->ok()) {
      cfm::support::printConsole(comp->diags, std::cerr);
      status = 1;
      return;
    }
    if (std::string why = cfm::run::commandLineProblem(comp->program, opts); !why.empty()) {
      std::cerr << "cfmc: error: " << why << '\n';
      status = 1;
      return;
    }
    std::cout.flush();
    std::optional<cfm::Result<int>> light;
    if (engine == "jit") {
      // A valid object in the cache runs without loading the engine (LLVM): jitload/light_run.h.
      light =
          cfm::jitload::runFromCache(*comp, opts, jopts, nullptr, [&](const cfm::jitload::LightStats &st) {
            if (time) printLightTimes(*comp, jopts, st);
          });
    }
    if (light) {
      status = runStatus(std::move(*light));
    } else if (engine != "jit") {
      status = runStatus(cfm::interp::run(*comp, opts));
    } else if (auto jit = cfm::jitload::engine(); !jit) {
      status = runStatus(jit.takeError());
    } else if (std::string construct = (*jit)->unsupported(comp->program); !construct.empty()) {
      std::cerr << "cfmc: error: " << (*jit)->unsupportedMessage(construct) << '\n';
      status = cfm::jit::kUnsupported;
    } else {
      cfm::jit::JitStats stats;
      auto program = (*jit)->compile(*comp, opts, jopts, &stats);
      if (program && time) printTimes(*comp, stats, false);
      status = program ? runStatus((*jit)->run(**program, opts)) : runStatus(program.takeError());
    }
    if (!kFreeAtExit) (void)comp.release();
  };
  if (engine == "interp" || !cfm::base::kAsan) // see onCommandStack
    onCommandStack(work);
  else
    cfm::frontend::runWithLargeStack(work);
  cfm::model::setCurrentManager(nullptr);
  return status;
}

const char *const kBuildHelp = R"(usage: cfmc build --emit-llvm [--opt 0|1|2] [--proc NAME] FILE

Checks FILE (and its imports) and prints the LLVM IR the JIT makes of it on stdout: every
function, the constants (`cfm.init`), and the entry of the procedure `main` or --proc NAME
(`cfm.entry`), after the pipeline of --opt (default 2; `--opt 0` shows the lowering as made).

Exit status: 0; 1 for compile errors; 2 on bad usage; 3 when the program uses something the
JIT does not compile yet (named with its line).
)";

int cmdBuild(const std::vector<std::string> &args) {
  cfm::jit::JitOptions jopts;
  bool time = false;
  std::string file, proc = "main";
  bool emitLLVM = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kBuildHelp;
      return 0;
    }
    if (a == "--emit-llvm") {
      emitLLVM = true;
    } else if (a == "--time") {
      time = true;
    } else if (a == "--opt" || a == "--proc") {
      if (i + 1 >= args.size()) return usageError("`" + a + "` needs a value", kBuildHelp);
      const std::string &v = args[++i];
      if (a == "--proc")
        proc = v;
      else if (!parseOpt(v, jopts.optLevel))
        return usageError("`--opt` needs 0, 1 or 2", kBuildHelp);
    } else if (a.size() > 1 && a[0] == '-') {
      return usageError("unknown option `" + a + "`", kBuildHelp);
    } else {
      if (!file.empty()) return usageError("one FILE only (`" + file + "` and `" + a + "`)", kBuildHelp);
      file = a;
    }
  }
  if (file.empty()) return usageError("no input file", kBuildHelp);
  if (!emitLLVM) return usageError("give --emit-llvm (object files and executables come later)", kBuildHelp);
  int status = 0;
  cfm::frontend::runWithLargeStack([&] {
    auto r = cfm::frontend::compileFile(file);
    if (!r) {
      std::cerr << "cfmc: error: " << r.error().message << '\n';
      status = 1;
      return;
    }
    if (!(*r)->ok()) {
      cfm::support::printConsole((*r)->diags, std::cerr);
      status = 1;
      return;
    }
    std::cout.flush();
    cfm::jit::JitStats stats;
    if (auto jit = cfm::jitload::engine(); !jit) {
      std::cerr << "cfmc: error: " << jit.error().message << '\n';
      status = 1;
    } else if (std::string construct = (*jit)->unsupported((*r)->program); !construct.empty()) {
      std::cerr << "cfmc: error: " << (*jit)->unsupportedMessage(construct) << '\n';
      status = cfm::jit::kUnsupported;
    } else if (auto done = (*jit)->emitLLVM(**r, proc, jopts, stdout, &stats); !done) {
      std::cerr << "cfmc: error: " << done.error().message << '\n';
      status = 1;
    } else if (time) {
      printTimes(**r, stats, true);
    }
    fflush(stdout);
    if (!kFreeAtExit) (void)r->release();
  });
  return status;
}

const char *const kReplHelp =
    R"(usage: cfmc repl [--engine interp|jit] [--opt 0|1|2] [--manager NAME | --config FILE] [--context FILE] [--in-process]

An interactive session: type declarations (fn, record, template, const, import), statements
or expressions; an expression's value is printed, and declarations and variables persist.
With a terminal it offers line editing and a persistent history (~/.cfm_history); input
continues on a `...>` line while a bracket, string or comment is open. Without a terminal it
reads standard input the same way, without prompts, so sessions can be scripted.

options:
  --engine E   `jit` (the default, as for `cfmc run`: each input is compiled by LLVM ORC; an
               input the JIT does not compile runs in the interpreter instead, silently) or
               `interp` (the interpreter); both print the same
  --opt N      the JIT's optimisation level: 0, 1 or 2 (default 2)
  --manager NAME  interactive cloud operations: the session is held by manager NAME's
               daemon (cfmd), which evaluates every input (in its interpreter), so the
               procedure API (run_vm, reload, run_agent_command, publish_cloud_event, ...)
               acts through the daemon's own manager, cloud and store. Completion and :doc
               are answered here; :load is refused (files are read on the daemon's machine).
               Ctrl-C cancels the running input (a second one, or one at the prompt,
               leaves). Without a daemon answering it is an error, unless --in-process.
               A system is reached by name: `let web = reload(BusinessSystem { name: "web3" })`
               (default: $CFM_MANAGER)
  --in-process    with no daemon running for the manager: open its configuration and store in
               this process instead (refused while its daemon answers: one writer)
  --config FILE   the same with a manager configuration file
  --context FILE  the context file for --manager (default: $CFM_CONTEXT, else ./.cfm/context.json)

commands inside the session: :type EXPR, :doc NAME, :load FILE, :help, :quit (Tab completes
names, fields after `.` and commands)
)";

int cmdRepl(const std::vector<std::string> &args) {
  std::string engine = "jit";
  int optLevel = 2;
  cfm::driver::ManagerChoice choice;
  bool inProcess = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kReplHelp;
      return 0;
    }
    if (a == "--in-process") {
      inProcess = true;
      continue;
    }
    if (int r = engineOption(args, i, engine, optLevel, kReplHelp)) {
      if (r == 2) return 2;
      continue;
    }
    if (a == "--manager" || a == "--config" || a == "--context") {
      if (i + 1 >= args.size() || args[i + 1].empty())
        return usageError("`" + a + "` needs a value", kReplHelp);
      const std::string &v = args[++i];
      (a == "--manager" ? choice.manager : a == "--config" ? choice.config : choice.context) = v;
      continue;
    }
    return usageError("unknown option `" + a + "`", kReplHelp);
  }
  if (!choice.config.empty() && !choice.manager.empty())
    return usageError("give `--manager NAME` or `--config FILE`, not both", kReplHelp);
  auto configPath = cfm::driver::managerConfigPath(choice);
  if (!configPath) {
    std::cerr << "cfmc: error: " << configPath.error().describe() << '\n';
    return 1;
  }
  if (!configPath->empty()) {
    // The manager's daemon holds the session when it answers; never a second writer beside it.
    if (int s = cfm::driver::replManagerChoice(choice, inProcess, isatty(0) && isatty(1)); s >= 0) return s;
  }
  std::unique_ptr<cfm::rt::cloud::OpenedManager> manager;
  if (!configPath->empty()) {
    auto m = cfm::driver::openManagerInModule(*configPath);
    if (!m) {
      std::cerr << "cfmc: error: " << m.error().describe() << '\n';
      return 1;
    }
    manager = std::move(*m);
    cfm::model::setCurrentManager(manager->manager.get());
  }
  int status = 0;
  cfm::frontend::runWithLargeStack(
      [&] { status = cfm::driver::runRepl(isatty(0) && isatty(1), engine == "jit", optLevel); });
  cfm::model::setCurrentManager(nullptr);
  return status;
}

int cmdLspMain(const std::vector<std::string> &args) { return cfm::driver::cmdLsp(args, kVersion); }

struct Command {
  const char *name;
  int (*run)(const std::vector<std::string> &);
};
const Command kCommands[] = {{"check", cmdCheck},
                             {"run", cmdRun},
                             {"build", cmdBuild},
                             {"repl", cmdRepl},
                             {"lsp", cmdLspMain},
                             {"ovf", cfm::driver::cmdOvf},
                             {"local", cfm::driver::cmdLocal},
                             {"runs", cfm::driver::cmdRuns},
                             {"logs", cfm::driver::cmdLogs},
                             {"cancel", cfm::driver::cmdCancel},
                             {"procs", cfm::driver::cmdProcs},
                             {"events", cfm::driver::cmdEvents},
                             {"owner", cfm::driver::cmdOwner},
                             {"takeover", cfm::driver::cmdTakeover},
                             {"fmt", cfm::driver::cmdFmt},
                             {"demo", cfm::driver::cmdDemoInModule}};

} // namespace

// jemalloc's start-up options (read once, before the first allocation; ignored when jemalloc is
// not linked, as under the sanitizers). Transparent huge pages for the heap: the front end
// allocates its tokens and parse tree (about 150 MB for 50,000 lines) in one burst, and on
// 4 KiB pages the page faults took a third of `cfmc check` (issue 18; bench/README.md,
// "Front-end throughput"). The price is about 9 MB more resident memory for a small program.
// Freed pages are not given back to the kernel (no decay): `cfmc lsp` compiles a whole program on
// every edit and frees it, and purging those pages only to fault them in again at the next edit
// was a tenth of the server's time (madvise and its TLB flushes); a one-shot command exits
// anyway. So a long session keeps its peak (cfmc lsp after a 5,000-line file: about 35 MB).
// One arena: the main thread (static initialisers, options) and the threads that run commands
// (the REPL's, cfmd's runs) would otherwise each start an arena, each with its own huge pages
// to fault in and zero; a hello-world took about 1.4 ms longer (issue 18, bench/README.md
// "Start-up"). cfmc's work is on one thread; the few others (HTTP, MQTT) allocate little.
// MALLOC_CONF in the environment still overrides it.
extern "C" {
extern const char *malloc_conf;
const char *malloc_conf = "thp:always,metadata_thp:always,dirty_decay_ms:-1,muzzy_decay_ms:-1,narenas:1";
}

int main(int argc, char **argv) {
  std::ios::sync_with_stdio(false);
  cfm::rt::installOutOfMemoryHandler(); // `error: out of memory`, exit 1, output kept (runtime.h)
  if (argc < 2) {
    std::cerr << kMainHelp;
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::cout << kMainHelp;
    return 0;
  }
  if (cmd == "--version") {
    std::cout << "cfmc " << kVersion << '\n';
    return 0;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "run" || cmd == "repl") {
    // The scheduler's settings from the environment: a bad one is named, never ignored.
    cfm::Result<cfm::rt::sched::Options> env = cfm::rt::sched::readOptionsFromEnv();
    if (!env) {
      std::cerr << "cfmc: error: " << env.error().message << "\n";
      return 2;
    }
  }
  for (const Command &c : kCommands)
    if (cmd == c.name) return c.run(args);
  return usageError("unknown command `" + cmd + "`", kMainHelp);
}
