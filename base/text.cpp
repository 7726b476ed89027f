// text.cpp — JSON quoting (text.h).
#include "base/text.h"

#include <cstdio>
#include <ctime>

namespace cfm::base {

std::string jsonQuote(std::string_view s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
    case '"': o += "\\\""; break;
    case '\\': o += "\\\\"; break;
    case '\n': o += "\\n"; break;
    case '\t': o += "\\t"; break;
    case '\r': o += "\\r"; break;
    case '\b': o += "\\b"; break;
    case '\f': o += "\\f"; break;
    default:
      if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        o += buf;
      } else {
        o += static_cast<char>(c);
      }
    }
  }
  return o + "\"";
}

std::string errorJson(const Error &e) {
  std::string o = "{";
  if (e.loc)
    o += "\"file\":" + jsonQuote(e.loc->file) + ",\"line\":" + std::to_string(e.loc->line) +
         ",\"column\":" + std::to_string(e.loc->column) + ",";
  o += "\"severity\":\"error\",\"kind\":\"";
  o += errorKindName(e.kind);
  return o + "\",\"message\":" + jsonQuote(e.message) + "}";
}

std::string isoTimeMs(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

} // namespace cfm::base
