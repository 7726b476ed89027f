// sched_test.cpp — the task scheduler (runtime/sched): tasks started and waited for from C++,
// structured scopes and cancellation, timers, the stress switch, and the completion API driven
// by real background threads (as libcurl's, Paho's and the agents' threads will drive it).
#include "runtime/runtime.h"
#include "runtime/sched/scheduler.h"

#include <gtest/gtest.h>

#include <alloca.h>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace cfm::rt::sched {
namespace {

const TypeDesc kInt{Kind::Int};
const TypeDesc kVoid{Kind::Void};
const TypeDesc kListInt{Kind::List, &kInt};

using Body = std::function<bool(Slot *)>;
bool callBody(void *env, Slot *r) { return (*static_cast<Body *>(env))(r); }
void dropBody(void *env) { delete static_cast<Body *>(env); }

/// Starts a task running `b` (its result an int).
Obj *start(Body b) { return spawn(&kInt, callBody, new Body(std::move(b)), dropBody); }

/// Runs `b` as the main task; returns whether it succeeded.
bool runMainBody(Body b, Options o = optionsFromEnv()) {
  Slot r{0};
  return runMain(callBody, &b, &r, o);
}

/// Waits for each task of TS in order and releases it, giving EACH (when set) its int result;
/// false at the first wait that fails.
bool waitEach(const std::vector<Obj *> &ts, const std::function<void(int64_t)> &each = {}) {
  for (Obj *t : ts) {
    Slot r{0};
    if (!wait(t, -1, r)) return false;
    if (each) each(r.i);
    release(t);
  }
  return true;
}

std::string takeMessage() {
  ErrorVal *e = takeError();
  if (!e) return "";
  std::string m(e->message->view());
  release(e);
  return m;
}

std::string takeKind() {
  ErrorVal *e = takeError();
  if (!e) return "";
  std::string k(e->errKind->view());
  release(e);
  return k;
}

int64_t msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
}

TEST(Sched, SpawnAndWaitFromCxx) {
  int64_t got = 0;
  ASSERT_TRUE(runMainBody([&](Slot *) {
    Obj *a = start([](Slot *r) {
      r->i = 40;
      return true;
    });
    Obj *b = start([](Slot *r) {
      if (!sleep(5)) return false;
      r->i = 2;
      return true;
    });
    Slot x{0}, y{0};
    bool ok = wait(a, -1, x) && wait(b, -1, y);
    got = x.i + y.i;
    release(a);
    release(b);
    return ok;
  }));
  EXPECT_EQ(got, 42);
  EXPECT_FALSE(active()) << "the scheduler is gone after runMain";
}

TEST(Sched, SleepersWakeInDeadlineOrder) {
  std::vector<int> order;
  ASSERT_TRUE(runMainBody([&](Slot *) {
    std::vector<Obj *> ts;
    for (int d : {300, 100, 200}) // 100 ms apart: starting a task under TSan takes milliseconds
      ts.push_back(start([&order, d](Slot *) {
        if (!sleep(d)) return false;
        order.push_back(d);
        return true;
      }));
    if (!waitEach(ts)) return false;
    return true;
  }));
  EXPECT_EQ(order, (std::vector<int>{100, 200, 300}));
}

TEST(Sched, WaitTimeoutLeavesTheTaskRunning) {
  bool finished = false;
  std::string message;
  ASSERT_TRUE(runMainBody([&](Slot *) {
    Obj *t = start([&](Slot *) {
      if (!sleep(40)) return false;
      finished = true;
      return true;
    });
    Slot r{0};
    EXPECT_FALSE(wait(t, 5, r));
    message = takeMessage();
    EXPECT_FALSE(finished);
    bool ok = wait(t, -1, r);
    release(t);
    return ok;
  }));
  EXPECT_EQ(message, "wait timed out after 5ms");
  EXPECT_TRUE(finished);
}

TEST(Sched, WaitListCollectsInListOrder) {
  std::vector<int64_t> got;
  ASSERT_TRUE(runMainBody([&](Slot *) {
    auto *ts = new List(nullptr);
    for (int i = 0; i < 5; ++i)
      ts->items.push_back(Slot{.o = start([i](Slot *r) {
                                 if (!sleep(5 * (5 - i))) return false;
                                 r->i = i * 10;
                                 return true;
                               })});
    Slot out{0};
    bool ok = waitList(ts, &kListInt, -1, out);
    if (ok) {
      for (Slot s : static_cast<List *>(out.o)->items) got.push_back(s.i);
      release(out.o);
    }
    for (Slot s : ts->items) release(s.o);
    ts->items.clear();
    release(ts);
    return ok;
  }));
  EXPECT_EQ(got, (std::vector<int64_t>{0, 10, 20, 30, 40}));
}

