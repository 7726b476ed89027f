// formatter.cpp — the layout engine of `cfmc fmt` (formatter.h; the rules are in docs/fmt.md).
//
// The parser gives the file's tokens, each with the construct that holds it; a string literal
// and a template body are one token each and are copied byte for byte. What lies between two
// tokens is white space and comments; the engine keeps the comments and decides the white space
// again: one statement a line, blocks indented by kIndentWidth, one space or none between tokens
// by what they are, the author's line breaks inside expressions and lists kept (continuation
// lines indented one level), blank lines kept up to one. The output is parsed again and must
// give the same syntax tree and the same comments, or formatSource fails instead of returning it.
#include "format/formatter.h"

#include "format/ast_dump.h"
#include "frontend/frontend.h"
#include "parse/parser.h"
#include "support/diagnostics.h"
#include "support/source.h"

#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace cfm::format {

namespace {

using parse::SyntaxNode;
using parse::SyntaxToken;

struct Parsed {
  std::unique_ptr<ast::Module> module;
  std::vector<SyntaxToken> tokens;
};

/// Parses `text` (no type checking); the diagnostics as an error when there are any.
Result<Parsed> parseText(std::string_view path, std::string_view text) {
  support::SourceManager sm;
  support::FileId id = sm.add(std::string(path), std::string(text));
  support::DiagnosticEngine diags(sm);
  Parsed p;
  parse::ParseResult r;
  frontend::runWithLargeStack([&] { r = parse::parseFile(id, sm, diags, &p.tokens); });
  if (diags.errorCount() > 0 || r.hadErrors) {
    std::ostringstream msg;
    std::vector<support::Diagnostic> all = diags.sorted();
    for (size_t i = 0; i < all.size(); ++i) {
      const support::Diagnostic &d = all[i];
      if (i) msg << '\n';
      msg << path << ':' << d.range.begin.line << ':' << d.range.begin.col << ": error: " << d.message;
    }
    if (all.empty()) return Error(ErrorKind::Syntax, std::string(path) + ": does not parse");
    return Error(ErrorKind::Syntax, msg.str(),
                 SourceLoc{std::string(path), static_cast<int>(all[0].range.begin.line),
                           static_cast<int>(all[0].range.begin.col)});
  }
  p.module = std::move(r.module);
  return p;
}

struct Comment {
  std::string_view text;
  int nlBefore; // line breaks between what came before and the comment
  bool block;   // `/* */` (else `//`)
  bool col0;    // starts a line in its first column
};

/// What lies between two tokens: comments and the line breaks around them.
struct Gap {
  std::vector<Comment> comments;
  int nlAfter = 0; // line breaks after the last comment (or in the whole gap)
};

Result<Gap> scanGap(std::string_view s, bool atLineStart) {
  Gap g;
  int nl = 0;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '\n') {
      ++nl;
      ++i;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
      ++i;
    } else if (s.compare(i, 2, "//") == 0) {
      size_t e = s.find('\n', i);
      if (e == std::string_view::npos) e = s.size();
      std::string_view t = s.substr(i, e - i);
      if (!t.empty() && t.back() == '\r') t.remove_suffix(1); // a CRLF line end; the rest is kept
      g.comments.push_back(Comment{t, nl, false, i == 0 ? atLineStart : s[i - 1] == '\n'});
      nl = 0;
      i = e;
    } else if (s.compare(i, 2, "/*") == 0) {
      size_t e = s.find("*/", i + 2);
      if (e == std::string_view::npos)
        return Error(ErrorKind::Internal, "unterminated comment between tokens");
      g.comments.push_back(
          Comment{s.substr(i, e + 2 - i), nl, true, i == 0 ? atLineStart : s[i - 1] == '\n'});
      nl = 0;
      i = e + 2;
    } else {
      return Error(ErrorKind::Internal, "unexpected text between tokens");
    }
  }
  g.nlAfter = nl;
  return g;
}

bool endsStatement(SyntaxNode n) {
  switch (n) {
  case SyntaxNode::ImportDecl:
  case SyntaxNode::ConstDecl:
  case SyntaxNode::LetStmt:
  case SyntaxNode::BreakStmt:
  case SyntaxNode::ContinueStmt:
  case SyntaxNode::ReturnStmt:
  case SyntaxNode::ThrowStmt:
  case SyntaxNode::AsyncStmt:
  case SyntaxNode::ExprStmt: return true;
  default: return false;
  }
}

