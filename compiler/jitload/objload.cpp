// objload.cpp — the ELF64 x86-64 relocatable-object loader (objload.h): validation, layout,
// symbol binding, GOT and jump stubs, relocations, W^X protection.
//
// `.eh_frame` (SHT_X86_64_UNWIND) is not loaded and its relocations are skipped: no C++
// exception ever crosses JIT'd code (errors are status returns, compiler/jit/README.md), so
// nothing unwinds through it and no unwind tables need registering.
#include "jitload/objload.h"

#include <cstdint>
#include <cstring>
#include <elf.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

#ifndef SHT_LLVM_ADDRSIG
#define SHT_LLVM_ADDRSIG 0x6fff4c03
#endif

namespace cfm::jitload {

namespace {

constexpr size_t kStubBytes = 16; // jmp *0(%rip); .quad target; two bytes of int3
constexpr uint64_t kMaxImage = 1ull << 30;

Error bad(const std::string &why) { return Error{ErrorKind::Internal, "object loader: " + why}; }

enum Region { kText, kRodata, kData, kRegions };

struct Section {
  bool loaded = false;
  Region region = kRodata;
  uint64_t offset = 0; // in the region
  uint8_t *addr = nullptr;
};

bool isGotReloc(uint32_t type) {
  return type == R_X86_64_GOTPCREL || type == R_X86_64_GOTPCRELX || type == R_X86_64_REX_GOTPCRELX;
}

bool fitsSigned32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

} // namespace

ObjectImage::~ObjectImage() {
  if (base_) munmap(base_, size_);
}

void *ObjectImage::symbol(const std::string &name) const {
  auto it = globals_.find(name);
  return it == globals_.end() ? nullptr : it->second;
}

Result<std::unique_ptr<ObjectImage>> loadObject(std::string_view elf, const SymbolResolver &resolve) {
  const auto *file = reinterpret_cast<const uint8_t *>(elf.data());
  const uint64_t fileSize = elf.size();
  // The header: an x86-64 little-endian relocatable object with section headers in the file.
  if (fileSize < sizeof(Elf64_Ehdr)) return bad("truncated header");
  Elf64_Ehdr eh;
  std::memcpy(&eh, file, sizeof eh);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return bad("not an ELF file");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
      eh.e_ident[EI_VERSION] != EV_CURRENT)
    return bad("not a little-endian ELF64 file");
  if (eh.e_type != ET_REL || eh.e_machine != EM_X86_64) return bad("not an x86-64 relocatable object");
  if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shoff > fileSize ||
      (fileSize - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum)
    return bad("section headers out of bounds");
  std::vector<Elf64_Shdr> sh(eh.e_shnum);
  std::memcpy(sh.data(), file + eh.e_shoff, sh.size() * sizeof(Elf64_Shdr));
  auto inFile = [&](const Elf64_Shdr &s) {
    return s.sh_type == SHT_NOBITS || (s.sh_offset <= fileSize && s.sh_size <= fileSize - s.sh_offset);
  };
  const Elf64_Shdr *shstr =
      eh.e_shstrndx < sh.size() && sh[eh.e_shstrndx].sh_type == SHT_STRTAB && inFile(sh[eh.e_shstrndx])
          ? &sh[eh.e_shstrndx]
          : nullptr;
  auto sectionName = [&](const Elf64_Shdr &s) -> std::string_view {
    if (!shstr || s.sh_name >= shstr->sh_size) return {};
    const char *p = reinterpret_cast<const char *>(file + shstr->sh_offset + s.sh_name);
    size_t max = shstr->sh_size - s.sh_name;
    return std::string_view(p, strnlen(p, max));
  };

