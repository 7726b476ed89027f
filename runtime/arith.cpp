// arith.cpp — checked integer arithmetic and conversions (LANGUAGE.md "Errors", "Precise
// rules": overflow is an error, `/` truncates toward zero, `%` has the sign of the dividend).
#include "runtime/runtime.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

namespace cfm::rt {

bool addInt(int64_t a, int64_t b, int64_t &out) {
  if (__builtin_add_overflow(a, b, &out))
    return raise(ErrKind::Overflow, "integer overflow: " + std::to_string(a) + " + " + std::to_string(b));
  return true;
}
bool subInt(int64_t a, int64_t b, int64_t &out) {
  if (__builtin_sub_overflow(a, b, &out))
    return raise(ErrKind::Overflow, "integer overflow: " + std::to_string(a) + " - " + std::to_string(b));
  return true;
}
bool mulInt(int64_t a, int64_t b, int64_t &out) {
  if (__builtin_mul_overflow(a, b, &out))
    return raise(ErrKind::Overflow, "integer overflow: " + std::to_string(a) + " * " + std::to_string(b));
  return true;
}
bool divInt(int64_t a, int64_t b, int64_t &out) {
  if (b == 0) return raise(ErrKind::Division, "division by zero");
  if (a == INT64_MIN && b == -1)
    return raise(ErrKind::Overflow, "integer overflow: " + std::to_string(a) + " / -1");
  out = a / b; // C++ truncates toward zero
  return true;
}
bool modInt(int64_t a, int64_t b, int64_t &out) {
  if (b == 0) return raise(ErrKind::Division, "division by zero");
  out = b == -1 ? 0 : a % b; // C++ gives the sign of the dividend
  return true;
}
bool negInt(int64_t a, int64_t &out) {
  if (a == INT64_MIN) return raise(ErrKind::Overflow, "integer overflow: -(" + std::to_string(a) + ")");
  out = -a;
  return true;
}
double modFloat(double a, double b) { return std::fmod(a, b); }

bool intOfString(std::string_view s, int64_t &out) {
  std::string_view t = s;
  bool neg = false;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
    neg = t[0] == '-';
    t.remove_prefix(1);
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || p != t.data() + t.size() ||
      v > (neg ? uint64_t(INT64_MAX) + 1 : uint64_t(INT64_MAX)))
    return raise(ErrKind::Conversion, "cannot convert \"" + std::string(s) + "\" to int");
  out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

bool intOfFloat(double f, int64_t &out) {
  if (std::isnan(f) || f >= 9223372036854775808.0 || f < -9223372036854775808.0)
    return raise(ErrKind::Conversion, "cannot convert " + formatFloat(f) + " to int");
  out = static_cast<int64_t>(f); // truncates toward zero
  return true;
}

bool floatOfString(std::string_view s, double &out) {
  std::string t(s);
  char *end = nullptr;
  errno = 0;
  out = std::strtod(t.c_str(), &end);
  bool ok = !t.empty() && end == t.c_str() + t.size() && !std::isspace(static_cast<unsigned char>(t[0]));
  // strtod also reads hex floats, "inf" and "nan"; the language's float syntax is decimal.
  for (char c : t)
    if (!(isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
      ok = false;
  if (!ok) return raise(ErrKind::Conversion, "cannot convert \"" + t + "\" to float");
  // Beyond the double range is an error, as a literal `1e400` is (not `inf`); a value too small
  // to represent reads as 0 or a subnormal, as in every mainstream language.
  if (std::isinf(out))
    return raise(ErrKind::Conversion, "cannot convert \"" + t + "\" to float: out of range");
  return true;
}

} // namespace cfm::rt