class Layout {
public:
  Layout(std::string_view text, const std::vector<SyntaxToken> &toks) : text_(text), toks_(toks) {}

  Result<std::string> run() {
    size_t n = toks_.size();
    findOneLineBlocks();
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") out_ = "\xEF\xBB\xBF";
    start_ = out_.size();
    size_t pos = start_;
    for (size_t i = 0; i <= n; ++i) {
      size_t end = i < n ? toks_[i].begin : text_.size();
      if (end < pos) return Error(ErrorKind::Internal, "tokens out of order");
      Gap gap = CFM_TRY(scanGap(text_.substr(pos, end - pos), pos == start_ || text_[pos - 1] == '\n'));
      step(i, gap);
      if (i < n) pos = toks_[i].end;
    }
    if (!lineEmpty_) out_ += '\n';
    if (out_.size() == start_) return std::string(); // nothing at all: an empty file stays empty
    return std::move(out_);
  }

private:
  std::string_view text_;
  const std::vector<SyntaxToken> &toks_;
  std::string out_;
  size_t start_ = 0;

  struct Open {
    bool block;
    int contents, close;
    int savedStmtIndent;
  };
  std::vector<Open> stack_;
  int lineIndent_ = 0;
  bool lineEmpty_ = true;
  bool afterOpener_ = false; // the last thing written opened a bracket
  bool afterComment_ = false;
  int stmtIndent_ = 0;
  bool atStmtStart_ = true;

  /// Blocks written on one line with at most one statement and no block inside stay on one
  /// line (`try { f(); } catch e { print(e); }`); indexed by token, for both braces.
  std::vector<bool> oneLine_;

  void findOneLineBlocks() {
    size_t n = toks_.size();
    oneLine_.assign(n, false);
    std::vector<size_t> open; // indexes of open block braces
    std::vector<int> stmts;   // statements ended in each, or -1 once one holds a block
    for (size_t i = 0; i < n; ++i) {
      if (isBlockBrace(i, '{')) {
        if (!stmts.empty()) stmts.back() = -1;
        open.push_back(i);
        stmts.push_back(0);
      } else if (isBlockBrace(i, '}') && !open.empty()) {
        size_t o = open.back();
        bool flat =
            stmts.back() >= 0 && stmts.back() <= 1 && i > o + 1 &&
            text_.substr(toks_[o].begin, toks_[i].end - toks_[o].begin).find('\n') == std::string_view::npos;
        oneLine_[o] = oneLine_[i] = flat;
        open.pop_back();
        stmts.pop_back();
      } else if (!stmts.empty() && stmts.back() >= 0 && tok(i) == ";" && endsStatement(node(i))) {
        ++stmts.back();
      }
    }
  }

  std::string_view tok(size_t i) const { return text_.substr(toks_[i].begin, toks_[i].end - toks_[i].begin); }
  SyntaxNode node(size_t i) const { return toks_[i].node; }
  bool isBlockBrace(size_t i, char c) const {
    return node(i) == SyntaxNode::Block && tok(i).size() == 1 && tok(i)[0] == c;
  }
  static bool isOpener(std::string_view t) { return t == "(" || t == "[" || t == "{"; }
  static bool isCloser(std::string_view t) { return t == ")" || t == "]" || t == "}"; }

  void newline(bool blank) {
    out_ += '\n';
    if (blank) out_ += '\n';
    lineEmpty_ = true;
  }
  void put(std::string_view t, int indent) {
    if (lineEmpty_) {
      out_.append(static_cast<size_t>(indent * kIndentWidth), ' ');
      lineIndent_ = indent;
      lineEmpty_ = false;
    }
    out_ += t;
  }

