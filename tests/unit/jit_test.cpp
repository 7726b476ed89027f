// jit_test.cpp — the JIT engine (compiler/jit): the IR it emits for a small function, checked
// arithmetic raising the interpreter's error, uncaught traces identical to the interpreter's,
// ConfigTemplate.render, the entry point for template text that arrives at run time, and what
// a long-running process needs: modules freed with their run, the level of each run its own,
// the same JIT'd code run on two threads.
#include "interp/interp.h"
#include "jit/jit.h"

#include "engine_support.h"
#include "runtime/collections.h"
#include "runtime/runtime.h"
#include "runtime/sched/scheduler.h"
#include "test_support.h"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>

namespace {

using cfm::testing::Capture;
using cfm::testing::compile;
using cfm::testing::Outcome;
using cfm::testing::runWith;

std::string emit(const std::string &src, int opt) {
  auto c = compile(src);
  EXPECT_TRUE(c->ok());
  Capture cap;
  cfm::jit::JitOptions jo;
  jo.optLevel = opt;
  int status = 0;
  cfm::frontend::runWithLargeStack(
      [&] { status = cfm::jit::emitLLVM(*c, "main", jo, cap.out).ok() ? 0 : 1; });
  Outcome o = cap.finish(status);
  EXPECT_EQ(o.status, 0) << o.err;
  return o.out;
}

TEST(Jit, EmitsIrForASmallFunction) {
  std::string ir = emit("fn add(a: int, b: int) -> int { return a + b; }\n"
                        "procedure main() { print(add(1, 2)); }\n",
                        0);
  // A function returns its value and an error flag; `+` is checked with the overflow intrinsic
  // and raises through the runtime on the slow path.
  EXPECT_NE(ir.find("define internal { i64, i1 } @fn.add(i32 %depth, ptr %limit, i64 %a, i64 %b)"),
            std::string::npos)
      << ir;
  EXPECT_NE(ir.find("@llvm.sadd.with.overflow.i64"), std::string::npos) << ir;
  EXPECT_NE(ir.find("call i32 @cfm_add_int"), std::string::npos) << ir;
  EXPECT_NE(ir.find("define i32 @cfm.entry"), std::string::npos) << ir;
  EXPECT_NE(ir.find("define i32 @cfm.init"), std::string::npos) << ir;
  // O2 keeps the functions and the entry.
  std::string o2 = emit("fn add(a: int, b: int) -> int { return a + b; }\n"
                        "procedure main() { print(add(1, 2)); }\n",
                        2);
  EXPECT_NE(o2.find("@cfm.entry"), std::string::npos) << o2;
}

TEST(Jit, OverflowRaisesTheInterpretersError) {
  const char *src = "fn twice(n: int) -> int {\n"
                    "  return n * 2;\n"
                    "}\n"
                    "procedure main() {\n"
                    "  print(twice(4611686018427387903));\n"
                    "  print(twice(4611686018427387904));\n"
                    "}\n";
  for (int opt : {0, 1, 2}) {
    Outcome j = runWith("jit", src, opt);
    EXPECT_EQ(j.status, 1);
    EXPECT_EQ(j.out, "9223372036854775806\n");
    EXPECT_EQ(j.err, "error: integer overflow: 4611686018427387904 * 2\n  at test.cfp:2\n  at test.cfp:6\n");
  }
}

TEST(Jit, TracesAndCaughtErrorsMatchTheInterpreter) {
  const char *src = "const Z = 0;\n"
                    "fn div(a: int, b: int = Z) -> int { return a / b; }\n"
                    "fn deep(n: int) -> int { return deep(n + 1); }\n"
                    "procedure inner(s: string) {\n"
                    "  for i in 0..3 { if i == 2 { throw \"stop ${s} ${i}\"; } }\n"
                    "}\n"
                    "procedure main() {\n"
                    "  try { print(div(7)); } catch e { print(e.kind + \": \" + e.message); }\n"
                    "  try { print(deep(0)); } catch e { print(e.kind); }\n"
                    "  try { print(int(\"x\")); } catch e { print(e.message); }\n"
                    "  print(-7 % 3, );\n"
                    "  inner(\"a\");\n"
                    "}\n";
  Outcome i = runWith("interp", src);
  Outcome j = runWith("jit", src);
  EXPECT_EQ(j.out, i.out);
  EXPECT_EQ(j.err, i.err);
  EXPECT_EQ(j.status, i.status);
  EXPECT_EQ(j.err, "error: stop a 2\n  at test.cfp:5\n  at test.cfp:12\n");
}

TEST(Jit, RendersConfigTemplatesLikeTheInterpreter) {
  const char *src =
      "procedure main() {\n"
      "  let t = ConfigTemplate { name: \"t\", element: \"\", path: \"/x\", mode: \"0\",\n"
      "                           text: \"{% for h in hosts %}server {{ h }}:{{ port }};\\n{% end %}\" };\n"
      "  print(t.render({\"hosts\": [\"a\", \"b\"], \"port\": 80}));\n"
      "  print(t.render({\"hosts\": [], \"port\": 1}));\n"
      "  print(t.render({\"hosts\": [1], \"port\": \"x\"}));\n"
      "}\n";
  Outcome i = runWith("interp", src);
  Outcome j = runWith("jit", src);
  EXPECT_EQ(j.out, i.out);
  EXPECT_EQ(j.err, i.err);
  EXPECT_EQ(j.status, i.status);
  EXPECT_EQ(j.out, "server a:80;\nserver b:80;\n\n\nserver 1:x;\n\n");
}

/// Runs `fn` as the first task of a scheduler (JIT'd code checks the running task's stack).
void onTask(const std::function<void()> &fn) {
  cfm::rt::Slot r{0};
  auto entry = [](void *env, cfm::rt::Slot *) {
    (*static_cast<const std::function<void()> *>(env))();
    return true;
  };
  cfm::frontend::runWithLargeStack(
      [&] { ASSERT_TRUE(cfm::rt::sched::runMain(entry, const_cast<std::function<void()> *>(&fn), &r)); });
}

TEST(Jit, CompilesTemplateTextArrivingAtRunTime) {
  using namespace cfm::rt;
  onTask([] {
    cfm::jit::TemplateCache cache(2);
    const auto &t =
        cache.compile("motd", "Hello {{ name }}: {{ n + 1 }}\n{% for h in hosts %}{{ h }};{% end %}\n",
                      {"name", "n", "hosts"}, {"string", "int", "list<string>"});
    ASSERT_EQ(t.error, "");
    ASSERT_EQ(t.paramTypes.size(), 3u);
    auto *hosts = new List(t.paramTypes[2]);
    hosts->items.push_back(Slot{.o = newStr("a")});
    hosts->items.push_back(Slot{.o = newStr("b")});
    Slot args[3] = {Slot{.o = newStr("ops")}, Slot{.i = 41}, Slot{.o = hosts}};
    Slot out{0};
    ASSERT_TRUE(t.call(args, out));
    EXPECT_EQ(static_cast<Str *>(out.o)->view(), "Hello ops: 42\na;b;\n");
    release(out.o);
    // Cached per text and shape for the cache's run: the same callable again.
    EXPECT_EQ(&cache.compile("motd", "Hello {{ name }}: {{ n + 1 }}\n{% for h in hosts %}{{ h }};{% end %}\n",
                             {"name", "n", "hosts"}, {"string", "int", "list<string>"}),
              &t);
    const auto &bad = cache.compile("bad", "ok\n{{ nope }}", {}, {});
    EXPECT_EQ(bad.error, "line 2: undefined name `nope`");
    EXPECT_FALSE(bad.call);
    // An error while the text runs is the language's error, with the text's line in its trace.
    const auto &ix = cache.compile("ix", "{{ xs[2] }}", {"xs"}, {"list<int>"});
    ASSERT_EQ(ix.error, "");
    Slot xs{.o = new List(ix.paramTypes[0])};
    EXPECT_FALSE(ix.call(&xs, out));
    ErrorVal *e = takeError();
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(std::string(e->message->view()), "index 2 out of range (length 0)");
    ASSERT_FALSE(e->trace.empty());
    EXPECT_EQ(e->trace[0], "<template ix>:2"); // the header line counts here; render() adjusts it
    release(e);
  });
}

/// A small program that renders a ConfigTemplate and starts a task: `n` makes each text new.
std::string smallProgram(int n) {
  return "fn twice(x: int) -> int { return x * 2; }\n"
         "procedure main() {\n"
         "  let t = ConfigTemplate { name: \"t\", element: \"\", path: \"/x\", mode: \"0\",\n"
         "                           text: \"v{{ v }}\" };\n"
         "  let k = async twice(" +
         std::to_string(n) +
         ");\n"
         "  print(t.render({\"v\": wait(k)}));\n"
         "}\n";
}

TEST(Jit, ManyRunsInOneProcessLeaveNoModulesBehind) {
  // Warm up (the session, its target machines), then count.
  Outcome first = runWith("jit", smallProgram(0));
  ASSERT_EQ(first.out, "v0\n") << first.err;
  size_t live = cfm::jit::liveModules();
  for (int n = 1; n <= 200; ++n) {
    Outcome o = runWith("jit", smallProgram(n), n % 3);
    ASSERT_EQ(o.status, 0) << o.err;
    ASSERT_EQ(o.out, "v" + std::to_string(2 * n) + "\n");
    // Each run's program and its ConfigTemplate are gone when it returns.
    ASSERT_EQ(cfm::jit::liveModules(), live) << "after run " << n;
  }
}

TEST(Jit, EachRunGetsItsOwnOptimisationLevel) {
  // The same program at O0, O2, O0 in one process: the O2 object is not the O0 one, and the
  // second O0 run gets the first one's object again (not the level of the session's first user).
  auto c = compile("fn sum(n: int) -> int { var s = 0; for i in 0..n { s = s + i * 3; } return s; }\n"
                   "procedure main() { print(sum(10)); }\n");
  ASSERT_TRUE(c->ok());
  std::vector<cfm::jit::JitStats> stats;
  for (int opt : {0, 2, 0}) {
    cfm::jit::JitOptions jo;
    jo.optLevel = opt;
    jo.cache = false;
    cfm::jit::JitStats st;
    auto program = cfm::jit::compile(*c, cfm::run::RunOptions{}, jo, &st);
    ASSERT_TRUE(program.ok()) << program.error().message;
    stats.push_back(st);
  }
  EXPECT_EQ(stats[0].optLevel, 0);
  EXPECT_EQ(stats[1].optLevel, 2);
  EXPECT_NE(stats[0].objectBytes, stats[1].objectBytes);
  EXPECT_EQ(stats[0].objectBytes, stats[2].objectBytes);
}

TEST(Jit, TheSameCodeRunsOnTwoSchedulerThreads) {
  // One compiled program, run on one thread and then on another, each with a scheduler of its
  // own: tasks, waits, the call guard (deep recursion) and a rendered template read the running
  // thread's task state, none the first thread's.
  auto c = compile("fn depth(n: int) -> int { if n == 0 { return 0; } return 1 + depth(n - 1); }\n"
                   "fn slow(x: int) -> int { sleep(2ms); return x + depth(500); }\n"
                   "procedure main(x: int) {\n"
                   "  let a = async slow(x);\n"
                   "  let b = async slow(x + 1);\n"
                   "  let t = ConfigTemplate { name: \"t\", element: \"\", path: \"/x\", mode: \"0\", text: "
                   "\"={{ v }}\" };\n"
                   "  print(t.render({\"v\": wait(a) + wait(b)}));\n"
                   "  try { print(depth(1000000)); } catch e { print(e.kind); }\n"
                   "}\n");
  ASSERT_TRUE(c->ok());
  cfm::jit::JitOptions jo;
  jo.cache = false;
  cfm::run::RunOptions probe;
  auto program = cfm::jit::compile(*c, probe, jo);
  ASSERT_TRUE(program.ok()) << program.error().message;
  size_t live = cfm::jit::liveModules();
  auto onThread = [&](int x) {
    Outcome o;
    std::thread t([&] {
      Capture cap;
      cfm::run::RunOptions ro;
      ro.args["x"] = std::to_string(x);
      ro.out = cap.out;
      ro.err = cap.err;
      cfm::Result<int> status = 0;
      cfm::frontend::runWithLargeStack([&] { status = cfm::jit::run(**program, ro); });
      o = cap.finish(status.ok() ? *status : -1);
    });
    t.join();
    return o;
  };
  Outcome a = onThread(10);
  EXPECT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(a.out, "=1021\nstack\n");
  Outcome b = onThread(20);
  EXPECT_EQ(b.status, 0) << b.err;
  EXPECT_EQ(b.out, "=1041\nstack\n");
  EXPECT_EQ(cfm::jit::liveModules(), live); // the runs' templates are gone; the program stays
  program->reset();
  EXPECT_EQ(cfm::jit::liveModules(), live - 1);
}

} // namespace
