// repl.cpp — `cfmc repl` (see repl.h): the terminal side of a session — line editing, history,
// continuation lines, Tab completion and `:doc` from the language server's engine — over an
// evaluator: the REPL's core in this process (compiler/repl/repl_session.h), or a session held
// by a manager's daemon (cfmc/repl_remote.h), which evaluates every input there. libedit is not
// linked: it is loaded (dlopen) when a session on a terminal starts, so that the commands that
// never edit a line do not pay for mapping it and the libraries it needs (issue 18,
// bench/README.md "Start-up"); without it the session runs without line editing, with a warning.
#include "cfmc/repl.h"

#include "cfmc/repl_remote.h"
#include "lsp/engine.h"
#include "repl/repl_session.h"

#include <editline/readline.h> // the declarations only: the functions come from dlopen

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <unistd.h>
#include <vector>

namespace cfm::driver {

namespace {

/// The commands, for Tab completion.
const char *const kCommands[] = {":doc", ":help", ":load", ":quit", ":type"};

/// Completion and `:doc` for a session, from the text it runs inputs in: its declarations and
/// the header of the procedure that carries its variables (repl::Session's, here or remote).
class Assist {
public:
  Assist(std::function<std::string()> declarations, std::function<std::string()> header)
      : declarationsText_(std::move(declarations)), procedureHeader_(std::move(header)) {}

private:
  std::function<std::string()> declarationsText_;
  std::function<std::string()> procedureHeader_;
  std::string declarationsText() const { return declarationsText_(); }
  std::string procedureHeader() const { return procedureHeader_(); }

  // ---- completion and :doc, from the language server's engine (compiler/lsp) ----
  //
  // The session is one document of an lsp::Workspace: the declarations so far (oldest first),
  // then the input inside the procedure that carries the session's variables, as it is compiled
  // for running. The document is never written; its name is in the working directory, so that
  // imports resolve as they do for inputs.

  lsp::Workspace ws_;
  std::string docPath_ = (std::filesystem::current_path() / "<cfm-repl>.cfp").string();

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
};

/// libedit's functions and variables, from dlopen: the library named by CFM_LIBEDIT when it is
/// set (tests name a missing one), else libedit.so.2.
struct LineEditor {
  decltype(&::readline) readline = nullptr;
  decltype(&::add_history) addHistory = nullptr;
  decltype(&::read_history) readHistory = nullptr;
  decltype(&::write_history) writeHistory = nullptr;
  decltype(&::using_history) usingHistory = nullptr;
  decltype(&::rl_completion_matches) completionMatches = nullptr;
  decltype(&::rl_attempted_completion_over) attemptedCompletionOver = nullptr;
  decltype(&::rl_line_buffer) lineBuffer = nullptr;
  decltype(&::rl_attempted_completion_function) attemptedCompletionFunction = nullptr;
  decltype(&::rl_basic_word_break_characters) basicWordBreakCharacters = nullptr;
};

/// Loads libedit once; nullptr and `why` when it cannot be loaded or lacks a symbol.
const LineEditor *loadLineEditor(std::string &why) {
  static LineEditor editor;
  static std::string failure;
  static bool tried = false;
  if (!tried) {
    tried = true;
    const char *env = std::getenv("CFM_LIBEDIT");
    std::string lib = env && *env ? env : "libedit.so.2";
    void *h = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char *e = dlerror();
      failure = "cannot load " + lib + ": " + (e ? e : "unknown reason");
    } else {
      auto bind = [&](auto &slot, const char *name) {
        void *p = dlsym(h, name);
        if (!p && failure.empty()) failure = lib + " has no `" + name + "`";
        slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(p);
      };
      bind(editor.readline, "readline");
      bind(editor.addHistory, "add_history");
      bind(editor.readHistory, "read_history");
      bind(editor.writeHistory, "write_history");
      bind(editor.usingHistory, "using_history");
      bind(editor.completionMatches, "rl_completion_matches");
      bind(editor.attemptedCompletionOver, "rl_attempted_completion_over");
      bind(editor.lineBuffer, "rl_line_buffer");
      bind(editor.attemptedCompletionFunction, "rl_attempted_completion_function");
      bind(editor.basicWordBreakCharacters, "rl_basic_word_break_characters");
    }
  }
  why = failure;
  return failure.empty() ? &editor : nullptr;
}

// libedit calls plain functions: the session and the input so far, while readline runs.
const LineEditor *gEditor = nullptr;
Assist *gAssist = nullptr;
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
  *gEditor->attemptedCompletionOver = 1; // no file names
  if (!gAssist) return nullptr;
  std::string typed = gBuffer && !gBuffer->empty() ? *gBuffer + "\n" : "";
  typed.append(*gEditor->lineBuffer, static_cast<size_t>(std::max(end, 0)));
  gMatches = gAssist->complete(typed, text);
  if (gMatches.empty()) return nullptr;
  return gEditor->completionMatches(text, nextMatch);
}

