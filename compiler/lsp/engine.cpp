// engine.cpp — the language server's engine: compiles open documents with the front end and
// answers queries from the annotated AST (lsp/engine.h). An index of every name's occurrence
// (its range and what it names) serves hover, definition and references; completion reads the
// scopes of the AST and, after `.`, the checker's type of the receiver.
#include "lsp/engine.h"

#include "base/files.h"
#include "format/formatter.h"
#include "sema/symbols.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <functional>
#include <set>
#include <tuple>

namespace cfm::lsp {
namespace {

namespace fs = std::filesystem;
using frontend::Compilation;
using support::FileId;
using support::Loc;
using support::Range;

// ---- positions ----

/// UTF-16 code units of the first `cps` code points of `line`.
uint32_t utf16Units(std::string_view line, uint32_t cps) {
  uint32_t units = 0;
  size_t i = 0;
  for (uint32_t n = 0; n < cps && i < line.size(); ++n) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    units += len == 4 ? 2 : 1;
    i += len;
  }
  return units;
}
/// Code points in the first `units` UTF-16 units of `line`.
uint32_t codePoints(std::string_view line, uint32_t units) {
  uint32_t cps = 0, u = 0;
  size_t i = 0;
  while (u < units && i < line.size()) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    u += len == 4 ? 2 : 1;
    i += len;
    ++cps;
  }
  return cps;
}

Position posOf(const Compilation &c, Loc l) {
  if (l.line == 0 || l.file >= c.sources.size()) return {};
  const support::SourceFile &f = c.sources.file(l.file);
  uint32_t col = l.col ? l.col - 1 : 0;
  return {l.line - 1, l.line <= f.lineCount() ? utf16Units(f.lineText(l.line), col) : col};
}
Span spanOf(const Compilation &c, Range r) {
  Span s{posOf(c, r.begin), posOf(c, r.end)};
  if (r.end.line == 0) s.end = s.start;
  return s;
}
Loc locOf(const Compilation &c, FileId file, Position p) {
  const support::SourceFile &f = c.sources.file(file);
  uint32_t line = p.line + 1;
  uint32_t col = line <= f.lineCount() ? codePoints(f.lineText(line), p.character) : p.character;
  return {file, line, col + 1};
}
bool before(Loc a, Loc b) { return a.line < b.line || (a.line == b.line && a.col < b.col); }
bool notAfter(Loc a, Loc b) { return !before(b, a); }
/// `l` within [r.begin, r.end] (the end included: a cursor just after a name is on it).
bool within(Range r, Loc l) { return r.begin.file == l.file && notAfter(r.begin, l) && notAfter(l, r.end); }
Range nameRange(Loc l, const std::string &name) {
  Loc e = l;
  e.col += static_cast<uint32_t>(name.size()); // names are ASCII (LANGUAGE.md)
  return {l, e};
}

std::string canonical(const std::string &path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::path(path), ec);
  return ec ? path : p.string();
}
/// The file of `path` in the compilation, or -1.
int fileOf(const Compilation &c, const std::string &path) {
  if (c.sources.size() && c.sources.file(0).path() == path) return 0;
  std::string want = canonical(path);
  for (size_t i = 0; i < c.sources.size(); ++i)
    if (canonical(c.sources.file(static_cast<FileId>(i)).path()) == want) return static_cast<int>(i);
  return -1;
}
const ast::Module *moduleOf(const Compilation &c, FileId f) {
  for (auto &m : c.modules)
    if (m->file == f) return m.get();
  return nullptr;
}
bool isPrelude(const Compilation &c, FileId f) {
  return c.sources.file(f).path().front() == '<'; // <model prelude>, <types prelude>
}

// ---- type and signature text ----

std::string typeText(const sema::Type *t) { return t ? t->str() : "?"; }
std::string refText(const ast::TypeRef *t) {
  if (!t) return "void";
  std::string s = t->name;
  if (!t->args.empty()) {
    s += '<';
    for (size_t i = 0; i < t->args.size(); ++i) s += (i ? ", " : "") + refText(t->args[i]);
    s += '>';
  }
  return s;
}
const char *fnKeyword(ast::FnKind k) {
  return k == ast::FnKind::Procedure ? "procedure" : k == ast::FnKind::Template ? "template" : "fn";
}
std::vector<std::string> paramTexts(const ast::FnDecl &f) {
  std::vector<std::string> out;
  for (const ast::Param &p : f.params)
    out.push_back(p.name + ": " + refText(p.type) + (p.defaultValue ? " = …" : ""));
  return out;
}
std::string fnSignature(const ast::FnDecl &f) {
  std::string s = std::string(fnKeyword(f.fnKind)) + " " + f.name + "(";
  std::vector<std::string> ps = paramTexts(f);
  for (size_t i = 0; i < ps.size(); ++i) s += (i ? ", " : "") + ps[i];
  s += ")";
  if (f.ret) s += " -> " + refText(f.ret);
  return s;
}

const char *apiTypeText(ast::ApiType t) {
  switch (t) {
  case ast::ApiType::Int: return "int";
  case ast::ApiType::String: return "string";
  case ast::ApiType::Duration: return "duration";
  case ast::ApiType::Json: return "json";
  case ast::ApiType::Void: return "void";
  case ast::ApiType::StringMap: return "map<string, string>";
  case ast::ApiType::BusinessSystem: return "BusinessSystem";
  case ast::ApiType::VMInstance: return "VMInstance";
  case ast::ApiType::CommandResult: return "CommandResult";
  case ast::ApiType::CloudEvent: return "CloudEvent";
  }
  return "?";
}

struct BuiltinInfo {
  ast::Builtin id;
  const char *name;
  const char *doc; // one line
};
// The built-in functions (builtins.def) with a line of documentation each (LANGUAGE.md, API.md).
const BuiltinInfo kBuiltins[] = {
    {ast::Builtin::Print, "print", "Prints its arguments, separated by spaces, and a newline."},
    {ast::Builtin::Str, "str", "The value as a string."},
    {ast::Builtin::Int, "int", "Converts a float or a string to an int (truncating; a bad string throws)."},
    {ast::Builtin::Float, "float", "Converts an int or a string to a float."},
    {ast::Builtin::Len, "len", "The length of a string (characters), a list or a map."},
    {ast::Builtin::Sleep, "sleep", "Suspends the task for a duration."},
    {ast::Builtin::Now, "now", "Milliseconds since the Unix epoch."},
    {ast::Builtin::ParseJson, "parse_json", "Parses a string as JSON (throws on bad input)."},
    {ast::Builtin::ToJson, "to_json", "The value as a json value."},
    {ast::Builtin::Fail, "fail", "Throws an error with a message."},
    {ast::Builtin::Wait, "wait", "Waits for a task (or a list of tasks), optionally with `timeout:`."},
    {ast::Builtin::RunVm, "run_vm",
     "Starts a VM for an element of a business system and waits until it runs."},
    {ast::Builtin::TerminateVm, "terminate_vm", "Terminates a VM and waits until it is gone."},
    {ast::Builtin::AttachVolume, "attach_volume",
     "Creates a volume and attaches it to a VM; returns the volume's id."},
    {ast::Builtin::AssociateAddress, "associate_address",
     "Associates an elastic address with a VM; returns it."},
    {ast::Builtin::Reload, "reload", "The business system as the store holds it now."},
    {ast::Builtin::SetProperty, "set_property", "Sets a property of a business system and stores it."},
    {ast::Builtin::ThisManager, "this_manager", "The name of the manager running the procedure."},
    {ast::Builtin::ThisCloud, "this_cloud", "The name of the cloud of this manager."},
    {ast::Builtin::RunAgentCommand, "run_agent_command", "Runs a command on a VM through its agent."},
    {ast::Builtin::PutFile, "put_file", "Writes a file on a VM through its agent."},
    {ast::Builtin::PublishCloudEvent, "publish_cloud_event", "Publishes a cloud event of a business system."},
    {ast::Builtin::WaitCloudEvent, "wait_cloud_event", "Waits for a cloud event of a business system."},
};
const BuiltinInfo *builtinNamed(const std::string &name) {
  for (const BuiltinInfo &b : kBuiltins)
    if (name == b.name) return &b;
  return nullptr;
}
std::vector<std::string> apiParamTexts(const ast::ApiSignature &s) {
  std::vector<std::string> out;
  for (const ast::ApiParam &p : s.params)
    out.push_back(std::string(p.name) + ": " + apiTypeText(p.type) + (p.hasDefault ? " = …" : ""));
  return out;
}
std::string builtinSignature(const BuiltinInfo &b) {
  const ast::ApiSignature *s = ast::apiSignature(b.id);
  if (!s) return std::string(b.name) + "(…)";
  std::string out = std::string(b.name) + "(";
  std::vector<std::string> ps = apiParamTexts(*s);
  for (size_t i = 0; i < ps.size(); ++i) out += (i ? ", " : "") + ps[i];
  return out + ") -> " + apiTypeText(s->ret);
}

