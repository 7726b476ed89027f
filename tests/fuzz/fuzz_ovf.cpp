// fuzz_ovf.cpp — libFuzzer target for the OVF reader (ovf/reader.h) and the mapping and writer
// behind it: any input is read or rejected with an error, never a crash; what reads and maps to a
// model that the writer can export must read back from the export as an equal model.
#include "ovf/reader.h"
#include "ovf/to_model.h"
#include "ovf/writer.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto env = cfm::ovf::read(text, "fuzz.ovf");
  if (!env) return 0;
  auto m = cfm::ovf::toModel(*env, cfm::ovf::noFiles(), "fuzz.ovf");
  if (!m) return 0;
  auto out = cfm::ovf::write(*m);
  if (!out) return 0;
  auto back = cfm::ovf::importText(*out, "export.ovf", cfm::ovf::noFiles());
  if (!back || !(*back == *m)) std::abort(); // the round trip must hold
  return 0;
}
