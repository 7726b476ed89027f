// objcache.h — the JIT's persistent object cache without LLVM (compiler/jit/README.md "The
// object cache"): the key of a compiled program, the compiler's identity, the directory, and the
// cache files (validated loads, atomic stores, pruning). Both sides use it: the engine
// (compiler/jit/session.cpp) when it compiles or links an object, and cfmc's light path
// (jitload/light.h), which runs a cached object without loading the engine, so both must
// compute the same key in the same way.
//
// The key is the SHA-256 (base/sha256.h) of, each part length-prefixed: the format version
// (kFormat: bumped whenever anything below changes meaning, so that old entries simply miss),
// the path and text of every source file of the compilation in order, the entry procedure, the
// optimisation level, the compiler's identity (the GNU build-ids of the executable and of
// libcfm_jit_engine.so), the LLVM version the engine was built with, the target, and the host
// CPU as `cpuid` describes it (vendor, family/model/stepping, the feature leaves 1, 7 and
// 0x80000001, and the XCR0 state the OS enables). A file `<key>.o` is the magic, the key's 32
// bytes, the object's size (8 bytes, little-endian), the object and the SHA-256 of the object.
#pragma once

#include "base/result.h"
#include "frontend/frontend.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cfm::jitload::objcache {

inline constexpr size_t kMaxEntries = 256;
inline constexpr uint64_t kMaxBytes = 256ull << 20;
/// The first part of every key: a new value makes every older entry miss.
inline constexpr const char *kFormat = "cfm-jit-object-2";

/// The hex SHA-256 of `parts`, each length-prefixed (so that no two lists collide).
std::string hashParts(std::initializer_list<std::string_view> parts);

/// The host CPU for the key, from `cpuid` and XCR0 (the same on every core); "" when this is not
/// an x86-64 host (then nothing is cached).
const std::string &cpuKey();

/// The GNU build-id (hex) of the ELF file at `path`, read from its PT_NOTE segments on disk; ""
/// when it has none or cannot be read.
std::string buildIdOfFile(const std::string &path);

/// The compiler's identity when the object holding `self` (any address in it) is loaded in this
/// process: `build-id:<executable>` when it is the executable itself (the tests link the JIT),
/// `build-id:<executable>+<object>` otherwise (cfmc with libcfm_jit_engine.so), or failing that a
/// hash of /proc/self/exe. Computed once per process.
const std::string &compilerIdLoaded(const void *self);

/// The identity compilerIdLoaded would give in the engine once cfmc loaded it, computed without
/// loading it: the executable's build-id and that of the engine's file (`$CFM_JIT_ENGINE`, else
/// libcfm_jit_engine.so beside /proc/self/exe). "" when either has none (then the light path
/// is not taken).
std::string compilerIdOnDisk();

/// The cache key of compilation `c` run for procedure `entry` at level `opt` by the compiler
/// `compilerId`; "" when there can be none (no CPU key, no compiler identity).
std::string key(const frontend::Compilation &c, const std::string &entry, int opt,
                const std::string &compilerId);

/// The cache directory (not created): `$CFM_CACHE_DIR`, else `$XDG_CACHE_HOME/cfm/jit`, else
/// `$HOME/.cache/cfm/jit`; empty when no variable names one.
std::string directory();

/// The object stored under `key` (hex) in `dir`, validated (magic, key, size, checksum); nothing
/// when there is none or it is not valid. A hit refreshes the file's mtime (pruned last).
std::optional<std::string> load(const std::string &dir, const std::string &key);

/// Stores `object` under `key` in `dir` (created, mode 0700), atomically, then prunes the
/// directory to the newest kMaxEntries files within kMaxBytes. False when it could not (nothing
/// partial is left behind).
bool store(const std::string &dir, const std::string &key, std::string_view object);

} // namespace cfm::jitload::objcache
