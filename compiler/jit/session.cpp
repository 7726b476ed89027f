// session.cpp — the process's one ORC LLJIT (see session.h): a target machine per optimisation
// level, the pass pipeline, a JITDylib per module with the runtime's symbols bound by address
// (removed with the module's last handle), compilation to objects (through the persistent
// object cache of jitload/objcache.h when the module has a cache key).
#include "jit/session.h"

#include "jitload/objcache.h"
#include "runtime/abi.h"

#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Object/ObjectFile.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <chrono>

namespace cfm::jit {

namespace {

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

llvm::CodeGenOptLevel codegenLevel(int opt) {
  return opt <= 0   ? llvm::CodeGenOptLevel::None
         : opt == 1 ? llvm::CodeGenOptLevel::Less
                    : llvm::CodeGenOptLevel::Default;
}

} // namespace

std::string errorText(llvm::Error e) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << e;
  return s;
}

void optimize(llvm::Module &m, llvm::TargetMachine *tm, int opt) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm =
      opt <= 0 ? pb.buildO0DefaultPipeline(llvm::OptimizationLevel::O0)
               : pb.buildPerModuleDefaultPipeline(opt == 1 ? llvm::OptimizationLevel::O1
                                                           : llvm::OptimizationLevel::O2);
  mpm.run(m, mam);
}

Session *Session::get(std::string &why) {
  static std::once_flag once;
  // Never destroyed: JIT'd code must outlive every static destructor that may still call into
  // it (a value a module made may be released at exit).
  static Session *session = nullptr;
  static std::string failure;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
    if (!jtmb) {
      failure = errorText(jtmb.takeError());
      return;
    }
    // What LLJIT itself sets up for JITLink on x86-64 ELF (its own compiler is not used: the
    // objects are compiled here, for the cache, by the target machine of each module's level):
    // the small code model, position independent — direct calls within a module instead of
    // `movabs` + an indirect call to every function.
    jtmb->setCodeModel(llvm::CodeModel::Small);
    jtmb->setRelocationModel(llvm::Reloc::PIC_);
    auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(*jtmb).create();
    if (!jit) {
      failure = errorText(jit.takeError());
      return;
    }
    // Functions generated code may call without declaring them in the ABI (memcpy, fmod, ...).
    auto gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
        (*jit)->getDataLayout().getGlobalPrefix());
    if (!gen) {
      failure = errorText(gen.takeError());
      return;
    }
    (*jit)->getMainJITDylib().addGenerator(std::move(*gen));
    auto *s = new Session();
    s->jtmb_ = std::make_unique<llvm::orc::JITTargetMachineBuilder>(std::move(*jtmb));
    s->jit_ = std::move(*jit);
    std::string why;
    if (!s->targetMachine(2, why)) { // the one lower() uses for the data layout
      failure = why;
      return;
    }
    session = s;
  });
  if (!session) why = failure;
  return session;
}

llvm::TargetMachine *Session::targetMachine(int opt, std::string &why) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t level = static_cast<size_t>(std::clamp(opt, 0, 2));
  if (!tms_[level]) {
    llvm::orc::JITTargetMachineBuilder b = *jtmb_;
    b.setCodeGenOptLevel(codegenLevel(opt));
    auto tm = b.createTargetMachine();
    if (!tm) {
      why = errorText(tm.takeError());
      return nullptr;
    }
    tms_[level] = std::move(*tm);
  }
  return tms_[level].get();
}

bool Session::lower(const sema::Program &p, const support::SourceManager &sources, const sema::FnInfo *entry,
                    const std::string &name, Lowered &out, std::string &why, const ReplCapture *capture) {
  auto t0 = Clock::now();
  llvm::TargetMachine *tm = tms_[2].get(); // made by get(); every level has the same layout
  out.module = std::make_unique<llvm::Module>(name, *out.ctx.getContext());
  out.module->setDataLayout(tm->createDataLayout());
  out.module->setTargetTriple(tm->getTargetTriple().str());
  out.info = lowerProgram(p, sources, entry, *out.module, capture);
  std::string verify;
  llvm::raw_string_ostream vs(verify);
  if (llvm::verifyModule(*out.module, &vs)) {
    why = "internal error: the JIT produced invalid IR: " + verify;
    return false;
  }
  out.lowerMs = msSince(t0);
  return true;
}

