// engine_support.h — helpers for unit tests that run programs: a run under either engine
// (interp or jit) with its stdout, stderr and exit status captured in memory.
#pragma once

#include "interp/interp.h"
#include "jit/jit.h"
#include "test_support.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace cfm::testing {

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

inline Outcome runWith(const std::string &engine, const std::string &src, int opt = 2) {
  auto c = compile(src);
  EXPECT_TRUE(c->ok());
  Capture cap;
  cfm::run::RunOptions ro;
  ro.out = cap.out;
  ro.err = cap.err;
  cfm::Result<int> status = 0;
  cfm::frontend::runWithLargeStack([&] {
    if (engine == "jit") {
      cfm::jit::JitOptions jo;
      jo.optLevel = opt;
      jo.cache = false;
      status = cfm::jit::run(*c, ro, jo);
    } else {
      status = cfm::interp::run(*c, ro);
    }
  });
  EXPECT_TRUE(status.ok()) << status.error().message;
  return cap.finish(status.ok() ? *status : -1);
}

} // namespace cfm::testing
