// sched_bench.cpp — what a task costs on the scheduler (runtime/sched), measured with Google
// Benchmark: one task started and waited for at once, a batch of 1,000 started and then waited
// for, a switch (yield) between two ready tasks, and a completion delivered from another thread.
// Run by bench/tasks_bench.py, which prints the figures next to the 100,000-task program's.
#include "runtime/runtime.h"
#include "runtime/sched/scheduler.h"

#include <benchmark/benchmark.h>

#include <thread>
#include <vector>

namespace {

using namespace cfm::rt;
using namespace cfm::rt::sched;

const TypeDesc kInt{Kind::Int};

bool trivial(void *, Slot *r) {
  r->i = 1;
  return true;
}

template <typename F> void inMainTask(F &&f) {
  auto entry = [](void *env, Slot *) {
    (*static_cast<F *>(env))();
    return true;
  };
  Slot r{0};
  if (!runMain(entry, &f, &r)) clearError();
}

void BM_StartAndWait(benchmark::State &state) {
  inMainTask([&] {
    for (auto _ : state) {
      Obj *t = spawn(&kInt, trivial, nullptr, nullptr);
      Slot r{0};
      if (!wait(t, -1, r)) clearError();
      release(t);
      benchmark::DoNotOptimize(r.i);
    }
  });
}
BENCHMARK(BM_StartAndWait);

void BM_StartThousandThenWait(benchmark::State &state) {
  std::vector<Obj *> ts(1000);
  inMainTask([&] {
    for (auto _ : state) {
      for (Obj *&t : ts) t = spawn(&kInt, trivial, nullptr, nullptr);
      for (Obj *t : ts) {
        Slot r{0};
        if (!wait(t, -1, r)) clearError();
        release(t);
      }
    }
  });
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_StartThousandThenWait);

bool yielder(void *env, Slot *) {
  auto *stop = static_cast<bool *>(env);
  while (!*stop)
    if (!cfm::rt::sched::sleep(0)) return false;
  return true;
}

void BM_SwitchBetweenTwoTasks(benchmark::State &state) {
  inMainTask([&] {
    bool stop = false;
    Obj *other = spawn(&kInt, yielder, &stop, nullptr);
    for (auto _ : state)
      if (!cfm::rt::sched::sleep(0)) clearError(); // to the other task and back: two switches each way
    stop = true;
    Slot r{0};
    if (!wait(other, -1, r)) clearError();
    release(other);
  });
}
BENCHMARK(BM_SwitchBetweenTwoTasks);

void BM_CompletionFromThread(benchmark::State &state) {
  inMainTask([&] {
    for (auto _ : state) {
      auto c = Completion::create();
      std::thread th([c] { c->complete(true, "reply"); });
      bool ok = false;
      std::string p;
      if (!await(*c, -1, ok, p)) clearError();
      th.join();
    }
  });
}
BENCHMARK(BM_CompletionFromThread);

} // namespace

BENCHMARK_MAIN();
