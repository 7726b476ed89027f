// sanitizers.h — whether this translation unit is built under AddressSanitizer or
// ThreadSanitizer, defined once: GCC says so with __SANITIZE_ADDRESS__/__SANITIZE_THREAD__,
// clang (14, Debian's; the fuzz builds) only through __has_feature.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define CFM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CFM_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define CFM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CFM_TSAN 1
#endif
#endif

namespace cfm::base {

#ifdef CFM_ASAN
inline constexpr bool kAsan = true;
#else
inline constexpr bool kAsan = false;
#endif
#ifdef CFM_TSAN
inline constexpr bool kTsan = true;
#else
inline constexpr bool kTsan = false;
#endif

} // namespace cfm::base
