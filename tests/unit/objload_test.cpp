// objload_test.cpp — the ELF64 x86-64 object loader of cfmc's light path
// (compiler/jitload/objload.h): a small object built here byte by byte runs (a call through a
// jump stub, a load through the GOT, a PC32 reference into its own data, code mapped read+execute
// and not writable); truncated, corrupt and random inputs, an unknown relocation type, a COMDAT
// group and symbols the resolver refuses or cannot find are errors, never a crash; and an object
// the JIT compiled into its cache, loaded with the light path's symbol binding, runs with the
// engine's output, uncaught-error trace and status.
#include "jitload/objload.h"

#include "engine_support.h"
#include "jitload/entry_run.h"
#include "jitload/light_run.h"
#include "jitload/objcache.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <elf.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using cfm::Result;
using cfm::jitload::loadObject;
using cfm::jitload::SymbolResolver;

extern "C" int64_t objloadTestExternal() { return 40; }
int64_t objloadTestValue = 2;

/// The object: `f` calls `ext` (PLT32: a stub, cfmc's functions are far away), adds the
/// int64 at the address in `val`'s GOT slot (REX_GOTPCRELX) and the int64 `local` of its own
/// .data (PC32): 40 + 2 + 100.
struct TestObject {
  std::string bytes;
  size_t relaOffset = 0; // where .rela.text's entries start in `bytes`
  size_t symOffset = 0;  // where .symtab starts
  size_t shOffset = 0;   // the section headers
};

template <class T> void put(std::string &out, const T &v) {
  out.append(reinterpret_cast<const char *>(&v), sizeof v);
}

TestObject buildObject() {
  const uint8_t text[] = {
      0x48, 0x83, 0xec, 0x08,          // sub $8, %rsp
      0xe8, 0,    0,    0,    0,       // call ext             (PLT32 at 5)
      0x48, 0x83, 0xc4, 0x08,          // add $8, %rsp
      0x48, 0x8b, 0x0d, 0,    0, 0, 0, // mov val@GOTPCREL(%rip), %rcx (REX_GOTPCRELX at 16)
      0x48, 0x03, 0x01,                // add (%rcx), %rax
      0x48, 0x03, 0x05, 0,    0, 0, 0, // add local(%rip), %rax (PC32 at 26)
      0xc3,                            // ret
  };
  const int64_t data = 100;
  const std::string strtab = std::string("\0f\0ext\0val\0local\0", 17);
  const std::string shstrtab = std::string("\0.text\0.rela.text\0.data\0.symtab\0.strtab\0.shstrtab\0", 50);
  auto shname = [&](const char *n) { return static_cast<uint32_t>(shstrtab.find(std::string(n) + '\0')); };

  TestObject o;
  std::string &b = o.bytes;
  b.resize(sizeof(Elf64_Ehdr));
  size_t textOff = b.size();
  b.append(reinterpret_cast<const char *>(text), sizeof text);
  while (b.size() % 8) b += '\0';
  size_t dataOff = b.size();
  put(b, data);
  o.relaOffset = b.size();
  auto rela = [&](uint64_t off, uint32_t sym, uint32_t type, int64_t addend) {
    Elf64_Rela r{off, ELF64_R_INFO(sym, type), addend};
    put(b, r);
  };
  rela(5, 2, R_X86_64_PLT32, -4);
  rela(16, 3, R_X86_64_REX_GOTPCRELX, -4);
  rela(26, 1, R_X86_64_PC32, -4);
  o.symOffset = b.size();
  auto sym = [&](uint32_t name, unsigned char info, uint16_t shndx, uint64_t value) {
    Elf64_Sym s{name, info, STV_DEFAULT, shndx, value, 0};
    put(b, s);
  };
  // Locals first (ELF's order; .symtab's sh_info is the first global): null, local, ext, val, f.
  sym(0, 0, SHN_UNDEF, 0);
  sym(12, ELF64_ST_INFO(STB_LOCAL, STT_OBJECT), 3, 0);         // local (in .data)
  sym(3, ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE), SHN_UNDEF, 0); // ext
  sym(7, ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE), SHN_UNDEF, 0); // val
  sym(1, ELF64_ST_INFO(STB_GLOBAL, STT_FUNC), 1, 0);           // f
  size_t strOff = b.size();
  b += strtab;
  size_t shstrOff = b.size();
  b += shstrtab;
  while (b.size() % 8) b += '\0';
  o.shOffset = b.size();
  auto sh = [&](uint32_t name, uint32_t type, uint64_t flags, uint64_t off, uint64_t size, uint32_t link,
                uint32_t info, uint64_t align, uint64_t entsize) {
    Elf64_Shdr s{name, type, flags, 0, off, size, link, info, align, entsize};
    put(b, s);
  };
  sh(0, SHT_NULL, 0, 0, 0, 0, 0, 0, 0);
  sh(shname(".text"), SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, textOff, sizeof text, 0, 0, 16, 0); // 1
  sh(shname(".rela.text"), SHT_RELA, SHF_INFO_LINK, o.relaOffset, 3 * sizeof(Elf64_Rela), 4, 1, 8,
     sizeof(Elf64_Rela));                                                                               // 2
  sh(shname(".data"), SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, dataOff, sizeof data, 0, 0, 8, 0);           // 3
  sh(shname(".symtab"), SHT_SYMTAB, 0, o.symOffset, 5 * sizeof(Elf64_Sym), 5, 2, 8, sizeof(Elf64_Sym)); // 4
  sh(shname(".strtab"), SHT_STRTAB, 0, strOff, strtab.size(), 0, 0, 1, 0);                              // 5
  sh(shname(".shstrtab"), SHT_STRTAB, 0, shstrOff, shstrtab.size(), 0, 0, 1, 0);                        // 6
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_REL;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_shoff = o.shOffset;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = 7;
  eh.e_shstrndx = 6;
  std::memcpy(b.data(), &eh, sizeof eh);
  return o;
}

