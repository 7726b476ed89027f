// objcache.cpp — the JIT's object cache without LLVM (objcache.h): keys from SHA-256 and cpuid,
// build-ids from memory and from files, the directory, validated loads, atomic stores, pruning.
#include "jitload/objcache.h"

#include "base/files.h"
#include "base/hex.h"
#include "base/sha256.h"
#include "base/shared_object.h"
#include "jitload/engine.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <mutex>
#include <random>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#ifndef CFM_LLVM_VERSION
#error "CFM_LLVM_VERSION (LLVM_PACKAGE_VERSION) comes from compiler/CMakeLists.txt"
#endif

namespace cfm::jitload::objcache {

namespace {

constexpr char kMagic[8] = {'C', 'F', 'M', 'J', 'I', 'T', 'O', '2'};
constexpr size_t kKeyBytes = 32;
constexpr size_t kHeader = sizeof kMagic + kKeyBytes + 8; // magic, key, payload size (LE)
constexpr size_t kTrailer = kKeyBytes;                    // SHA-256 of the payload
/// The target every object is compiled for (the engine's JITTargetMachineBuilder::detectHost
/// on the hosts cfmc runs on; the CPU key says which x86-64).
constexpr const char *kTarget = "x86_64-linux-gnu/small-pic";

/// The key's raw bytes from its hex form; false if it is not 64 hex digits.
bool keyBytes(const std::string &key, std::array<uint8_t, kKeyBytes> &out) {
  if (key.size() != 2 * kKeyBytes) return false;
  for (size_t i = 0; i < kKeyBytes; ++i) {
    int hi = base::hexDigit(key[2 * i]), lo = base::hexDigit(key[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

bool isEntryName(const char *name) {
  size_t n = std::strlen(name);
  if (n != 2 * kKeyBytes + 2 || std::strcmp(name + 2 * kKeyBytes, ".o") != 0) return false;
  return std::all_of(name, name + 2 * kKeyBytes, [](char c) { return base::hexDigit(c) >= 0; });
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

/// The GNU build-id (hex) in the notes `p` .. `end` (one PT_NOTE segment), or "".
std::string buildIdInNotes(const char *p, const char *end) {
  auto align4 = [](size_t n) { return (n + 3) & ~size_t(3); };
  while (p + sizeof(ElfW(Nhdr)) <= end) {
    auto *nh = reinterpret_cast<const ElfW(Nhdr) *>(p);
    const char *name = p + sizeof(ElfW(Nhdr));
    if (nh->n_namesz > static_cast<size_t>(end - name)) break;
    const char *desc = name + align4(nh->n_namesz);
    if (desc > end || nh->n_descsz > static_cast<size_t>(end - desc)) break;
    if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0)
      return base::hexLower(reinterpret_cast<const uint8_t *>(desc), nh->n_descsz);
    p = desc + align4(nh->n_descsz);
  }
  return "";
}

/// The GNU build-id (hex) in a loaded object's PT_NOTE segments, or "".
std::string buildIdOf(const struct dl_phdr_info *info) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    auto *p = reinterpret_cast<const char *>(info->dlpi_addr + ph.p_vaddr);
    std::string id = buildIdInNotes(p, p + ph.p_memsz);
    if (!id.empty()) return id;
  }
  return "";
}

/// The build-ids of the main program and of the object holding `self`.
struct BuildIds {
  uintptr_t self = 0;
  bool first = true;
  std::string program, object;
};

int buildIdNote(struct dl_phdr_info *info, size_t, void *data) {
  auto *ids = static_cast<BuildIds *>(data);
  if (ids->first) ids->program = buildIdOf(info); // the first object is the main program
  ids->first = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &ph = info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD && ids->self >= start && ids->self < start + ph.p_memsz) {
      ids->object = buildIdOf(info);
      return 1;
    }
  }
  return 0;
}

/// The main program's build-id (computed once).
const std::string &programBuildId() {
  static const std::string id = [] {
    BuildIds ids;
    ids.self = reinterpret_cast<uintptr_t>(&buildIdNote);
    dl_iterate_phdr(buildIdNote, &ids);
    return ids.program;
  }();
  return id;
}

#if defined(__x86_64__)
uint64_t xcr0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return static_cast<uint64_t>(hi) << 32 | lo;
}
#endif

} // namespace

std::string hashParts(std::initializer_list<std::string_view> parts) {
  std::string all;
  for (std::string_view part : parts) {
    uint64_t n = part.size();
    for (int i = 0; i < 8; ++i) all += static_cast<char>(n >> (8 * i) & 0xff);
    all.append(part);
  }
  return base::sha256Hex(all);
}

const std::string &cpuKey() {
  static const std::string key = [] {
    std::string out;
#if defined(__x86_64__)
    auto word = [&out](uint32_t v) {
      char buf[12];
      snprintf(buf, sizeof buf, "%08x.", v);
      out += buf;
    };
    unsigned a = 0, b = 0, c = 0, d = 0;
    unsigned maxLeaf = __get_cpuid_max(0, nullptr);
    if (maxLeaf < 1) return out;
    __cpuid(0, a, b, c, d);
    out.append(reinterpret_cast<const char *>(&b), 4); // the vendor: ebx, edx, ecx
    out.append(reinterpret_cast<const char *>(&d), 4);
    out.append(reinterpret_cast<const char *>(&c), 4);
    out += ':';
    __cpuid(1, a, b, c, d);
    word(a); // family, model, stepping (ebx, with the APIC id, differs per core: left out)
    word(c);
    word(d);
    bool osxsave = (c >> 27) & 1;
    if (maxLeaf >= 7) {
      __cpuid_count(7, 0, a, b, c, d);
      word(b);
      word(c);
      word(d);
      __cpuid_count(7, 1, a, b, c, d);
      word(a);
    }
    if (__get_cpuid_max(0x80000000, nullptr) >= 0x80000001) {
      __cpuid(0x80000001, a, b, c, d);
      word(c);
      word(d);
    }
    // Which register states the OS saves (AVX, AVX-512): LLVM drops the features it does not.
    char buf[24];
    snprintf(buf, sizeof buf, "xcr0=%llx", osxsave ? static_cast<unsigned long long>(xcr0()) : 0ull);
    out += buf;
#endif
    return out;
  }();
  return key;
}