struct MethodInfo {
  const char *recv;
  const char *name;
};
const MethodInfo kMethods[] = {
#define METHOD(id, recv, name) {#recv, name},
#include "ast/builtins.def"
};
const char *receiverOf(const sema::Type *t) {
  if (!t) return nullptr;
  switch (t->kind) {
  case sema::TypeKind::List: return "List";
  case sema::TypeKind::Map: return "Map";
  case sema::TypeKind::String: return "String";
  case sema::TypeKind::Json: return "Json";
  case sema::TypeKind::Duration: return "Duration";
  case sema::TypeKind::Record: return t->record && t->record->model ? "Record" : nullptr;
  default: return nullptr;
  }
}

const char *kKeywords[] = {"async",  "break",    "catch",  "const", "continue", "else", "false",     "fn",
                           "for",    "if",       "import", "in",    "let",      "null", "procedure", "record",
                           "return", "template", "throw",  "true",  "try",      "var",  "while"};

// ---- the index of names ----

/// What a name is: a variable, a function, a record, a record's field, or a built-in.
struct Target {
  const void *p = nullptr;
  std::string field; // a field of the record `p`
  bool operator==(const Target &o) const { return p == o.p && field == o.field; }
};
struct Occurrence {
  Range range;
  Target target;
  bool decl = false;
  std::string hover;              // Markdown
  const sema::Var *var = nullptr; // when it names a variable, parameter or constant
};

const char *varKindText(sema::VarKind k) {
  switch (k) {
  case sema::VarKind::Let: return "let";
  case sema::VarKind::Var: return "var";
  case sema::VarKind::Param: return "parameter";
  case sema::VarKind::Loop: return "loop variable";
  case sema::VarKind::Catch: return "error";
  case sema::VarKind::Const: return "const";
  }
  return "";
}
std::string code(const std::string &s) { return "```cfp\n" + s + "\n```"; }

/// The comment lines right above a declaration, without their `//`.
std::string docAbove(const Compilation &c, Loc l) {
  if (l.line < 2) return {};
  const support::SourceFile &f = c.sources.file(l.file);
  std::vector<std::string> lines;
  for (uint32_t n = l.line - 1; n >= 1; --n) {
    std::string_view t = f.lineText(n);
    size_t i = t.find_first_not_of(" \t");
    if (i == std::string_view::npos || t.substr(i, 2) != "//") break;
    std::string_view rest = t.substr(i + 2);
    if (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    lines.emplace_back(rest);
  }
  std::string out;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) out += (out.empty() ? "" : "\n") + *it;
  return out;
}

// ---- walking the AST ----

/// What a walk over the AST calls on each node before the node's children: a callback that
/// returns false skips the children, one left empty lets the walk go on.
struct AstVisitor {
  std::function<bool(const ast::Expr &)> expr;
  std::function<bool(const ast::Stmt &)> stmt;
  std::function<bool(const ast::TplNode &)> tpl;
};

/// The one place that knows which nodes hold which: every walk of the engine (the index of names,
/// hover on an expression, the receiver's type in completion) goes through it.
class AstWalker {
public:
  explicit AstWalker(const AstVisitor &v) : v_(v) {}

  /// A declaration's expressions and statements: a constant's value, a function's parameter
  /// defaults, body and template body.
  void decl(const ast::Decl &d) {
    if (d.kind == ast::DeclKind::Const) expr(static_cast<const ast::ConstDecl &>(d).init);
    if (d.kind != ast::DeclKind::Fn) return;
    auto &f = static_cast<const ast::FnDecl &>(d);
    for (const ast::Param &p : f.params) expr(p.defaultValue);
    block(f.body);
    tpl(f.tplBody);
  }
  void block(const ast::Block &b) {
    for (const ast::Stmt *s : b) stmt(s);
  }
  void tpl(const ast::TplBody &b) {
    for (const ast::TplNode *n : b) tplNode(n);
  }
  void expr(const ast::Expr *e) {
    if (!e || (v_.expr && !v_.expr(*e))) return;
    switch (e->kind) {
    case ast::ExprKind::Int:
    case ast::ExprKind::Float:
    case ast::ExprKind::Duration:
    case ast::ExprKind::Bool:
    case ast::ExprKind::Null:
    case ast::ExprKind::Name: return;
    case ast::ExprKind::String:
      for (const ast::StrPart &p : static_cast<const ast::StringLit *>(e)->parts) expr(p.expr);
      return;
    case ast::ExprKind::List:
      for (const ast::Expr *x : static_cast<const ast::ListLit *>(e)->elems) expr(x);
      return;
    case ast::ExprKind::Map:
      for (const ast::MapEntry &m : static_cast<const ast::MapLit *>(e)->entries) {
        expr(m.key);
        expr(m.value);
      }
      return;
    case ast::ExprKind::Record:
      for (const ast::FieldInit &f : static_cast<const ast::RecordLit *>(e)->fields) expr(f.value);
      return;
    case ast::ExprKind::Unary: expr(static_cast<const ast::UnaryExpr *>(e)->operand); return;
    case ast::ExprKind::Binary:
      expr(static_cast<const ast::BinaryExpr *>(e)->lhs);
      expr(static_cast<const ast::BinaryExpr *>(e)->rhs);
      return;
    case ast::ExprKind::Index:
      expr(static_cast<const ast::IndexExpr *>(e)->base);
      expr(static_cast<const ast::IndexExpr *>(e)->index);
      return;
    case ast::ExprKind::Member: expr(static_cast<const ast::MemberExpr *>(e)->base); return;
    case ast::ExprKind::Call: {
      auto *c = static_cast<const ast::CallExpr *>(e);
      for (const ast::Arg &a : c->args) expr(a.value);
      expr(c->timeout);
      return;
    }
    case ast::ExprKind::MethodCall: {
      auto *m = static_cast<const ast::MethodCallExpr *>(e);
      expr(m->receiver);
      for (const ast::Arg &a : m->args) expr(a.value);
      return;
    }
    case ast::ExprKind::AsyncCall: expr(static_cast<const ast::AsyncCallExpr *>(e)->call); return;
    case ast::ExprKind::AsyncBlock: block(static_cast<const ast::AsyncBlockExpr *>(e)->body); return;
    }
  }
  void stmt(const ast::Stmt *s) {
    if (!s || (v_.stmt && !v_.stmt(*s))) return;
    switch (s->kind) {
    case ast::StmtKind::Let: expr(static_cast<const ast::LetStmt *>(s)->init); return;
    case ast::StmtKind::Assign:
      expr(static_cast<const ast::AssignStmt *>(s)->target);
      expr(static_cast<const ast::AssignStmt *>(s)->value);
      return;
    case ast::StmtKind::Expr: expr(static_cast<const ast::ExprStmt *>(s)->expr); return;
    case ast::StmtKind::If: {
      auto *i = static_cast<const ast::IfStmt *>(s);
      for (const ast::IfBranch &b : i->branches) {
        expr(b.cond);
        block(b.body);
      }
      block(i->elseBody);
      return;
    }
    case ast::StmtKind::While:
      expr(static_cast<const ast::WhileStmt *>(s)->cond);
      block(static_cast<const ast::WhileStmt *>(s)->body);
      return;
    case ast::StmtKind::For:
      forHead(static_cast<const ast::ForStmt *>(s)->head);
      block(static_cast<const ast::ForStmt *>(s)->body);
      return;
    case ast::StmtKind::Break:
    case ast::StmtKind::Continue: return;
    case ast::StmtKind::Return: expr(static_cast<const ast::ReturnStmt *>(s)->value); return;
    case ast::StmtKind::Throw: expr(static_cast<const ast::ThrowStmt *>(s)->value); return;
    case ast::StmtKind::Try:
      block(static_cast<const ast::TryStmt *>(s)->body);
      block(static_cast<const ast::TryStmt *>(s)->handler);
      return;
    }
  }

private:
  void forHead(const ast::ForHead &h) {
    expr(h.iter);
    expr(h.end);
  }
  void tplNode(const ast::TplNode *n) {
    if (!n || (v_.tpl && !v_.tpl(*n))) return;
    switch (n->kind) {
    case ast::TplKind::Text: return;
    case ast::TplKind::Expr: expr(n->expr); return;
    case ast::TplKind::For:
      forHead(n->head);
      tpl(n->body);
      return;
    case ast::TplKind::If:
      for (auto &br : n->branches) {
        expr(br.first);
        tpl(br.second);
      }
      tpl(n->elseBody);
      return;
    }
  }
  const AstVisitor &v_;
};

