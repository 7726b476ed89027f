// model.cpp — the model objects' methods in the interpreter (frontend/model_prelude.h):
// `sys.element(name)`, `sys.vm_class(name)`, `sys.config_template(name)`, `sys.property(id)`,
// `sys.instances_of(element)`, `vm_class.property(id)` and `tpl.render(vars)`.
//
// `render` compiles a ConfigTemplate's text — which arrives at run time, from OVF — with the
// template syntax of LANGUAGE.md the first time it is rendered with variables of a given shape:
// the text becomes the body of a template whose parameters are the keys of `vars`, typed from
// their json values (string, int, float, bool, list<string> — also for `[]` —, list<int>,
// map<string, string> — also for `{}` —, map<string, int>, otherwise json), checked
// and compiled like any template, and cached.
#include "interp/interp.h"

#include "interp/exprs.h"
#include "runtime/collections.h"

#include <map>
#include <memory>
#include <set>

namespace cfm::interp {

using namespace rt;

namespace {

int fieldOf(const TypeDesc *t, std::string_view name) {
  for (size_t i = 0; i < t->fieldNames.size(); ++i)
    if (t->fieldNames[i] == name) return static_cast<int>(i);
  return -1;
}

Slot field(const Record *r, std::string_view name) {
  int i = fieldOf(r->type, name);
  return i < 0 ? Slot{0} : r->fields[static_cast<size_t>(i)];
}

std::string_view strField(const Record *r, std::string_view name) {
  Slot s = field(r, name);
  return s.o ? static_cast<Str *>(s.o)->view() : std::string_view();
}

std::string describe(const Record *r) {
  std::string s;
  format(s, Slot{.o = const_cast<Record *>(r)}, r->type);
  return s;
}

/// The entry of the list field `listName` whose `name` field is `key` (a new reference).
bool findNamed(const Record *r, std::string_view listName, std::string_view what, const Str *key, Slot &out) {
  auto *list = static_cast<List *>(field(r, listName).o);
  if (list)
    for (Slot s : list->items)
      if (strField(static_cast<Record *>(s.o), "name") == key->view()) {
        retain(s.o);
        out = s;
        return true;
      }
  return raise(ErrKind::Key, "key " + quote(key->view()) + " not found (no " + std::string(what) +
                                 " of that name in " + describe(r) + ")");
}

bool property(const Record *r, const Str *id, Slot &out) {
  auto *m = static_cast<Map *>(field(r, "properties").o);
  if (const Map::Entry *e = m ? mapFind(m, Slot{.o = const_cast<Str *>(id)}) : nullptr) {
    retain(e->value.o); // a json value
    out = e->value;
    return true;
  }
  return raise(ErrKind::Key,
               "key " + quote(id->view()) + " not found (no property of that id in " + describe(r) + ")");
}

// ---- ConfigTemplate.render ----

bool isName(const std::string &k) {
  static const std::set<std::string> keywords = {
      "fn",    "procedure", "template", "record", "import", "const", "let",      "var",
      "if",    "else",      "while",    "for",    "in",     "break", "continue", "return",
      "async", "try",       "catch",    "throw",  "true",   "false", "null"};
  if (k.empty() || keywords.count(k)) return false;
  if (!(std::isalpha(static_cast<unsigned char>(k[0])) || k[0] == '_')) return false;
  for (char c : k)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

/// The language type a json value is given as a template variable.
std::string typeOf(const Json *j) {
  switch (j->j) {
  case Json::J::String: return "string";
  case Json::J::Int: return "int";
  case Json::J::Float: return "float";
  case Json::J::Bool: return "bool";
  case Json::J::Array: {
    if (j->items.empty()) return "list<string>"; // the usual case: no hosts, no servers
    Json::J first = j->items[0]->j;
    if (first != Json::J::String && first != Json::J::Int) return "json";
    for (const Json *x : j->items)
      if (x->j != first) return "json";
    return first == Json::J::String ? "list<string>" : "list<int>";
  }
  case Json::J::Object: {
    if (j->items.empty()) return "map<string, string>";
    Json::J first = j->items[0]->j;
    if (first != Json::J::String && first != Json::J::Int) return "json";
    for (const Json *x : j->items)
      if (x->j != first) return "json";
    return first == Json::J::String ? "map<string, string>" : "map<string, int>";
  }
  default: return "json";
  }
}

/// A compiled ConfigTemplate: its compilation, program and function.
struct Compiled {
  std::unique_ptr<frontend::Compilation> comp;
  std::unique_ptr<Program> prog;
  FnCode *fn = nullptr;
  std::vector<std::string> params; // json keys, in parameter order
  std::vector<std::string> types;
  std::string error; // the first compile error, when the text does not compile
};

std::map<std::string, std::unique_ptr<Compiled>> &cache() {
  static std::map<std::string, std::unique_ptr<Compiled>> c;
  return c;
}

Compiled &compileTemplate(const std::string &name, std::string_view text,
                          const std::vector<std::string> &keys, const std::vector<std::string> &types,
                          const Program &caller) {
  std::string key = std::string(text) + '\0';
  for (size_t i = 0; i < keys.size(); ++i) key += keys[i] + ':' + types[i] + ',';
  auto &slot = cache()[key];
  if (slot) return *slot;
  slot = std::make_unique<Compiled>();
  Compiled &c = *slot;
  c.params = keys;
  c.types = types;
  if (text.find("\"\"\"") != std::string_view::npos) {
    c.error = "a template text cannot hold `\"\"\"`";
    return c;
  }
  std::string src = "template config_template(";
  for (size_t i = 0; i < keys.size(); ++i) src += (i ? ", " : "") + keys[i] + ": " + types[i];
  src += ") \"\"\"\n";
  src += text;
  src += "\"\"\"\n";
  // The front end recurses deeply: it runs on a thread of its own (once per text and shape).
  frontend::runWithLargeStack([&] { c.comp = frontend::compileText("<template " + name + ">", src); });
  if (!c.comp->ok()) {
    const auto d = c.comp->diags.sorted().front(); // sorted() gives a new vector
    c.error =
        "line " + std::to_string(d.range.begin.line > 1 ? d.range.begin.line - 1 : 1) + ": " + d.message;
    return c;
  }
  c.prog = std::make_unique<Program>();
  c.prog->sources = &c.comp->sources;
  c.prog->out = caller.out;
  std::string why;
  if (!compileProgram(c.comp->program, *c.prog, why)) {
    c.error = why;
    return c;
  }
  for (const sema::FnInfo &fi : c.comp->program.functions)
    if (fi.name == "config_template") c.fn = c.prog->fns.at(&fi).get();
  return c;
}

/// The value of a json variable as the type typeOf chose (a new reference).
Slot argOf(const Json *j, const std::string &type, const TypeDesc *td) {
  Slot s{0};
  if (type == "string") {
    retain(j->s);
    s.o = j->s;
  } else if (type == "int") {
    s.i = j->i;
  } else if (type == "float") {
    s.f = j->f;
  } else if (type == "bool") {
    s.i = j->b;
  } else if (type == "list<string>" || type == "list<int>") {
    auto *l = new List(td);
    for (const Json *x : j->items) {
      if (type == "list<int>") {
        l->items.push_back(Slot{.i = x->i});
      } else {
        retain(x->s);
        l->items.push_back(Slot{.o = x->s});
      }
    }
    s.o = l;
  } else if (type == "map<string, string>" || type == "map<string, int>") {
    Map *m = newMap(td);
    for (size_t i = 0; i < j->keys.size(); ++i) {
      Slot v{0};
      if (type == "map<string, int>") {
        v.i = j->items[i]->i;
      } else {
        retain(j->items[i]->s);
        v.o = j->items[i]->s;
      }
      retain(j->keys[i]);
      mapSet(m, Slot{.o = j->keys[i]}, v); // takes both references
    }
    s.o = m;
  } else {
    retain(const_cast<Json *>(j));
    s.o = const_cast<Json *>(j);
  }
  return s;
}

bool render(Frame &f, const Record *tpl, const Json *vars, Slot &out) {
  std::string name(strField(tpl, "name"));
  if (vars->j != Json::J::Object)
    return raise(ErrKind::Conversion,
                 "cannot render ConfigTemplate(" + name + ") with json that is not an object");
  std::vector<std::string> keys, types;
  std::vector<const Json *> values;
  for (size_t i = 0; i < vars->keys.size(); ++i) {
    std::string k(vars->keys[i]->view());
    if (!isName(k)) continue; // not reachable from the text
    keys.push_back(k);
    types.push_back(typeOf(vars->items[i]));
    values.push_back(vars->items[i]);
  }
  Compiled &c = compileTemplate(name, strField(tpl, "text"), keys, types, *f.prog);
  if (!c.error.empty())
    return raise(ErrKind::Template, "ConfigTemplate(" + name + ") does not compile: " + c.error);
  std::vector<Slot> args;
  for (size_t i = 0; i < values.size(); ++i) args.push_back(argOf(values[i], types[i], c.fn->paramTypes[i]));
  if (callFunction(*c.prog, c.fn, args.data(), out, support::Loc{}, nullptr)) return true;
  // The trace names the template's own lines; the caller's frame follows.
  if (ErrorVal *e = pendingError()) {
    for (std::string &fr : e->trace)
      if (fr.rfind("<template ", 0) == 0) {
        // "<template NAME>:LINE": the text's line is one less (the header line comes first).
        size_t colon = fr.rfind(':');
        int line = std::atoi(fr.c_str() + colon + 1);
        fr = fr.substr(0, colon + 1) + std::to_string(line > 1 ? line - 1 : 1);
      }
    e->lineRecorded = false;
  }
  return false;
}

} // namespace

bool modelMethod(Frame &f, support::Loc loc, ast::Builtin which, Slot *v, const TypeDesc *resultType,
                 Slot &out) {
  (void)resultType;
  auto *r = static_cast<Record *>(v[0].o);
  bool ok = true;
  switch (which) {
  case ast::Builtin::ModelElement:
    ok = findNamed(r, "elements", "element", static_cast<Str *>(v[1].o), out);
    break;
  case ast::Builtin::ModelVmClass:
    ok = findNamed(r, "vm_classes", "VM class", static_cast<Str *>(v[1].o), out);
    break;
  case ast::Builtin::ModelTemplate:
    ok = findNamed(r, "templates", "config template", static_cast<Str *>(v[1].o), out);
    break;
  case ast::Builtin::ModelProperty: ok = property(r, static_cast<Str *>(v[1].o), out); break;
  case ast::Builtin::ModelInstancesOf: {
    Slot el{0};
    ok = findNamed(r, "elements", "element", static_cast<Str *>(v[1].o), el);
    if (!ok) break;
    release(el.o);
    auto *l = new List(resultType);
    if (auto *all = static_cast<List *>(field(r, "element_instances").o))
      for (Slot s : all->items)
        if (strField(static_cast<Record *>(s.o), "element") == static_cast<Str *>(v[1].o)->view()) {
          retain(s.o);
          l->items.push_back(s);
        }
    out.o = l;
    break;
  }
  case ast::Builtin::ModelRender: ok = render(f, r, static_cast<Json *>(v[1].o), out); break;
  default: break;
  }
  if (!ok) return failAt(f, loc);
  return true;
}

} // namespace cfm::interp
