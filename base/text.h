// text.h — JSON's quoting of text, shared by the runtime (to_json, printing strings inside
// collections) and the compiler's diagnostics (JSON output), so that both write strings alike.
#pragma once

#include <string>
#include <string_view>

namespace cfm::base {

/// A JSON string literal: escapes `"`, `\` and control characters (\n, \t, \r, \b, \f, else
/// \u00XX), leaves other UTF-8 as is.
std::string jsonQuote(std::string_view s);

} // namespace cfm::base