/// Every occurrence of a name in the AST, in the order of the source.
class Indexer {
public:
  Indexer(const Compilation &c, std::vector<Occurrence> &out) : c_(c), out_(out) {
    for (auto &m : c.modules)
      for (ast::Decl *d : m->decls)
        if (d->kind == ast::DeclKind::Record) records_[d->name] = static_cast<ast::RecordDecl *>(d);
    visitor_.expr = [this](const ast::Expr &e) { return expr(e); };
    visitor_.stmt = [this](const ast::Stmt &s) { return stmt(s); };
    visitor_.tpl = [this](const ast::TplNode &n) { return tpl(n); };
  }
  void module(const ast::Module &m) {
    size_t first = out_.size();
    for (ast::Decl *d : m.decls) decl(*d);
    std::stable_sort(out_.begin() + static_cast<std::ptrdiff_t>(first), out_.end(),
                     [](const Occurrence &a, const Occurrence &b) {
                       return a.range.begin.file < b.range.begin.file ||
                              (a.range.begin.file == b.range.begin.file &&
                               before(a.range.begin, b.range.begin));
                     });
  }

private:
  void add(Range r, Target t, bool decl, std::string hover, const sema::Var *v = nullptr) {
    out_.push_back({r, std::move(t), decl, std::move(hover), v});
  }
  void var(Loc l, const std::string &name, const sema::Var *v, bool decl) {
    if (!v || l.line == 0) return;
    add(nameRange(l, name), {v, {}}, decl,
        code("(" + std::string(varKindText(v->kind)) + ") " + name + ": " + typeText(v->type)), v);
  }
  std::string recordHover(const ast::RecordDecl *r) {
    std::string s = std::string(r->model ? "model object " : "record ") + r->name + " {";
    for (const ast::FieldDecl &f : r->fields) s += "\n  " + f.name + ": " + refText(f.type);
    s += r->fields.empty() ? "}" : "\n}";
    std::string doc = docAbove(c_, r->nameLoc);
    return code(s) + (doc.empty() ? "" : "\n\n" + doc);
  }
  void typeRef(const ast::TypeRef *t) {
    if (!t) return;
    auto it = records_.find(t->name);
    if (it != records_.end())
      add(nameRange(t->range.begin, t->name), {it->second, {}}, false, recordHover(it->second));
    for (const ast::TypeRef *a : t->args) typeRef(a);
  }
  void field(const ast::RecordDecl *r, const std::string &name, Loc l, bool decl) {
    if (!r || l.line == 0) return;
    for (const ast::FieldDecl &f : r->fields)
      if (f.name == name)
        add(nameRange(l, name), {r, name}, decl,
            code("(field) " + r->name + "." + name + ": " + refText(f.type)));
  }
  void decl(const ast::Decl &d) {
    switch (d.kind) {
    case ast::DeclKind::Import: return;
    case ast::DeclKind::Const: {
      auto &k = static_cast<const ast::ConstDecl &>(d);
      var(d.nameLoc, d.name, k.var, true);
      typeRef(k.annot);
      break;
    }
    case ast::DeclKind::Record: {
      auto *r = static_cast<const ast::RecordDecl *>(&d);
      add(nameRange(d.nameLoc, d.name), {r, {}}, true, recordHover(r));
      for (const ast::FieldDecl &f : r->fields) {
        field(r, f.name, f.loc, true);
        typeRef(f.type);
      }
      return;
    }
    case ast::DeclKind::Fn: {
      auto &f = static_cast<const ast::FnDecl &>(d);
      std::string doc = docAbove(c_, d.range.begin);
      add(nameRange(d.nameLoc, d.name), {&f, {}}, true,
          code(fnSignature(f)) + (doc.empty() ? "" : "\n\n" + doc));
      for (const ast::Param &p : f.params) {
        var(p.loc, p.name, p.var, true);
        typeRef(p.type);
      }
      typeRef(f.ret);
      break;
    }
    }
    AstWalker(visitor_).decl(d);
  }
  void forHead(const ast::ForHead &h) {
    var(h.var1Loc, h.var1, h.v1, true);
    if (!h.var2.empty()) var(h.var2Loc, h.var2, h.v2, true);
  }
  bool stmt(const ast::Stmt &s) {
    switch (s.kind) {
    case ast::StmtKind::Let: {
      auto &l = static_cast<const ast::LetStmt &>(s);
      var(l.nameLoc, l.name, l.var, true);
      typeRef(l.annot);
      break;
    }
    case ast::StmtKind::For: forHead(static_cast<const ast::ForStmt &>(s).head); break;
    case ast::StmtKind::Try: {
      auto &t = static_cast<const ast::TryStmt &>(s);
      var(t.errLoc, t.errName, t.errVar, true);
      break;
    }
    default: break;
    }
    return true;
  }
  bool tpl(const ast::TplNode &n) {
    if (n.kind == ast::TplKind::For) forHead(n.head);
    return true;
  }
  bool expr(const ast::Expr &e) {
    switch (e.kind) {
    case ast::ExprKind::Name: {
      auto &n = static_cast<const ast::NameExpr &>(e);
      var(n.range.begin, n.name, n.var, false);
      break;
    }
    case ast::ExprKind::Record: {
      auto &r = static_cast<const ast::RecordLit &>(e);
      auto it = records_.find(r.name);
      const ast::RecordDecl *rd = it == records_.end() ? nullptr : it->second;
      if (rd) add(nameRange(r.range.begin, r.name), {rd, {}}, false, recordHover(rd));
      for (const ast::FieldInit &f : r.fields) field(rd, f.name, f.loc, false);
      break;
    }
    case ast::ExprKind::Member: {
      auto &m = static_cast<const ast::MemberExpr &>(e);
      const sema::Type *t = m.base ? m.base->type : nullptr;
      if (t && t->is(sema::TypeKind::Record) && t->record) field(t->record->decl, m.name, m.nameLoc, false);
      break;
    }
    case ast::ExprKind::Call: {
      auto &c = static_cast<const ast::CallExpr &>(e);
      Range r = nameRange(c.range.begin, c.callee);
      if (c.fn && c.fn->decl) {
        std::string doc = docAbove(c_, c.fn->decl->range.begin);
        add(r, {c.fn->decl, {}}, false, code(fnSignature(*c.fn->decl)) + (doc.empty() ? "" : "\n\n" + doc));
      } else if (const BuiltinInfo *b = builtinNamed(c.callee)) {
        add(r, {b, {}}, false, code(builtinSignature(*b)) + "\n\n" + b->doc);
      }
      break;
    }
    case ast::ExprKind::MethodCall: {
      auto &m = static_cast<const ast::MethodCallExpr &>(e);
      if (m.nameLoc.line)
        add(nameRange(m.nameLoc, m.name), {}, false,
            code("(method) " + typeText(m.receiver->type) + "." + m.name + " -> " + typeText(m.type)));
      break;
    }
    default: break;
    }
    return true;
  }

