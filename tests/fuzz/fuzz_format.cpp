// fuzz_format.cpp — libFuzzer target for the source formatter (compiler/format): any input is
// refused with an error or formatted, never a crash or a sanitizer report; what is formatted is a
// fixed point (formatting it again changes nothing). formatSource itself checks that the result
// parses to the same syntax tree with the same comments (an Internal error otherwise, which
// aborts here). Build and run with scripts/fuzz.sh (FUZZ_TARGETS=format).
#include "format/formatter.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  cfm::Result<std::string> once = cfm::format::formatSource("fuzz.cfp", text);
  if (!once) {
    if (once.error().kind == cfm::ErrorKind::Internal) std::abort();
    return 0;
  }
  cfm::Result<std::string> twice = cfm::format::formatSource("fuzz.cfp", *once);
  if (!twice || *twice != *once) std::abort();
  return 0;
}