llvm::Expected<ModulePtr> Session::add(Lowered l, int opt, const std::string &cacheKey, AddTimes *times) {
  std::string why;
  llvm::TargetMachine *tm = targetMachine(opt, why);
  if (!tm) return llvm::createStringError(why);
  ModulePtr m; // before the lock: when an error drops it, its destructor takes the lock
  std::lock_guard<std::mutex> lock(mu_);
  auto jd = jit_->createJITDylib("cfm.module." + std::to_string(dylibs_++));
  if (!jd) return jd.takeError();
  // From here the handle owns the dylib: an error below removes it again.
  ++live_;
  m = std::make_shared<Module>(*this, *jd);
  jd->addToLinkOrder(jit_->getMainJITDylib());
  // The ABI functions the module calls and its runtime type descriptors, by address. The running
  // task's sched::tl is not among them: code reads it through cfm_task_local() at its entries,
  // so a module runs on any scheduler thread.
  llvm::orc::SymbolMap syms;
  auto define = [&](const std::string &name, const void *addr, llvm::JITSymbolFlags flags) {
    syms[jit_->mangleAndIntern(name)] = {llvm::orc::ExecutorAddr::fromPtr(addr), flags};
  };
  for (llvm::Function &f : *l.module)
    if (f.isDeclaration() && f.getName().starts_with("cfm_"))
      if (void *a = cfm_abi_lookup(f.getName().str().c_str()))
        define(f.getName().str(), a, llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable);
  for (const auto &[name, t] : l.info.typeSymbols)
    define(name, m->types().get(t), llvm::JITSymbolFlags::Exported);
  if (llvm::Error e = jd->define(llvm::orc::absoluteSymbols(std::move(syms)))) return e;

  // The persistent object cache (jitload/objcache.h): the key names the sources, the entry, the
  // level, the compiler, LLVM and the host CPU; cfmc's light path computes the same one.
  std::string dir = cacheKey.empty() ? "" : jitload::objcache::directory();
  const std::string &key = cacheKey;
  auto t0 = Clock::now();
  if (!dir.empty())
    if (std::optional<std::string> cached = jitload::objcache::load(dir, key)) {
      auto object = llvm::MemoryBuffer::getMemBufferCopy(*cached, dir + "/" + key + ".o");
      auto parsed = llvm::object::ObjectFile::createObjectFile(object->getMemBufferRef());
      if (parsed) {
        size_t bytes = object->getBufferSize();
        if (llvm::Error e = jit_->addObjectFile(*jd, std::move(object))) return e;
        if (times) {
          times->codegenMs = msSince(t0);
          times->cacheHit = true;
          times->objectBytes = bytes;
        }
        return m;
      }
      llvm::consumeError(parsed.takeError()); // not an object LLVM accepts: compiled and replaced
    }
  optimize(*l.module, tm, opt);
  if (times) times->optMs = msSince(t0);
  t0 = Clock::now();
  llvm::orc::SimpleCompiler compile(*tm);
  auto object = compile(*l.module);
  if (!object) return object.takeError();
  if (!dir.empty()) // not fatal: the next run compiles
    (void)jitload::objcache::store(dir, key,
                                   std::string_view((*object)->getBufferStart(), (*object)->getBufferSize()));
  size_t bytes = (*object)->getBufferSize();
  if (llvm::Error e = jit_->addObjectFile(*jd, std::move(*object))) return e;
  if (times) {
    times->codegenMs = msSince(t0);
    times->objectBytes = bytes;
  }
  return m;
}

llvm::Expected<ModuleEntry> Session::entryPoints(Module &m) {
  auto init = lookup(m, kInitSymbol);
  if (!init) return init.takeError();
  auto entry = lookup(m, kEntrySymbol);
  if (!entry) return entry.takeError();
  auto fini = lookup(m, kFiniSymbol);
  if (!fini) return fini.takeError();
  ModuleEntry e;
  e.init = reinterpret_cast<int (*)(FILE *)>(*init);
  e.entry = reinterpret_cast<int (*)(rt::Slot *, const uint8_t *, rt::Slot *)>(*entry);
  e.fini = reinterpret_cast<void (*)()>(*fini);
  return e;
}

llvm::Expected<void *> Session::lookup(Module &m, const std::string &name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto a = jit_->lookup(m.dylib(), name);
  if (!a) return a.takeError();
  return a->toPtr<void *>();
}

size_t Session::liveModules() {
  std::lock_guard<std::mutex> lock(mu_);
  return live_;
}

void Session::remove(llvm::orc::JITDylib &jd) {
  std::lock_guard<std::mutex> lock(mu_);
  // Frees the dylib's code and data (its resource trackers) and takes it out of the session.
  // Nothing can be done about a failure here but not count the module as removed.
  if (llvm::Error e = jit_->getExecutionSession().removeJITDylib(jd))
    llvm::consumeError(std::move(e));
  else
    --live_;
}

Module::~Module() { session_.remove(jd_); }

} // namespace cfm::jit
