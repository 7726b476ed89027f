// model.cpp — the model objects' methods in the interpreter: runtime/model/methods.h does the
// work for both engines; this file gives `render` the interpreter's template compiler, which
// compiles a ConfigTemplate's text (arriving at run time, from OVF) into the interpreter's tree
// the first time the run renders it with variables of a given shape, and keeps it for the run
// (the run's program owns the cache: nothing outlives the run, nothing keeps its output stream).
#include "interp/interp.h"

#include "interp/exprs.h"
#include "runtime/model/methods.h"

#include <map>
#include <memory>

namespace cfm::interp {

using namespace rt;

/// A compiled ConfigTemplate: its compilation and program, and how to call it.
struct CompiledText {
  std::unique_ptr<frontend::Compilation> comp;
  std::unique_ptr<Program> prog;
  model::CompiledTemplate tpl;
};

/// The ConfigTemplates of one run, per text and shape (Program::templates).
struct TemplateCache {
  std::map<std::string, std::unique_ptr<CompiledText>> entries;
};

namespace {

/// The interpreter's template compiler: `owner`'s cached template, compiled on its first use
/// into a program that writes where the run writes.
const model::CompiledTemplate &compileTemplate(Program &owner, const std::string &name, std::string_view text,
                                               const std::vector<std::string> &keys,
                                               const std::vector<std::string> &types) {
  if (!owner.templates) {
    owner.ownTemplates = std::make_shared<TemplateCache>();
    owner.templates = owner.ownTemplates.get();
  }
  auto &slot = owner.templates->entries[model::templateKey(text, keys, types)];
  if (slot) return slot->tpl;
  slot = std::make_unique<CompiledText>();
  CompiledText &c = *slot;
  c.comp = frontend::compileTemplate(name, text, keys, types, c.tpl.error);
  if (!c.comp) return c.tpl;
  c.prog = std::make_unique<Program>();
  c.prog->sources = &c.comp->sources;
  c.prog->out = owner.out;
  c.prog->templates = owner.templates;
  std::string why;
  if (!compileProgram(c.comp->program, *c.prog, why)) {
    c.tpl.error = why;
    return c.tpl;
  }
  FnCode *fn = nullptr;
  for (const sema::FnInfo &fi : c.comp->program.functions)
    if (fi.name == "config_template") fn = c.prog->fns.at(&fi).get();
  c.tpl.paramTypes = fn->paramTypes;
  Program *prog = c.prog.get();
  c.tpl.call = [prog, fn](Slot *args, Slot &result) {
    return callFunction(*prog, fn, args, result, support::Loc{}, nullptr);
  };
  return c.tpl;
}

} // namespace

bool modelMethod(Frame &f, support::Loc loc, ast::Builtin which, Slot *v, const TypeDesc *resultType,
                 Slot &out) {
  auto *r = static_cast<Record *>(v[0].o);
  auto *key = static_cast<Str *>(v[1].o);
  bool ok = true;
  switch (which) {
  case ast::Builtin::ModelElement: ok = model::find(r, model::Named::Element, key, out); break;
  case ast::Builtin::ModelVmClass: ok = model::find(r, model::Named::VmClass, key, out); break;
  case ast::Builtin::ModelTemplate: ok = model::find(r, model::Named::Template, key, out); break;
  case ast::Builtin::ModelProperty: ok = model::property(r, key, out); break;
  case ast::Builtin::ModelInstancesOf: ok = model::instancesOf(r, key, resultType, out); break;
  case ast::Builtin::ModelRender: {
    Program *owner = f.prog;
    model::TemplateCompiler compile =
        [owner](const std::string &name, std::string_view text, const std::vector<std::string> &keys,
                const std::vector<std::string> &types) -> const model::CompiledTemplate & {
      return compileTemplate(*owner, name, text, keys, types);
    };
    ok = model::render(compile, r, static_cast<Json *>(v[1].o), out);
    break;
  }
  case ast::Builtin::DurationMs:
  case ast::Builtin::JsonAsBool:
  case ast::Builtin::JsonAsFloat:
  case ast::Builtin::JsonAsInt:
  case ast::Builtin::JsonAsString:
  case ast::Builtin::JsonLen:
  case ast::Builtin::ListContains:
  case ast::Builtin::ListJoin:
  case ast::Builtin::ListPop:
  case ast::Builtin::ListPush:
  case ast::Builtin::MapHas:
  case ast::Builtin::MapKeys:
  case ast::Builtin::MapRemove:
  case ast::Builtin::MapValues:
  case ast::Builtin::None:
  case ast::Builtin::StrContains:
  case ast::Builtin::StrEndsWith:
  case ast::Builtin::StrLower:
  case ast::Builtin::StrReplace:
  case ast::Builtin::StrSplit:
  case ast::Builtin::StrStartsWith:
  case ast::Builtin::StrTrim:
  case ast::Builtin::StrUpper:
#define BUILTIN(id, name) case ast::Builtin::id:
#include "ast/builtins.def"
    ast::unreachableBuiltin(which, "the interpreter's model methods");
  }
  if (!ok) return failAt(f, loc);
  return true;
}

} // namespace cfm::interp
