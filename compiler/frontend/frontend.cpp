// frontend.cpp — loading, import resolution, and the parse → check pipeline.
#include "frontend/frontend.h"

#include "base/files.h"

#include "frontend/model_prelude.h"

#include "parse/parser.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <pthread.h>
#include <set>
#include <signal.h>
#include <unistd.h>

namespace cfm::frontend {

namespace fs = std::filesystem;
using support::DiagKind;

namespace {

/// Source files (the main file and every import) are regular files of at most
/// base::kMaxSourceBytes: a device (`/dev/zero`), a FIFO or a directory is refused before
/// anything is read, so the front end can neither hang nor read without end.
Result<std::string> readFile(const std::string &path) {
  return base::readRegularFile(path, base::kMaxSourceBytes);
}

std::string canonical(const std::string &path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::path(path), ec);
  return ec ? path : p.string();
}

/// Whether reading failed because the file is not there (the system's ENOENT, or cfmd's reader
/// of a client's files).
bool missing(const Error &e) {
  const std::string &m = e.message;
  return m.rfind("No such file", 0) == 0 || m.rfind("no such file", 0) == 0;
}

/// The part of `std/REST` after the prefix when it is a plain relative path without `..`
/// components (`retry.cfp`, `net/http.cfp`); empty otherwise.
std::string stdModulePath(const std::string &importPath) {
  std::string rest = importPath.substr(kStdImportPrefix.size());
  if (rest.empty() || rest.front() == '/') return {};
  for (const fs::path &part : fs::path(rest))
    if (part == ".." || part == ".") return {};
  return rest;
}

class Loader {
public:
  Loader(Compilation &c, const SourceReader &read, std::string stdlib)
      : c_(c), read_(read), stdlib_(std::move(stdlib)) {}

