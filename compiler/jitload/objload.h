// objload.h — a small loader of ELF64 x86-64 relocatable objects, without LLVM: what cfmc's
// light path (light.h) uses to run an object of the JIT's cache without loading the engine.
//
// It maps the object's allocated sections (code read+execute, read-only data read-only, data and
// bss read-write; written first, then protected: never writable and executable at once), binds
// the symbols the object leaves undefined through a resolver, builds a GOT and a 14-byte jump
// stub per external function (cfmc's functions and libc are farther than ±2 GiB from an
// anonymous mapping), and applies the relocations LLVM emits for the small code model, position
// independent (R_X86_64_64, PC32, PLT32, 32, 32S, PC64, GOTPCREL, GOTPCRELX, REX_GOTPCRELX).
// Anything else — another machine or class, a relocation type, section kind (COMDAT groups,
// TLS, init arrays), a symbol the resolver refuses, an offset out of bounds, a malformed header —
// is an error value and maps nothing: the caller falls back to the engine.
#pragma once

#include "base/result.h"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cfm::jitload {

/// The address a symbol the object leaves undefined binds to, or why it cannot be bound.
using SymbolResolver = std::function<Result<void *>(const std::string &name)>;

/// A loaded object: its mapping (freed by the destructor) and the addresses of the global
/// symbols it defines.
class ObjectImage {
public:
  ObjectImage() = default;
  ObjectImage(const ObjectImage &) = delete;
  ObjectImage &operator=(const ObjectImage &) = delete;
  ~ObjectImage();
  /// The address of the global symbol `name` the object defines, or nullptr.
  void *symbol(const std::string &name) const;
  /// The bytes mapped (code, data, stubs and GOT, page-rounded per kind).
  size_t mappedBytes() const { return size_; }

private:
  friend Result<std::unique_ptr<ObjectImage>> loadObject(std::string_view elf, const SymbolResolver &resolve);
  void *base_ = nullptr;
  size_t size_ = 0;
  std::unordered_map<std::string, void *> globals_;
};

/// Loads the relocatable object `elf` (the bytes are not kept), binding its undefined symbols
/// with `resolve` (every one of them, referenced or not). An error says what was refused.
Result<std::unique_ptr<ObjectImage>> loadObject(std::string_view elf, const SymbolResolver &resolve);

} // namespace cfm::jitload