SymbolResolver testResolver() {
  return [](const std::string &name) -> Result<void *> {
    if (name == "ext") return reinterpret_cast<void *>(&objloadTestExternal);
    if (name == "val") return static_cast<void *>(&objloadTestValue);
    return cfm::Error{cfm::ErrorKind::Internal, "no symbol " + name};
  };
}

/// The relocation `i` of the object, to change it.
Elf64_Rela *relaAt(TestObject &o, size_t i) {
  return reinterpret_cast<Elf64_Rela *>(o.bytes.data() + o.relaOffset) + i;
}

/// The permissions /proc/self/maps shows for the mapping holding `p` ("r-xp"), or "".
std::string permissionsOf(const void *p) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  auto a = reinterpret_cast<uintptr_t>(p);
  while (std::getline(maps, line)) {
    unsigned long lo = 0, hi = 0;
    char perms[8] = {};
    if (sscanf(line.c_str(), "%lx-%lx %7s", &lo, &hi, perms) == 3 && a >= lo && a < hi) return perms;
  }
  return "";
}

TEST(ObjLoad, RunsAValidObject) {
  TestObject o = buildObject();
  auto image = loadObject(o.bytes, testResolver());
  ASSERT_TRUE(image) << image.error().message;
  void *f = (*image)->symbol("f");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ((*image)->symbol("local"), nullptr); // local symbols are not exported
  EXPECT_EQ((*image)->symbol("nope"), nullptr);
  EXPECT_EQ(reinterpret_cast<int64_t (*)()>(f)(), 142);
  EXPECT_EQ(permissionsOf(f), "r-xp"); // W^X: the code is not writable
  EXPECT_GT((*image)->mappedBytes(), 0u);
}

TEST(ObjLoad, EveryTruncationIsAnError) {
  TestObject o = buildObject();
  for (size_t n = 0; n < o.bytes.size(); ++n) {
    auto image = loadObject(std::string_view(o.bytes).substr(0, n), testResolver());
    EXPECT_FALSE(image) << "loaded from the first " << n << " bytes";
  }
}

TEST(ObjLoad, GarbageIsAnError) {
  std::mt19937 rng(18);
  for (int i = 0; i < 200; ++i) {
    std::string junk(64 + rng() % 4096, '\0');
    for (char &c : junk) c = static_cast<char>(rng());
    if (i % 2) std::memcpy(junk.data(), ELFMAG, SELFMAG); // past the magic, too
    EXPECT_FALSE(loadObject(junk, testResolver()));
  }
  EXPECT_FALSE(loadObject("", testResolver()));
}

