// session.cpp — the process's one ORC LLJIT (see session.h): target machine, the pass pipeline,
// a JITDylib per module with the runtime's symbols bound by address, compilation to objects
// (through the persistent object cache of cache.h when the module has a cache key).
#include "jit/session.h"
#include "jit/cache.h"

#include "runtime/abi.h"

#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>

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

Session *Session::get(int opt, std::string &why) {
  static std::once_flag once;
  // Never destroyed: JIT'd code must outlive every static destructor that may still call into it
  // (the run-time template cache releases its modules' literals at exit).
  static Session *session = nullptr;
  static std::string failure;
  std::call_once(once, [opt] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
    if (!jtmb) {
      failure = errorText(jtmb.takeError());
      return;
    }
    jtmb->setCodeGenOptLevel(codegenLevel(opt));
    // What LLJIT itself sets up for JITLink on x86-64 ELF (its own compiler is not used: the
    // objects are compiled here, for the cache): the small code model, position independent —
    // direct calls within a module instead of `movabs` + an indirect call to every function.
    jtmb->setCodeModel(llvm::CodeModel::Small);
    jtmb->setRelocationModel(llvm::Reloc::PIC_);
    auto tm = jtmb->createTargetMachine();
    if (!tm) {
      failure = errorText(tm.takeError());
      return;
    }
    auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*jtmb)).create();
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
    session = new Session();
    session->opt_ = opt;
    session->tm_ = std::move(*tm);
    session->jit_ = std::move(*jit);
  });
  if (!session) why = failure;
  return session;
}

bool Session::lower(const sema::Program &p, const support::SourceManager &sources, const sema::FnInfo *entry,
                    const std::string &name, Lowered &out, std::string &why, const ReplCapture *capture) {
  auto t0 = Clock::now();
  out.module = std::make_unique<llvm::Module>(name, *out.ctx.getContext());
  out.module->setDataLayout(tm_->createDataLayout());
  out.module->setTargetTriple(tm_->getTargetTriple().str());
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

llvm::Expected<llvm::orc::JITDylib *> Session::add(Lowered l, const std::string &cacheKey, AddTimes *times) {
  std::lock_guard<std::mutex> lock(mu_);
  auto jd = jit_->createJITDylib("cfm.module." + std::to_string(dylibs_++));
  if (!jd) return jd.takeError();
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
  auto &types = *(tables_[&*jd] = std::make_unique<interp::TypeTable>());
  for (const auto &[name, t] : l.info.typeSymbols) define(name, types.get(t), llvm::JITSymbolFlags::Exported);
  if (llvm::Error e = jd->define(llvm::orc::absoluteSymbols(std::move(syms)))) return e;

  // The persistent object cache: the key also names the compiler, LLVM and the host CPU.
  std::string key, dir;
  if (!cacheKey.empty()) {
    dir = cache::directory();
    key = cache::hashParts({cacheKey, cache::compilerId(), LLVM_VERSION_STRING, tm_->getTargetTriple().str(),
                            tm_->getTargetCPU(), tm_->getTargetFeatureString(), std::to_string(opt_)});
  }
  auto t0 = Clock::now();
  if (!dir.empty())
    if (auto cached = cache::load(dir, key)) {
      if (llvm::Error e = jit_->addObjectFile(*jd, std::move(cached))) return e;
      if (times) {
        times->codegenMs = msSince(t0);
        times->cacheHit = true;
      }
      return &*jd;
    }
  optimize(*l.module, tm_.get(), opt_);
  if (times) times->optMs = msSince(t0);
  t0 = Clock::now();
  llvm::orc::SimpleCompiler compile(*tm_);
  auto object = compile(*l.module);
  if (!object) return object.takeError();
  if (!dir.empty()) (void)cache::store(dir, key, (*object)->getBuffer()); // not fatal: next run compiles
  if (llvm::Error e = jit_->addObjectFile(*jd, std::move(*object))) return e;
  if (times) times->codegenMs = msSince(t0);
  return &*jd;
}

llvm::Expected<ModuleEntry> Session::entryPoints(llvm::orc::JITDylib &jd) {
  auto init = lookup(jd, kInitSymbol);
  if (!init) return init.takeError();
  auto entry = lookup(jd, kEntrySymbol);
  if (!entry) return entry.takeError();
  auto fini = lookup(jd, kFiniSymbol);
  if (!fini) return fini.takeError();
  ModuleEntry m;
  m.init = reinterpret_cast<int (*)(FILE *)>(*init);
  m.entry = reinterpret_cast<int (*)(rt::Slot *, const uint8_t *, rt::Slot *)>(*entry);
  m.fini = reinterpret_cast<void (*)()>(*fini);
  return m;
}

interp::TypeTable &Session::typesOf(llvm::orc::JITDylib &jd) {
  std::lock_guard<std::mutex> lock(mu_);
  return *tables_.at(&jd);
}

llvm::Expected<void *> Session::lookup(llvm::orc::JITDylib &jd, const std::string &name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto a = jit_->lookup(jd, name);
  if (!a) return a.takeError();
  return a->toPtr<void *>();
}

} // namespace cfm::jit