  /// The indentation of a line that starts with token `i` (a closer: its opener's line), or with
  /// a comment before token `i` (`comment`).
  int indentFor(size_t i, bool comment) const {
    if (stack_.empty()) return atStmtStart_ ? 0 : stmtIndent_ + 1;
    const Open &top = stack_.back();
    if (!comment && i < toks_.size() && isCloser(tok(i))) return top.close;
    // `else`, `catch` and a statement's block brace on a line of their own (after a comment).
    if (!comment && i < toks_.size() && top.block &&
        (tok(i) == "else" || tok(i) == "catch" || isBlockBrace(i, '{')))
      return stmtIndent_;
    if (top.block) return atStmtStart_ ? top.contents : stmtIndent_ + 1;
    return top.contents;
  }

  /// After a block's `}` (or a record declaration's), does token `i` carry on the same statement?
  bool continuesAfterBrace(size_t i) const {
    std::string_view t = tok(i);
    return t == "else" || t == "catch" || t == ";" || t == ")" || t == "," || t == "." || t == "]" ||
           t == ":" || t == "}" || t == "[" || t == "(" || node(i) == SyntaxNode::BinaryExpr;
  }

  /// One space between tokens `p` and `c` on one line?
  bool wantSpace(size_t p, size_t c) const {
    std::string_view pt = tok(p), ct = tok(c);
    SyntaxNode pn = node(p), cn = node(c);
    if (ct == "," || ct == ";" || ct == ")" || ct == "]" || ct == "." || ct == ":" || ct == "..")
      return false;
    if (pt == "(" || pt == "[" || pt == "." || pt == "..") return false;
    if (pn == SyntaxNode::UnaryExpr && pt == "-" && ct == "-") return true; // `- -x`, never `--x`
    if (pn == SyntaxNode::UnaryExpr && (pt == "-" || pt == "!")) return false;
    if (ct == "(" && (cn == SyntaxNode::CallExpr || cn == SyntaxNode::MemberExpr || cn == SyntaxNode::Params))
      return false;
    if (ct == "[" && cn == SyntaxNode::IndexExpr) return false;
    if (cn == SyntaxNode::Type && (ct == "<" || ct == ">")) return false;
    if (pn == SyntaxNode::Type && pt == "<") return false;
    if (pt == "{" && ct == "}") return false;
    if (pn == SyntaxNode::MapLit && pt == "{") return false;
    if (cn == SyntaxNode::MapLit && ct == "}") return false;
    return true;
  }