  const Compilation &c_;
  std::vector<Occurrence> &out_;
  std::map<std::string, const ast::RecordDecl *> records_;
  AstVisitor visitor_;
};

std::vector<Occurrence> indexFile(const Compilation &c, FileId f) {
  std::vector<Occurrence> out;
  if (const ast::Module *m = moduleOf(c, f)) Indexer(c, out).module(*m);
  return out;
}
std::vector<Occurrence> indexAll(const Compilation &c) {
  std::vector<Occurrence> out;
  Indexer ix(c, out);
  for (auto &m : c.modules) ix.module(*m);
  return out;
}
const Occurrence *occurrenceAt(const std::vector<Occurrence> &occ, Loc l) {
  const Occurrence *best = nullptr;
  for (const Occurrence &o : occ)
    if (within(o.range, l) && (!best || before(best->range.begin, o.range.begin))) best = &o;
  return best;
}

/// The innermost expression holding `l` with a type (for hover on any expression).
struct ExprFinder {
  Loc l;
  const ast::Expr *best = nullptr;
  void consider(const ast::Expr *e) {
    if (e && e->type && within(e->range, l) && (!best || notAfter(best->range.begin, e->range.begin)))
      best = e;
  }
};

// ---- scopes for completion ----

struct ScopeName {
  std::string name;
  ItemKind kind;
  std::string detail;
};
class ScopeCollector {
public:
  explicit ScopeCollector(Loc l) : l_(l) {
    visitor_.stmt = [this](const ast::Stmt &s) { return stmt(s); };
    // expressions that hold the cursor: an async block in one holds statements of its own
    visitor_.expr = [this](const ast::Expr &e) { return holds(e.range); };
    visitor_.tpl = [this](const ast::TplNode &n) { return tpl(n); };
  }
  std::vector<ScopeName> names;
  void fn(const ast::FnDecl &f) {
    for (const ast::Param &p : f.params) add(p.name, p.var, ItemKind::Variable, refText(p.type));
    AstWalker(visitor_).decl(f);
  }

private:
  void add(const std::string &n, const sema::Var *v, ItemKind k, std::string detail = {}) {
    if (n.empty()) return;
    names.push_back({n, k, v && v->type ? v->type->str() : std::move(detail)});
  }
  bool holds(Range r) const {
    return r.begin.line && notAfter(r.begin, l_) && (r.end.line == 0 || notAfter(l_, r.end));
  }
  /// The statements before the cursor: a finished `let` declares its name; one that holds the
  /// cursor is entered, with the loop and `catch` variables it declares.
  bool stmt(const ast::Stmt &s) {
    if (!before(s.range.begin, l_)) return false;
    if (s.kind == ast::StmtKind::Let) {
      auto &l = static_cast<const ast::LetStmt &>(s);
      if (!before(l.range.end, l_) && l.range.end.line != 0) return true; // in its initializer
      add(l.name, l.var, ItemKind::Variable, refText(l.annot));
      return false;
    }
    if (!holds(s.range)) return false;
    if (s.kind == ast::StmtKind::For) {
      auto &f = static_cast<const ast::ForStmt &>(s);
      add(f.head.var1, f.head.v1, ItemKind::Variable);
      add(f.head.var2, f.head.v2, ItemKind::Variable);
    } else if (s.kind == ast::StmtKind::Try) {
      auto &t = static_cast<const ast::TryStmt &>(s);
      if ((!t.handler.empty() && notAfter(t.handler.front()->range.begin, l_)) ||
          (t.errLoc.line && before(t.errLoc, l_)))
        add(t.errName, t.errVar, ItemKind::Variable);
    }
    return true;
  }
  /// Where a template node's text ends: a `{% for %}` or `{% if %}` node's range is its tag's,
  /// its body runs on to the end of its last node.
  static Loc tplEnd(const ast::TplNode &n) {
    const ast::TplBody *last = nullptr;
    if (n.kind == ast::TplKind::For) last = &n.body;
    if (n.kind == ast::TplKind::If) {
      if (!n.elseBody.empty())
        last = &n.elseBody;
      else if (!n.branches.empty())
        last = &n.branches.back().second;
    }
    if (!last || last->empty() || !last->back()) return n.range.end;
    Loc e = tplEnd(*last->back());
    return before(n.range.end, e) ? e : n.range.end;
  }
  bool tpl(const ast::TplNode &n) {
    if (!holds({n.range.begin, tplEnd(n)})) return false;
    if (n.kind == ast::TplKind::For) {
      add(n.head.var1, n.head.v1, ItemKind::Variable);
      add(n.head.var2, n.head.v2, ItemKind::Variable);
    }
    return true;
  }
  Loc l_;
  AstVisitor visitor_;
};

ItemKind fnItemKind(ast::FnKind k) {
  return k == ast::FnKind::Procedure  ? ItemKind::Procedure
         : k == ast::FnKind::Template ? ItemKind::Template
                                      : ItemKind::Function;
}

/// Top-level names of every module, the built-ins, and the names in scope at `l` in `file`.
std::vector<CompletionEntry> scopeEntries(const Compilation &c, int file, Loc l) {
  std::vector<CompletionEntry> out;
  std::set<std::string> seen;
  auto push = [&](std::string label, ItemKind k, std::string detail) {
    if (seen.insert(label).second) out.push_back({std::move(label), k, std::move(detail)});
  };
  if (file >= 0)
    if (const ast::Module *m = moduleOf(c, static_cast<FileId>(file)))
      for (const ast::Decl *d : m->decls)
        if (d->kind == ast::DeclKind::Fn && within(d->range, l)) {
          ScopeCollector sc(l);
          sc.fn(*static_cast<const ast::FnDecl *>(d));
          for (auto it = sc.names.rbegin(); it != sc.names.rend(); ++it)
            push(it->name, it->kind, it->detail); // inner first
        }
  for (auto &m : c.modules)
    for (const ast::Decl *d : m->decls) {
      switch (d->kind) {
      case ast::DeclKind::Import: break;
      case ast::DeclKind::Const: {
        auto *k = static_cast<const ast::ConstDecl *>(d);
        push(d->name, ItemKind::Constant, k->var && k->var->type ? k->var->type->str() : refText(k->annot));
        break;
      }
      case ast::DeclKind::Record:
        push(d->name, ItemKind::Record,
             static_cast<const ast::RecordDecl *>(d)->model ? "model object" : "record");
        break;
      case ast::DeclKind::Fn: {
        auto *f = static_cast<const ast::FnDecl *>(d);
        push(d->name, fnItemKind(f->fnKind), fnSignature(*f));
        break;
      }
      }
    }
  for (const BuiltinInfo &b : kBuiltins) push(b.name, ItemKind::Function, builtinSignature(b));
  for (const char *k : kKeywords) push(k, ItemKind::Keyword, "");
  for (const char *t : {"int", "float", "bool", "string", "duration", "json", "list", "map", "task", "void"})
    push(t, ItemKind::Keyword, "type");
  return out;
}

