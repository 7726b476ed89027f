// repl_session.cpp — the REPL's evaluation core (repl_session.h).
//
// Each input is compiled as part of a program made of every declaration accepted so far and a
// procedure whose parameters carry the session's variables in and whose body holds the input:
//
//   <declarations so far>   // each earlier input that declared something, a source of its own
//   procedure __repl(__in0: T0, ...) {
//   var x = __in0;          // the session's variables, as `let` or `var`
//   if true {
//   <input>                 // a nested block: redefining a session variable shadows it
//   }
//   }
//
// Inputs are numbered from 1 and named `<repl N>` in diagnostics and traces, with the line
// numbers the user typed: the procedure's header shares the input's first line, and each earlier
// declaration is a source text of its own (frontend::compileTexts), so a function declared in
// input 3 is `<repl 3>:2` at its second line. The generated text after the input is marked
// (SourceText::typedEnd): a syntax error there reads "found end of input", not `}`.
// After the run the engine hands back the final values of the session variables and of the
// variables the input declared; diagnostics are shown against the input's own lines. Earlier
// compilations stay alive: values refer to their runtime type descriptors. With the JIT each
// input is compiled by the JIT (jit::runForRepl; its code stays in the process's JIT session);
// an input the JIT does not compile yet runs in the interpreter, silently.
#include "repl/repl_session.h"

#include "base/files.h"
#include "frontend/frontend.h"
#include "interp/interp.h"
#include "jitload/engine.h"
#include "runtime/runtime.h"

#include <cctype>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <vector>

namespace cfm::repl {

const char *const kHelp =
    R"(Type declarations (fn, record, template, const, import), statements or an expression.
An expression's value is printed; declarations and variables persist between inputs.
Input continues on the next line while a bracket, brace, string or comment is open.

  :type EXPR   show the type of an expression without running it
  :doc NAME    show a built-in's or a declaration's signature and documentation
  :load FILE   load a file's declarations (as `import "FILE";`)
  :help        this text
  :quit        leave (also Ctrl-D)

Tab completes names in scope, built-ins, keywords, fields and methods after `.`, and commands.
)";

bool needsMore(const std::string &s) {
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '/') {
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      size_t e = s.find("*/", i + 2);
      if (e == std::string::npos) return true;
      i = e + 1;
      continue;
    }
    if (s.compare(i, 3, "\"\"\"") == 0) {
      size_t e = s.find("\"\"\"", i + 3);
      if (e == std::string::npos) return true;
      i = e + 2;
      continue;
    }
    if (c == '"') {
      size_t j = i + 1;
      while (j < s.size() && s[j] != '"') {
        if (s[j] == '\\') ++j;
        ++j;
      }
      if (j >= s.size()) return true;
      i = j;
      continue;
    }
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') --depth;
  }
  return depth > 0;
}

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

namespace {

bool startsWithWord(const std::string &s, const char *w) {
  size_t n = std::strlen(w);
  return s.compare(0, n, w) == 0 &&
         (s.size() == n || !(std::isalnum(static_cast<unsigned char>(s[n])) || s[n] == '_'));
}

struct SessionVar {
  std::string name;
  bool isVar;
  std::string type;  // as written in source
  rt::Slot value{0}; // owned
  const rt::TypeDesc *desc = nullptr;
};

void put(FILE *f, const std::string &s) {
  fputs(s.c_str(), f);
  fflush(f);
}

} // namespace

struct Session::Impl {
  Impl(bool jit, int optLevel, FILE *out, FILE *err) : jit_(jit), out_(out), err_(err) {
    jitOptions_.optLevel = optLevel;
  }
  ~Impl() {
    for (SessionVar &v : vars_) rt::releaseSlot(v.value, v.desc);
    rt::clearError();
  }

