// driver.cpp — the conformance test driver: discovers every `.cfp` file under the given folders
// (never a hand-kept list; folders named `lib` hold imported helpers and are skipped), reads the
// expectations written in its comments (LANGUAGE.md "Test files") and checks them.
//
//   cfp-conformance [--verbose] DIR|FILE...
//
// Check mode (this front end): a file with `// error:` / `// error@N:` comments must report
// exactly those compile errors — each expected error at its line with a message containing the
// text, and no other error in the file; every other file must check clean. The run
// expectations (`// expect:`, `// expect runtime error:`) are read and counted here; the engines
// check them.
#include "frontend/frontend.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct ExpectedError {
  uint32_t line;
  std::string text;
  bool matched = false;
};

struct Expectations {
  std::vector<ExpectedError> errors;
  std::vector<std::string> output;
  std::string runtimeError;
  bool hasRuntimeError = false;
};

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

Expectations readExpectations(const std::string &text) {
  Expectations ex;
  std::istringstream in(text);
  std::string line;
  uint32_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    size_t c = line.find("//");
    while (c != std::string::npos) {
      std::string rest = line.substr(c + 2);
      std::string t = trim(rest);
      if (t.rfind("expect runtime error:", 0) == 0) {
        ex.hasRuntimeError = true;
        ex.runtimeError = trim(t.substr(21));
        break;
      }
      if (t.rfind("expect:", 0) == 0) {
        // The text after `expect: ` exactly (one space after the colon is the separator).
        size_t k = rest.find("expect:") + 7;
        std::string out = rest.substr(k);
        if (!out.empty() && out[0] == ' ') out.erase(0, 1);
        while (!out.empty() && out.back() == '\r') out.pop_back();
        ex.output.push_back(out);
        break;
      }
      if (t.rfind("error:", 0) == 0) {
        ex.errors.push_back({n, trim(t.substr(6))});
        break;
      }
      if (t.rfind("error@", 0) == 0) {
        size_t colon = t.find(':');
        if (colon != std::string::npos) {
          uint32_t at = static_cast<uint32_t>(std::strtoul(t.c_str() + 6, nullptr, 10));
          ex.errors.push_back({at, trim(t.substr(colon + 1))});
        }
        break;
      }
      c = line.find("//", c + 2);
    }
  }
  return ex;
}

bool isLibDir(const fs::path &p) {
  for (const auto &part : p)
    if (part == "lib") return true;
  return false;
}

struct Totals {
  int files = 0, passed = 0, failed = 0, errorTests = 0, runTests = 0;
};

bool checkFile(const fs::path &path, bool verbose, Totals &totals) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  Expectations ex = readExpectations(ss.str());
  if (!ex.errors.empty()) ++totals.errorTests;
  if (!ex.output.empty() || ex.hasRuntimeError) ++totals.runTests;

  std::unique_ptr<cfm::frontend::Compilation> comp;
  std::string readError;
  cfm::frontend::runWithLargeStack([&] {
    auto r = cfm::frontend::compileFile(path.string());
    if (r)
      comp = std::move(*r);
    else
      readError = r.error().message;
  });
  std::vector<std::string> problems;
  if (!comp) {
    problems.push_back(readError);
  } else {
    for (const cfm::support::Diagnostic &d : comp->diags.sorted()) {
      bool inThisFile = d.range.begin.file == 0;
      bool matched = false;
      if (inThisFile) {
        for (ExpectedError &e : ex.errors) {
          if (!e.matched && e.line == d.range.begin.line && d.message.find(e.text) != std::string::npos) {
            e.matched = true;
            matched = true;
            break;
          }
        }
      }
      if (!matched) {
        const auto &f = comp->sources.file(d.range.begin.file);
        problems.push_back("unexpected error: " + f.path() + ":" + std::to_string(d.range.begin.line) + ":" +
                           std::to_string(d.range.begin.col) + ": " + d.message);
      }
    }
    for (const ExpectedError &e : ex.errors)
      if (!e.matched) problems.push_back("missing error at line " + std::to_string(e.line) + ": " + e.text);
  }
  ++totals.files;
  if (problems.empty()) {
    ++totals.passed;
    if (verbose) std::cout << "PASS " << path.string() << '\n';
    return true;
  }
  ++totals.failed;
  std::cout << "FAIL " << path.string() << '\n';
  for (const auto &p : problems) std::cout << "    " << p << '\n';
  return false;
}

} // namespace

int main(int argc, char **argv) {
  bool verbose = false;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--verbose" || a == "-v") {
      verbose = true;
      continue;
    }
    if (a == "-h" || a == "--help") {
      std::cout << "usage: cfp-conformance [--verbose] DIR|FILE...\n";
      return 0;
    }
    fs::path p(a);
    if (fs::is_directory(p)) {
      for (const auto &e : fs::recursive_directory_iterator(p))
        if (e.is_regular_file() && e.path().extension() == ".cfp" && !isLibDir(fs::relative(e.path(), p)))
          files.push_back(e.path());
    } else if (fs::exists(p)) {
      files.push_back(p);
    } else {
      std::cerr << "cfp-conformance: no such file or folder: " << a << '\n';
      return 2;
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::cerr << "cfp-conformance: no .cfp files found\n";
    return 2;
  }
  Totals t;
  for (const auto &f : files) checkFile(f, verbose, t);
  std::cout << t.passed << " of " << t.files << " conformance files pass the front end (" << t.errorTests
            << " expect compile errors, " << t.files - t.errorTests << " check clean; " << t.runTests
            << " carry run expectations)\n";
  return t.failed == 0 ? 0 : 1;
}