  void load(support::FileId id, const std::string &path) {
    seen_.insert(canonical(path));
    parse::ParseResult r = parse::parseFile(id, c_.sources, c_.diags);
    if (r.hadErrors) c_.syntaxErrors = true;
    c_.times.lex += r.times.lex;
    c_.times.parse += r.times.parse;
    c_.times.build += r.times.build;
    ast::Module *m = r.module.get();
    c_.modules.push_back(std::move(r.module));
    for (ast::Decl *d : m->decls) {
      if (d->kind != ast::DeclKind::Import) continue;
      auto *imp = static_cast<ast::ImportDecl *>(d);
      const bool isStd = imp->path.rfind(kStdImportPrefix, 0) == 0;
      std::string target = importTarget(path, imp->path, stdlib_);
      if (isStd) {
        if (target.empty()) {
          c_.diags.report(DiagKind::CannotImport, imp->range,
                          {imp->path, "a standard library module is named `std/NAME.cfp` (a relative "
                                      "path without `.` or `..`)"});
          c_.syntaxErrors = true;
          continue;
        }
      }
      if (seen_.count(canonical(target))) continue;
      Result<std::string> text = read_(target);
      if (!text) {
        std::string why = text.error().message;
        if (isStd && missing(text.error())) why = "no such file in the standard library (" + stdlib_ + ")";
        c_.diags.report(DiagKind::CannotImport, imp->range, {imp->path, why});
        c_.syntaxErrors = true;
        continue;
      }
      support::FileId fid = c_.sources.add(target, std::move(*text));
      load(fid, target);
    }
  }

private:
  Compilation &c_;
  const SourceReader &read_;
  std::string stdlib_;
  std::set<std::string> seen_;
};

/// The model object types and the other built-in record types (model_prelude.h), after the
/// program's own files.
void loadModelPrelude(Compilation &c) {
  auto load = [&](const char *path, const char *text, bool model) {
    support::FileId id = c.sources.add(path, text);
    parse::ParseResult r = parse::parseFile(id, c.sources, c.diags);
    for (ast::Decl *d : r.module->decls)
      if (d->kind == ast::DeclKind::Record) {
        static_cast<ast::RecordDecl *>(d)->builtin = true;
        static_cast<ast::RecordDecl *>(d)->model = model;
      }
    c.modules.push_back(std::move(r.module));
  };
  load(kModelPreludePath, kModelPrelude, true);
  load(kTypesPreludePath, kTypesPrelude, false);
}

void checkProgram(Compilation &c) {
  if (c.syntaxErrors) return; // with syntax errors, type checking is skipped (no follow-on noise)
  for (auto &m : c.modules) c.program.modules.push_back(m.get());
  auto start = std::chrono::steady_clock::now();
  sema::check(c.program, c.diags);
  c.times.check = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

std::string importTarget(const std::string &importer, const std::string &importPath,
                         const std::string &stdlib) {
  if (importPath.rfind(kStdImportPrefix, 0) == 0) {
    std::string module = stdModulePath(importPath);
    return module.empty() ? std::string() : (fs::path(stdlib) / module).lexically_normal().string();
  }
  return (fs::path(importer).parent_path() / importPath).string();
}

std::string stdlibDir() {
  const char *env = std::getenv("CFM_STDLIB");
  if (env && *env) {
    std::error_code ec;
    fs::path p = fs::absolute(fs::path(env), ec);
    return (ec ? fs::path(env) : p).lexically_normal().string();
  }
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  fs::path exe = n > 0 ? fs::path(std::string(buf, size_t(n))) : fs::current_path() / "cfmc";
  return (exe.parent_path().parent_path() / "share" / "cfm" / "stdlib").lexically_normal().string();
}

Result<std::unique_ptr<Compilation>> compileFile(const std::string &path) {
  return compileFile(path, readFile, stdlibDir());
}

Result<std::unique_ptr<Compilation>> compileFile(const std::string &path, const SourceReader &read) {
  return compileFile(path, read, stdlibDir());
}

Result<std::unique_ptr<Compilation>> compileFile(const std::string &path, const SourceReader &read,
                                                 const std::string &stdlib) {
  Result<std::string> text = read(path);
  if (!text) return text.error().framed("cannot read " + path + ": ").inFile(path);
  auto c = std::make_unique<Compilation>();
  support::FileId id = c->sources.add(path, std::move(*text));
  Loader(*c, read, stdlib).load(id, path);
  loadModelPrelude(*c);
  checkProgram(*c);
  return c;
}

namespace {
/// The language source of a ConfigTemplate compiled with these parameters: a template
/// `config_template` whose first line is the header, then the text. Empty with `why` when the
/// text cannot be embedded (it holds `"""`).
std::string templateSource(std::string_view text, const std::vector<std::string> &names,
                           const std::vector<std::string> &types, std::string &why) {
  if (text.find("\"\"\"") != std::string_view::npos) {
    why = "a template text cannot hold `\"\"\"`";
    return {};
  }
  std::string src = "template config_template(";
  for (size_t i = 0; i < names.size(); ++i) src += (i ? ", " : "") + names[i] + ": " + types[i];
  src += ") \"\"\"\n";
  src += text;
  src += "\"\"\"\n";
  return src;
}
} // namespace

std::unique_ptr<Compilation> compileTemplate(const std::string &name, std::string_view text,
                                             const std::vector<std::string> &names,
                                             const std::vector<std::string> &types, std::string &error) {
  std::string src = templateSource(text, names, types, error);
  if (src.empty()) return nullptr;
  std::unique_ptr<Compilation> c;
  runWithLargeStack([&] { c = compileText("<template " + name + ">", src); });
  if (!c->ok()) {
    const auto d = c->diags.sorted().front(); // sorted() gives a new vector
    // The header line comes first: the text's line is one less.
    error = "line " + std::to_string(d.range.begin.line > 1 ? d.range.begin.line - 1 : 1) + ": " + d.message;
    return nullptr;
  }
  return c;
}

std::unique_ptr<Compilation> compileText(const std::string &path, std::string text) {
  std::vector<SourceText> texts;
  texts.push_back({path, std::move(text)});
  return compileTexts(std::move(texts));
}

std::unique_ptr<Compilation> compileTexts(std::vector<SourceText> texts) {
  auto c = std::make_unique<Compilation>();
  const SourceReader read = readFile;
  Loader loader(*c, read, stdlibDir());
  for (SourceText &t : texts) {
    support::FileId id = c->sources.add(t.path, std::move(t.text), t.typedEnd);
    loader.load(id, t.path);
  }
  loadModelPrelude(*c);
  checkProgram(*c);
  return c;
}

namespace {

void *trampoline(void *arg) {
  (*static_cast<const std::function<void()> *>(arg))();
  return nullptr;
}

/// The stack of the thread that runs runOnFrontendThread's functions.
constexpr size_t kWorkerStackBytes = size_t(512) << 20;

/// That thread: made on the first call and kept for the process's life, so that a compilation
/// does not make a thread with a fresh 512 MiB stack as runWithLargeStack does (mapped, faulted
/// in page by page and unmapped again, glibc caching no stack that large, with a TLB flush on
/// every CPU each time: a tenth of `cfmc lsp`'s time per edit). Never freed: the thread waits on
/// it until the process ends. Callers take turns.
struct StackWorker {
  std::mutex turn; // one caller at a time
  std::mutex mu;
  std::condition_variable cv;
  const std::function<void()> *job = nullptr;
  bool done = false;
};
thread_local bool tOnWorker = false;

void *workerLoop(void *arg) {
  auto *w = static_cast<StackWorker *>(arg);
  tOnWorker = true;
  for (;;) {
    std::unique_lock lock(w->mu);
    w->cv.wait(lock, [&] { return w->job != nullptr; });
    const std::function<void()> *job = w->job;
    lock.unlock();
    (*job)();
    lock.lock();
    w->job = nullptr;
    w->done = true;
    w->cv.notify_all();
  }
  return nullptr;
}

/// The worker, or null when no thread could be made.
StackWorker *stackWorker() {
  static StackWorker *const worker = [] {
    auto *w = new StackWorker();
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, kWorkerStackBytes);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    // The worker takes no signals: they stay with the threads that expect them.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_t th;
    bool made = pthread_create(&th, &attr, workerLoop, w) == 0;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    pthread_attr_destroy(&attr);
    if (made) pthread_setname_np(th, "cfm-frontend");
    return made ? w : (delete w, nullptr);
  }();
  return worker;
}

} // namespace

void runWithLargeStack(const std::function<void()> &fn, size_t stackBytes) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stackBytes);
  pthread_t th;
  if (pthread_create(&th, &attr, trampoline, const_cast<std::function<void()> *>(&fn)) != 0) {
    pthread_attr_destroy(&attr);
    fn(); // no thread to be had: run here, with the limits as the only guard
    return;
  }
  pthread_attr_destroy(&attr);
  pthread_join(th, nullptr);
}

void runOnFrontendThread(const std::function<void()> &fn) {
  if (tOnWorker) { // called from a function already running there
    fn();
    return;
  }
  StackWorker *w = stackWorker();
  if (!w) return runWithLargeStack(fn, kWorkerStackBytes);
  std::lock_guard turn(w->turn);
  std::unique_lock lock(w->mu);
  w->done = false;
  w->job = &fn;
  w->cv.notify_all();
  w->cv.wait(lock, [&] { return w->done; });
}

} // namespace cfm::frontend