std::vector<CompletionEntry> memberEntries(const sema::Type *t) {
  std::vector<CompletionEntry> out;
  if (!t) return out;
  if (t->is(sema::TypeKind::Record) && t->record)
    for (const sema::FieldInfo &f : t->record->fields)
      out.push_back({f.name, ItemKind::Field, typeText(f.type)});
  if (const char *recv = receiverOf(t))
    for (const MethodInfo &m : kMethods)
      if (std::string_view(m.recv) == recv)
        out.push_back({m.name, ItemKind::Method, std::string("method of ") + typeText(t)});
  return out;
}

bool identChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

/// When `off` is inside a `{{ ... ` of a template body that is not closed yet: `text` up to
/// `off`, then what closes the expression, the open `{% for %}` and `{% if %}` tags and the body,
/// then what follows the body's own closing `"""` (if any). The template's parameters and loop
/// variables are then in scope at `off` in a text that parses.
std::optional<std::string> closeTemplateAt(const std::string &text, size_t off) {
  // the body: after the last `"""` before `off`, when an odd number of them come before it
  size_t count = 0, open = std::string::npos;
  for (size_t i = text.find("\"\"\""); i != std::string::npos && i < off; i = text.find("\"\"\"", i + 3)) {
    ++count;
    open = i;
  }
  if (count % 2 == 0 || open == std::string::npos) return std::nullopt;
  size_t decl = text.rfind("template", open);
  if (decl == std::string::npos || text.find("\"\"\"", decl) != open) return std::nullopt;
  std::string_view body(text.data() + open + 3, off - open - 3);
  size_t expr = body.rfind("{{");
  if (expr == std::string_view::npos ||
      (body.rfind("}}") != std::string_view::npos && body.rfind("}}") > expr))
    return std::nullopt;
  int depth = 0;
  for (size_t t = body.find("{%"); t != std::string_view::npos && t < expr; t = body.find("{%", t + 2)) {
    size_t w = body.find_first_not_of(" \t", t + 2);
    if (w == std::string_view::npos) break;
    std::string_view tag = body.substr(w);
    auto word = [&](std::string_view k) {
      return tag.substr(0, k.size()) == k && (tag.size() == k.size() || !identChar(tag[k.size()]));
    };
    if (word("for") || word("if")) ++depth;
    if (word("end") && depth > 0) --depth;
  }
  std::string out = text.substr(0, off) + " }}";
  for (int i = 0; i < depth; ++i) out += "{% end %}";
  size_t close = text.find("\"\"\"", off);
  out += "\"\"\"" + (close == std::string::npos ? std::string("\n") : text.substr(close + 3));
  return out;
}

} // namespace

size_t offsetOf(const std::string &text, Position pos) {
  size_t i = 0;
  for (uint32_t line = 0; line < pos.line; ++line) {
    size_t nl = text.find('\n', i);
    if (nl == std::string::npos) return text.size();
    i = nl + 1;
  }
  size_t end = text.find('\n', i);
  if (end == std::string::npos) end = text.size();
  uint32_t u = 0;
  while (i < end && u < pos.character) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    u += len == 4 ? 2 : 1;
    i += len;
  }
  return std::min(i, end);
}

// ---- the workspace ----

void Workspace::open(const std::string &path, std::string text) {
  docs_[path] = {std::move(text), 0};
  ++generation_;
}
void Workspace::change(const std::string &path, std::string text) {
  Doc &d = docs_[path];
  d.text = std::move(text);
  ++d.version;
  ++generation_;
}
void Workspace::close(const std::string &path) {
  docs_.erase(path);
  current_.erase(path);
  good_.erase(path);
  ++generation_;
}
const std::string *Workspace::text(const std::string &path) const {
  auto it = docs_.find(path);
  return it == docs_.end() ? nullptr : &it->second.text;
}
std::vector<std::string> Workspace::openPaths() const {
  std::vector<std::string> out;
  for (auto &[p, d] : docs_) out.push_back(p);
  return out;
}

std::unique_ptr<Compilation> Workspace::compileWith(const std::string &path, const std::string *replacement) {
  std::map<std::string, const std::string *> byCanonical;
  for (auto &[p, d] : docs_) byCanonical[canonical(p)] = &d.text;
  std::string root = canonical(path);
  frontend::SourceReader read = [&](const std::string &p) -> Result<std::string> {
    std::string cp = canonical(p);
    if (replacement && cp == root) return *replacement;
    auto it = byCanonical.find(cp);
    if (it != byCanonical.end()) return *it->second;
    return base::readRegularFile(p, base::kMaxSourceBytes);
  };
  std::unique_ptr<Compilation> out;
  frontend::runOnFrontendThread([&] {
    Result<std::unique_ptr<Compilation>> c = frontend::compileFile(path, read);
    if (c) out = std::move(*c);
  });
  return out;
}

Workspace::Analysis &Workspace::analyze(const std::string &path) {
  Analysis &a = current_[path];
  if (a.generation == generation_ && a.comp) return a;
  a.comp = compileWith(path, nullptr);
  a.generation = generation_;
  if (a.comp && !a.comp->syntaxErrors) good_[path] = a.comp;
  return a;
}

frontend::Compilation *Workspace::lastGood(const std::string &path) {
  auto it = good_.find(path);
  return it == good_.end() ? nullptr : it->second.get();
}

std::map<std::string, std::vector<Diag>> Workspace::diagnose(const std::string &path) {
  std::map<std::string, std::vector<Diag>> out;
  out[path];
  Analysis &a = analyze(path);
  if (!a.comp) {
    out[path].push_back({{}, "cannot read " + path, "CannotRead"});
    return out;
  }
  const Compilation &c = *a.comp;
  for (const support::Diagnostic &d : c.diags.sorted()) {
    FileId f = d.range.begin.file;
    std::string p = f == 0 ? path : c.sources.file(f).path();
    out[p].push_back({spanOf(c, d.range), d.message, support::diagKindName(d.kind)});
  }
  return out;
}

