// jit_test.cpp — the JIT engine (compiler/jit): the IR it emits for a small function, checked
// arithmetic raising the interpreter's error, uncaught traces identical to the interpreter's,
// ConfigTemplate.render, and the entry point for template text that arrives at run time.
#include "jit/jit.h"

#include "runtime/collections.h"
#include "runtime/runtime.h"
#include "runtime/sched/scheduler.h"
#include "test_support.h"

#include <cstdio>
#include <cstdlib>
#include <functional>

namespace {

using cfm::testing::compile;

/// What an engine wrote: stdout, stderr and the exit status.
struct Outcome {
  std::string out, err;
  int status = -1;
};

/// Captures two FILE streams in memory for the duration of a run.
struct Capture {
  char *outBuf = nullptr, *errBuf = nullptr;
  size_t outLen = 0, errLen = 0;
  FILE *out = open_memstream(&outBuf, &outLen);
  FILE *err = open_memstream(&errBuf, &errLen);
  Outcome finish(int status) {
    fclose(out);
    fclose(err);
    Outcome o{std::string(outBuf, outLen), std::string(errBuf, errLen), status};
    free(outBuf);
    free(errBuf);
    return o;
  }
};

Outcome runWith(const std::string &engine, const std::string &src, int opt = 2) {
  auto c = compile(src);
  EXPECT_TRUE(c->ok());
  Capture cap;
  cfm::interp::RunOptions ro;
  ro.out = cap.out;
  ro.err = cap.err;
  int status = 0;
  cfm::frontend::runWithLargeStack([&] {
    if (engine == "jit") {
      cfm::jit::JitOptions jo;
      jo.optLevel = opt;
      status = cfm::jit::run(*c, ro, jo);
    } else {
      status = cfm::interp::run(*c, ro);
    }
  });
  return cap.finish(status);
}

std::string emit(const std::string &src, int opt) {
  auto c = compile(src);
  EXPECT_TRUE(c->ok());
  Capture cap;
  cfm::jit::JitOptions jo;
  jo.optLevel = opt;
  int status = 0;
  cfm::frontend::runWithLargeStack([&] { status = cfm::jit::emitLLVM(*c, "main", jo, cap.out, cap.err); });
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
    const auto &t = cfm::jit::compileTemplate(
        "motd", "Hello {{ name }}: {{ n + 1 }}\n{% for h in hosts %}{{ h }};{% end %}\n",
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
    // Cached per text and shape: the same callable again; another shape compiles anew.
    EXPECT_EQ(&cfm::jit::compileTemplate(
                  "motd", "Hello {{ name }}: {{ n + 1 }}\n{% for h in hosts %}{{ h }};{% end %}\n",
                  {"name", "n", "hosts"}, {"string", "int", "list<string>"}),
              &t);
    const auto &bad = cfm::jit::compileTemplate("bad", "ok\n{{ nope }}", {}, {});
    EXPECT_EQ(bad.error, "line 2: undefined name `nope`");
    EXPECT_FALSE(bad.call);
    // An error while the text runs is the language's error, with the text's line in its trace.
    const auto &ix = cfm::jit::compileTemplate("ix", "{{ xs[2] }}", {"xs"}, {"list<int>"});
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

} // namespace
