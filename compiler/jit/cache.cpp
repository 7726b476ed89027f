// cache.cpp — the JIT's persistent object cache (see cache.h): keys, the compiler's build-id,
// the directory, validated loads, atomic stores and pruning.
#include "jit/cache.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/Object/ObjectFile.h>
#include <llvm/Support/BLAKE3.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <random>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace cfm::jit::cache {

namespace {

constexpr char kMagic[8] = {'C', 'F', 'M', 'J', 'I', 'T', 'O', '1'};
constexpr size_t kKeyBytes = 32;
constexpr size_t kHeader = sizeof kMagic + kKeyBytes + 8; // magic, key, payload size (LE)
constexpr size_t kTrailer = kKeyBytes;                    // BLAKE3 of the payload

using Hash = llvm::BLAKE3Result<kKeyBytes>;

Hash blake3(llvm::StringRef data) {
  llvm::BLAKE3 h;
  h.update(data);
  return h.final();
}

/// The key's raw bytes from its hex form; false if it is not 64 hex digits.
bool keyBytes(const std::string &hex, Hash &out) {
  if (hex.size() != 2 * kKeyBytes) return false;
  std::string raw;
  if (!llvm::tryGetFromHex(hex, raw) || raw.size() != kKeyBytes) return false;
  std::memcpy(out.data(), raw.data(), kKeyBytes);
  return true;
}

bool isEntryName(const char *name) {
  size_t n = std::strlen(name);
  if (n != 2 * kKeyBytes + 2 || std::strcmp(name + 2 * kKeyBytes, ".o") != 0) return false;
  return std::all_of(name, name + 2 * kKeyBytes, [](char c) { return llvm::isHexDigit(c); });
}

/// `mkdir -p` with mode 0700 for what it creates.
bool makeDirs(const std::string &dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i < dir.size() && dir[i] != '/') continue;
    std::string part = dir.substr(0, i);
    if (mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) return false;
  }
  struct stat st;
  return stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool writeAll(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

/// Keeps the newest kMaxEntries entries within kMaxBytes; drops temporary files older than an
/// hour (left by a process that died while writing).
void prune(const std::string &dir) {
  DIR *d = opendir(dir.c_str());
  if (!d) return;
  struct Entry {
    std::string path;
    struct timespec mtime;
    uint64_t size;
  };
  std::vector<Entry> entries;
  time_t now = time(nullptr);
  while (struct dirent *e = readdir(d)) {
    std::string path = dir + "/" + e->d_name;
    struct stat st;
    if (std::strstr(e->d_name, ".o.tmp.")) {
      if (stat(path.c_str(), &st) == 0 && st.st_mtime + 3600 < now) unlink(path.c_str());
      continue;
    }
    if (!isEntryName(e->d_name) || stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    entries.push_back({path, st.st_mtim, static_cast<uint64_t>(st.st_size)});
  }
  closedir(d);
  std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
    return a.mtime.tv_sec != b.mtime.tv_sec ? a.mtime.tv_sec > b.mtime.tv_sec
                                            : a.mtime.tv_nsec > b.mtime.tv_nsec;
  });
  uint64_t total = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    total += entries[i].size;
    if (i >= kMaxEntries || total > kMaxBytes) unlink(entries[i].path.c_str());
  }
}

/// The GNU build-id (hex) in an object's PT_NOTE segments, or "".
std::string buildIdOf(const struct dl_phdr_info *info) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    auto *p = reinterpret_cast<const char *>(info->dlpi_addr + ph.p_vaddr);
    const char *end = p + ph.p_memsz;
    auto align4 = [](size_t n) { return (n + 3) & ~size_t(3); };
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      auto *nh = reinterpret_cast<const ElfW(Nhdr) *>(p);
      const char *name = p + sizeof(ElfW(Nhdr));
      const char *desc = name + align4(nh->n_namesz);
      if (desc + nh->n_descsz > end) break;
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0)
        return llvm::toHex(llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(desc), nh->n_descsz),
                           true);
      p = desc + align4(nh->n_descsz);
    }
  }
  return "";
}

/// The build-ids of the main program and of the object holding this code: the same object when
/// the JIT is linked into the program (the tests), libcfm_jit_engine.so when cfmc loaded it.
struct BuildIds {
  uintptr_t self = 0;
  bool first = true;
  std::string program, engine;
};

