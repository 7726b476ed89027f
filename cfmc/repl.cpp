// repl.cpp — `cfmc repl` (see repl.h).
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
// compilations stay alive: values refer to their runtime type descriptors. With `--engine jit`
// each input is compiled by the JIT (jit::runForRepl; its code stays in the process's JIT
// session); an input the JIT does not compile yet runs in the interpreter, silently.
#include "cfmc/repl.h"

#include "base/files.h"
#include "frontend/frontend.h"
#include "interp/interp.h"
#include "jitload/engine.h"
#include "lsp/engine.h"
#include "runtime/runtime.h"

#include <editline/readline.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace cfm::driver {

namespace {

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

/// The commands, for Tab completion.
const char *const kCommands[] = {":doc", ":help", ":load", ":quit", ":type"};

struct SessionVar {
  std::string name;
  bool isVar;
  std::string type;  // as written in source
  rt::Slot value{0}; // owned
  const rt::TypeDesc *desc = nullptr;
};

/// True while the text has an open bracket, string, template or block comment.
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

bool startsWithWord(const std::string &s, const char *w) {
  size_t n = std::strlen(w);
  return s.compare(0, n, w) == 0 &&
         (s.size() == n || !(std::isalnum(static_cast<unsigned char>(s[n])) || s[n] == '_'));
}

class Session {
public:
  Session(bool jit, int optLevel) : jit_(jit) { jitOptions_.optLevel = optLevel; }
  ~Session() {
    for (SessionVar &v : vars_) rt::releaseSlot(v.value, v.desc);
    rt::clearError();
  }

  /// Handles one complete input; returns false to end the session.
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

private:
  std::vector<frontend::SourceText> decls_; // the inputs that declared something, newest first
  int inputs_ = 0;                          // inputs so far (the current one's number)
  std::string name_;                        // `<repl N>`: the current input in messages
  std::vector<SessionVar> vars_;
  std::vector<std::shared_ptr<void>> keepAlive_;
  bool voidValue_ = false;
  bool syntaxError_ = false; // the last attempt did not parse
  bool jit_ = false;         // --engine jit
  jit::JitOptions jitOptions_;

  // ---- completion and :doc, from the language server's engine (compiler/lsp) ----
  //
  // The session is one document of an lsp::Workspace: the declarations so far (oldest first),
  // then the input inside the procedure that carries the session's variables, as it is compiled
  // for running. The document is never written; its name is in the working directory, so that
  // imports resolve as they do for inputs.

  lsp::Workspace ws_;
  std::string docPath_ = (std::filesystem::current_path() / "<cfm-repl>.cfp").string();

  std::string declarationsText() const {
    std::string s;
    for (auto it = decls_.rbegin(); it != decls_.rend(); ++it) s += it->text + "\n";
    return s;
  }
  void setDocument(std::string text) {
    if (ws_.isOpen(docPath_))
      ws_.change(docPath_, std::move(text));
    else
      ws_.open(docPath_, std::move(text));
  }

public:
  /// The words that complete `word`, the end of `typed` (the input so far: earlier continuation
  /// lines and the current line up to the cursor): a command after a leading `:`; else the
  /// engine's completion at that place (names in scope, built-ins, keywords; fields and methods
  /// after `.`). Generated names (`__in0`, `__repl`) are left out.
  std::vector<std::string> complete(std::string typed, const std::string &word) {
    std::vector<std::string> out;
    size_t first = typed.find_first_not_of(" \t");
    if (first != std::string::npos && typed[first] == ':') {
      size_t space = typed.find(' ', first);
      if (space == std::string::npos) {
        for (const char *c : kCommands)
          if (std::string_view(c).rfind(word, 0) == 0) out.push_back(c);
        return out;
      }
      std::string cmd = typed.substr(first, space - first);
      if (cmd != ":type" && cmd != ":t" && cmd != ":doc" && cmd != ":d") return out;
      typed = typed.substr(space + 1); // the expression or name after the command
    }
    std::string head = declarationsText() + procedureHeader() + "\n";
    // a text that checks, with the input's lines emptied, for the engine's last good compilation
    std::string blank;
    for (char c : typed)
      if (c == '\n') blank += c;
    setDocument(head + blank + "\n}\n}\n");
    (void)ws_.diagnose(docPath_);
    setDocument(head + typed + ";\n}\n}\n");
    lsp::Position pos;
    std::string before = head + typed;
    size_t lineStart = before.rfind('\n') + 1;
    for (char c : before) pos.line += c == '\n';
    for (size_t i = lineStart; i < before.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(before[i]);
      if ((c & 0xC0) != 0x80) pos.character += c >= 0xF0 ? 2 : 1; // UTF-16 code units
    }
    for (const lsp::CompletionEntry &e : ws_.complete(docPath_, pos))
      if (e.label.rfind(word, 0) == 0 && e.label.rfind("__", 0) != 0 &&
          std::find(out.begin(), out.end(), e.label) == out.end())
        out.push_back(e.label);
    return out;
  }