TEST(Sched, UnwaitedErrorIsRaisedWhenTheScopeCloses) {
  std::string message;
  ASSERT_TRUE(runMainBody([&](Slot *) {
    openScope();
    Obj *t = start([](Slot *) { return raiseUser("nobody waited"); });
    release(t);
    EXPECT_FALSE(closeScope(false));
    message = takeMessage();
    return true;
  }));
  EXPECT_EQ(message, "nobody waited");
}

TEST(Sched, FailingScopeCancelsItsTasksAtTheirNextWait) {
  bool ranOn = false;
  std::string kind;
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_FALSE(runMainBody([&](Slot *) {
    openScope();
    Obj *t = start([&](Slot *) {
      bool ok = sleep(5000);
      kind = ok ? "" : std::string(pendingError()->errKind->view());
      ranOn = ok;
      return ok;
    });
    release(t);
    if (!sleep(5)) return false;
    (void)raiseUser("procedure failed");
    return closeScope(true); // keeps the procedure's error pending
  }));
  EXPECT_EQ(takeMessage(), "procedure failed");
  EXPECT_FALSE(ranOn);
  EXPECT_EQ(kind, "cancelled");
  EXPECT_LT(msSince(t0), 2000) << "the cancelled sleep did not run out";
}

TEST(Sched, ErrorOfTheMainTaskIsReturned) {
  EXPECT_FALSE(runMainBody([](Slot *) { return raise(ErrKind::Index, "index 3 out of range"); }));
  EXPECT_EQ(takeKind(), "index");
}

TEST(Sched, StressModeKeepsResults) {
  Options o = optionsFromEnv();
  o.stress = true;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    o.seed = seed;
    int64_t sum = 0;
    ASSERT_TRUE(runMainBody(
        [&](Slot *) {
          std::vector<Obj *> ts;
          for (int i = 1; i <= 50; ++i)
            ts.push_back(start([i](Slot *r) {
              if (!sleep(i % 3)) return false;
              r->i = i;
              return true;
            }));
          if (!waitEach(ts, [&](int64_t v) { sum += v; })) return false;
          return true;
        },
        o));
    EXPECT_EQ(sum, 50 * 51 / 2) << "seed " << seed;
  }
}

TEST(Sched, TenThousandTasksShareFewMappings) {
#ifdef CFM_TSAN // base/sanitizers.h, through scheduler.h
  GTEST_SKIP() << "under ThreadSanitizer every live task is a TSan fiber, and TSan allows 8,128 at once";
#endif
  Stats st;
  ASSERT_TRUE(runMainBody([&](Slot *) {
    std::vector<Obj *> ts;
    for (int i = 0; i < 10000; ++i)
      ts.push_back(start([](Slot *r) {
        r->i = 1;
        return sleep(10);
      }));
    if (!waitEach(ts)) return false;
    st = stats();
    return true;
  }));
  EXPECT_EQ(st.spawned, 10000u);
  EXPECT_GE(st.maxLive, 10000u) << "all were alive at once";
}

// ---- completions from other threads ----

TEST(Sched, CompletionFromAnotherThreadResumesExactlyItsTask) {
  std::vector<std::string> resumed; // in the order the tasks were resumed
  std::vector<std::string> payloads(3);
  int ticks = 0;
  std::thread producer;
  ASSERT_TRUE(runMainBody([&](Slot *) {
    std::vector<std::shared_ptr<Completion>> cs;
    for (int i = 0; i < 3; ++i) cs.push_back(Completion::create());
    std::vector<Obj *> ts;
    for (int i = 0; i < 3; ++i)
      ts.push_back(start([&, i](Slot *) {
        bool ok = false;
        std::string p;
        if (!await(*cs[static_cast<size_t>(i)], -1, ok, p)) return false;
        payloads[static_cast<size_t>(i)] = p;
        resumed.push_back("task" + std::to_string(i));
        return ok;
      }));
    // A task that keeps running while the others wait: the waits hold no thread.
    std::atomic<bool> stop{false};
    Obj *ticker = start([&](Slot *) {
      while (!stop.load()) {
        if (!sleep(1)) return false;
        ++ticks;
      }
      return true;
    });
    producer = std::thread([cs] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      cs[2]->complete(true, "reply for 2");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      cs[0]->complete(true, "reply for 0");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      cs[1]->complete(true, "reply for 1");
      cs[1]->complete(false, "a second completion is ignored");
    });
    if (!waitEach(ts)) return false;
    stop = true;
    Slot r{0};
    bool ok = wait(ticker, -1, r);
    release(ticker);
    return ok;
  }));
  producer.join();
  EXPECT_EQ(resumed, (std::vector<std::string>{"task2", "task0", "task1"}));
  EXPECT_EQ(payloads, (std::vector<std::string>{"reply for 0", "reply for 1", "reply for 2"}));
  EXPECT_GT(ticks, 10) << "the ticker ran while the others waited";
}