  void step(size_t i, const Gap &gap) {
    size_t n = toks_.size();
    bool hasPrev = i > 0, hasCur = i < n;
    size_t p = i - 1;
    // Does token i start a statement or a declaration?
    if (hasPrev && hasCur) {
      std::string_view pt = tok(p);
      if (pt == ";" && endsStatement(node(p))) atStmtStart_ = true;
      if (isBlockBrace(p, '{')) atStmtStart_ = true;
      if (pt == "}" && (node(p) == SyntaxNode::Block || node(p) == SyntaxNode::RecordDecl) &&
          !continuesAfterBrace(i))
        atStmtStart_ = true;
      if (node(p) == SyntaxNode::TemplateBody) atStmtStart_ = true;
    }
    bool forced = false, joined = false;
    if (hasPrev && hasCur) {
      std::string_view pt = tok(p), ct = tok(i);
      bool emptyBlock = isBlockBrace(p, '{') && isBlockBrace(i, '}');
      if (pt == ";" && endsStatement(node(p)) && !(isBlockBrace(i, '}') && oneLine_[i])) forced = true;
      if (isBlockBrace(p, '{') && !emptyBlock && !oneLine_[p]) forced = true;
      if (isBlockBrace(i, '}') && !emptyBlock && !oneLine_[i]) forced = true;
      if (pt == "}" && (node(p) == SyntaxNode::Block || node(p) == SyntaxNode::RecordDecl) && atStmtStart_)
        forced = true;
      if (node(p) == SyntaxNode::TemplateBody) forced = true;
      if (((ct == "else" || ct == "catch") && pt == "}") || isBlockBrace(i, '{') || ct == ";" || emptyBlock ||
          node(i) == SyntaxNode::TemplateBody)
        joined = true;
    }

    // The comments of the gap.
    bool mustBreak = false, brokeInGap = false;
    for (const Comment &c : gap.comments) {
      if (c.nlBefore == 0 && !lineEmpty_ && !mustBreak) {
        if (!afterOpener_ || !(out_.back() == '(' || out_.back() == '[')) out_ += ' ';
        out_ += c.text;
      } else {
        if (!lineEmpty_)
          newline(c.nlBefore >= 2 && !afterOpener_);
        else if (out_.size() > start_ && c.nlBefore >= 2)
          newline(false);
        brokeInGap = true;
        put(c.text, c.col0 ? 0 : indentFor(i, true));
      }
      afterOpener_ = false;
      afterComment_ = true;
      mustBreak = !c.block;
    }
    if (!hasCur) return;

    int nl = gap.nlAfter;
    bool brk = false;
    if (!lineEmpty_) {
      if (mustBreak)
        brk = true;
      else if (forced) // a comment on a line of its own may already have broken it
        brk = !brokeInGap || nl > 0;
      else if (joined && gap.comments.empty())
        brk = false;
      else
        brk = nl > 0;
    }
    std::string_view ct = tok(i);
    if (brk) {
      bool blank = nl >= 2 && !afterOpener_ && !isCloser(ct);
      newline(blank);
    } else if (!lineEmpty_) {
      bool space = afterComment_ ? !(ct == "," || ct == ";" || ct == ")" || ct == "]") : wantSpace(p, i);
      if (space) out_ += ' ';
    }

    // Write the token, keeping the bracket stack.
    int indent = indentFor(i, false);
    if (atStmtStart_ && !isCloser(ct)) {
      stmtIndent_ = stack_.empty() ? 0 : (stack_.back().block ? stack_.back().contents : stmtIndent_);
      if (lineEmpty_) indent = stmtIndent_;
    }
    if (isCloser(ct) && node(i) != SyntaxNode::String && node(i) != SyntaxNode::TemplateBody &&
        !stack_.empty()) {
      if (lineEmpty_) indent = stack_.back().close;
      put(ct, indent);
      stmtIndent_ = stack_.back().savedStmtIndent;
      stack_.pop_back();
      afterOpener_ = false;
    } else {
      put(ct, indent);
      afterOpener_ = false;
      if (isOpener(ct) && node(i) != SyntaxNode::String && node(i) != SyntaxNode::TemplateBody) {
        bool block = node(i) == SyntaxNode::Block;
        Open o{block, 0, 0, stmtIndent_};
        if (block && (stack_.empty() || stack_.back().block)) {
          o.contents = stmtIndent_ + 1;
          o.close = stmtIndent_;
        } else {
          o.contents = lineIndent_ + 1;
          o.close = lineIndent_;
        }
        stack_.push_back(o);
        afterOpener_ = true;
      }
    }
    atStmtStart_ = false;
    afterComment_ = false;
  }
};

std::string commentsOf(std::string_view text, const std::vector<SyntaxToken> &toks) {
  std::string all;
  size_t pos = 0;
  for (size_t i = 0; i <= toks.size(); ++i) {
    size_t end = i < toks.size() ? toks[i].begin : text.size();
    Result<Gap> g = scanGap(text.substr(pos, end - pos), false);
    if (g)
      for (const Comment &c : g->comments) {
        all += c.text;
        all += '\n';
      }
    if (i < toks.size()) pos = toks[i].end;
  }
  return all;
}

} // namespace

Result<std::string> formatSource(std::string_view path, std::string_view text) {
  Parsed before = CFM_TRY(parseText(path, text));
  std::string out = CFM_TRY(Layout(text, before.tokens).run());
  // The safety net: the same program and the same comments, or no result.
  Result<Parsed> after = parseText(path, out);
  if (!after) return Error(ErrorKind::Internal, "formatting would break the file: " + after.error().message);
  std::string a, b;
  frontend::runWithLargeStack([&] {
    a = dumpModule(*before.module);
    b = dumpModule(*after->module);
  });
  if (a != b) return Error(ErrorKind::Internal, "formatting would change the program's syntax tree");
  if (commentsOf(text, before.tokens) != commentsOf(out, after->tokens))
    return Error(ErrorKind::Internal, "formatting would lose or change a comment");
  return out;
}

Result<std::string> dumpSource(std::string_view path, std::string_view text) {
  Parsed p = CFM_TRY(parseText(path, text));
  std::string d;
  frontend::runWithLargeStack([&] { d = dumpModule(*p.module); });
  return d;
}

} // namespace cfm::format
