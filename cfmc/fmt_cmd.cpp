// fmt_cmd.cpp — `cfmc fmt`: reads each file, formats it with format::formatSource, and writes
// it back atomically when it changed (or, with --check, names it; with --diff, shows the change).
#include "cfmc/fmt_cmd.h"

#include "base/atomic_file.h"
#include "base/files.h"
#include "format/formatter.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace cfm::driver {

namespace {

const char *const kHelp = R"(usage: cfmc fmt [--check] [--diff] FILE|DIR|-...

Lays out each procedure file in CFM's one canonical layout (docs/fmt.md): two spaces a level,
one statement a line, one space around binary operators, blank lines kept up to one, the
author's line breaks inside expressions and lists kept; comments stay where they are, strings
and template bodies are kept byte for byte. Formatting a formatted file changes nothing, and
the formatted file parses to the same program. A file with syntax errors is not touched: its
errors are printed.

A FILE is rewritten in place (atomically, and only when it changes). A DIR stands for every
.cfp file beneath it. `-` reads standard input and writes the formatted text to standard output.

options:
  --check       write nothing; print the name of each file that would change, and exit 1 if any
  --diff        write nothing; print what would change as a unified diff (with --check: exit 1
                when there is a difference)
  -h, --help    this help

Exit status: 0 done (or, with --check, every file already formatted); 1 a file would change
(--check), could not be read or written, or has syntax errors; 2 bad usage.
)";

/// Source files are at most this big (as for `cfmc check`).
constexpr uint64_t kMaxSourceBytes = uint64_t(8) << 20;

int usage(const std::string &msg) {
  std::cerr << "cfmc fmt: " << msg << "\n\n" << kHelp;
  return 2;
}

std::vector<std::string> splitLines(const std::string &s) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t e = s.find('\n', pos);
    if (e == std::string::npos) e = s.size();
    lines.push_back(s.substr(pos, e - pos));
    pos = e + 1;
  }
  return lines;
}

/// A unified diff of `a` and `b` by lines (longest common subsequence on the part between the
/// common head and tail; a middle too large for that is shown as replaced whole).
std::string unifiedDiff(const std::string &name, const std::string &a, const std::string &b) {
  std::vector<std::string> x = splitLines(a), y = splitLines(b);
  size_t head = 0;
  while (head < x.size() && head < y.size() && x[head] == y[head]) ++head;
  size_t tail = 0;
  while (tail < x.size() - head && tail < y.size() - head && x[x.size() - 1 - tail] == y[y.size() - 1 - tail])
    ++tail;
  size_t n = x.size() - head - tail, m = y.size() - head - tail;
  // ops over the whole files: ' ' same, '-' only in a, '+' only in b.
  std::vector<char> ops(head, ' ');
  if (n * m <= 16'000'000) {
    std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
    for (size_t i = n; i-- > 0;)
      for (size_t j = m; j-- > 0;)
        lcs[i][j] =
            x[head + i] == y[head + j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && x[head + i] == y[head + j]) {
        ops.push_back(' ');
        ++i, ++j;
      } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
        ops.push_back('-'); // what goes before what comes
        ++i;
      } else {
        ops.push_back('+');
        ++j;
      }
    }
  } else {
    ops.insert(ops.end(), n, '-');
    ops.insert(ops.end(), m, '+');
  }
  ops.insert(ops.end(), tail, ' ');

  std::ostringstream out;
  out << "--- " << name << "\n+++ " << name << " (formatted)\n";
  constexpr size_t kContext = 3;
  size_t k = 0;
  while (k < ops.size()) {
    if (ops[k] == ' ') {
      ++k;
      continue;
    }
    // A hunk: from kContext lines before this change to kContext after the last change that is
    // at most 2 * kContext lines from the next.
    size_t start = k >= kContext ? k - kContext : 0, end = k;
    while (end < ops.size()) {
      size_t next = end;
      while (next < ops.size() && ops[next] == ' ') ++next;
      if (next == ops.size() || next - end > 2 * kContext) break;
      while (next < ops.size() && ops[next] != ' ') ++next;
      end = next;
    }
    end = std::min(ops.size(), end + kContext);
    size_t ai = 0, bi = 0; // lines of a and b before `start`
    for (size_t q = 0; q < start; ++q) {
      if (ops[q] != '+') ++ai;
      if (ops[q] != '-') ++bi;
    }
    size_t an = 0, bn = 0;
    for (size_t q = start; q < end; ++q) {
      if (ops[q] != '+') ++an;
      if (ops[q] != '-') ++bn;
    }
    out << "@@ -" << (an ? ai + 1 : ai) << ',' << an << " +" << (bn ? bi + 1 : bi) << ',' << bn << " @@\n";
    for (size_t q = start; q < end; ++q) {
      if (ops[q] == '+')
        out << '+' << y[bi++] << '\n';
      else if (ops[q] == '-')
        out << '-' << x[ai++] << '\n';
      else {
        out << ' ' << x[ai++] << '\n';
        ++bi;
      }
    }
    k = end;
  }
  return out.str();
}

