// ast_dump.h — a text dump of a module's syntax tree without source positions, so that two
// layouts of one program compare equal (cfmc fmt's "same AST" check and its tests).
#pragma once

#include "ast/ast.h"
#include "base/result.h"

#include <string>
#include <string_view>

namespace cfm::format {

/// The declarations of `m` as nested S-expressions: node kinds, names, operators, literal values
/// (strings escaped), types, template bodies; no lines or columns, no checker annotations.
std::string dumpModule(const ast::Module &m);

/// Parses `text` (named `path` in diagnostics) and dumps its tree; an error with the
/// diagnostics when it does not parse. Runs on a large stack (deep expressions).
Result<std::string> dumpSource(std::string_view path, std::string_view text);

} // namespace cfm::format
