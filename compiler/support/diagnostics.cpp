// diagnostics.cpp — formatting, ordering and printing of diagnostics.
#include "support/diagnostics.h"

#include "base/text.h"

#include <algorithm>
#include <cctype>
#include <ostream>
#include <tuple>

namespace cfm::support {

namespace {
struct KindInfo {
  const char *name;
  const char *format;
};
constexpr KindInfo kKinds[] = {
#define DIAG(kind, fmt) {#kind, fmt},
#include "support/diagnostics.def"
#undef DIAG
};
} // namespace

const char *diagKindName(DiagKind k) { return kKinds[static_cast<int>(k)].name; }

std::string formatDiag(DiagKind k, std::initializer_list<std::string_view> args) {
  std::string_view f = kKinds[static_cast<int>(k)].format;
  std::string out;
  out.reserve(f.size() + 32);
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == '{' && i + 2 < f.size() && f[i + 1] >= '0' && f[i + 1] <= '9' && f[i + 2] == '}') {
      size_t n = static_cast<size_t>(f[i + 1] - '0');
      if (n < args.size()) out += *(args.begin() + n);
      i += 2;
    } else {
      out += f[i];
    }
  }
  return out;
}

void DiagnosticEngine::report(DiagKind k, Range r, std::initializer_list<std::string_view> args) {
  diags_.push_back(Diagnostic{k, r, formatDiag(k, args)});
}

std::vector<Diagnostic> DiagnosticEngine::sorted() const {
  std::vector<Diagnostic> v = diags_;
  auto key = [](const Diagnostic &d) {
    return std::make_tuple(d.range.begin.file, d.range.begin.line, d.range.begin.col);
  };
  std::stable_sort(v.begin(), v.end(),
                   [&](const Diagnostic &a, const Diagnostic &b) { return key(a) < key(b); });
  std::vector<Diagnostic> out;
  for (auto &d : v) {
    bool dup = false;
    for (size_t j = out.size(); j-- > 0;) {
      if (key(out[j]) != key(d)) break;
      if (out[j].message == d.message) dup = true;
    }
    if (!dup) out.push_back(std::move(d));
  }
  return out;
}

namespace {

bool utf8Continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

/// Where column `col` (counting UTF-8 sequences once) is in a line: a byte offset found by
/// walking on from the previous diagnostic's place when it is on the same line and not further
/// right, so that printing many diagnostics on one long line stays linear in its length.
struct ColumnCursor {
  const void *line = nullptr;
  uint32_t col = 1;
  size_t byte = 0;
  size_t at(std::string_view text, uint32_t want) {
    if (line != text.data() || want < col) {
      line = text.data();
      col = 1;
      byte = 0;
    }
    while (col < want && byte < text.size()) {
      ++byte;
      while (byte < text.size() && utf8Continuation(text[byte])) ++byte;
      ++col;
    }
    return byte;
  }
};

} // namespace

void printConsole(const DiagnosticEngine &de, std::ostream &out) {
  ColumnCursor cursor;
  std::string buf;
  for (const Diagnostic &d : de.sorted()) {
    const Loc &l = d.range.begin;
    const SourceFile &f = de.sources().file(l.file);
    buf.clear();
    buf += f.path();
    buf += ':' + std::to_string(l.line) + ':' + std::to_string(l.col) + ": error: " + d.message + '\n';
    std::string_view text = f.lineText(l.line);
    size_t at = cursor.at(text, l.col);
    // A long line is shown as a window around the column, `...` marking what is left out.
    size_t from = 0, to = text.size();
    if (text.size() > kShownLineBytes) {
      from = at > kShownLineBytes / 2 ? at - kShownLineBytes / 2 : 0;
      to = std::min(text.size(), from + kShownLineBytes);
      while (from > 0 && utf8Continuation(text[from])) --from;
      while (to < text.size() && utf8Continuation(text[to])) ++to;
    }
    buf += "    ";
    if (from > 0) buf += "...";
    buf += text.substr(from, to - from);
    if (to < text.size()) buf += "...";
    buf += "\n    ";
    if (from > 0) buf += "   ";
    // The caret under the column: one space per character before it (tabs kept).
    for (size_t i = from; i < at; ++i)
      if (!utf8Continuation(text[i])) buf += text[i] == '\t' ? '\t' : ' ';
    buf += "^\n";
    out << buf; // one write per diagnostic (std::cerr is unbuffered)
  }
}

const char *article(std::string_view word) {
  auto lower = [&](size_t i) {
    return i < word.size() ? static_cast<char>(std::tolower(static_cast<unsigned char>(word[i]))) : '\0';
  };
  auto vowel = [](char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; };
  char c = lower(0);
  if (c == 'u') // `u` + one consonant + vowel reads "you" (`user`, `unit`, `uri`); else "uh" (`update`)
    return !vowel(lower(1)) && lower(1) != '\0' && vowel(lower(2)) ? "a" : "an";
  return vowel(c) ? "an" : "a";
}

std::string jsonQuote(std::string_view s) { return base::jsonQuote(s); }

void appendJson(const DiagnosticEngine &de, std::ostream &out, bool &first) {
  for (const Diagnostic &d : de.sorted()) {
    const Loc &b = d.range.begin;
    Loc e = d.range.end.line ? d.range.end : b;
    out << (first ? "" : ",") << "{\"file\":" << jsonQuote(de.sources().file(b.file).path())
        << ",\"line\":" << b.line << ",\"column\":" << b.col << ",\"endLine\":" << e.line
        << ",\"endColumn\":" << e.col << ",\"severity\":\"error\",\"kind\":\"" << diagKindName(d.kind)
        << "\",\"message\":" << jsonQuote(d.message) << '}';
    first = false;
  }
}

void printJson(const DiagnosticEngine &de, std::ostream &out) {
  bool first = true;
  out << "{\"diagnostics\":[";
  appendJson(de, out, first);
  out << "]}\n";
}

} // namespace cfm::support