TEST(ObjLoad, CorruptHeadersAreErrors) {
  auto refused = [](TestObject o, const std::function<void(TestObject &)> &change, const std::string &want) {
    change(o);
    auto image = loadObject(o.bytes, testResolver());
    if (image) return std::string("loaded");
    return image.error().message.find(want) != std::string::npos ? std::string() : image.error().message;
  };
  TestObject o = buildObject();
  auto eh = [](TestObject &t) { return reinterpret_cast<Elf64_Ehdr *>(t.bytes.data()); };
  auto shdr = [](TestObject &t, size_t i) {
    return reinterpret_cast<Elf64_Shdr *>(t.bytes.data() + t.shOffset) + i;
  };
  auto symAt = [](TestObject &t, size_t i) {
    return reinterpret_cast<Elf64_Sym *>(t.bytes.data() + t.symOffset) + i;
  };
  EXPECT_EQ(refused(
                o, [&](TestObject &t) { eh(t)->e_machine = EM_AARCH64; }, "not an x86-64"),
            "");
  EXPECT_EQ(refused(
                o, [&](TestObject &t) { eh(t)->e_type = ET_DYN; }, "not an x86-64 relocatable"),
            "");
  EXPECT_EQ(refused(
                o, [&](TestObject &t) { eh(t)->e_ident[EI_CLASS] = ELFCLASS32; }, "ELF64"),
            "");
  EXPECT_EQ(refused(
                o, [&](TestObject &t) { eh(t)->e_shnum = 200; }, "out of bounds"),
            "");
  EXPECT_EQ(refused(
                o, [&](TestObject &t) { shdr(t, 1)->sh_offset = 1u << 30; }, "out of bounds"),
            "");
  EXPECT_EQ(refused(
                o, [&](TestObject &t) { shdr(t, 1)->sh_addralign = 3; }, "alignment"),
            "");
  EXPECT_EQ(refused(
                o, [&](TestObject &t) { shdr(t, 4)->sh_entsize = 7; }, "symbol table"),
            "");
  EXPECT_EQ(refused(
                o, [&](TestObject &t) { shdr(t, 2)->sh_type = SHT_REL; }, "section type"),
            "");
  EXPECT_EQ(refused(
                o, [&](TestObject &t) { shdr(t, 6)->sh_type = SHT_GROUP; }, "COMDAT"),
            "");
  EXPECT_EQ(refused(
                o, [&](TestObject &t) { shdr(t, 3)->sh_flags |= SHF_TLS; }, "thread-local"),
            "");
  EXPECT_EQ(refused(
                o, [&](TestObject &t) { symAt(t, 4)->st_name = 1u << 20; }, "symbol name"),
            "");
  EXPECT_EQ(refused(
                o, [&](TestObject &t) { symAt(t, 1)->st_value = 4096; }, "symbol value"),
            "");
  EXPECT_EQ(refused(
                o, [&](TestObject &t) { relaAt(t, 0)->r_offset = 1u << 20; }, "offset out of bounds"),
            "");
  EXPECT_EQ(refused(
                o, [&](TestObject &t) { relaAt(t, 1)->r_info = ELF64_R_INFO(99, R_X86_64_PC32); },
                "symbol out of range"),
            "");
}

TEST(ObjLoad, AnUnknownRelocationTypeIsAnError) {
  TestObject o = buildObject();
  relaAt(o, 2)->r_info = ELF64_R_INFO(ELF64_R_SYM(relaAt(o, 2)->r_info), R_X86_64_TPOFF32);
  auto image = loadObject(o.bytes, testResolver());
  ASSERT_FALSE(image);
  EXPECT_NE(image.error().message.find("unsupported relocation type 23"), std::string::npos)
      << image.error().message;
}

TEST(ObjLoad, UnresolvedSymbolsAreErrors) {
  TestObject o = buildObject();
  // The resolver refuses `val` (as the light path refuses cfm_model_render): its reason comes back.
  auto refusing = loadObject(o.bytes, [](const std::string &name) -> Result<void *> {
    if (name == "ext") return reinterpret_cast<void *>(&objloadTestExternal);
    return cfm::Error{cfm::ErrorKind::Internal, "`" + name + "` needs the JIT engine"};
  });
  ASSERT_FALSE(refusing);
  EXPECT_EQ(refusing.error().message, "`val` needs the JIT engine");
  // The resolver finds nothing for `ext`.
  auto missing = loadObject(o.bytes, [](const std::string &name) -> Result<void *> {
    return name == "val" ? static_cast<void *>(&objloadTestValue) : nullptr;
  });
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("unresolved symbol `ext`"), std::string::npos)
      << missing.error().message;
}

TEST(ObjLoad, FarExternalsGoThroughStubs) {
  // `ext` far beyond ±2 GiB of any mapping (an address in cfmc or libc may be): the call still
  // lands, through the stub (the PC32 data reference stays inside the object).
  TestObject o = buildObject();
  auto image = loadObject(o.bytes, testResolver());
  ASSERT_TRUE(image) << image.error().message;
  auto *f = static_cast<const uint8_t *>((*image)->symbol("f"));
  int32_t rel = 0;
  std::memcpy(&rel, f + 5, 4);
  const uint8_t *target = f + 9 + rel;
  if (target != reinterpret_cast<const uint8_t *>(&objloadTestExternal)) {
    EXPECT_EQ(target[0], 0xff); // jmp *0(%rip)
    EXPECT_EQ(target[1], 0x25);
    uint64_t to = 0;
    std::memcpy(&to, target + 6, 8);
    EXPECT_EQ(to, reinterpret_cast<uint64_t>(&objloadTestExternal));
  }
  EXPECT_EQ(reinterpret_cast<int64_t (*)()>((*image)->symbol("f"))(), 142);
}

