// formatter.h — CFM's source formatter (`cfmc fmt`, and the language server's formatting): one
// canonical layout of a procedure file, comments kept (docs/fmt.md tells the rules).
//
// Built on the front end's own parser: the file's tokens with the constructs that hold them
// (parse::SyntaxToken) decide the spaces and line breaks, the comments are what lies between
// tokens, strings and template bodies are kept byte for byte. The result is checked before it
// is returned: it must parse to the same syntax tree (ast_dump.h) and keep every comment.
#pragma once

#include "base/result.h"

#include <string>
#include <string_view>

namespace cfm::format {

/// Spaces per level of indentation.
constexpr int kIndentWidth = 2;

/// The formatted text of `text` (a procedure file named `path` in messages). A file that does not
/// parse is not formatted: ErrorKind::Syntax with every diagnostic, one `file:line:col: error:
/// message` a line, and the first one's place in `loc`. Formatting a formatted text gives it back
/// unchanged. ErrorKind::Internal if the layout would change the program (a bug, never expected).
/// Thread-safe; runs the parser on a thread with a large stack.
Result<std::string> formatSource(std::string_view path, std::string_view text);

} // namespace cfm::format