std::string buildIdOfFile(const std::string &path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string id;
  auto readAt = [fd](void *buf, size_t n, uint64_t off) {
    return pread(fd, buf, n, static_cast<off_t>(off)) == static_cast<ssize_t>(n);
  };
  ElfW(Ehdr) eh;
  if (readAt(&eh, sizeof eh, 0) && std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
      eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(ElfW(Phdr)) && eh.e_phnum < 256) {
    std::vector<ElfW(Phdr)> phs(eh.e_phnum);
    if (readAt(phs.data(), phs.size() * sizeof(ElfW(Phdr)), eh.e_phoff))
      for (const ElfW(Phdr) & ph : phs) {
        if (ph.p_type != PT_NOTE || ph.p_filesz > 65536) continue;
        std::vector<char> notes(ph.p_filesz);
        if (!readAt(notes.data(), notes.size(), ph.p_offset)) continue;
        id = buildIdInNotes(notes.data(), notes.data() + notes.size());
        if (!id.empty()) break;
      }
  }
  close(fd);
  return id;
}

const std::string &compilerIdLoaded(const void *self) {
  static std::once_flag once;
  static std::string id;
  std::call_once(once, [self] {
    BuildIds ids;
    ids.self = reinterpret_cast<uintptr_t>(self);
    dl_iterate_phdr(buildIdNote, &ids);
    // Both: the engine's code generator and the program's runtime (its ABI and layouts).
    if (!ids.program.empty() && !ids.object.empty()) {
      id = "build-id:" + ids.program + (ids.object == ids.program ? "" : "+" + ids.object);
      return;
    }
    auto exe = base::readRegularFile("/proc/self/exe", 1ull << 32);
    id = exe ? "exe:" + base::sha256Hex(*exe) : "unknown";
  });
  return id;
}

std::string compilerIdOnDisk() {
  const std::string &program = programBuildId();
  if (program.empty()) return "";
  Result<std::string> path = base::pathBesideExecutable(kEngineEnv, kEngineFile, "the JIT engine");
  if (!path) return "";
  std::string engine = buildIdOfFile(*path);
  if (engine.empty()) return "";
  return "build-id:" + program + (engine == program ? "" : "+" + engine);
}

std::string key(const frontend::Compilation &c, const std::string &entry, int opt,
                const std::string &compilerId) {
  if (cpuKey().empty() || compilerId.empty()) return "";
  // The path and text of every source file in order (the paths are in the traces).
  std::string sources;
  for (size_t i = 0; i < c.sources.size(); ++i) {
    const support::SourceFile &f = c.sources.file(static_cast<support::FileId>(i));
    sources += std::to_string(f.path().size()) + ":" + f.path() + std::to_string(f.text().size()) + ":";
    sources += f.text();
  }
  std::string level = std::to_string(opt);
  return hashParts(
      {kFormat, base::sha256Hex(sources), entry, level, compilerId, CFM_LLVM_VERSION, kTarget, cpuKey()});
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

std::optional<std::string> load(const std::string &dir, const std::string &key) {
  std::array<uint8_t, kKeyBytes> want;
  if (dir.empty() || !keyBytes(key, want)) return std::nullopt;
  std::string path = dir + "/" + key + ".o";
  Result<std::string> all = base::readRegularFile(path, kMaxBytes);
  if (!all || all->size() < kHeader + kTrailer || std::memcmp(all->data(), kMagic, sizeof kMagic) != 0 ||
      std::memcmp(all->data() + sizeof kMagic, want.data(), kKeyBytes) != 0)
    return std::nullopt;
  uint64_t size = 0;
  for (int i = 7; i >= 0; --i) size = size << 8 | static_cast<uint8_t>((*all)[sizeof kMagic + kKeyBytes + i]);
  if (size != all->size() - kHeader - kTrailer) return std::nullopt;
  std::string_view payload = std::string_view(*all).substr(kHeader, size);
  if (std::memcmp(base::sha256(payload).data(), all->data() + kHeader + size, kTrailer) != 0)
    return std::nullopt;
  utimensat(AT_FDCWD, path.c_str(), nullptr, 0); // recently used: pruned last
  all->erase(all->size() - kTrailer);
  all->erase(0, kHeader);
  return std::move(*all);
}

bool store(const std::string &dir, const std::string &key, std::string_view object) {
  std::array<uint8_t, kKeyBytes> k;
  if (dir.empty() || !keyBytes(key, k) || !makeDirs(dir)) return false;
  std::string header(kMagic, sizeof kMagic);
  header.append(reinterpret_cast<const char *>(k.data()), kKeyBytes);
  uint64_t size = object.size();
  for (int i = 0; i < 8; ++i) header += static_cast<char>(size >> (8 * i) & 0xff);
  std::array<uint8_t, 32> sum = base::sha256(object);
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

} // namespace cfm::jitload::objcache