std::string historyPath() {
  const char *home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.cfm_history";
}

/// The loop over lines: `handle` evaluates one complete input (false: leave).
int loop(bool useLineEditing, Assist &assist, const std::function<bool(const std::string &)> &handle) {
  std::string hist = historyPath();
  std::string buffer;
  const LineEditor *ed = nullptr;
  if (useLineEditing) {
    std::string why;
    if (!(ed = loadLineEditor(why))) {
      std::cerr << "cfmc: warning: no line editing (" << why << ")\n";
      useLineEditing = false;
    }
  }
  if (useLineEditing) {
    gEditor = ed;
    gAssist = &assist;
    gBuffer = &buffer;
    *ed->attemptedCompletionFunction = completeWord;
    // a word ends at these: `.` starts a member, `:` stays in a command's name
    *ed->basicWordBreakCharacters = " \t\n\"\\'`@$><=;|&{(),[]}+-*/%!.";
    ed->usingHistory();
    ed->readHistory(hist.c_str());
    std::cout << "cfm repl — :help for help, :quit to leave\n";
  }
  bool more = true;
  while (true) {
    std::string line;
    if (useLineEditing) {
      std::cout.flush();
      char *l = ed->readline(buffer.empty() ? "cfm> " : "...> ");
      if (!l) break;
      line = l;
      free(l);
    } else {
      if (!std::getline(std::cin, line)) break;
    }
    buffer += buffer.empty() ? line : "\n" + line;
    if (repl::needsMore(buffer)) continue;
    if (useLineEditing && !repl::trim(buffer).empty()) {
      ed->addHistory(buffer.c_str());
      ed->writeHistory(hist.c_str());
    }
    std::string input;
    input.swap(buffer);
    if (!(more = handle(input))) break;
  }
  if (more && !repl::trim(buffer).empty()) handle(buffer); // end of input inside an open construct
  if (useLineEditing) std::cout << "\n";
  gAssist = nullptr;
  gBuffer = nullptr;
  return 0;
}

} // namespace

int runRepl(bool useLineEditing, bool jit, int optLevel) {
  std::cout.flush();
  repl::Session session(jit, optLevel, stdout, stderr);
  Assist assist([&] { return session.declarationsText(); }, [&] { return session.procedureHeader(); });
  session.setDocHook([&](const std::string &name) { return assist.doc(name); });
  return loop(useLineEditing, assist, [&](const std::string &input) { return session.handle(input); });
}

int runReplOnDaemon(const DaemonTarget &t, bool useLineEditing) {
  auto remote = RemoteRepl::open(t);
  if (!remote) {
    std::cerr << "cfmc: error: " << remote.error().message << '\n';
    return 1;
  }
  RemoteRepl &r = **remote;
  Assist assist([&] { return r.declarationsText(); }, [&] { return r.procedureHeader(); });
  int status = loop(useLineEditing, assist, [&](const std::string &input) {
    std::string in = repl::trim(input);
    std::string cmd = in.substr(0, in.find(' '));
    if (cmd == ":doc" || cmd == ":d") { // answered here, from the session's declarations
      std::string name = repl::trim(in.substr(cmd.size()));
      if (name.empty())
        std::cerr << "error: `:doc` needs a name\n";
      else if (std::optional<std::string> d = assist.doc(name))
        std::cout << *d << "\n";
      else
        std::cerr << "error: no built-in or declaration named `" << name << "`\n";
      std::cout.flush();
      return true;
    }
    return r.handle(input);
  });
  if (!r.failed().empty()) {
    std::cerr << "cfmc: error: " << r.failed() << '\n';
    return 1;
  }
  return status;
}

} // namespace cfm::driver