  // The sections: which are loaded, into which region, where; the one symbol table.
  std::vector<Section> secs(sh.size());
  size_t symtab = 0;
  uint64_t regionSize[kRegions] = {0, 0, 0};
  for (size_t i = 1; i < sh.size(); ++i) {
    const Elf64_Shdr &s = sh[i];
    if (!inFile(s)) return bad("section " + std::to_string(i) + " out of bounds");
    switch (s.sh_type) {
    case SHT_NULL:
    case SHT_STRTAB:
    case SHT_RELA:
    case SHT_NOTE:
    case SHT_LLVM_ADDRSIG: break;
    case SHT_SYMTAB:
      if (symtab) return bad("two symbol tables");
      symtab = i;
      break;
    case SHT_X86_64_UNWIND: continue; // .eh_frame: not loaded (see the top of this file)
    case SHT_PROGBITS:
    case SHT_NOBITS: break;
    case SHT_GROUP: return bad("COMDAT section groups are not supported");
    default: return bad("unsupported section type " + std::to_string(s.sh_type));
    }
    if (!(s.sh_flags & SHF_ALLOC)) continue;
    if (s.sh_type != SHT_PROGBITS && s.sh_type != SHT_NOBITS)
      return bad("unsupported allocated section type " + std::to_string(s.sh_type));
    if (sectionName(s) == ".eh_frame") continue;
    if (s.sh_flags & SHF_TLS) return bad("thread-local sections are not supported");
    uint64_t align = s.sh_addralign ? s.sh_addralign : 1;
    if ((align & (align - 1)) != 0 || align > 4096) return bad("bad section alignment");
    if (s.sh_size > kMaxImage) return bad("section too large");
    Section &sec = secs[i];
    sec.loaded = true;
    sec.region = (s.sh_flags & SHF_EXECINSTR) ? kText : (s.sh_flags & SHF_WRITE) ? kData : kRodata;
    uint64_t &size = regionSize[sec.region];
    sec.offset = (size + align - 1) & ~(align - 1);
    size = sec.offset + s.sh_size;
    if (size > kMaxImage) return bad("object too large");
  }
  if (!symtab) return bad("no symbol table");
  const Elf64_Shdr &st = sh[symtab];
  if (st.sh_entsize != sizeof(Elf64_Sym) || st.sh_size % sizeof(Elf64_Sym) != 0 || st.sh_link >= sh.size() ||
      sh[st.sh_link].sh_type != SHT_STRTAB)
    return bad("malformed symbol table");
  const Elf64_Shdr &strtab = sh[st.sh_link];
  size_t nsyms = st.sh_size / sizeof(Elf64_Sym);
  std::vector<Elf64_Sym> syms(nsyms);
  if (nsyms) std::memcpy(syms.data(), file + st.sh_offset, st.sh_size);
  auto symName = [&](const Elf64_Sym &s) -> Result<std::string> {
    if (s.st_name >= strtab.sh_size) return bad("symbol name out of bounds");
    const char *p = reinterpret_cast<const char *>(file + strtab.sh_offset + s.st_name);
    size_t max = strtab.sh_size - s.st_name;
    size_t n = strnlen(p, max);
    if (n == max) return bad("unterminated symbol name");
    return std::string(p, n);
  };

  // The relocations of loaded sections: all of a known type, within bounds; which symbols need
  // a GOT slot, which a stub (an undefined one called through PLT32).
  struct RelaSet {
    size_t target;
    std::vector<Elf64_Rela> relas;
  };
  std::vector<RelaSet> relaSets;
  std::vector<int64_t> gotSlot(nsyms, -1), stubSlot(nsyms, -1);
  size_t gots = 0, stubs = 0;
  for (size_t i = 1; i < sh.size(); ++i) {
    const Elf64_Shdr &s = sh[i];
    if (s.sh_type != SHT_RELA) continue;
    if (s.sh_info >= sh.size()) return bad("relocations for a missing section");
    if (!secs[s.sh_info].loaded) continue; // .eh_frame, debug sections
    if (s.sh_link != symtab || s.sh_entsize != sizeof(Elf64_Rela) || s.sh_size % sizeof(Elf64_Rela) != 0)
      return bad("malformed relocation section");
    RelaSet set{s.sh_info, std::vector<Elf64_Rela>(s.sh_size / sizeof(Elf64_Rela))};
    if (!set.relas.empty()) std::memcpy(set.relas.data(), file + s.sh_offset, s.sh_size);
    for (const Elf64_Rela &r : set.relas) {
      uint32_t type = ELF64_R_TYPE(r.r_info);
      uint64_t sym = ELF64_R_SYM(r.r_info);
      if (sym >= nsyms) return bad("relocation symbol out of range");
      uint64_t width = 0;
      switch (type) {
      case R_X86_64_NONE: break;
      case R_X86_64_64:
      case R_X86_64_PC64: width = 8; break;
      case R_X86_64_PC32:
      case R_X86_64_PLT32:
      case R_X86_64_32:
      case R_X86_64_32S:
      case R_X86_64_GOTPCREL:
      case R_X86_64_GOTPCRELX:
      case R_X86_64_REX_GOTPCRELX: width = 4; break;
      default: return bad("unsupported relocation type " + std::to_string(type));
      }
      if (r.r_offset > sh[set.target].sh_size || width > sh[set.target].sh_size - r.r_offset)
        return bad("relocation offset out of bounds");
      if (sh[set.target].sh_type == SHT_NOBITS && width) return bad("relocation in a bss section");
      if (isGotReloc(type) && gotSlot[sym] < 0) gotSlot[sym] = static_cast<int64_t>(gots++);
      if (type == R_X86_64_PLT32 && sym && syms[sym].st_shndx == SHN_UNDEF && stubSlot[sym] < 0)
        stubSlot[sym] = static_cast<int64_t>(stubs++);
    }
    relaSets.push_back(std::move(set));
  }