  bool handle(const std::string &raw) {
    std::string in = trim(raw);
    if (in.empty()) return true;
    name_ = "<repl " + std::to_string(++inputs_) + ">";
    if (in[0] == ':') return command(in);
    for (const char *kw : {"fn", "procedure", "template", "record", "const", "import"})
      if (startsWithWord(in, kw)) {
        declare(in);
        return true;
      }
    for (const char *kw : {"let", "var", "throw", "return", "break", "continue"})
      if (startsWithWord(in, kw)) {
        statements(in, "", in.back() == ';' ? "" : ";", false, false); // `let x = 1` needs no `;` here
        return true;
      }
    for (const char *kw : {"if", "while", "for", "try"})
      if (startsWithWord(in, kw)) {
        statements(in, "", "", false, false);
        return true;
      }
    if (in.back() == ';') {
      statements(in, "", "", false, false);
      return true;
    }
    // An expression (a record or map literal ends with `}` too); failing that, statements.
    if (statements(in, "let __value = (", ");", true, false, true)) return true;
    if (voidValue_)
      statements(in, "", ";", false, false); // `f()` of a void function
    else if (syntaxError_)
      statements(in, "", "", false, false);
    return true;
  }

  std::string declarationsText() const {
    std::string s;
    for (auto it = decls_.rbegin(); it != decls_.rend(); ++it) s += it->text + "\n";
    return s;
  }

  std::string procedureHeader() const {
    std::string header = "procedure __repl(";
    for (size_t i = 0; i < vars_.size(); ++i)
      header += (i ? ", " : "") + std::string("__in") + std::to_string(i) + ": " + vars_[i].type;
    header += ") { ";
    for (size_t i = 0; i < vars_.size(); ++i)
      header += std::string(vars_[i].isVar ? "var " : "let ") + vars_[i].name + " = __in" +
                std::to_string(i) + "; ";
    return header + "if true { ";
  }

  std::vector<frontend::SourceText> decls_; // the inputs that declared something, newest first
  int inputs_ = 0;                          // inputs so far (the current one's number)
  std::string name_;                        // `<repl N>`: the current input in messages
  std::vector<SessionVar> vars_;
  std::vector<std::shared_ptr<void>> keepAlive_;
  bool voidValue_ = false;
  bool syntaxError_ = false; // the last attempt did not parse
  bool jit_ = false;
  jit::JitOptions jitOptions_;
  FILE *out_;
  FILE *err_;
  DocHook doc_;
  std::mutex *compileMu_ = nullptr;
  std::string refuseLoad_;

  bool command(const std::string &in) {
    std::string cmd = in.substr(0, in.find(' '));
    std::string arg = trim(in.substr(cmd.size()));
    if (cmd == ":quit" || cmd == ":q" || cmd == ":exit") return false;
    if (cmd == ":help" || cmd == ":h") {
      put(out_, kHelp);
    } else if (cmd == ":type" || cmd == ":t") {
      if (arg.empty())
        put(err_, "error: `:type` needs an expression\n");
      else
        statements(arg, "let __value = (", ");", true, true);
    } else if (cmd == ":doc" || cmd == ":d") {
      if (arg.empty()) {
        put(err_, "error: `:doc` needs a name\n");
      } else if (!doc_) {
        put(err_, "error: `:doc` is not available here\n");
      } else if (std::optional<std::string> d = doc_(arg)) {
        put(out_, *d + "\n");
      } else {
        put(err_, "error: no built-in or declaration named `" + arg + "`\n");
      }
    } else if (cmd == ":load" || cmd == ":l") {
      if (arg.empty()) {
        put(err_, "error: `:load` needs a file\n");
      } else if (!refuseLoad_.empty()) {
        put(err_, "error: " + refuseLoad_ + "\n");
      } else {
        // The same rules as for every source file (base::readRegularFile: a regular file, at
        // most kMaxSourceBytes), checked here so that the message names what the user typed;
        // the import reads it again under the same rules.
        std::error_code ec;
        std::string abs = std::filesystem::absolute(arg, ec).string();
        Result<std::string> text = base::readRegularFile(abs, base::kMaxSourceBytes);
        if (!text)
          put(err_, "error: cannot load `" + arg + "`: " + text.error().message + "\n");
        else
          declare("import \"" + abs + "\";");
      }
    } else {
      put(err_, "error: unknown command `" + cmd + "` (try :help)\n");
    }
    return true;
  }

