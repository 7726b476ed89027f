// cache.h — the JIT's persistent object cache (internal to compiler/jit; see README "Object
// cache").
//
// `cfmc run --engine jit` keeps the object code of each program it compiles in a directory
// (`$CFM_CACHE_DIR`, else `$XDG_CACHE_HOME/cfm/jit`, else `$HOME/.cache/cfm/jit`), one file per
// key: `<64 hex digits>.o`. The key is a BLAKE3 hash of everything the object depends on: the
// text of every source file of the compilation in order, the entry procedure, the optimisation
// level (engine.cpp's part), and the compiler's own identity (the GNU build-ids of the running
// executable and of the JIT engine it loaded), the LLVM version and the host CPU with its features (the
// session's part). A file holds a header (magic, key, payload size), the object, and a trailer (BLAKE3 of the
// object): a truncated, corrupt or misplaced file is not used, and is overwritten. Writes go to
// a temporary file in the same directory and are renamed into place; failing to write is never
// an error. The directory is kept to the newest kMaxEntries files and kMaxBytes (by mtime; a
// hit refreshes the file's mtime).
#pragma once

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/MemoryBuffer.h>

#include <cstdint>
#include <memory>
#include <string>

namespace cfm::jit::cache {

inline constexpr size_t kMaxEntries = 256;
inline constexpr uint64_t kMaxBytes = 256ull << 20;

/// The hex BLAKE3 hash of `parts` (each length-prefixed, so that no two lists collide).
std::string hashParts(std::initializer_list<llvm::StringRef> parts);

/// The running compiler's identity: the GNU build-ids (hex) of the executable and of the object
/// holding the JIT (libcfm_jit_engine.so when loaded; the executable itself when linked in), or
/// failing that a hash of /proc/self/exe. Computed once.
const std::string &compilerId();

/// The cache directory (not created); empty when no variable names one.
std::string directory();

/// The object stored under `key` (hex) in `dir`, validated; nullptr when there is none or it
/// is not valid (truncated, corrupt, another key's, not an object file).
std::unique_ptr<llvm::MemoryBuffer> load(const std::string &dir, const std::string &key);

/// Stores `object` under `key` in `dir` (created, mode 0700), atomically, then prunes the
/// directory. False when it could not (nothing partial is left behind).
bool store(const std::string &dir, const std::string &key, llvm::StringRef object);

} // namespace cfm::jit::cache