TEST(Sched, CompletionBeforeAwaitReturnsAtOnce) {
  std::string got;
  ASSERT_TRUE(runMainBody([&](Slot *) {
    auto c = Completion::create();
    std::thread([c] { c->complete(false, "early failure"); }).join();
    EXPECT_TRUE(c->completed());
    bool ok = true;
    if (!await(*c, -1, ok, got)) return false;
    EXPECT_FALSE(ok);
    return true;
  }));
  EXPECT_EQ(got, "early failure");
}

TEST(Sched, AwaitTimesOutAndALateCompletionIsHarmless) {
  std::shared_ptr<Completion> keep;
  std::string kind;
  ASSERT_TRUE(runMainBody([&](Slot *) {
    keep = Completion::create();
    bool ok = false;
    std::string p;
    EXPECT_FALSE(await(*keep, 10, ok, p));
    kind = takeKind();
    // Completed after the waiter gave up, while the program still runs...
    std::thread([c = keep] { c->complete(true, "late"); }).join();
    return sleep(5);
  }));
  EXPECT_EQ(kind, "timeout");
  // ... and after it ended.
  keep->complete(true, "later still");
  SUCCEED();
}

TEST(Sched, ManyThreadsCompleteManyTasks) {
  constexpr int kTasks = 400;
  int64_t sum = 0;
  std::vector<std::thread> threads;
  ASSERT_TRUE(runMainBody([&](Slot *) {
    std::vector<std::shared_ptr<Completion>> cs;
    for (int i = 0; i < kTasks; ++i) cs.push_back(Completion::create());
    std::vector<Obj *> ts;
    for (int i = 0; i < kTasks; ++i)
      ts.push_back(start([&cs, i](Slot *r) {
        bool ok = false;
        std::string p;
        if (!await(*cs[static_cast<size_t>(i)], 5000, ok, p)) return false;
        r->i = std::stoll(p);
        return true;
      }));
    for (int k = 0; k < 4; ++k)
      threads.emplace_back([cs, k] {
        for (size_t i = static_cast<size_t>(k); i < cs.size(); i += 4)
          cs[i]->complete(true, std::to_string(i));
      });
    if (!waitEach(ts, [&](int64_t v) { sum += v; })) return false;
    return true;
  }));
  for (auto &t : threads) t.join();
  EXPECT_EQ(sum, int64_t(kTasks) * (kTasks - 1) / 2);
}