  /// The input's text (named `<repl N>`; imports resolve against the working directory), with
  /// the earlier declarations as texts of their own.
  std::unique_ptr<frontend::Compilation> compile(std::string text, size_t typedEnd = std::string::npos) {
    std::vector<frontend::SourceText> texts;
    texts.push_back({name_, std::move(text), typedEnd});
    texts.insert(texts.end(), decls_.begin(), decls_.end());
    std::unique_ptr<frontend::Compilation> c;
    std::unique_lock<std::mutex> g;
    if (compileMu_) g = std::unique_lock<std::mutex>(*compileMu_);
    frontend::runWithLargeStack([&] { c = frontend::compileTexts(std::move(texts)); });
    return c;
  }

  /// Prints diagnostics against the input: it starts the text, after `offset` characters of
  /// generated code on its first line.
  void report(const frontend::Compilation &c, const std::string &input, uint32_t offset) {
    std::istringstream lines(input);
    std::vector<std::string> ls;
    for (std::string l; std::getline(lines, l);) ls.push_back(l);
    if (ls.empty()) ls.push_back("");
    std::ostringstream e;
    for (const support::Diagnostic &d : c.diags.sorted()) {
      const support::Loc &l = d.range.begin;
      if (l.file != 0) {
        e << c.sources.file(l.file).path() << ":" << l.line << ":" << l.col << ": error: " << d.message
          << "\n";
        continue;
      }
      uint32_t line = l.line, col = l.col;
      if (line == 1) col = col > offset ? col - offset : 1;
      uint32_t endCol = static_cast<uint32_t>(ls.back().size()) + 1;
      if (line > ls.size() || (line == ls.size() && col > endCol)) { // in generated code: the end
        line = static_cast<uint32_t>(ls.size());
        col = endCol;
      }
      e << name_ << ":" << line << ":" << col << ": error: " << d.message << "\n    " << ls[line - 1]
        << "\n    ";
      for (uint32_t k = 1; k < col; ++k) e << ' ';
      e << "^\n";
    }
    put(err_, e.str());
  }

  void declare(const std::string &in) {
    auto c = compile(in);
    if (!c->ok()) {
      report(*c, in, 0);
      return;
    }
    decls_.insert(decls_.begin(), frontend::SourceText{name_, in});
  }

