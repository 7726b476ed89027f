// sha256.h — SHA-256 (FIPS 180-4) of a byte string, as 64 lowercase hex digits: the content
// hash of a system's procedure files in the store (runtime/store) and the JIT's object-cache keys
// and checksums (compiler/jitload/objcache.h), computed without a crypto
// library so that the store (and cfmc, which links it) need none.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace cfm::base {

/// The SHA-256 digest of DATA (32 bytes).
std::array<uint8_t, 32> sha256(std::string_view data);

/// The SHA-256 digest of DATA as 64 lowercase hex digits.
std::string sha256Hex(std::string_view data);

} // namespace cfm::base