std::optional<HoverInfo> Workspace::hover(const std::string &path, Position pos) {
  Analysis &a = analyze(path);
  Compilation *c = a.comp.get();
  if (!c) return std::nullopt;
  if (c->syntaxErrors && lastGood(path)) c = lastGood(path);
  int f = fileOf(*c, path);
  if (f < 0) return std::nullopt;
  Loc l = locOf(*c, static_cast<FileId>(f), pos);
  std::vector<Occurrence> occ = indexFile(*c, static_cast<FileId>(f));
  if (const Occurrence *o = occurrenceAt(occ, l)) return HoverInfo{o->hover, spanOf(*c, o->range)};
  // any other expression: its type
  ExprFinder ef{l};
  // down the statements and expressions that hold the position: the innermost typed one
  if (const ast::Module *m = moduleOf(*c, static_cast<FileId>(f))) {
    AstVisitor v;
    v.expr = [&](const ast::Expr &e) {
      if (!within(e.range, l)) return false;
      ef.consider(&e);
      return true;
    };
    v.stmt = [&](const ast::Stmt &s) { return within(s.range, l); };
    v.tpl = [&](const ast::TplNode &n) { return within(n.range, l); };
    AstWalker w(v);
    for (const ast::Decl *d : m->decls)
      if (within(d->range, l)) w.decl(*d);
  }
  if (ef.best) return HoverInfo{code(typeText(ef.best->type)), spanOf(*c, ef.best->range)};
  return std::nullopt;
}

std::vector<CompletionEntry> Workspace::complete(const std::string &path, Position pos) {
  const std::string *txt = text(path);
  std::string diskText;
  if (!txt) {
    Result<std::string> r = base::readRegularFile(path, base::kMaxSourceBytes);
    if (!r) return {};
    diskText = std::move(*r);
    txt = &diskText;
  }
  size_t off = offsetOf(*txt, pos);
  size_t start = off;
  while (start > 0 && identChar((*txt)[start - 1])) --start;
  // `import "...`: the .cfp files beside the document
  size_t lineStart = txt->rfind('\n', off ? off - 1 : 0);
  lineStart = lineStart == std::string::npos ? 0 : lineStart + 1;
  std::string_view line(txt->data() + lineStart, off - lineStart);
  if (line.rfind("import", 0) == 0 && line.find('"') != std::string_view::npos) {
    std::vector<CompletionEntry> out;
    std::string typed(line.substr(line.find('"') + 1));
    fs::path dir = fs::path(path).parent_path() / fs::path(typed).parent_path();
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir.empty() ? "." : dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (it->is_directory())
        out.push_back({name + "/", ItemKind::Module, "folder"});
      else if (it->path().extension() == ".cfp" && it->path() != fs::path(path))
        out.push_back({name, ItemKind::Module, "file"});
    }
    return out;
  }
  if (start > 0 && (*txt)[start - 1] == '.') {
    // a member: compile the text without `.partial` and take the type of what ends at the dot
    size_t dot = start - 1;
    std::string patched = txt->substr(0, dot) + txt->substr(off);
    Position dotPos = pos;
    {
      // the dot's position: same line, characters counted back over ASCII identifier bytes
      dotPos.character -= static_cast<uint32_t>(off - dot);
    }
    auto findType = [&](const Compilation &c) -> const sema::Type * {
      int f = fileOf(c, path);
      if (f < 0) return nullptr;
      Loc end = locOf(c, static_cast<FileId>(f), dotPos);
      const sema::Type *best = nullptr;
      Loc bestBegin{};
      // every typed expression of the file: the longest one ending at the dot
      AstVisitor v;
      v.expr = [&](const ast::Expr &x) {
        if (x.type && x.range.end.file == end.file && x.range.end.line == end.line &&
            x.range.end.col == end.col && (!best || before(x.range.begin, bestBegin))) {
          best = x.type;
          bestBegin = x.range.begin;
        }
        return true;
      };
      AstWalker w(v);
      if (const ast::Module *m = moduleOf(c, static_cast<FileId>(f)))
        for (const ast::Decl *d : m->decls) w.decl(*d);
      return best;
    };
    // 1. the document as it is, when it checks: the expression ending at the dot (no recompile)
    const sema::Type *t = nullptr;
    Analysis &cur = analyze(path);
    if (cur.comp && !cur.comp->syntaxErrors) t = findType(*cur.comp);
    // the last good compilation: the receiver as a name in scope there
    auto fromLastGood = [&]() -> const sema::Type * {
      const sema::Type *found = nullptr;
      size_t rs = dot;
      while (rs > 0 && identChar((*txt)[rs - 1])) --rs;
      std::string recv = txt->substr(rs, dot - rs);
      if (Compilation *g = lastGood(path)) {
        // the declaration of that name nearest before the dot (in the root file), or a constant
        int f = fileOf(*g, path);
        Loc at = f < 0 ? Loc{} : locOf(*g, static_cast<FileId>(f), dotPos);
        const Occurrence *best = nullptr;
        std::vector<Occurrence> occ = indexAll(*g);
        for (const Occurrence &o : occ) {
          if (!o.decl || !o.var || o.var->name != recv) continue;
          bool here = f >= 0 && o.range.begin.file == static_cast<FileId>(f) && before(o.range.begin, at);
          if (o.var->kind == sema::VarKind::Const || here)
            if (!best || (here && before(best->range.begin, o.range.begin))) best = &o;
        }
        if (best) found = best->var->type;
      }
      return found;
    };
    // 2. a plain name: its type in the last good compilation (no recompile)
    size_t rs0 = dot;
    while (rs0 > 0 && identChar((*txt)[rs0 - 1])) --rs0;
    bool plainName = rs0 < dot && (rs0 == 0 || (*txt)[rs0 - 1] != '.') &&
                     !std::isdigit(static_cast<unsigned char>((*txt)[rs0]));
    if (!t && plainName) t = fromLastGood();
    // 3. the text recompiled without the member being typed
    // (not when a name follows the cursor: removing the dot would join the two names)
    std::unique_ptr<Compilation> pc;
    bool joins = off < txt->size() && identChar((*txt)[off]);
    if (!t && !joins) {
      pc = compileWith(path, &patched);
      if (pc && !pc->syntaxErrors) t = findType(*pc);
    }
    if (!t) {
      // the line cut at the dot, its open brackets closed: `print(svc.` checks as `print(svc);`
      std::string closers;
      for (size_t k = lineStart; k < dot; ++k) {
        char ch = (*txt)[k];
        if (ch == '(' || ch == '[')
          closers.push_back(ch == '(' ? ')' : ']');
        else if ((ch == ')' || ch == ']') && !closers.empty())
          closers.pop_back();
      }
      std::reverse(closers.begin(), closers.end());
      size_t lineEnd = txt->find('\n', off);
      if (lineEnd == std::string::npos) lineEnd = txt->size();
      std::string cut = txt->substr(0, dot) + closers + ";" + txt->substr(lineEnd);
      pc = compileWith(path, &cut);
      if (pc && !pc->syntaxErrors) t = findType(*pc);
    }
    if (!t) {
      // inside a template's unclosed `{{`: the member cut away and the template closed
      if (std::optional<std::string> closed = closeTemplateAt(patched, dot)) {
        pc = compileWith(path, &*closed);
        if (pc && !pc->syntaxErrors) t = findType(*pc);
      }
    }
    if (!t) t = fromLastGood();
    return memberEntries(t);
  }
  Analysis &a = analyze(path);
  Compilation *c = a.comp.get();
  if (c && c->syntaxErrors) {
    // inside a template's unclosed `{{`: its parameters and loop variables, from the text with
    // the template closed after the cursor
    if (std::optional<std::string> closed = closeTemplateAt(*txt, off)) {
      std::unique_ptr<Compilation> tc = compileWith(path, &*closed);
      int f = tc ? fileOf(*tc, path) : -1;
      if (tc && !tc->syntaxErrors && f >= 0)
        return scopeEntries(*tc, f, locOf(*tc, static_cast<FileId>(f), pos));
    }
  }
  if (c && c->syntaxErrors && lastGood(path)) {
    // names the broken text still declares come from its AST; types from the last good one
    std::vector<CompletionEntry> out;
    int f = fileOf(*c, path);
    out = scopeEntries(*c, f, f >= 0 ? locOf(*c, static_cast<FileId>(f), pos) : Loc{});
    std::set<std::string> have;
    for (auto &e : out) have.insert(e.label);
    // a file with syntax errors may have no declarations at all: the scopes of the last good
    // compilation at the same place (the lines around the edit have not moved much)
    Compilation *g = lastGood(path);
    int gf = fileOf(*g, path);
    for (CompletionEntry &e : scopeEntries(*g, gf, gf >= 0 ? locOf(*g, static_cast<FileId>(gf), pos) : Loc{}))
      if (!have.count(e.label)) out.push_back(std::move(e));
    return out;
  }
  if (!c) return scopeEntries(Compilation{}, -1, Loc{});
  int f = fileOf(*c, path);
  return scopeEntries(*c, f, f >= 0 ? locOf(*c, static_cast<FileId>(f), pos) : Loc{});
}