// cfmd's cancel (RunCanceller): another thread cancels the first task of a run, which is asleep
// with a task of its own asleep too; both end `task cancelled` at once, and the canceller is
// detached after runMain (a late cancel does nothing).
TEST(Sched, RunCancellerCancelsTheRunFromAnotherThread) {
  auto canceller = std::make_shared<RunCanceller>();
  std::atomic<bool> started{false};
  std::string childKind;
  std::thread stopper([&] {
    while (!started.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    canceller->cancel();
  });
  auto t0 = std::chrono::steady_clock::now();
  setRunCanceller(canceller);
  bool ok = runMainBody([&](Slot *) {
    openScope();
    Obj *t = start([&](Slot *) {
      bool ok = sleep(10000);
      if (!ok) childKind = std::string(pendingError()->errKind->view());
      return ok;
    });
    release(t);
    started = true;
    bool slept = sleep(10000);
    return closeScope(!slept) && slept;
  });
  setRunCanceller(nullptr);
  stopper.join();
  EXPECT_FALSE(ok);
  EXPECT_EQ(takeMessage(), "task cancelled");
  EXPECT_EQ(childKind, "cancelled");
  EXPECT_LT(msSince(t0), 5000) << "the cancelled sleeps ran out";
  EXPECT_TRUE(canceller->requested());
  canceller->cancel(); // after the run: nothing to reach, no crash
}

// A cancel asked before the run starts: its first task ends cancelled without running.
TEST(Sched, RunCancellerBeforeTheRunStarts) {
  auto canceller = std::make_shared<RunCanceller>();
  canceller->cancel();
  setRunCanceller(canceller);
  bool ran = false;
  bool ok = runMainBody([&](Slot *) { return ran = true; });
  setRunCanceller(nullptr);
  EXPECT_FALSE(ok);
  EXPECT_FALSE(ran);
  EXPECT_EQ(takeMessage(), "task cancelled");
}

// ---- copied stacks (docs/tasks.md "Copied stacks") ----
//
// Spawned tasks share one stack; a suspended task's frames are copied to the heap when another
// task needs it and back to the same addresses before it resumes. Under the sanitizers tasks
// keep stacks of their own (nothing is copied): the tests then check the results only.

Options copying(bool stress = false, uint64_t seed = 1) {
  Options o = optionsFromEnv();
  o.copyStacks = true;
  o.stress = stress;
  o.seed = seed;
  return o;
}

uint64_t pattern(int tag, int level, int i) {
  return static_cast<uint64_t>(tag) * 1000003u + static_cast<uint64_t>(level) * 31u +
         static_cast<uint64_t>(i);
}

/// Recurses `level` calls deep, each with a local array of its own, sleeps `ms` at the bottom, and
/// counts on the way back the levels whose array is intact (level + 1 when all are); -1 on error.
int deepCheck(int level, int tag, int64_t ms) {
  volatile uint64_t local[16];
  for (int i = 0; i < 16; ++i) local[i] = pattern(tag, level, i);
  int below = 0;
  if (level == 0) {
    if (!sleep(ms)) return -1;
  } else {
    below = deepCheck(level - 1, tag, ms);
    if (below < 0) return -1;
  }
  bool intact = true;
  for (int i = 0; i < 16; ++i) intact = intact && local[i] == pattern(tag, level, i);
  return below + (intact ? 1 : 0);
}

TEST(Sched, TaskSuspendedDeepInRecursionResumesWithItsLocals) {
  constexpr int kTasks = 40, kDepth = 150;
  std::vector<int64_t> got;
  Stats st;
  ASSERT_TRUE(runMainBody(
      [&](Slot *) {
        std::vector<Obj *> ts;
        // Half sleep, half only yield: they take turns on the shared stack in every order.
        for (int i = 0; i < kTasks; ++i)
          ts.push_back(start([i](Slot *r) {
            r->i = deepCheck(kDepth, i, i % 2 ? 2 : 0);
            return r->i >= 0;
          }));
        if (!waitEach(ts, [&](int64_t v) { got.push_back(v); })) return false;
        st = stats();
        return true;
      },
      copying()));
  EXPECT_EQ(got, std::vector<int64_t>(kTasks, kDepth + 1)) << "every level of every task intact";
  if (!kSanitizedStacks) {
    EXPECT_GE(st.stackSaves, static_cast<uint64_t>(kTasks)) << "each task was saved at least once";
    EXPECT_GT(st.maxStackSave, static_cast<uint64_t>(kDepth) * 16 * 8) << "a deep task's whole stack";
    EXPECT_EQ(st.stacksMapped, 0u) << "no task needed a stack of its own";
  }
}

TEST(Sched, ManyTasksInterleaveOnTheSharedStack) {
  constexpr int kTasks = 100, kRounds = 30;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    int64_t sum = 0;
    ASSERT_TRUE(runMainBody(
        [&](Slot *) {
          std::vector<Obj *> ts;
          for (int i = 0; i < kTasks; ++i)
            ts.push_back(start([i](Slot *r) {
              // Locals that live across every suspension, at a depth that differs per task.
              volatile int64_t acc = 0;
              size_t n = 64 * static_cast<size_t>(1 + i % 5);
              auto *pad = static_cast<volatile char *>(alloca(n));
              for (size_t k = 0; k < n; ++k) pad[k] = static_cast<char>(i + k);
              for (int round = 0; round < kRounds; ++round) {
                if (!sleep(round % 3 == 0 ? 1 : 0)) return false;
                acc = acc + i;
              }
              for (size_t k = 0; k < n; ++k)
                if (pad[k] != static_cast<char>(i + k)) return false;
              r->i = acc;
              return true;
            }));
          if (!waitEach(ts, [&](int64_t v) { sum += v; })) return false;
          return true;
        },
        copying(true, seed)))
        << "seed " << seed << ": " << takeMessage();
    EXPECT_EQ(sum, int64_t(kRounds) * kTasks * (kTasks - 1) / 2) << "seed " << seed;
  }
}