struct Options {
  bool check = false, diff = false;
};

/// Formats one text; prints what the options ask. Returns 0, 1 (changed under --check, or an
/// error), and sets `changed`.
int formatOne(const std::string &name, const std::string &text, const Options &o, bool toStdout) {
  Result<std::string> r = format::formatSource(name, text);
  if (!r) {
    const Error &e = r.error();
    if (e.kind == ErrorKind::Syntax)
      std::cerr << e.message << "\ncfmc fmt: " << name << ": not formatted: it has syntax errors\n";
    else
      std::cerr << "cfmc fmt: error: " << name << ": " << e.message << "\n";
    return 1;
  }
  const std::string &out = *r;
  bool changed = out != text;
  if (o.diff && changed) std::cout << unifiedDiff(name, text, out);
  if (o.check) {
    if (changed && !o.diff) std::cout << name << "\n";
    return changed ? 1 : 0;
  }
  if (o.diff) return 0;
  if (toStdout) {
    std::cout << out;
    return 0;
  }
  if (!changed) return 0;
  Result<void> w = base::replaceFileAtomically(name, out);
  if (!w) {
    std::cerr << "cfmc fmt: error: cannot write `" << name << "`: " << w.error().message << "\n";
    return 1;
  }
  return 0;
}

} // namespace

int cmdFmt(const std::vector<std::string> &args) {
  Options o;
  std::vector<std::string> inputs;
  bool onlyFiles = false;
  for (const std::string &a : args) {
    if (!onlyFiles && (a == "-h" || a == "--help")) {
      std::cout << kHelp;
      return 0;
    }
    if (!onlyFiles && a == "--check")
      o.check = true;
    else if (!onlyFiles && a == "--diff")
      o.diff = true;
    else if (!onlyFiles && a == "--")
      onlyFiles = true;
    else if (!onlyFiles && a.size() > 1 && a[0] == '-')
      return usage("unknown option `" + a + "`");
    else
      inputs.push_back(a);
  }
  if (inputs.empty()) return usage("no files given (`-` formats standard input)");

  // Directories stand for the .cfp files beneath them, in name order.
  std::vector<std::string> files;
  int status = 0;
  for (const std::string &in : inputs) {
    std::error_code ec;
    if (in != "-" && std::filesystem::is_directory(in, ec)) {
      std::vector<std::string> found;
      std::filesystem::recursive_directory_iterator it(in, ec), end;
      for (; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".cfp" && it->is_regular_file(ec)) found.push_back(it->path().string());
      if (ec) {
        std::cerr << "cfmc fmt: error: cannot read directory `" << in << "`: " << ec.message() << "\n";
        status = 1;
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(in);
    }
  }

  for (const std::string &f : files) {
    std::string text;
    if (f == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
      status = std::max(status, formatOne("<stdin>", text, o, true));
      continue;
    }
    Result<std::string> r = base::readRegularFile(f, kMaxSourceBytes);
    if (!r) {
      std::cerr << "cfmc fmt: error: cannot read `" << f << "`: " << r.error().message << "\n";
      status = 1;
      continue;
    }
    status = std::max(status, formatOne(f, *r, o, false));
  }
  return status;
}

} // namespace cfm::driver