  // The layout: text then stubs, read-only data then the GOT, data; each region page-aligned.
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  auto roundUp = [](uint64_t n, uint64_t a) { return (n + a - 1) & ~(a - 1); };
  uint64_t stubOffset = roundUp(regionSize[kText], kStubBytes);
  regionSize[kText] = stubOffset + stubs * kStubBytes;
  uint64_t gotOffset = roundUp(regionSize[kRodata], 8);
  regionSize[kRodata] = gotOffset + gots * 8;
  uint64_t regionStart[kRegions], total = 0;
  for (int r = 0; r < kRegions; ++r) {
    regionStart[r] = total;
    total += roundUp(regionSize[r], page);
  }
  if (total > kMaxImage) return bad("object too large");
  if (total == 0) return bad("nothing to load");
  void *mem = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return bad("cannot map " + std::to_string(total) + " bytes");
  auto image = std::make_unique<ObjectImage>();
  image->base_ = mem; // unmapped by the destructor, also when an error below drops it
  image->size_ = total;
  auto *base = static_cast<uint8_t *>(mem);
  for (size_t i = 1; i < sh.size(); ++i) {
    Section &sec = secs[i];
    if (!sec.loaded) continue;
    sec.addr = base + regionStart[sec.region] + sec.offset;
    if (sh[i].sh_type == SHT_PROGBITS) std::memcpy(sec.addr, file + sh[i].sh_offset, sh[i].sh_size);
  }

  // Every symbol's address: defined ones in their section, undefined ones from the resolver.
  std::vector<uint64_t> addr(nsyms, 0);
  for (size_t i = 1; i < nsyms; ++i) {
    const Elf64_Sym &s = syms[i];
    unsigned type = ELF64_ST_TYPE(s.st_info), bind = ELF64_ST_BIND(s.st_info);
    if (type == STT_TLS || type == STT_GNU_IFUNC)
      return bad("unsupported symbol type " + std::to_string(type));
    if (type == STT_FILE) continue;
    if (s.st_shndx == SHN_UNDEF) {
      Result<std::string> name = symName(s);
      if (!name) return name.takeError();
      Result<void *> a = resolve(*name);
      if (!a) return a.takeError();
      if (!*a) return bad("unresolved symbol `" + *name + "`");
      addr[i] = reinterpret_cast<uint64_t>(*a);
      continue;
    }
    if (s.st_shndx == SHN_ABS) {
      addr[i] = s.st_value;
      continue;
    }
    if (s.st_shndx == SHN_COMMON) return bad("common symbols are not supported");
    if (s.st_shndx >= SHN_LORESERVE || s.st_shndx >= sh.size()) return bad("symbol in a reserved section");
    const Section &sec = secs[s.st_shndx];
    if (!sec.loaded) continue; // in a section not loaded (.eh_frame): an error if a relocation uses it
    if (s.st_value > sh[s.st_shndx].sh_size) return bad("symbol value out of bounds");
    addr[i] = reinterpret_cast<uint64_t>(sec.addr) + s.st_value;
    if (bind == STB_GLOBAL || bind == STB_WEAK) {
      Result<std::string> name = symName(s);
      if (!name) return name.takeError();
      image->globals_[*name] = reinterpret_cast<void *>(addr[i]);
    }
  }
  auto symbolUsable = [&](uint64_t sym) {
    if (sym == 0) return true;
    const Elf64_Sym &s = syms[sym];
    if (s.st_shndx == SHN_UNDEF || s.st_shndx == SHN_ABS) return true;
    return s.st_shndx < sh.size() && secs[s.st_shndx].loaded;
  };