TEST(Sched, ChildStartedWithArgumentsFromItsParentsFrame) {
  // A spawned task starts a child with a copy of locals of its frame (as the engines do: the
  // arguments go to the heap when `async` runs), changes them and suspends before the child runs.
  int64_t got = 0;
  ASSERT_TRUE(runMainBody(
      [&](Slot *) {
        Obj *parent = start([](Slot *r) {
          std::vector<int64_t> mine{1, 2, 3, 4};
          int64_t k = 10;
          Obj *child = start([mine, k](Slot *cr) {
            if (!sleep(1)) return false;
            int64_t s = 0;
            for (int64_t x : mine) s += x * k;
            cr->i = s;
            return true;
          });
          mine.assign(4, -1000); // the child has its own copy
          k = 0;
          if (!sleep(2)) return false; // the child runs on the addresses of this frame meanwhile
          Slot c{0};
          bool ok = wait(child, -1, c);
          release(child);
          if (!ok) return false;
          r->i = c.i + (mine[3] == -1000 ? 1 : 0) + k;
          return true;
        });
        Slot r{0};
        bool ok = wait(parent, -1, r);
        release(parent);
        got = r.i;
        return ok;
      },
      copying()));
  EXPECT_EQ(got, 101);
}

TEST(Sched, TasksWaitForEachOthersResults) {
  // A chain of spawned tasks, each waiting (deep in a recursion of its own) for the next: every
  // result is written into the frame of a task that is suspended while the others run.
  int64_t got = 0;
  ASSERT_TRUE(runMainBody(
      [&](Slot *) {
        constexpr int kLinks = 20;
        std::vector<Obj *> ts(kLinks, nullptr);
        for (int i = kLinks - 1; i >= 0; --i) {
          Obj *next = i + 1 < kLinks ? ts[i + 1] : nullptr;
          if (next) retain(next);
          ts[i] = start([next, i](Slot *r) {
            volatile int64_t mark = 7 * i;
            Slot nr{0};
            bool ok = true;
            if (next) {
              ok = deepCheck(10, i, 0) == 11 && wait(next, -1, nr);
              release(next);
            } else {
              ok = sleep(3);
            }
            r->i = nr.i + i + (mark == 7 * i ? 0 : 1000000);
            return ok;
          });
        }
        Slot r{0};
        bool ok = wait(ts[0], -1, r);
        for (Obj *t : ts) release(t);
        got = r.i;
        return ok;
      },
      copying()));
  EXPECT_EQ(got, 19 * 20 / 2);
}

TEST(Sched, TaskStacksSwitch) {
  // CFM_TASK_STACKS=own gives every task a stack of its own (nothing copied); a bad value is an
  // error to report.
  ::setenv("CFM_TASK_STACKS", "own", 1);
  Result<Options> own = readOptionsFromEnv();
  ::setenv("CFM_TASK_STACKS", "shared", 1);
  Result<Options> bad = readOptionsFromEnv();
  ::unsetenv("CFM_TASK_STACKS");
  ASSERT_TRUE(own);
  EXPECT_FALSE(own->copyStacks);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("CFM_TASK_STACKS"), std::string::npos);
  Stats st;
  int64_t sum = 0;
  ASSERT_TRUE(runMainBody(
      [&](Slot *) {
        std::vector<Obj *> ts;
        for (int i = 0; i < 10; ++i)
          ts.push_back(start([i](Slot *r) {
            r->i = deepCheck(20, i, 1);
            return r->i >= 0;
          }));
        if (!waitEach(ts, [&](int64_t v) { sum += v; })) return false;
        st = stats();
        return true;
      },
      *own));
  EXPECT_EQ(sum, 10 * 21);
  EXPECT_EQ(st.stackSaves, 0u);
  EXPECT_GE(st.stacksMapped, 1u);
}

} // namespace
} // namespace cfm::rt::sched
