// jit_test.cpp — the JIT engine (compiler/jit): the IR it emits for a small function, checked
// arithmetic raising the interpreter's error, uncaught traces identical to the interpreter's,
// and the exit-3 report of constructs it does not compile yet.
#include "jit/jit.h"

#include "test_support.h"

#include <cstdio>
#include <cstdlib>

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
  EXPECT_NE(ir.find("define internal { i64, i1 } @fn.add(i32 %depth, i64 %a, i64 %b)"), std::string::npos)
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

TEST(Jit, ReportsWhatItDoesNotCompileYet) {
  const char *src =
      "procedure main() {\n"
      "  let t = ConfigTemplate { name: \"t\", element: \"\", path: \"/x\", mode: \"0\", text: \"\" };\n"
      "  print(t.render({\"n\": 1}));\n"
      "}\n";
  Outcome j = runWith("jit", src);
  EXPECT_EQ(j.status, cfm::jit::kUnsupported);
  EXPECT_EQ(j.out, "");
  EXPECT_NE(j.err.find("the JIT does not compile"), std::string::npos) << j.err;
  EXPECT_NE(j.err.find("the method `render` yet (line 3); use --engine interp"), std::string::npos) << j.err;
}

} // namespace
