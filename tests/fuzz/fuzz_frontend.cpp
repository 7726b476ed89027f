// fuzz_frontend.cpp — libFuzzer target for the whole front end (lexer, parser, AST builder,
// checker): any input must end in diagnostics or a clean check, never a crash, a hang or a
// sanitizer report. Build with scripts/fuzz.sh (clang, -fsanitize=fuzzer,address,undefined).
#include "frontend/frontend.h"

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  cfm::frontend::runWithLargeStack([&] {
    auto c = cfm::frontend::compileText("fuzz.cfp", std::move(text));
    std::ostringstream shown; // and the diagnostics as `cfmc check` prints them (long lines as a window)
    cfm::support::printConsole(c->diags, shown);
  });
  return 0;
}