TEST(ObjLoad, AJitObjectRunsAsTheEngineRunsIt) {
  const std::string src = "record P { name: string, n: int }\n"
                          "fn fib(n: int) -> int { if n < 2 { return n; } return fib(n - 1) + fib(n - 2); }\n"
                          "fn bad(x: int) -> int { return 10 / x; }\n"
                          "procedure main(k: int = 3) {\n"
                          "  let ps = [P { name: \"a\", n: 1 }, P { name: \"b\", n: fib(15) }];\n"
                          "  var m: map<string, int> = {};\n"
                          "  for p in ps { m[p.name] = p.n * k; }\n"
                          "  let t = async fib(12);\n"
                          "  print(\"${ps} ${m} ${wait(t)} ${1.5 % 1.0}\");\n"
                          "  try { print(bad(0)); } catch e { print(e.kind); }\n"
                          "  print(bad(k - 3));\n"
                          "}\n";
  cfm::testing::Outcome want = cfm::testing::runWith("jit", src); // the engine, no cache
  ASSERT_EQ(want.status, 1);
  ASSERT_NE(want.err.find("error: "), std::string::npos);

  // The JIT stores its object in a fresh cache folder ...
  char dirTemplate[] = "/tmp/objload-test-XXXXXX";
  ASSERT_NE(mkdtemp(dirTemplate), nullptr);
  std::string dir = dirTemplate;
  std::string saved = std::getenv("CFM_CACHE_DIR") ? std::getenv("CFM_CACHE_DIR") : "";
  setenv("CFM_CACHE_DIR", dir.c_str(), 1);
  auto c = cfm::testing::compile(src);
  ASSERT_TRUE(c->ok());
  cfm::jit::JitOptions jo;
  cfm::frontend::runWithLargeStack([&] {
    auto program = cfm::jit::compile(*c, cfm::run::RunOptions{}, jo);
    EXPECT_TRUE(program.ok()) << program.error().message;
  });
  if (saved.empty())
    unsetenv("CFM_CACHE_DIR");
  else
    setenv("CFM_CACHE_DIR", saved.c_str(), 1);
  std::string key;
  for (const auto &e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".o") key = e.path().stem().string();
  std::optional<std::string> object = cfm::jitload::objcache::load(dir, key);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(object.has_value()) << "no object stored in " << dir;

  // ... which loads without LLVM and runs with the engine's output, trace and status.
  cfm::run::TypeTable types;
  auto image = loadObject(*object, cfm::jitload::cachedObjectResolver(*c, types));
  ASSERT_TRUE(image) << image.error().message;
  cfm::jitload::EntryPoints points;
  points.init = reinterpret_cast<int (*)(FILE *)>((*image)->symbol(cfm::jitload::kModuleInit));
  points.entry = reinterpret_cast<int (*)(cfm::rt::Slot *, const uint8_t *, cfm::rt::Slot *)>(
      (*image)->symbol(cfm::jitload::kModuleEntry));
  points.fini = reinterpret_cast<void (*)()>((*image)->symbol(cfm::jitload::kModuleFini));
  ASSERT_TRUE(points.init && points.entry && points.fini);
  cfm::testing::Capture cap;
  cfm::run::RunOptions ro;
  ro.out = cap.out;
  ro.err = cap.err;
  auto proc = cfm::run::findProcedure(c->program, ro, c->sources.file(0).path());
  ASSERT_TRUE(proc);
  cfm::Result<int> status = 0;
  cfm::frontend::runWithLargeStack([&] { status = cfm::jitload::runEntryPoints(points, **proc, types, ro); });
  ASSERT_TRUE(status.ok()) << status.error().message;
  cfm::testing::Outcome got = cap.finish(*status);
  EXPECT_EQ(got.out, want.out);
  EXPECT_EQ(got.err, want.err);
  EXPECT_EQ(got.status, want.status);
}

TEST(ObjLoad, TheLightPathRefusesARunTimeTemplate) {
  // cfm_model_render needs the engine's template compiler: the resolver refuses it by name.
  auto c = cfm::testing::compile("procedure main() { print(1); }\n");
  cfm::run::TypeTable types;
  cfm::jitload::SymbolResolver resolve = cfm::jitload::cachedObjectResolver(*c, types);
  auto render = resolve("cfm_model_render");
  ASSERT_FALSE(render);
  EXPECT_NE(render.error().message.find("needs the JIT engine"), std::string::npos);
  auto print = resolve("cfm_print");
  ASSERT_TRUE(print);
  EXPECT_NE(*print, nullptr);
  auto intType = resolve("cfm.type.int");
  ASSERT_TRUE(intType);
  EXPECT_NE(*intType, nullptr);
  EXPECT_FALSE(resolve("cfm.type.list<NoSuchRecord>"));
  EXPECT_FALSE(resolve("no_such_function_anywhere_42"));
}

} // namespace
