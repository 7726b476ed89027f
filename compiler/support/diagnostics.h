// diagnostics.h — diagnostics and their consumers (STYLE.md "Diagnostics").
//
// Deep code never prints: it reports a Diagnostic (kind, range, message) to a DiagnosticEngine.
// At the end the engine's diagnostics, sorted and without duplicates, go to a consumer: the
// console (clang-style text with the source line and a caret), JSON for editors and CI, or a
// collecting consumer for the REPL and tests.
#pragma once

#include "support/source.h"

#include <initializer_list>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace cfm::support {

enum class DiagKind {
#define DIAG(kind, fmt) kind,
#include "support/diagnostics.def"
#undef DIAG
};

/// The kind's name as written in diagnostics.def (e.g. "UndefinedName").
const char *diagKindName(DiagKind k);
/// Replaces {0}, {1}, ... in the kind's format with `args`.
std::string formatDiag(DiagKind k, std::initializer_list<std::string_view> args);

struct Diagnostic {
  DiagKind kind;
  Range range;
  std::string message;
};

class DiagnosticEngine {
public:
  explicit DiagnosticEngine(const SourceManager &sm) : sm_(sm) {}
  void report(DiagKind k, Range r, std::initializer_list<std::string_view> args = {});
  void report(DiagKind k, Loc l, std::initializer_list<std::string_view> args = {}) {
    report(k, Range{l, l}, args);
  }
  size_t errorCount() const { return diags_.size(); }
  /// Diagnostics in file-load order, then line, then column; exact duplicates removed.
  std::vector<Diagnostic> sorted() const;
  const SourceManager &sources() const { return sm_; }

private:
  const SourceManager &sm_;
  std::vector<Diagnostic> diags_;
};

/// A source line longer than this is shown as this many bytes around the diagnostic's column.
constexpr size_t kShownLineBytes = 160;

/// `file:line:col: error: message`, the source line and a caret (tabs kept so the caret lines up).
void printConsole(const DiagnosticEngine &de, std::ostream &out);
/// {"diagnostics":[{"file":..,"line":..,"column":..,"endLine":..,"endColumn":..,
///   "severity":"error","kind":..,"message":..}, ...]}
void printJson(const DiagnosticEngine &de, std::ostream &out);
/// The objects of printJson's array, comma-separated; `first` tracks the separator across calls
/// so that several compilations can share one array.
void appendJson(const DiagnosticEngine &de, std::ostream &out, bool &first);
/// The indefinite article for `word` as it is read aloud: "an" before a vowel sound (`int`,
/// `Error`), "a" otherwise (`json`, `list<int>`, and `u` read as "you": `User`, `unit`).
const char *article(std::string_view word);
/// A JSON string literal for `s` (escapes quotes, backslashes and control characters).
std::string jsonQuote(std::string_view s);

} // namespace cfm::support
