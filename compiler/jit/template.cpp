// template.cpp — ConfigTemplates whose text arrives at run time (from OVF), compiled by the JIT
// on first use (jit.h `compileTemplate`): the text becomes a template function (runtime/model/
// methods.h `templateSource`), the front end checks it, the Session lowers it with an entry
// `cfm.entry` and compiles it into a JITDylib of its own; the result is cached per text and
// shape for the process. `tpl.render(vars)` in JIT'd code reaches it through the C ABI's
// `cfm_model_render` (the compiler is registered by `installTemplateCompiler`).
#include "jit/jit.h"
#include "jit/session.h"

#include "runtime/model/methods.h"
#include "runtime/runtime.h"

#include <map>
#include <memory>

namespace cfm::jit {

using namespace rt;

namespace {

/// A compiled template: the compilation it comes from, its module's functions.
struct Compiled {
  std::unique_ptr<frontend::Compilation> comp;
  model::CompiledTemplate tpl;
  void (*fini)() = nullptr;
};

/// The cache; at exit each module releases its literals (as `cfm.fini` does for a program).
struct Cache {
  std::map<std::string, std::unique_ptr<Compiled>> entries;
  ~Cache() {
    for (auto &[key, c] : entries)
      if (c->fini) c->fini();
  }
};

Cache &cache() {
  static Cache c;
  return c;
}

} // namespace

const model::CompiledTemplate &compileTemplate(const std::string &name, std::string_view text,
                                               const std::vector<std::string> &names,
                                               const std::vector<std::string> &types, int optLevel) {
  auto &slot = cache().entries[model::templateKey(text, names, types)];
  if (slot) return slot->tpl;
  slot = std::make_unique<Compiled>();
  Compiled &c = *slot;
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
  Session *session = Session::get(optLevel, why);
  Lowered l;
  if (!session || !session->lower(p, c.comp->sources, fn, "<template " + name + ">", l, why)) {
    c.tpl.error = why;
    return c.tpl;
  }
  auto jd = session->add(std::move(l), std::string());
  auto points = jd ? session->entryPoints(**jd) : llvm::Expected<ModuleEntry>(jd.takeError());
  if (!points) {
    c.tpl.error = errorText(points.takeError());
    return c.tpl;
  }
  // The module's literals are made once; a template has no constants, so this cannot fail.
  if (points->init(stdout) != 0) {
    c.tpl.error = "internal error: the template's module did not initialise";
    clearError();
    return c.tpl;
  }
  c.fini = points->fini;
  for (const sema::ParamInfo &pi : fn->params)
    c.tpl.paramTypes.push_back(session->typesOf(**jd).get(pi.type));
  auto entry = points->entry;
  size_t n = fn->params.size();
  c.tpl.call = [entry, n](Slot *args, Slot &out) {
    std::vector<uint8_t> given(n, 1);
    return entry(args, given.data(), &out) == 0;
  };
  return c.tpl;
}

void installTemplateCompiler(int optLevel) {
  model::setAbiTemplateCompiler(
      [optLevel](const std::string &name, std::string_view text, const std::vector<std::string> &names,
                 const std::vector<std::string> &types) -> const model::CompiledTemplate & {
        return compileTemplate(name, text, names, types, optLevel);
      });
}

} // namespace cfm::jit
