// engine.h — the language server's engine, independent of JSON-RPC: a workspace of open
// documents compiled by the front end (no second parser), and the queries an editor or the REPL
// asks of it (diagnostics, hover, completion, definition, references, symbols, signature help,
// formatting).
//
// Positions are an editor's: lines from 0 and characters in UTF-16 code units (LSP's default);
// the engine converts them to and from the front end's Locs (lines and columns from 1, columns in
// Unicode characters). Paths are file-system paths; an open document's text replaces the file on
// disk for every compilation, imports included. Nothing here prints.
#pragma once

#include "base/result.h"
#include "frontend/frontend.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cfm::lsp {

struct Position {
  uint32_t line = 0;      // from 0
  uint32_t character = 0; // UTF-16 code units from 0
};
struct Span {
  Position start, end;
};
struct Location {
  std::string path;
  Span range;
};
struct Diag {
  Span range;
  std::string message;
  std::string code; // the diagnostic's kind (diagnostics.def)
};

enum class ItemKind {
  Keyword,
  Variable,
  Constant,
  Function,
  Procedure,
  Template,
  Record,
  Field,
  Method,
  Module
};

struct CompletionEntry {
  std::string label;
  ItemKind kind = ItemKind::Variable;
  std::string detail; // a type or a signature
};
struct Symbol {
  std::string name;
  ItemKind kind = ItemKind::Function;
  std::string detail;
  Span range, selection;
  std::vector<Symbol> children;
};
struct HoverInfo {
  std::string text; // Markdown
  Span range;
};
struct TextEdit {
  Span range;
  std::string newText;
};
struct SignatureInfo {
  std::string label;               // `name(a: int, b: string) -> int`
  std::vector<std::string> params; // each parameter's text as it appears in the label
  int activeParameter = 0;
};

/// Open documents and their compilations. Each query compiles the document's program when its
/// text (or another open document's) changed since the last compilation, and keeps the last one
/// without syntax errors for queries on half-written text.
class Workspace {
public:
  void open(const std::string &path, std::string text);
  void change(const std::string &path, std::string text);
  void close(const std::string &path);
  bool isOpen(const std::string &path) const { return docs_.count(path) != 0; }
  const std::string *text(const std::string &path) const;
  std::vector<std::string> openPaths() const;

  /// The diagnostics of compiling `path` as a program (the same as `cfmc check`), by file: the
  /// root's entry is always present (maybe empty); an import's only when it has some.
  std::map<std::string, std::vector<Diag>> diagnose(const std::string &path);
  std::optional<HoverInfo> hover(const std::string &path, Position pos);
  std::vector<CompletionEntry> complete(const std::string &path, Position pos);
  std::vector<Location> definition(const std::string &path, Position pos);
  /// Every use of what `pos` names, its declaration included, in the program of `path`, of every
  /// other open document and, for a top-level name, of every `.cfp` file under the workspace's
  /// folders (setRoots) that mentions the name: such a file is compiled from disk (its imports
  /// from the open documents' text where they are open), and a file with syntax errors is skipped.
  std::vector<Location> references(const std::string &path, Position pos);
  /// The workspace's folders (the client's workspaceFolders, or its rootUri): where references
  /// look for files that are not open. At most kMaxWorkspaceFiles `.cfp` files are looked at;
  /// folders whose names start with `.` and `node_modules` are skipped.
  void setRoots(std::vector<std::string> roots);
  const std::vector<std::string> &roots() const { return roots_; }
  static constexpr size_t kMaxWorkspaceFiles = 5000;
  std::vector<Symbol> symbols(const std::string &path);
  std::optional<SignatureInfo> signature(const std::string &path, Position pos);
  /// What hover shows for the name `name` as the program of `path` sees it (Markdown): a
  /// built-in's or API function's signature and documentation, or a top-level declaration's
  /// (a function's signature and the comment above it, a record's fields, a constant's type).
  /// The REPL's `:doc`.
  std::optional<std::string> describe(const std::string &path, const std::string &name);
  /// The edits that lay out the open document `path` as `cfmc fmt` does (format::formatSource):
  /// one edit per run of changed lines, none when it is formatted already. With `lines`, only
  /// the edits whose changed lines meet lines [first, last] (range formatting). A document that
  /// does not parse is not formatted: the formatter's error (ErrorKind::Syntax, its diagnostics);
  /// a document that is not open: ErrorKind::Usage.
  Result<std::vector<TextEdit>> format(const std::string &path,
                                       std::optional<std::pair<uint32_t, uint32_t>> lines = std::nullopt);

private:
  struct Doc {
    std::string text;
    uint64_t version = 0;
  };
  struct Analysis {
    std::shared_ptr<frontend::Compilation> comp; // null when the root cannot be read
    uint64_t generation = 0;                     // of the workspace when it was made
  };
  Analysis &analyze(const std::string &path);
  frontend::Compilation *lastGood(const std::string &path);
  std::unique_ptr<frontend::Compilation> compileWith(const std::string &path, const std::string *replacement);
  /// The `.cfp` files under the roots, sorted, at most kMaxWorkspaceFiles.
  std::vector<std::string> workspaceFiles() const;
  /// A file that is not open, compiled from disk; kept while its size, modification time and the
  /// workspace's generation stay the same. Null when it cannot be read or does not parse.
  std::shared_ptr<frontend::Compilation> diskCompilation(const std::string &path);

  std::map<std::string, Doc> docs_;
  std::map<std::string, Analysis> current_;
  std::map<std::string, std::shared_ptr<frontend::Compilation>> good_; // without syntax errors
  uint64_t generation_ = 1;
  std::vector<std::string> roots_;
  struct DiskEntry {
    uintmax_t size = 0;
    int64_t mtime = 0;
    uint64_t generation = 0;
    std::shared_ptr<frontend::Compilation> comp;
  };
  std::map<std::string, DiskEntry> disk_; // by path
};

/// Byte offset in `text` of an editor's position (clamped to the text).
size_t offsetOf(const std::string &text, Position pos);

} // namespace cfm::lsp
