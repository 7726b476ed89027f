// text.h — JSON's quoting of text, shared by the runtime (to_json, printing strings inside
// collections) and the compiler's diagnostics (JSON output), so that both write strings alike;
// an Error as a JSON object for the programs' `--format json`; a time as ISO 8601 UTC.
#pragma once

#include "base/result.h"

#include <cstdint>
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

/// Unix milliseconds MS as ISO 8601 UTC with milliseconds: `2026-12-04T23:52:27.240Z` (EC2's
/// launchTime form, and cfmc's event times).
std::string isoTimeMs(int64_t ms);

} // namespace cfm::base
