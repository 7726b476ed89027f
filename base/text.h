// text.h — JSON's quoting of text, shared by the runtime (to_json, printing strings inside
// collections) and the compiler's diagnostics (JSON output), so that both write strings alike;
// an Error as a JSON object for the programs' `--format json`.
#pragma once

#include "base/result.h"

#include <string>
#include <string_view>

namespace cfm::base {

/// A JSON string literal: escapes `"`, `\` and control characters (\n, \t, \r, \b, \f, else
/// \u00XX), leaves other UTF-8 as is.
std::string jsonQuote(std::string_view s);

/// E as one JSON object with the fields of a compiler diagnostic where it has them:
/// `{"file":…,"line":…,"column":…,"severity":"error","kind":"Io","message":…}` (`file`, `line`,
/// `column` only when E has a place; `line`/`column` 0 when the place is the whole file).
std::string errorJson(const Error &e);

} // namespace cfm::base
