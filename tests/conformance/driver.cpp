// driver.cpp — the conformance test driver: discovers every `.cfp` file under the given folders
// (never a hand-kept list; folders named `lib` hold imported helpers and are skipped), reads the
// expectations written in its comments (tests/README.md "Expectations"; LANGUAGE.md "Test files")
// and checks them.
//
//   cfp-conformance [--verbose] [--run CFMC --engine ENGINE] DIR|FILE...
//   cfp-conformance --check-names DIR...
//
// Check mode (this front end): a file with `// error: TEXT` / `// error@LINE: TEXT` comments
// (LANGUAGE.md) must report exactly those compile errors — each at its line, with a message
// containing TEXT — and no other error; every other file must check clean. This project's files
// also give the column (`// error:COL: TEXT`, `// error@LINE:COL: TEXT`), which must then match
// too; `--require-columns` (how ctest runs our tree) makes a column-less expectation a failure.
// An `error` comment in no known form is itself a failure.
// Run mode (`--run CFMC --engine E`): every file with run expectations is run by
// `CFMC run --engine E FILE`; its standard output must be exactly the `// expect:` lines, and a
// `// expect runtime error: TEXT` file must exit 1 with `error: ` and TEXT on stderr. A file the
// engine reports as using what it does not run yet (exit status 3, e.g. tasks before the
// scheduler exists) is listed as SKIP with the engine's reason — never silently. With `--twice`
// (the JIT's object cache: ctest conformance.jit) every such file is run a second time with
// `--time`, in a fresh cache folder the first run filled: its stdout, stderr (less the --time
// lines) and exit status must be the first run's, and at least one second run must have run
// without loading the JIT engine (cfmc's light path: the count is printed).
// Names mode (`--check-names`): fails when two `.cfp` files anywhere under the folders (helpers
// in `lib/` included) share a file name, so that a name says which test is meant.
#include "frontend/frontend.h"

#include <algorithm>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct ExpectedError {
  uint32_t line;
  uint32_t col;
  std::string text;
  bool matched = false;
};

struct Expectations {
  std::vector<ExpectedError> errors;
  std::vector<std::string> output;
  std::string runtimeError;
  bool hasRuntimeError = false;
  /// `error` comments in no known form, each as "line N: the comment".
  std::vector<std::string> malformed;
};

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

/// Reads a decimal number at `pos` (at least one digit, no sign) and moves `pos` past it.
bool readNumber(const std::string &s, size_t &pos, uint32_t &out) {
  size_t start = pos;
  uint64_t v = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9' && v <= UINT32_MAX) v = v * 10 + (s[pos++] - '0');
  if (pos == start || v == 0 || v > UINT32_MAX) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

/// LANGUAGE.md's `error: TEXT` (at the comment's own line, already in `e.line`) and
/// `error@LINE: TEXT`, each optionally with a column after the line: `error:COL: TEXT`,
/// `error@LINE:COL: TEXT` (a number followed by `:` right after the colon is the column).
/// `t` is the comment's text after `//`, trimmed; TEXT must not be empty. No column: e.col = 0.
bool parseErrorExpectation(const std::string &t, ExpectedError &e) {
  size_t pos = 5; // after "error"
  if (t[pos] == '@') {
    ++pos;
    if (!readNumber(t, pos, e.line) || pos >= t.size() || t[pos] != ':') return false;
  }
  ++pos; // the ':' after "error" or after the line
  size_t afterColon = pos;
  if (!readNumber(t, pos, e.col) || pos >= t.size() || t[pos] != ':') {
    e.col = 0; // no column: TEXT starts right after the colon
    pos = afterColon - 1;
  }
  e.text = trim(t.substr(pos + 1));
  return !e.text.empty();
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
      if (t.rfind("error:", 0) == 0 || t.rfind("error@", 0) == 0) {
        ExpectedError e{n, 0, {}};
        if (parseErrorExpectation(t, e))
          ex.errors.push_back(e);
        else
          ex.malformed.push_back("line " + std::to_string(n) + ": //" + rest);
        break;
      }
      c = line.find("//", c + 2);
    }
  }
  return ex;
}

std::string position(uint32_t line, uint32_t col) {
  return col ? std::to_string(line) + ":" + std::to_string(col) : std::to_string(line);
}

/// --require-columns: every expected error must give its column (this project's own tree does;
/// LANGUAGE.md's column-less forms stay valid for other files).
bool gRequireColumns = false;

bool isLibDir(const fs::path &p) {
  for (const auto &part : p)
    if (part == "lib") return true;
  return false;
}

struct Totals {
  int files = 0, passed = 0, failed = 0, errorTests = 0, runTests = 0, skipped = 0;
  int secondRuns = 0, lightRuns = 0; // --twice: second runs, and those run without the JIT engine
};

struct RunConfig {
  std::string cfmc, engine;
  std::vector<std::string> extraArgs; // --cfmc-arg: given to `cfmc run` before the file
  std::string tmp;
  bool twice = false; // --twice: each file run again from the object cache (CFM_CACHE_DIR in tmp)
};