  /// `:doc NAME`: the engine's hover text of a built-in or of the session's declaration, as plain
  /// text (the Markdown code fences dropped).
  std::optional<std::string> doc(const std::string &name) {
    setDocument(declarationsText());
    std::optional<std::string> md = ws_.describe(docPath_, name);
    if (!md) return std::nullopt;
    std::string out;
    std::istringstream lines(*md);
    for (std::string l; std::getline(lines, l);)
      if (l.rfind("```", 0) != 0) out += l + "\n";
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

private:
  bool command(const std::string &in) {
    std::string cmd = in.substr(0, in.find(' '));
    std::string arg = trim(in.substr(cmd.size()));
    if (cmd == ":quit" || cmd == ":q" || cmd == ":exit") return false;
    if (cmd == ":help" || cmd == ":h") {
      std::cout << kHelp;
    } else if (cmd == ":type" || cmd == ":t") {
      if (arg.empty())
        std::cerr << "error: `:type` needs an expression\n";
      else
        statements(arg, "let __value = (", ");", true, true);
    } else if (cmd == ":doc" || cmd == ":d") {
      if (arg.empty()) {
        std::cerr << "error: `:doc` needs a name\n";
      } else if (std::optional<std::string> d = doc(arg)) {
        std::cout << *d << "\n";
      } else {
        std::cerr << "error: no built-in or declaration named `" << arg << "`\n";
      }
    } else if (cmd == ":load" || cmd == ":l") {
      if (arg.empty()) {
        std::cerr << "error: `:load` needs a file\n";
      } else {
        // The same rules as for every source file (base::readRegularFile: a regular file, at
        // most kMaxSourceBytes), checked here so that the message names what the user typed;
        // the import reads it again under the same rules.
        std::error_code ec;
        std::string abs = std::filesystem::absolute(arg, ec).string();
        Result<std::string> text = base::readRegularFile(abs, base::kMaxSourceBytes);
        if (!text)
          std::cerr << "error: cannot load `" << arg << "`: " << text.error().message << "\n";
        else
          declare("import \"" + abs + "\";");
      }
    } else {
      std::cerr << "error: unknown command `" << cmd << "` (try :help)\n";
    }
    std::cout.flush();
    return true;
  }

  /// The input's text (named `<repl N>`; imports resolve against the working directory), with
  /// the earlier declarations as texts of their own.
  std::unique_ptr<frontend::Compilation> compile(std::string text, size_t typedEnd = std::string::npos) {
    std::vector<frontend::SourceText> texts;
    texts.push_back({name_, std::move(text), typedEnd});
    texts.insert(texts.end(), decls_.begin(), decls_.end());
    std::unique_ptr<frontend::Compilation> c;
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
    for (const support::Diagnostic &d : c.diags.sorted()) {
      const support::Loc &l = d.range.begin;
      if (l.file != 0) {
        std::cerr << c.sources.file(l.file).path() << ":" << l.line << ":" << l.col
                  << ": error: " << d.message << "\n";
        continue;
      }
      uint32_t line = l.line, col = l.col;
      if (line == 1) col = col > offset ? col - offset : 1;
      uint32_t endCol = static_cast<uint32_t>(ls.back().size()) + 1;
      if (line > ls.size() || (line == ls.size() && col > endCol)) { // in generated code: the end
        line = static_cast<uint32_t>(ls.size());
        col = endCol;
      }
      std::cerr << name_ << ":" << line << ":" << col << ": error: " << d.message << "\n    " << ls[line - 1]
                << "\n    ";
      for (uint32_t k = 1; k < col; ++k) std::cerr << ' ';
      std::cerr << "^\n";
    }
  }

  void declare(const std::string &in) {
    auto c = compile(in);
    if (!c->ok()) {
      report(*c, in, 0);
      return;
    }
    decls_.insert(decls_.begin(), frontend::SourceText{name_, in});
  }

  /// `procedure __repl(__in0: T0, ...) { let x = __in0; ... if true { `: what comes before an
  /// input on its first line.
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
      if (value) std::cout << value->type->str() << "\n";
      std::cout.flush();
      return true;
    }
    if (value) keep.push_back(value);
    // With --engine jit, the JIT engine is loaded by the first input that runs (jitload/engine.h).
    const jitload::Engine *jit = nullptr;
    if (jit_) {
      auto engine = jitload::engine();
      if (!engine) {
        std::cerr << "cfmc: error: " << engine.error().message << '\n';
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
    std::cout.flush();
    int status =
        jit && jit->unsupported(c->program).empty()
            ? jit->runForRepl(*c, "__repl", std::move(args), keep, kept, types, holder, stdout, stderr,
                              jitOptions_)
            : interp::runForRepl(*c, "__repl", std::move(args), keep, kept, types, holder, stdout, stderr);
    std::shared_ptr<frontend::Compilation> comp(std::move(c));
    keepAlive_.push_back(comp);
    keepAlive_.push_back(holder);
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
      std::cout << s << "\n";
      rt::releaseSlot(v, types.back());
    }
    std::cout.flush();
    return true;
  }
};

// libedit calls plain functions: the session and the input so far, while readline runs.
Session *gSession = nullptr;
const std::string *gBuffer = nullptr;
std::vector<std::string> gMatches;
size_t gNextMatch = 0;

char *nextMatch(const char *, int state) {
  if (state == 0) gNextMatch = 0;
  if (gNextMatch >= gMatches.size()) return nullptr;
  return strdup(gMatches[gNextMatch++].c_str());
}

/// Tab: the session's completions of the word before the cursor.
char **completeWord(const char *text, int, int end) {
  rl_attempted_completion_over = 1; // no file names
  if (!gSession) return nullptr;
  std::string typed = gBuffer && !gBuffer->empty() ? *gBuffer + "\n" : "";
  typed.append(rl_line_buffer, static_cast<size_t>(std::max(end, 0)));
  gMatches = gSession->complete(typed, text);
  if (gMatches.empty()) return nullptr;
  return rl_completion_matches(text, nextMatch);
}

std::string historyPath() {
  const char *home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.cfm_history";
}

} // namespace

