// methods.cpp — the model objects' methods, for both engines (methods.h).
#include "runtime/model/methods.h"

#include "runtime/collections.h"
#include "runtime/runtime.h"
#include "runtime/sched/stack.h"

#include <cctype>
#include <cstdlib>
#include <set>

namespace cfm::model {

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

/// The template compiler of the run on this thread (AbiTemplateScope).
thread_local const TemplateCompiler *abiCompiler = nullptr;

} // namespace

bool find(const Record *sys, Named which, const Str *key, Slot &out) {
  static const char *const lists[] = {"elements", "vm_classes", "templates"};
  static const char *const what[] = {"element", "VM class", "config template"};
  auto w = static_cast<size_t>(which);
  auto *list = static_cast<List *>(field(sys, lists[w]).o);
  if (list)
    for (Slot s : list->items)
      if (strField(static_cast<Record *>(s.o), "name") == key->view()) {
        retain(s.o);
        out = s;
        return true;
      }
  return raise(ErrKind::Key, "key " + quote(key->view()) + " not found (no " + std::string(what[w]) +
                                 " of that name in " + describe(sys) + ")");
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

bool instancesOf(const Record *sys, const Str *element, const TypeDesc *listType, Slot &out) {
  Slot el{0};
  if (!find(sys, Named::Element, element, el)) return false;
  release(el.o);
  auto *l = new List(listType);
  if (auto *all = static_cast<List *>(field(sys, "element_instances").o))
    for (Slot s : all->items)
      if (strField(static_cast<Record *>(s.o), "element") == element->view()) {
        retain(s.o);
        l->items.push_back(s);
      }
  out.o = l;
  return true;
}

std::string templateKey(std::string_view text, const std::vector<std::string> &names,
                        const std::vector<std::string> &types) {
  std::string key = std::string(text) + '\0';
  for (size_t i = 0; i < names.size(); ++i) key += names[i] + ':' + types[i] + ',';
  return key;
}

bool render(const TemplateCompiler &compile, const Record *tpl, const Json *vars, Slot &out) {
  std::string name(strField(tpl, "name"));
  if (vars->j != Json::J::Object)
    return raise(ErrKind::Conversion,
                 "cannot render ConfigTemplate(" + name + ") with json that is not an object");
  if (!compile)
    return raise(ErrKind::Template, "cannot render ConfigTemplate(" + name + "): no template compiler");
  std::vector<std::string> keys, types;
  std::vector<const Json *> values;
  for (size_t i = 0; i < vars->keys.size(); ++i) {
    std::string k(vars->keys[i]->view());
    if (!isName(k)) continue; // not reachable from the text
    keys.push_back(k);
    types.push_back(typeOf(vars->items[i]));
    values.push_back(vars->items[i]);
  }
  // The compilers run on a stack of their own size when the task's is small (sched/stack.h).
  const CompiledTemplate &c =
      *sched::withStack(sched::kCompilerStackBytes / 2, sched::kCompilerStackBytes,
                        [&] { return &compile(name, strField(tpl, "text"), keys, types); });
  if (!c.error.empty())
    return raise(ErrKind::Template, "ConfigTemplate(" + name + ") does not compile: " + c.error);
  std::vector<Slot> args;
  for (size_t i = 0; i < values.size(); ++i) args.push_back(argOf(values[i], types[i], c.paramTypes[i]));
  if (c.call(args.data(), out)) return true;
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

AbiTemplateScope::AbiTemplateScope(const TemplateCompiler &compile) : previous_(abiCompiler) {
  abiCompiler = &compile;
}

AbiTemplateScope::~AbiTemplateScope() { abiCompiler = previous_; }

bool abiRender(const Record *tpl, const Json *vars, Slot &out) {
  static const TemplateCompiler none;
  return render(abiCompiler ? *abiCompiler : none, tpl, vars, out);
}

} // namespace cfm::model
