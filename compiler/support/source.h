// source.h — source files and locations.
//
// A SourceManager owns the text of every loaded file; a Loc names a character position (line and
// column count from 1, columns in Unicode characters as LANGUAGE.md requires) and a Range spans
// two of them. Locations are small values so that every AST node and diagnostic can carry one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cfm::support {

using FileId = uint32_t;

struct Loc {
  FileId file = 0;
  uint32_t line = 0; // 0 = unknown
  uint32_t col = 0;
};

struct Range {
  Loc begin;
  Loc end; // one past the last character (same file); may equal begin
};

class SourceFile {
public:
  SourceFile(std::string path, std::string text, size_t typedEnd = std::string::npos);
  const std::string &path() const { return path_; }
  /// Where what a user typed ends (a byte offset) when the rest of the text was generated
  /// around it (the REPL's wrapper); npos for a file. The parser calls whatever lies beyond it
  /// "end of input", so that no message names a token the user never typed.
  size_t typedEnd() const { return typedEnd_; }
  const std::string &text() const { return text_; }
  uint32_t lineCount() const { return static_cast<uint32_t>(lineStarts_.size()); }
  /// The text of line `line` (from 1) without its line terminator.
  std::string_view lineText(uint32_t line) const;

private:
  std::string path_;
  std::string text_;
  size_t typedEnd_;
  std::vector<size_t> lineStarts_;
};

class SourceManager {
public:
  FileId add(std::string path, std::string text, size_t typedEnd = std::string::npos);
  const SourceFile &file(FileId id) const { return *files_[id]; }
  size_t size() const { return files_.size(); }

private:
  std::vector<std::unique_ptr<SourceFile>> files_;
};

} // namespace cfm::support
