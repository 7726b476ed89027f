// hex.h — bytes as lowercase hexadecimal and hex digits read back: the one copy that digests,
// signatures, keys and percent-decoding share (base, net, the JIT's object cache).
#pragma once

#include <cstddef>
#include <string>

namespace cfm::base {

/// The N bytes at DATA as 2N lowercase hex digits.
inline std::string hexLower(const void *data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const auto *p = static_cast<const unsigned char *>(data);
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

/// The value of hex digit C (either case), or -1 when it is not one.
inline int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

} // namespace cfm::base
