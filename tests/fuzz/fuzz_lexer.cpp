// fuzz_lexer.cpp — libFuzzer target holding the hand-written lexer (compiler/parse/lexer.h) to the
// one ANTLR generates from grammar/CfpLexer.g4: on any valid UTF-8 input both must give the same
// tokens, lexical errors and `unterminatedAtEof` (parse::compareLexers); a difference aborts.
// Build with scripts/fuzz.sh (clang, -fsanitize=fuzzer,address,undefined).
#include "parse/parser.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  if (cfm::parse::findInvalidUtf8(text) != std::string::npos) return 0; // the parser never lexes it
  std::string diff = cfm::parse::compareLexers(text);
  if (!diff.empty()) {
    std::fprintf(stderr, "lexers differ: %s\n", diff.c_str());
    std::abort();
  }
  return 0;
}
