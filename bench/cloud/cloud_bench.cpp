// cloud_bench.cpp — the EC2 driver's benchmark (issue 13): N VMs started at once through
// CloudManager::runVm, each from its own task of one scheduler, all waited for, then all
// terminated; prints wall times, peak RSS, the process's threads while the calls are in flight
// and the client's counters (attempts, retries, throttled). bench/cloud/run_cloud_bench.sh
// starts a cfm-cloud with raised quotas, writes the manager configuration and runs this.
//
//   cfm-cloud-bench --config MANAGER.toml [--vms N]
#include "runtime/cloud/manager.h"
#include "runtime/sched/scheduler.h"
#include "runtime/store/store.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace {

using namespace cfm;
using Clock = std::chrono::steady_clock;

int threadsNow() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  return -1;
}

bool callBody(void *env, rt::Slot *) {
  (*static_cast<std::function<void()> *>(env))();
  return true;
}

rt::Obj *spawnBody(std::function<void()> body) {
  static const rt::TypeDesc kVoid{rt::Kind::Void};
  return rt::sched::spawn(&kVoid, callBody, new std::function<void()>(std::move(body)),
                          [](void *env) { delete static_cast<std::function<void()> *>(env); });
}

/// Runs `one(i)` for i in [0, n) as n tasks and waits for all; returns the failures' messages.
std::vector<std::string> fanOut(int n, const std::function<bool(int)> &one, int &peakThreads) {
  std::vector<std::string> errors;
  std::vector<rt::Obj *> tasks;
  for (int i = 0; i < n; ++i)
    tasks.push_back(spawnBody([&, i] {
      if (!one(i)) {
        rt::ErrorVal *e = rt::takeError();
        errors.push_back(e ? std::string(e->message->view()) : "?");
        if (e) rt::release(e);
      }
    }));
  (void)rt::sched::sleep(0);
  peakThreads = std::max(peakThreads, threadsNow());
  for (rt::Obj *t : tasks) {
    rt::Slot r{0};
    (void)rt::sched::wait(t, -1, r);
    rt::release(t);
  }
  return errors;
}

} // namespace

int main(int argc, char **argv) {
  std::string configPath;
  int vms = 1000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--config" && i + 1 < argc)
      configPath = argv[++i];
    else if (a == "--vms" && i + 1 < argc)
      vms = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: cfm-cloud-bench --config MANAGER.toml [--vms N]\n");
      return 2;
    }
  }
  if (configPath.empty() || vms < 1) {
    std::fprintf(stderr, "usage: cfm-cloud-bench --config MANAGER.toml [--vms N]\n");
    return 2;
  }
  auto config = rt::cloud::readManagerConfig(configPath);
  if (!config) return std::fprintf(stderr, "cfm-cloud-bench: %s\n", config.error().describe().c_str()), 1;
  auto store = store::Store::open(config->storePath);
  if (!store) return std::fprintf(stderr, "cfm-cloud-bench: %s\n", store.error().describe().c_str()), 1;
  model::BusinessSystem sys;
  sys.name = "bench";
  sys.vmClasses = {model::VMClass{"node", 1, 512, "cfm-default", "", {}, {}, {}}};
  sys.elements = {model::BusinessSystemElement{"node", "node", 0, 1000000, 1, {}, {}, {}}};
  if (auto r = (*store)->saveSystem(sys); !r)
    return std::fprintf(stderr, "cfm-cloud-bench: %s\n", r.error().describe().c_str()), 1;
  auto mgr = rt::cloud::CloudManager::create(*config, **store);
  if (!mgr) return std::fprintf(stderr, "cfm-cloud-bench: %s\n", mgr.error().describe().c_str()), 1;

  std::vector<model::VMInstance> started(vms);
  std::vector<std::string> runErrors, termErrors;
  double runSeconds = 0, termSeconds = 0;
  int peakThreads = threadsNow();
  std::function<void()> body = [&] {
    auto t0 = Clock::now();
    runErrors = fanOut(
        vms, [&](int i) { return (*mgr)->runVm("bench", "node", 600000, started[i]); }, peakThreads);
    auto t1 = Clock::now();
    termErrors = fanOut(
        vms, [&](int i) { return started[i].id.empty() || (*mgr)->terminateVm(started[i].id, 600000); },
        peakThreads);
    auto t2 = Clock::now();
    runSeconds = std::chrono::duration<double>(t1 - t0).count();
    termSeconds = std::chrono::duration<double>(t2 - t1).count();
  };
  rt::Slot r{0};
  if (!rt::sched::runMain(callBody, &body, &r))
    return std::fprintf(stderr, "cfm-cloud-bench: the run failed\n"), 1;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  rt::cloud::ClientStats s = (*mgr)->client().stats();
  std::printf("vms %d\nrun_vm (all running) %.3f s\nterminate_vm (all terminated) %.3f s\n", vms, runSeconds,
              termSeconds);
  std::printf("peak RSS %.1f MiB\nthreads (peak, whole process) %d\n", ru.ru_maxrss / 1024.0, peakThreads);
  std::printf("EC2 calls %llu, attempts %llu, retries %llu, throttled %llu\n", (unsigned long long)s.calls,
              (unsigned long long)s.attempts, (unsigned long long)s.retries, (unsigned long long)s.throttled);
  std::printf("errors: run %zu, terminate %zu\n", runErrors.size(), termErrors.size());
  for (size_t i = 0; i < runErrors.size() && i < 5; ++i) std::printf("  %s\n", runErrors[i].c_str());
  for (size_t i = 0; i < termErrors.size() && i < 5; ++i) std::printf("  %s\n", termErrors[i].c_str());
  return runErrors.empty() && termErrors.empty() ? 0 : 1;
}