std::string slurp(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs `cfmc run --engine E [extra args] [more] file`, capturing stdout and stderr; returns the exit
/// status (128 + signal when killed).
int runProgram(const RunConfig &rc, const std::string &file, std::string &out, std::string &err,
               const std::vector<std::string> &more = {}) {
  std::string outPath = rc.tmp + "/out", errPath = rc.tmp + "/err";
  pid_t pid = fork();
  if (pid == 0) {
    int o = open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    std::vector<const char *> args{rc.cfmc.c_str(), "run", "--engine", rc.engine.c_str()};
    for (const std::string &a : rc.extraArgs) args.push_back(a.c_str());
    for (const std::string &a : more) args.push_back(a.c_str());
    args.push_back(file.c_str());
    args.push_back(nullptr);
    execv(rc.cfmc.c_str(), const_cast<char *const *>(args.data()));
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  out = slurp(outPath);
  err = slurp(errPath);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return WEXITSTATUS(st);
}

std::vector<std::string> lines(const std::string &s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  std::string l;
  while (std::getline(in, l)) v.push_back(l);
  return v;
}

/// Run mode: output and runtime errors as the file expects. Returns false with problems listed.
void checkRun(const RunConfig &rc, const fs::path &path, const Expectations &ex,
              std::vector<std::string> &problems, bool &skipped, std::string &skipReason, Totals &totals) {
  std::string out, err;
  int status = runProgram(rc, path.string(), out, err);
  if (status == 3) {
    skipped = true;
    skipReason = err.substr(0, err.find('\n'));
    return;
  }
  if (rc.twice) {
    // Again, from the object cache the first run filled, with --time saying how it ran: the same
    // stdout, stderr (less the --time lines) and exit status, byte for byte.
    std::string out2, err2, kept;
    int status2 = runProgram(rc, path.string(), out2, err2, {"--time"});
    ++totals.secondRuns;
    for (const std::string &l : lines(err2)) {
      if (l.rfind("front end: ", 0) == 0 || l.rfind("jit (O", 0) == 0) {
        if (l.find("LLVM not loaded") != std::string::npos) ++totals.lightRuns;
        continue;
      }
      kept += l + "\n";
    }
    if (out2 != out) problems.push_back("second run (from the cache): stdout differs from the first run's");
    if (kept != err)
      problems.push_back("second run (from the cache): stderr differs: " + kept.substr(0, 300));
    if (status2 != status)
      problems.push_back("second run (from the cache): exit status " + std::to_string(status2) + ", first " +
                         std::to_string(status));
  }
  std::vector<std::string> got = lines(out);
  if (got != ex.output) {
    problems.push_back("output differs (want " + std::to_string(ex.output.size()) + " lines, got " +
                       std::to_string(got.size()) + ")");
    size_t n = std::max(got.size(), ex.output.size());
    for (size_t i = 0, shown = 0; i < n && shown < 6; ++i) {
      std::string w = i < ex.output.size() ? ex.output[i] : "<none>";
      std::string g = i < got.size() ? got[i] : "<none>";
      if (w != g) {
        problems.push_back("  line " + std::to_string(i + 1) + ": want `" + w + "`, got `" + g + "`");
        ++shown;
      }
    }
  }
  if (ex.hasRuntimeError) {
    if (status != 1) problems.push_back("exit status " + std::to_string(status) + ", want 1");
    if (err.find("error: " + ex.runtimeError) == std::string::npos)
      problems.push_back("stderr lacks `error: " + ex.runtimeError + "`: " + err.substr(0, 300));
  } else if (status != 0) {
    problems.push_back("exit status " + std::to_string(status) + ": " + err.substr(0, 300));
  }
}

bool checkFile(const fs::path &path, bool verbose, Totals &totals, const RunConfig *rc) {
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
    std::vector<cfm::support::Diagnostic> diags = comp->diags.sorted();
    std::vector<bool> expected(diags.size(), false);
    for (size_t i = 0; i < diags.size(); ++i) {
      const cfm::support::Diagnostic &d = diags[i];
      if (d.range.begin.file != 0) continue; // an imported file's errors are never expected
      for (ExpectedError &e : ex.errors) {
        if (!e.matched && e.line == d.range.begin.line && (e.col == 0 || e.col == d.range.begin.col) &&
            d.message.find(e.text) != std::string::npos) {
          e.matched = true;
          expected[i] = true;
          break;
        }
      }
    }
    for (size_t i = 0; i < diags.size(); ++i) {
      if (expected[i]) continue;
      const cfm::support::Diagnostic &d = diags[i];
      problems.push_back("unexpected error: " + comp->sources.file(d.range.begin.file).path() + ":" +
                         position(d.range.begin.line, d.range.begin.col) + ": " + d.message);
    }
    for (const ExpectedError &e : ex.errors) {
      if (e.matched) continue;
      std::string where;
      for (size_t i = 0; i < diags.size(); ++i)
        if (!expected[i] && diags[i].range.begin.file == 0 && diags[i].range.begin.line == e.line &&
            diags[i].message.find(e.text) != std::string::npos)
          where = " (reported at column " + std::to_string(diags[i].range.begin.col) + ")";
      problems.push_back("missing error at " + position(e.line, e.col) + ": " + e.text + where);
    }
  }
  for (const std::string &m : ex.malformed)
    problems.push_back("malformed expectation (write `// error:COL: TEXT` or `// error@LINE:COL: TEXT`), " +
                       m);
  if (gRequireColumns)
    for (const ExpectedError &e : ex.errors)
      if (e.col == 0)
        problems.push_back("expected error at line " + std::to_string(e.line) +
                           " without a column (--require-columns: " + "write `// error:COL: " + e.text +
                           "`)");
  ++totals.files;
  if (rc && problems.empty() && ex.errors.empty() && (!ex.output.empty() || ex.hasRuntimeError)) {
    bool skipped = false;
    std::string reason;
    checkRun(*rc, path, ex, problems, skipped, reason, totals);
    if (skipped) {
      ++totals.skipped;
      std::cout << "SKIP " << path.string() << " (" << reason << ")\n";
      return true;
    }
  }
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

/// Names mode: every `.cfp` file under `dirs` (helpers in `lib/` included) must have a file name
/// no other file there has. Returns the exit status.
int checkNames(const std::vector<fs::path> &dirs) {
  std::map<std::string, std::vector<std::string>> byName;
  size_t files = 0;
  for (const fs::path &d : dirs)
    for (const auto &e : fs::recursive_directory_iterator(d))
      if (e.is_regular_file() && e.path().extension() == ".cfp") {
        byName[e.path().filename().string()].push_back(e.path().string());
        ++files;
      }
  int clashes = 0;
  for (auto &[name, paths] : byName) {
    if (paths.size() < 2) continue;
    ++clashes;
    std::sort(paths.begin(), paths.end());
    std::cout << "FAIL " << name << " names " << paths.size() << " files:\n";
    for (const std::string &p : paths) std::cout << "    " << p << '\n';
  }
  std::cout << files << " .cfp files, " << byName.size() << " names, " << clashes << " used more than once\n";
  return clashes == 0 && files > 0 ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  bool verbose = false;
  bool namesOnly = false;
  std::vector<fs::path> files, dirs;
  RunConfig rc;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--verbose" || a == "-v") {
      verbose = true;
      continue;
    }
    if (a == "-h" || a == "--help") {
      std::cout << "usage: cfp-conformance [--verbose] [--require-columns] [--run CFMC --engine ENGINE "
                   "[--cfmc-arg ARG]... [--twice]] DIR|FILE...\n"
                   "       cfp-conformance --check-names DIR...\n";
      return 0;
    }
    if (a == "--require-columns") {
      gRequireColumns = true;
      continue;
    }
    if (a == "--check-names") {
      namesOnly = true;
      continue;
    }
    if (a == "--twice") {
      rc.twice = true;
      continue;
    }
    if (a == "--cfmc-arg" && i + 1 < argc) {
      rc.extraArgs.push_back(argv[++i]);
      continue;
    }
    if ((a == "--run" || a == "--engine") && i + 1 < argc) {
      (a == "--run" ? rc.cfmc : rc.engine) = argv[++i];
      continue;
    }
    fs::path p(a);
    if (namesOnly) {
      if (!fs::is_directory(p)) {
        std::cerr << "cfp-conformance: --check-names takes folders: " << a << '\n';
        return 2;
      }
      dirs.push_back(p);
      continue;
    }
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
  if (namesOnly) return checkNames(dirs);
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::cerr << "cfp-conformance: no .cfp files found\n";
    return 2;
  }
  bool running = !rc.cfmc.empty();
  if (running) {
    if (rc.engine.empty()) rc.engine = "interp";
    char tmpl[] = "/tmp/cfp-conformance-XXXXXX";
    if (!mkdtemp(tmpl)) {
      std::cerr << "cfp-conformance: cannot make a temporary folder\n";
      return 2;
    }
    rc.tmp = tmpl;
    // A fresh object cache for the run (the second run of --twice reads what the first stored).
    if (rc.twice) setenv("CFM_CACHE_DIR", (rc.tmp + "/cache").c_str(), 1);
  }
  Totals t;
  for (const auto &f : files) checkFile(f, verbose, t, running ? &rc : nullptr);
  if (running) {
    fs::remove_all(rc.tmp);
    std::cout << t.passed << " of " << t.files << " conformance files pass with the " << rc.engine
              << " engine (" << t.runTests << " carry run expectations; " << t.skipped
              << " skipped, listed above)\n";
    if (rc.twice) {
      std::cout << t.lightRuns << " of " << t.secondRuns
                << " second runs ran from the object cache without loading the JIT engine\n";
      if (t.lightRuns == 0) {
        std::cout << "FAIL no second run ran without the JIT engine\n";
        return 1;
      }
    }
  } else {
    std::cout << t.passed << " of " << t.files << " conformance files pass the front end (" << t.errorTests
              << " expect compile errors, " << t.files - t.errorTests << " check clean; " << t.runTests
              << " carry run expectations)\n";
  }
  return t.failed == 0 ? 0 : 1;
}
