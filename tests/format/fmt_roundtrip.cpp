// fmt_roundtrip.cpp — ctest `fmt.roundtrip`: every .cfp file under the given folders is formatted
// (compiler/format); the result must be a fixed point (formatting it again changes nothing) and
// parse to the same syntax tree as the original. A file that does not parse must be refused with
// its syntax errors (and is counted as refused); anything else fails the test.
//
//   cfm-fmt-roundtrip [-v] DIR...
#include "base/files.h"
#include "format/ast_dump.h"
#include "format/formatter.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  bool verbose = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-v") {
      verbose = true;
      continue;
    }
    std::error_code ec;
    if (std::filesystem::is_directory(a, ec)) {
      for (auto it = std::filesystem::recursive_directory_iterator(a, ec); !ec && it != decltype(it)();
           it.increment(ec))
        if (it->path().extension() == ".cfp") files.push_back(it->path().string());
    } else {
      files.push_back(a);
    }
  }
  std::sort(files.begin(), files.end());
  int formatted = 0, changed = 0, refused = 0, failed = 0;
  for (const std::string &f : files) {
    cfm::Result<std::string> text = cfm::base::readRegularFile(f, uint64_t(8) << 20);
    if (!text) {
      std::cerr << f << ": FAIL: cannot read: " << text.error().message << "\n";
      ++failed;
      continue;
    }
    cfm::Result<std::string> once = cfm::format::formatSource(f, *text);
    if (!once) {
      if (once.error().kind == cfm::ErrorKind::Syntax &&
          cfm::format::dumpSource(f, *text).error().kind == cfm::ErrorKind::Syntax) {
        ++refused;
        if (verbose) std::cout << f << ": refused (syntax errors)\n";
        continue;
      }
      std::cerr << f << ": FAIL: " << once.error().message << "\n";
      ++failed;
      continue;
    }
    cfm::Result<std::string> twice = cfm::format::formatSource(f, *once);
    if (!twice || *twice != *once) {
      std::cerr << f << ": FAIL: formatting the formatted text "
                << (twice ? "changes it" : "fails: " + twice.error().message) << "\n";
      ++failed;
      continue;
    }
    cfm::Result<std::string> a = cfm::format::dumpSource(f, *text), b = cfm::format::dumpSource(f, *once);
    if (!a || !b || *a != *b) {
      std::cerr << f << ": FAIL: the formatted text parses to another syntax tree\n";
      ++failed;
      continue;
    }
    ++formatted;
    if (*once != *text) ++changed;
    if (verbose) std::cout << f << ": ok" << (*once != *text ? " (changed)" : "") << "\n";
  }
  std::cout << files.size() << " files: " << formatted << " formatted (" << changed << " changed by it, "
            << formatted - changed << " already formatted), " << refused << " refused (syntax errors), "
            << failed << " failed\n";
  return failed == 0 && !files.empty() ? 0 : 1;
}