std::vector<Location> Workspace::definition(const std::string &path, Position pos) {
  Analysis &a = analyze(path);
  Compilation *c = a.comp.get();
  if (!c) return {};
  if (c->syntaxErrors && lastGood(path)) c = lastGood(path);
  int f = fileOf(*c, path);
  if (f < 0) return {};
  Loc l = locOf(*c, static_cast<FileId>(f), pos);
  // an import: the imported file
  if (const ast::Module *m = moduleOf(*c, static_cast<FileId>(f)))
    for (const ast::Decl *d : m->decls)
      if (d->kind == ast::DeclKind::Import && within(d->range, l)) {
        auto *imp = static_cast<const ast::ImportDecl *>(d);
        std::string target = frontend::importTarget(c->sources.file(static_cast<FileId>(f)).path(), imp->path,
                                                    frontend::stdlibDir());
        if (target.empty()) return {};
        return {{target, {}}};
      }
  std::vector<Occurrence> occ = indexAll(*c);
  const Occurrence *at = occurrenceAt(occ, l);
  if (!at || !at->target.p) return {};
  std::vector<Location> out;
  for (const Occurrence &o : occ)
    if (o.decl && o.target == at->target && !isPrelude(*c, o.range.begin.file)) {
      FileId of = o.range.begin.file;
      out.push_back({of == 0 ? path : c->sources.file(of).path(), spanOf(*c, o.range)});
    }
  return out;
}