  /// Compiles and runs `input` (between `prefix` and `suffix`, generated code such as
  /// `let __value = (` and `);`) as statements in the session. `valueVar`: the input declares
  /// `__value`, to be printed; `typeOnly`: print its type and do not run.
  bool statements(const std::string &input, const std::string &prefix, const std::string &suffix,
                  bool valueVar, bool typeOnly, bool quietOnSyntaxError = false) {
    voidValue_ = false;
    syntaxError_ = false;
    std::string header = procedureHeader() + prefix;
    auto c = compile(header + input + suffix + "\n}\n}\n", header.size() + input.size());
    if (!c->ok()) {
      for (const support::Diagnostic &d : c->diags.sorted())
        if (d.kind == support::DiagKind::VoidValue) voidValue_ = true;
      syntaxError_ = c->syntaxErrors;
      if (quietOnSyntaxError && syntaxError_) return false;
      if (!(valueVar && voidValue_)) report(*c, input, static_cast<uint32_t>(header.size()));
      return false;
    }
    // The procedure, its session-variable declarations, and the input's own declarations.
    ast::FnDecl *fn = nullptr;
    for (ast::Decl *d : c->modules[0]->decls)
      if (d->kind == ast::DeclKind::Fn && d->name == "__repl") fn = static_cast<ast::FnDecl *>(d);
    std::vector<const sema::Var *> keep;
    std::vector<std::pair<std::string, bool>> names;
    for (size_t i = 0; i < vars_.size(); ++i) {
      auto *let = static_cast<ast::LetStmt *>(fn->body[i]);
      keep.push_back(let->var);
      names.emplace_back(vars_[i].name, vars_[i].isVar);
    }
    auto *ifs = static_cast<ast::IfStmt *>(fn->body[vars_.size()]);
    const sema::Var *value = nullptr;
    for (ast::Stmt *s : ifs->branches[0].body) {
      if (s->kind != ast::StmtKind::Let) continue;
      auto *let = static_cast<ast::LetStmt *>(s);
      if (let->name == "__value") {
        value = let->var;
        continue;
      }
      keep.push_back(let->var);
      names.emplace_back(let->name, let->isVar);
    }
    if (typeOnly) {
      if (value) put(out_, value->type->str() + "\n");
      return true;
    }
    if (value) keep.push_back(value);
    // With the JIT, the JIT engine is loaded by the first input that runs (jitload/engine.h).
    const jitload::Engine *jit = nullptr;
    if (jit_) {
      auto engine = jitload::engine();
      if (!engine) {
        put(err_, "cfmc: error: " + engine.error().message + "\n");
        return true; // reported; the session keeps its previous values
      }
      jit = *engine;
    }
    std::vector<rt::Slot> args, kept;
    std::vector<const rt::TypeDesc *> types;
    for (SessionVar &v : vars_) {
      rt::retainSlot(v.value, v.desc);
      args.push_back(v.value);
    }
    std::shared_ptr<void> holder;
    fflush(out_);
    int status =
        jit && jit->unsupported(c->program).empty()
            ? jit->runForRepl(*c, "__repl", std::move(args), keep, kept, types, holder, out_, err_,
                              jitOptions_)
            : interp::runForRepl(*c, "__repl", std::move(args), keep, kept, types, holder, out_, err_);
    std::shared_ptr<frontend::Compilation> comp(std::move(c));
    keepAlive_.push_back(comp);
    keepAlive_.push_back(holder);
    fflush(out_);
    fflush(err_);
    if (status != 0) return true; // reported; the session keeps its previous values
    std::vector<SessionVar> next;
    for (size_t i = 0; i < names.size(); ++i) {
      // A later declaration of the same name replaces an earlier one.
      for (SessionVar &old : next)
        if (old.name == names[i].first) {
          rt::releaseSlot(old.value, old.desc);
          old.name.clear();
        }
      next.push_back({names[i].first, names[i].second, keep[i]->type->str(), kept[i], types[i]});
    }
    for (SessionVar &v : vars_) rt::releaseSlot(v.value, v.desc);
    vars_.clear();
    for (SessionVar &v : next)
      if (!v.name.empty()) vars_.push_back(v);
    if (value) {
      rt::Slot v = kept.back();
      std::string s;
      rt::format(s, v, types.back(), true); // strings shown quoted, as inside collections
      put(out_, s + "\n");
      rt::releaseSlot(v, types.back());
    }
    return true;
  }
};

Session::Session(bool jit, int optLevel, FILE *out, FILE *err)
    : impl_(std::make_unique<Impl>(jit, optLevel, out, err)) {}
Session::~Session() = default;
bool Session::handle(const std::string &raw) { return impl_->handle(raw); }
void Session::setDocHook(DocHook hook) { impl_->doc_ = std::move(hook); }
void Session::setCompileMutex(std::mutex *mu) { impl_->compileMu_ = mu; }
void Session::refuseLoad(std::string why) { impl_->refuseLoad_ = std::move(why); }
std::string Session::declarationsText() const { return impl_->declarationsText(); }
std::string Session::procedureHeader() const { return impl_->procedureHeader(); }

} // namespace cfm::repl