int buildIdNote(struct dl_phdr_info *info, size_t, void *data) {
  auto *ids = static_cast<BuildIds *>(data);
  if (ids->first) ids->program = buildIdOf(info); // the first object is the main program
  ids->first = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &ph = info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD && ids->self >= start && ids->self < start + ph.p_memsz) {
      ids->engine = buildIdOf(info);
      return 1;
    }
  }
  return 0;
}

} // namespace

std::string hashParts(std::initializer_list<llvm::StringRef> parts) {
  llvm::BLAKE3 h;
  for (llvm::StringRef part : parts) {
    uint64_t n = part.size();
    h.update(llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(&n), sizeof n));
    h.update(part);
  }
  return llvm::toHex(h.final(), true);
}

const std::string &compilerId() {
  static const std::string id = [] {
    BuildIds ids;
    ids.self = reinterpret_cast<uintptr_t>(&buildIdOf);
    dl_iterate_phdr(buildIdNote, &ids);
    // Both: the engine's code generator and the program's runtime (its ABI and layouts).
    if (!ids.program.empty() && !ids.engine.empty())
      return "build-id:" + ids.program + (ids.engine == ids.program ? "" : "+" + ids.engine);
    auto exe =
        llvm::MemoryBuffer::getFile("/proc/self/exe", /*IsText=*/false, /*RequiresNullTerminator=*/false);
    if (!exe) return std::string("unknown");
    return "exe:" + llvm::toHex(blake3((*exe)->getBuffer()), true);
  }();
  return id;
}

std::string directory() {
  auto env = [](const char *name) -> std::string {
    const char *v = std::getenv(name);
    return v && *v ? v : "";
  };
  std::string dir = env("CFM_CACHE_DIR");
  if (!dir.empty()) return dir;
  dir = env("XDG_CACHE_HOME");
  if (!dir.empty()) return dir + "/cfm/jit";
  dir = env("HOME");
  if (!dir.empty()) return dir + "/.cache/cfm/jit";
  return "";
}

std::unique_ptr<llvm::MemoryBuffer> load(const std::string &dir, const std::string &key) {
  Hash want;
  if (dir.empty() || !keyBytes(key, want)) return nullptr;
  std::string path = dir + "/" + key + ".o";
  auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!file) return nullptr;
  llvm::StringRef all = (*file)->getBuffer();
  if (all.size() < kHeader + kTrailer || std::memcmp(all.data(), kMagic, sizeof kMagic) != 0 ||
      std::memcmp(all.data() + sizeof kMagic, want.data(), kKeyBytes) != 0)
    return nullptr;
  uint64_t size = 0;
  for (int i = 7; i >= 0; --i) size = size << 8 | static_cast<uint8_t>(all[sizeof kMagic + kKeyBytes + i]);
  if (size != all.size() - kHeader - kTrailer) return nullptr;
  llvm::StringRef payload = all.substr(kHeader, size);
  if (std::memcmp(blake3(payload).data(), all.data() + kHeader + size, kTrailer) != 0) return nullptr;
  auto object = llvm::MemoryBuffer::getMemBufferCopy(payload, path);
  auto parsed = llvm::object::ObjectFile::createObjectFile(object->getMemBufferRef());
  if (!parsed) {
    llvm::consumeError(parsed.takeError());
    return nullptr;
  }
  utimensat(AT_FDCWD, path.c_str(), nullptr, 0); // recently used: pruned last
  return object;
}

bool store(const std::string &dir, const std::string &key, llvm::StringRef object) {
  Hash k;
  if (dir.empty() || !keyBytes(key, k) || !makeDirs(dir)) return false;
  std::string header(kMagic, sizeof kMagic);
  header.append(reinterpret_cast<const char *>(k.data()), kKeyBytes);
  uint64_t size = object.size();
  for (int i = 0; i < 8; ++i) header += static_cast<char>(size >> (8 * i) & 0xff);
  Hash sum = blake3(object);
  std::string path = dir + "/" + key + ".o";
  std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(std::random_device{}());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = writeAll(fd, header.data(), header.size()) && writeAll(fd, object.data(), object.size()) &&
            writeAll(fd, reinterpret_cast<const char *>(sum.data()), sum.size());
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return false;
  }
  prune(dir);
  return true;
}

} // namespace cfm::jit::cache
