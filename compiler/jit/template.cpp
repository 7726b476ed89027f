// template.cpp — ConfigTemplates whose text arrives at run time (from OVF), compiled by the JIT
// on first use in a run (jit.h TemplateCache): the text becomes a template function
// (frontend.h `compileTemplate`), the front end checks it, the Session lowers it
// with an entry `cfm.entry` and compiles it at the run's level into a module of its own; the
// run's cache keeps it per text and shape until the run ends, then frees it. `tpl.render(vars)`
// in JIT'd code reaches the cache through the C ABI's `cfm_model_render` (the run installs it
// with model::AbiTemplateScope).
#include "jit/jit.h"
#include "jit/session.h"

#include "runtime/model/methods.h"
#include "runtime/runtime.h"

#include <memory>

namespace cfm::jit {

using namespace rt;

/// A compiled template: the compilation it comes from, its module and the module's `cfm.fini`.
struct TemplateCache::Entry {
  std::unique_ptr<frontend::Compilation> comp;
  ModulePtr module;
  model::CompiledTemplate tpl;
  void (*fini)() = nullptr;
};

TemplateCache::TemplateCache(int optLevel, FILE *out) : optLevel_(optLevel), out_(out) {}

TemplateCache::~TemplateCache() {
  // Each module releases its literals (as `cfm.fini` does for a program), then goes.
  for (auto &[key, e] : entries_)
    if (e->fini) e->fini();
}

const model::CompiledTemplate &TemplateCache::compile(const std::string &name, std::string_view text,
                                                      const std::vector<std::string> &names,
                                                      const std::vector<std::string> &types) {
  auto &slot = entries_[model::templateKey(text, names, types)];
  if (slot) return slot->tpl;
  slot = std::make_unique<Entry>();
  Entry &c = *slot;
  c.comp = frontend::compileTemplate(name, text, names, types, c.tpl.error);
  if (!c.comp) return c.tpl;
  const sema::Program &p = c.comp->program;
  std::string why = unsupported(p);
  if (!why.empty()) {
    c.tpl.error = "the JIT does not compile " + why;
    return c.tpl;
  }
  const sema::FnInfo *fn = nullptr;
  for (const sema::FnInfo &fi : p.functions)
    if (fi.name == "config_template") fn = &fi;
  Session *session = Session::get(why);
  Lowered l;
  if (!session || !session->lower(p, c.comp->sources, fn, "<template " + name + ">", l, why)) {
    c.tpl.error = why;
    return c.tpl;
  }
  auto m = session->add(std::move(l), optLevel_, std::string());
  auto points = m ? session->entryPoints(**m) : llvm::Expected<ModuleEntry>(m.takeError());
  if (!points) {
    c.tpl.error = errorText(points.takeError());
    return c.tpl;
  }
  c.module = std::move(*m);
  // The module's literals are made once; a template has no constants, so this cannot fail.
  if (points->init(out_) != 0) {
    c.tpl.error = "internal error: the template's module did not initialise";
    clearError();
    return c.tpl;
  }
  c.fini = points->fini;
  for (const sema::ParamInfo &pi : fn->params) c.tpl.paramTypes.push_back(c.module->types().get(pi.type));
  auto entry = points->entry;
  size_t n = fn->params.size();
  c.tpl.call = [entry, n](Slot *args, Slot &out) {
    std::vector<uint8_t> given(n, 1);
    return entry(args, given.data(), &out) == 0;
  };
  return c.tpl;
}

model::TemplateCompiler TemplateCache::compiler() {
  return [this](const std::string &name, std::string_view text, const std::vector<std::string> &names,
                const std::vector<std::string> &types) -> const model::CompiledTemplate & {
    return compile(name, text, names, types);
  };
}

} // namespace cfm::jit