namespace {
/// The text of a one-line range (columns count Unicode characters), or "" when it spans lines.
std::string textOf(const Compilation &c, Range r) {
  if (r.begin.line == 0 || r.begin.line != r.end.line || r.end.col <= r.begin.col) return "";
  std::string_view line = c.sources.file(r.begin.file).lineText(r.begin.line);
  size_t i = 0, from = std::string::npos;
  for (uint32_t col = 1;; ++col) {
    if (col == r.begin.col) from = i;
    if (col == r.end.col) return from == std::string::npos ? "" : std::string(line.substr(from, i - from));
    if (i >= line.size()) return "";
    ++i;
    while (i < line.size() && (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) ++i;
  }
}
} // namespace

void Workspace::setRoots(std::vector<std::string> roots) {
  roots_.clear();
  for (std::string &r : roots)
    if (!r.empty() && std::find(roots_.begin(), roots_.end(), canonical(r)) == roots_.end())
      roots_.push_back(canonical(r));
  disk_.clear();
}

std::vector<std::string> Workspace::workspaceFiles() const {
  std::vector<std::string> out;
  for (const std::string &root : roots_) {
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end && out.size() < kMaxWorkspaceFiles; it.increment(ec)) {
      std::error_code tec;
      std::string name = it->path().filename().string();
      if (it->is_directory(tec)) {
        if (!name.empty() && (name[0] == '.' || name == "node_modules")) it.disable_recursion_pending();
        continue;
      }
      if (it->path().extension() == ".cfp" && it->is_regular_file(tec)) out.push_back(it->path().string());
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::shared_ptr<Compilation> Workspace::diskCompilation(const std::string &path) {
  std::error_code ec;
  uintmax_t size = fs::file_size(path, ec);
  if (ec) return nullptr;
  auto mtime = fs::last_write_time(path, ec);
  if (ec) return nullptr;
  int64_t m = static_cast<int64_t>(mtime.time_since_epoch().count());
  DiskEntry &e = disk_[path];
  if (e.comp && e.size == size && e.mtime == m && e.generation == generation_) return e.comp;
  e = DiskEntry{size, m, generation_, nullptr};
  std::shared_ptr<Compilation> c = compileWith(path, nullptr);
  if (c && !c->syntaxErrors) e.comp = c;
  return e.comp;
}

std::vector<Location> Workspace::references(const std::string &path, Position pos) {
  Analysis &a = analyze(path);
  Compilation *c = a.comp.get();
  if (!c) return {};
  if (c->syntaxErrors && lastGood(path)) c = lastGood(path);
  int f = fileOf(*c, path);
  if (f < 0) return {};
  Loc l = locOf(*c, static_cast<FileId>(f), pos);
  std::vector<Occurrence> occ = indexAll(*c);
  const Occurrence *at = occurrenceAt(occ, l);
  if (!at || !at->target.p) return {};
  // the declaration's place identifies the target across compilations of other files
  std::string declPath, declName;
  Span declSpan;
  bool top = false; // a top-level name, which other programs may import
  for (const Occurrence &o : occ)
    if (o.decl && o.target == at->target) {
      declPath = canonical(c->sources.file(o.range.begin.file).path());
      declSpan = spanOf(*c, o.range);
      declName = textOf(*c, o.range);
      top = !o.var || o.var->kind == sema::VarKind::Const;
    }
  std::set<std::tuple<std::string, uint32_t, uint32_t>> seen;
  std::vector<Location> out;
  // the uses of `t` among `occs`, the occurrences of compilation `cc` (indexed once per program)
  auto collect = [&](const Compilation &cc, const std::vector<Occurrence> &occs, const std::string &rootPath,
                     const Target &t) {
    for (const Occurrence &o : occs)
      if (o.target == t && !isPrelude(cc, o.range.begin.file)) {
        FileId of = o.range.begin.file;
        std::string p = of == 0 ? rootPath : cc.sources.file(of).path();
        Span s = spanOf(cc, o.range);
        if (seen.insert({canonical(p), s.start.line, s.start.character}).second) out.push_back({p, s});
      }
  };
  // another program's uses of the same declaration (found by its file and place)
  auto collectOther = [&](const Compilation &oc, const std::string &rootPath) {
    const std::vector<Occurrence> occs = indexAll(oc);
    for (const Occurrence &o : occs)
      if (o.decl && canonical(oc.sources.file(o.range.begin.file).path()) == declPath) {
        Span s = spanOf(oc, o.range);
        if (s.start.line == declSpan.start.line && s.start.character == declSpan.start.character) {
          collect(oc, occs, rootPath, o.target);
          return;
        }
      }
  };
  collect(*c, occ, path, at->target);
  if (!top || declPath.empty()) return out;
  std::set<std::string> done{canonical(path)};
  for (const std::string &other : openPaths()) {
    if (!done.insert(canonical(other)).second) continue;
    Analysis &oa = analyze(other);
    if (oa.comp && !oa.comp->syntaxErrors) collectOther(*oa.comp, other);
  }
  for (const std::string &file : workspaceFiles()) {
    if (!done.insert(canonical(file)).second) continue;
    if (!declName.empty()) { // only a file that mentions the name can use it
      auto text = base::readRegularFile(file, base::kMaxSourceBytes);
      if (!text || text->find(declName) == std::string::npos) continue;
    }
    if (std::shared_ptr<Compilation> dc = diskCompilation(file)) collectOther(*dc, file);
  }
  return out;
}

std::vector<Symbol> Workspace::symbols(const std::string &path) {
  Analysis &a = analyze(path);
  Compilation *c = a.comp.get();
  if (!c) return {};
  int f = fileOf(*c, path);
  const ast::Module *m = f < 0 ? nullptr : moduleOf(*c, static_cast<FileId>(f));
  std::vector<Symbol> out;
  if (!m) return out;
  for (const ast::Decl *d : m->decls) {
    Symbol s;
    s.range = spanOf(*c, d->range);
    s.selection = spanOf(*c, nameRange(d->nameLoc, d->name));
    s.name = d->name;
    switch (d->kind) {
    case ast::DeclKind::Import:
      s.name = "import \"" + static_cast<const ast::ImportDecl *>(d)->path + "\"";
      s.kind = ItemKind::Module;
      s.selection = s.range;
      break;
    case ast::DeclKind::Const: {
      s.kind = ItemKind::Constant;
      auto *k = static_cast<const ast::ConstDecl *>(d);
      s.detail = k->var && k->var->type ? k->var->type->str() : refText(k->annot);
      break;
    }
    case ast::DeclKind::Record:
      s.kind = ItemKind::Record;
      for (const ast::FieldDecl &fd : static_cast<const ast::RecordDecl *>(d)->fields) {
        Span fs = spanOf(*c, nameRange(fd.loc, fd.name));
        s.children.push_back({fd.name, ItemKind::Field, refText(fd.type), fs, fs, {}});
      }
      break;
    case ast::DeclKind::Fn: {
      auto *fn = static_cast<const ast::FnDecl *>(d);
      s.kind = fnItemKind(fn->fnKind);
      s.detail = fnSignature(*fn);
      break;
    }
    }
    if (s.name.empty()) continue;
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<SignatureInfo> Workspace::signature(const std::string &path, Position pos) {
  const std::string *txt = text(path);
  if (!txt) return std::nullopt;
  size_t off = offsetOf(*txt, pos);
  // back to the unclosed `(` of the call, counting top-level commas
  int depth = 0, commas = 0;
  size_t i = off;
  bool inString = false;
  while (i > 0) {
    char ch = (*txt)[--i];
    if (ch == '"') inString = !inString;
    if (inString) continue;
    if (ch == ')' || ch == ']' || ch == '}')
      ++depth;
    else if (ch == '(' || ch == '[' || ch == '{') {
      if (depth == 0) {
        if (ch != '(') return std::nullopt;
        break;
      }
      --depth;
    } else if (ch == ',' && depth == 0)
      ++commas;
    else if (ch == ';')
      return std::nullopt;
    if (i == 0) return std::nullopt;
  }
  size_t nameEnd = i;
  while (nameEnd > 0 && (*txt)[nameEnd - 1] == ' ') --nameEnd;
  size_t nameStart = nameEnd;
  while (nameStart > 0 && identChar((*txt)[nameStart - 1])) --nameStart;
  std::string name = txt->substr(nameStart, nameEnd - nameStart);
  if (name.empty()) return std::nullopt;
  SignatureInfo out;
  out.activeParameter = commas;
  if (const BuiltinInfo *b = builtinNamed(name)) {
    out.label = builtinSignature(*b);
    if (const ast::ApiSignature *s = ast::apiSignature(b->id)) out.params = apiParamTexts(*s);
    return out;
  }
  Analysis &a = analyze(path);
  Compilation *c = a.comp.get();
  for (Compilation *cc : {c, lastGood(path)}) {
    if (!cc) continue;
    for (auto &m : cc->modules)
      for (const ast::Decl *d : m->decls)
        if (d->kind == ast::DeclKind::Fn && d->name == name) {
          auto *f = static_cast<const ast::FnDecl *>(d);
          out.label = fnSignature(*f);
          out.params = paramTexts(*f);
          return out;
        }
  }
  return std::nullopt;
}

std::optional<std::string> Workspace::describe(const std::string &path, const std::string &name) {
  if (const BuiltinInfo *b = builtinNamed(name)) return code(builtinSignature(*b)) + "\n\n" + b->doc;
  Analysis &a = analyze(path);
  for (Compilation *c : {a.comp.get(), lastGood(path)}) {
    if (!c) continue;
    for (auto &m : c->modules)
      for (const ast::Decl *d : m->decls) {
        if (d->kind == ast::DeclKind::Import || d->name != name) continue;
        // the declaration's own occurrence in the index carries its hover
        for (const Occurrence &o : indexFile(*c, d->nameLoc.file))
          if (o.decl && o.range.begin.line == d->nameLoc.line && o.range.begin.col == d->nameLoc.col)
            return o.hover;
      }
  }
  return std::nullopt;
}

// ---- formatting ----

namespace {

/// `text` cut after each '\n' (the last piece may lack one).
std::vector<std::string_view> linePieces(std::string_view text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    out.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

/// The runs of changed lines between `a` and `b`, as [aBegin, aEnd) replaced by [bBegin, bEnd):
/// a longest common subsequence of lines between the common head and tail (one run for the
/// whole middle when it is too large for that).
struct Hunk {
  size_t aBegin, aEnd, bBegin, bEnd;
};
std::vector<Hunk> lineHunks(const std::vector<std::string_view> &a, const std::vector<std::string_view> &b) {
  size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head && a[a.size() - 1 - tail] == b[b.size() - 1 - tail])
    ++tail;
  size_t n = a.size() - head - tail, m = b.size() - head - tail;
  if (n == 0 && m == 0) return {};
  if (n * m > 4'000'000) return {{head, head + n, head, head + m}};
  std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      lcs[i][j] = a[head + i] == b[head + j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::vector<Hunk> out;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[head + i] == b[head + j]) {
      ++i, ++j;
      continue;
    }
    Hunk h{head + i, head + i, head + j, head + j};
    while ((i < n || j < m) && !(i < n && j < m && a[head + i] == b[head + j])) {
      if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]))
        ++j;
      else
        ++i;
    }
    h.aEnd = head + i;
    h.bEnd = head + j;
    out.push_back(h);
  }
  return out;
}

} // namespace

Result<std::vector<TextEdit>> Workspace::format(const std::string &path,
                                                std::optional<std::pair<uint32_t, uint32_t>> lines) {
  auto it = docs_.find(path);
  if (it == docs_.end()) return Error(ErrorKind::Usage, path + " is not open");
  const std::string &text = it->second.text;
  Result<std::string> formatted = format::formatSource(path, text);
  if (!formatted) return formatted.takeError();
  std::vector<std::string_view> a = linePieces(text), b = linePieces(*formatted);
  std::vector<TextEdit> out;
  for (const Hunk &h : lineHunks(a, b)) {
    // the changed lines [aBegin, aEnd) meet the range (an insertion at a line counts for it)
    if (lines && (h.aBegin > lines->second || std::max(h.aEnd, h.aBegin + 1) <= lines->first)) continue;
    TextEdit e;
    e.range.start = {static_cast<uint32_t>(h.aBegin), 0};
    if (h.aEnd == a.size() && !a.empty() && a.back().back() != '\n') // the last line has no '\n'
      e.range.end = {static_cast<uint32_t>(a.size() - 1), utf16Units(a.back(), UINT32_MAX)};
    else
      e.range.end = {static_cast<uint32_t>(h.aEnd), 0};
    for (size_t k = h.bBegin; k < h.bEnd; ++k) e.newText += b[k];
    out.push_back(std::move(e));
  }
  return out;
}

} // namespace cfm::lsp
