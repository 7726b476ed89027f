// runner.cpp — a run of cfmd (runner.h): the files a client sent compiled as the program, the
// engine it asked for run on a thread of the run's own, output into the run table, cancel
// through the run's scheduler.
#include "cfmd/daemon/runner.h"

#include "base/files.h"
#include "cfmd/line_sink.h"
#include "frontend/frontend.h"
#include "interp/interp.h"
#include "jitload/engine.h"
#include "run/run.h"
#include "runtime/cloud/manager.h"
#include "runtime/model/manager.h"
#include "runtime/model/values.h"
#include "runtime/sched/scheduler.h"
#include "support/diagnostics.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <system_error>
#include <thread>

namespace cfm::cfmd {

std::mutex &compileMutex() {
  static std::mutex mu;
  return mu;
}

namespace {

/// Writes `text` (lines) to `f`, a line sink.
void writeLines(FILE *f, const std::string &text) {
  fputs(text.c_str(), f);
  if (!text.empty() && text.back() != '\n') fputc('\n', f);
  fflush(f);
}

/// The exit status of an engine's run; a run that could not start says why on `err`.
int runStatus(Result<int> r, FILE *err) {
  if (r) return *r;
  writeLines(err, "cfmc: error: " + r.error().message);
  return 1;
}

/// `--arg sys=KEY` of a BusinessSystem: the system named KEY (or with that id) in the run's store
/// connection (as cfmc's loader does in-process).
run::SystemLoader storeLoader(store::Store &st, const std::string &where) {
  return [&st, where](const std::string &key, const rt::TypeDesc *t) -> Result<rt::Obj *> {
    auto sys = st.loadSystem(key);
    if (!sys) return sys.takeError();
    if (!*sys)
      return Error{ErrorKind::Usage, "no business system named `" + key + "` (nor with that id) in " + where};
    auto insts = st.elementInstances(key);
    if (!insts) return insts.takeError();
    auto vms = st.vmInstances(key);
    if (!vms) return vms.takeError();
    return model::toValue(**sys, *insts, *vms, t);
  };
}

/// Compiles and runs `r` with the run's streams; the exit status, as `cfmc run` gives it.
int execute(const RunRequest &r, FILE *out, FILE *err, run::SystemLoader load) {
  // The files as the client sent them: the loader's paths (an import joined to its importer's
  // folder) are normalized and looked up; the client sent every file the program imports.
  // Standard library modules (`std/...`) are the client's, under the folder it read them from;
  // a standing run (from disk) or a client that sent none uses this daemon's stdlib folder.
  const std::string stdDir = r.fromDisk || r.stdDir.empty() ? frontend::stdlibDir() : r.stdDir;
  auto read = [&r, &stdDir](const std::string &path) -> Result<std::string> {
    if (r.fromDisk) return base::readRegularFile(path, base::kMaxSourceBytes);
    std::string key = std::filesystem::path(path).lexically_normal().string();
    if (!r.stdDir.empty() && key.rfind(stdDir + "/", 0) == 0) {
      auto it = r.stdFiles.find(key.substr(stdDir.size() + 1));
      if (it == r.stdFiles.end()) return Error{ErrorKind::Io, "no such file (the client did not send it)"};
      return it->second;
    }
    auto it = r.files.find(key);
    if (it == r.files.end()) return Error{ErrorKind::Io, "no such file (the client did not send it)"};
    return it->second;
  };
  run::RunOptions opts;
  opts.proc = r.proc;
  opts.args = r.args;
  opts.out = out;
  opts.err = err;
  opts.loadSystem = std::move(load);
  std::unique_lock<std::mutex> compiling(compileMutex());
  auto compiled = frontend::compileFile(r.main, read, stdDir);
  if (!compiled) {
    writeLines(err, "cfmc: error: " + compiled.error().message);
    return 1;
  }
  std::unique_ptr<frontend::Compilation> comp = std::move(*compiled);
  if (!comp->ok()) {
    std::ostringstream diags;
    support::printConsole(comp->diags, diags);
    writeLines(err, diags.str());
    return 1;
  }
  if (std::string why = run::commandLineProblem(comp->program, opts); !why.empty()) {
    writeLines(err, "cfmc: error: " + why);
    return 1;
  }
  if (r.engine != "jit") {
    compiling.unlock();
    return runStatus(interp::run(*comp, opts), err);
  }
  auto jit = jitload::engine();
  if (!jit) return runStatus(jit.takeError(), err);
  if (std::string construct = (*jit)->unsupported(comp->program); !construct.empty()) {
    writeLines(err, "cfmc: error: " + (*jit)->unsupportedMessage(construct));
    return jit::kUnsupported;
  }
  jit::JitOptions jopts;
  auto program = (*jit)->compile(*comp, opts, jopts, nullptr);
  compiling.unlock();
  if (!program) return runStatus(program.takeError(), err);
  return runStatus((*jit)->run(**program, opts), err);
}

} // namespace

Result<std::string> Runner::start(RunRequest r) {
  std::lock_guard<std::mutex> g(mu_);
  if (stopping_) return Error{ErrorKind::Usage, "the manager is stopping"};
  std::string id = runs_.create(r.main, r.proc);
  auto canceller = std::make_shared<rt::sched::RunCanceller>();
  runs_.setCancelHook(id, [canceller] { canceller->cancel(); });
  ++active_;
  auto body = [this, id, r = std::move(r), canceller] {
    auto out = openLineSink([this, id](std::string_view l) { runs_.append(id, false, l); });
    auto err = openLineSink([this, id](std::string_view l) { runs_.append(id, true, l); });
    int status = 1;
    if (!out || !err) {
      runs_.append(id, true, "cfmc: error: cannot open the run's output streams");
    } else {
      frontend::runWithLargeStack([&] {
        // The run's own manager, current on this thread only: the thread that runs the engine.
        auto mgr = host_.forRun();
        if (!mgr) {
          runs_.append(id, true,
                       "cfmc: error: cannot open the manager for the run: " + mgr.error().describe());
          return;
        }
        model::setThreadManager((*mgr)->manager.get());
        rt::sched::setRunCanceller(canceller); // this thread calls the scheduler's runMain
        status = execute(r, *out, *err, storeLoader(*(*mgr)->store, host_.config().storePath));
        rt::sched::setRunCanceller(nullptr);
        model::setThreadManager(nullptr);
      });
    }
    if (out) fclose(*out);
    if (err) fclose(*err);
    runs_.finish(id, status);
    std::lock_guard<std::mutex> g(mu_);
    --active_;
    ended_.notify_all();
  };
  try {
    std::thread(std::move(body)).detach();
  } catch (const std::system_error &e) { // no thread to be had: the run fails, the daemon goes on
    --active_;
    runs_.append(id, true, std::string("cfmc: error: cannot start the run: ") + e.what());
    runs_.finish(id, 1);
    return Error{ErrorKind::Io, std::string("cannot start a thread for the run: ") + e.what()};
  }
  return id;
}

bool Runner::stop(int64_t waitMs) {
  {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
  }
  for (const RunInfo &info : runs_.list())
    if (info.state == RunState::Running) (void)runs_.cancel(info.id);
  std::unique_lock<std::mutex> g(mu_);
  return ended_.wait_for(g, std::chrono::milliseconds(waitMs), [this] { return active_ == 0; });
}

} // namespace cfm::cfmd
