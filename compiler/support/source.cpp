// source.cpp — line tables of source files.
#include "support/source.h"

namespace cfm::support {

SourceFile::SourceFile(std::string path, std::string text, size_t typedEnd)
    : path_(std::move(path)), text_(std::move(text)), typedEnd_(typedEnd) {
  lineStarts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n') lineStarts_.push_back(i + 1);
}

std::string_view SourceFile::lineText(uint32_t line) const {
  if (line == 0 || line > lineStarts_.size()) return {};
  size_t b = lineStarts_[line - 1];
  size_t e = line < lineStarts_.size() ? lineStarts_[line] - 1 : text_.size();
  std::string_view s(text_.data() + b, e - b);
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

FileId SourceManager::add(std::string path, std::string text, size_t typedEnd) {
  files_.push_back(std::make_unique<SourceFile>(std::move(path), std::move(text), typedEnd));
  return static_cast<FileId>(files_.size() - 1);
}

} // namespace cfm::support