  // The stubs and the GOT.
  uint8_t *stubBase = base + regionStart[kText] + stubOffset;
  uint8_t *gotBase = base + regionStart[kRodata] + gotOffset;
  for (size_t i = 0; i < nsyms; ++i) {
    if (stubSlot[i] >= 0) {
      uint8_t *p = stubBase + stubSlot[i] * kStubBytes;
      const uint8_t jmp[6] = {0xff, 0x25, 0, 0, 0, 0}; // jmp *0(%rip): the address that follows
      std::memcpy(p, jmp, sizeof jmp);
      std::memcpy(p + 6, &addr[i], 8);
      p[14] = p[15] = 0xcc;
    }
    if (gotSlot[i] >= 0) {
      if (!symbolUsable(i)) return bad("GOT entry for a symbol in a section not loaded");
      std::memcpy(gotBase + gotSlot[i] * 8, &addr[i], 8);
    }
  }

  // The relocations.
  for (const RelaSet &set : relaSets) {
    uint8_t *target = secs[set.target].addr;
    for (const Elf64_Rela &r : set.relas) {
      uint32_t type = ELF64_R_TYPE(r.r_info);
      uint64_t sym = ELF64_R_SYM(r.r_info);
      if (type == R_X86_64_NONE) continue;
      if (!symbolUsable(sym)) return bad("relocation against a section not loaded");
      uint8_t *p = target + r.r_offset;
      uint64_t place = reinterpret_cast<uint64_t>(p);
      uint64_t s = addr[sym];
      auto pcrel32 = [&](uint64_t to) -> bool {
        int64_t v = static_cast<int64_t>(to + static_cast<uint64_t>(r.r_addend) - place);
        if (!fitsSigned32(v)) return false;
        int32_t v32 = static_cast<int32_t>(v);
        std::memcpy(p, &v32, 4);
        return true;
      };
      switch (type) {
      case R_X86_64_64: {
        uint64_t v = s + static_cast<uint64_t>(r.r_addend);
        std::memcpy(p, &v, 8);
        break;
      }
      case R_X86_64_PC64: {
        uint64_t v = s + static_cast<uint64_t>(r.r_addend) - place;
        std::memcpy(p, &v, 8);
        break;
      }
      case R_X86_64_PLT32:
        if (pcrel32(s)) break;
        if (stubSlot[sym] < 0 || !pcrel32(reinterpret_cast<uint64_t>(stubBase + stubSlot[sym] * kStubBytes)))
          return bad("PLT32 relocation out of range");
        break;
      case R_X86_64_PC32:
        if (!pcrel32(s)) return bad("PC32 relocation out of range");
        break;
      case R_X86_64_GOTPCREL:
      case R_X86_64_GOTPCRELX:
      case R_X86_64_REX_GOTPCRELX:
        if (!pcrel32(reinterpret_cast<uint64_t>(gotBase + gotSlot[sym] * 8)))
          return bad("GOTPCREL relocation out of range");
        break;
      case R_X86_64_32: {
        uint64_t v = s + static_cast<uint64_t>(r.r_addend);
        if (v > UINT32_MAX) return bad("R_X86_64_32 relocation out of range");
        uint32_t v32 = static_cast<uint32_t>(v);
        std::memcpy(p, &v32, 4);
        break;
      }
      case R_X86_64_32S: {
        int64_t v = static_cast<int64_t>(s + static_cast<uint64_t>(r.r_addend));
        if (!fitsSigned32(v)) return bad("R_X86_64_32S relocation out of range");
        int32_t v32 = static_cast<int32_t>(v);
        std::memcpy(p, &v32, 4);
        break;
      }
      default: return bad("unsupported relocation type " + std::to_string(type));
      }
    }
  }

  // W^X: code becomes read+execute, read-only data and the GOT read-only; data stays writable.
  const int prot[kRegions] = {PROT_READ | PROT_EXEC, PROT_READ, PROT_READ | PROT_WRITE};
  for (int r = 0; r < kRegions; ++r) {
    uint64_t len = roundUp(regionSize[r], page);
    if (len && mprotect(base + regionStart[r], len, prot[r]) != 0) return bad("cannot protect the mapping");
  }
  return image;
}

} // namespace cfm::jitload
