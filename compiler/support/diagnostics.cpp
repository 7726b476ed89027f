// diagnostics.cpp — formatting, ordering and printing of diagnostics.
#include "support/diagnostics.h"

#include "runtime/runtime.h"

#include <algorithm>
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

void printConsole(const DiagnosticEngine &de, std::ostream &out) {
  for (const Diagnostic &d : de.sorted()) {
    const Loc &l = d.range.begin;
    const SourceFile &f = de.sources().file(l.file);
    out << f.path() << ':' << l.line << ':' << l.col << ": error: " << d.message << '\n';
    std::string_view text = f.lineText(l.line);
    out << "    " << text << '\n' << "    ";
    // Walk l.col - 1 characters (UTF-8 sequences count once), keeping tabs.
    size_t chars = 0;
    for (size_t i = 0; i < text.size() && chars + 1 < l.col; ++i) {
      unsigned char c = static_cast<unsigned char>(text[i]);
      if ((c & 0xC0) == 0x80) continue;
      out << (c == '\t' ? '\t' : ' ');
      ++chars;
    }
    out << "^\n";
  }
}

std::string jsonQuote(std::string_view s) { return rt::quote(s); }

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
