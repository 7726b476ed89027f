// fuzz_json.cpp — libFuzzer target for the runtime's JSON decoder (parse_json): any input is
// parsed or rejected with a conversion error, never a crash; what parses writes back to text
// that parses to an equal value (the round trip to_json/parse_json relies on).
#include "runtime/runtime.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace cfm::rt;
  Json *j = nullptr;
  if (!parseJson(std::string_view(reinterpret_cast<const char *>(data), size), j)) {
    clearError();
    return 0;
  }
  std::string text;
  writeJson(text, j);
  Json *again = nullptr;
  if (!parseJson(text, again) || !jsonEqual(j, again)) std::abort(); // the round trip must hold
  release(j);
  release(again);
  return 0;
}