int runRepl(bool useLineEditing, bool jit, int optLevel) {
  Session session(jit, optLevel);
  std::string hist = historyPath();
  std::string buffer;
  if (useLineEditing) {
    gSession = &session;
    gBuffer = &buffer;
    rl_attempted_completion_function = completeWord;
    // a word ends at these: `.` starts a member, `:` stays in a command's name
    rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(),[]}+-*/%!.";
    using_history();
    read_history(hist.c_str());
    std::cout << "cfm repl — :help for help, :quit to leave\n";
  }
  while (true) {
    std::string line;
    if (useLineEditing) {
      char *l = readline(buffer.empty() ? "cfm> " : "...> ");
      if (!l) break;
      line = l;
      free(l);
    } else {
      if (!std::getline(std::cin, line)) break;
    }
    buffer += buffer.empty() ? line : "\n" + line;
    if (needsMore(buffer)) continue;
    if (useLineEditing && !trim(buffer).empty()) {
      add_history(buffer.c_str());
      write_history(hist.c_str());
    }
    std::string input;
    input.swap(buffer);
    if (!session.handle(input)) break;
  }
  if (!trim(buffer).empty()) session.handle(buffer); // end of input inside an open construct
  if (useLineEditing) std::cout << "\n";
  gSession = nullptr;
  gBuffer = nullptr;
  return 0;
}

} // namespace cfm::driver
