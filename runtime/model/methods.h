// methods.h — the model objects' methods (compiler/frontend/model_prelude.h), shared by both
// engines: `sys.element(name)`, `sys.vm_class(name)`, `sys.config_template(name)`,
// `sys.property(id)`, `sys.instances_of(element)`, `vm_class.property(id)` and
// `tpl.render(vars)`. They raise the language's errors (`key`, `conversion`, `template`) and
// return false then, like every runtime operation.
//
// `render` needs a compiler: a ConfigTemplate's text arrives at run time (from OVF). The text
// becomes the body of a template whose parameters are the keys of `vars` that are names, typed
// from their json values (templateParams); the engine compiles that — the interpreter into its
// tree, the JIT into machine code — once per text and shape, and caches it.
#pragma once

#include "runtime/value.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cfm::model {

/// Which named list of a BusinessSystem `find` searches.
enum class Named { Element = 0, VmClass = 1, Template = 2 };

/// The entry of `sys`'s list `which` named `key` (a new reference), or the `key` error.
bool find(const rt::Record *sys, Named which, const rt::Str *key, rt::Slot &out);

/// The property `id` of a BusinessSystem or VMClass (a json value, a new reference), or `key`.
bool property(const rt::Record *r, const rt::Str *id, rt::Slot &out);

/// The running instances of `sys`'s element `element` (a new list of type `listType`), or `key`
/// when there is no such element.
bool instancesOf(const rt::Record *sys, const rt::Str *element, const rt::TypeDesc *listType, rt::Slot &out);

/// A ConfigTemplate's text compiled for variables of one shape: `call` takes one new reference
/// per parameter (values of `paramTypes`) and gives the rendered string (a new reference), or
/// false with the error pending. `error` is set instead when the text does not compile
/// (`line N: message`, N counting the text's own lines).
struct CompiledTemplate {
  std::string error;
  std::vector<const rt::TypeDesc *> paramTypes;
  std::function<bool(rt::Slot *args, rt::Slot &out)> call;
};

/// An engine's template compiler: (template name, text, parameter names, their types as
/// language source) → the compiled template, which the engine keeps alive (and caches).
using TemplateCompiler = std::function<const CompiledTemplate &(
    const std::string &name, std::string_view text, const std::vector<std::string> &names,
    const std::vector<std::string> &types)>;

/// The key under which an engine caches a compiled text: the text and its parameters' shape.
std::string templateKey(std::string_view text, const std::vector<std::string> &names,
                        const std::vector<std::string> &types);

/// `tpl.render(vars)` with `compile`: the variables' names and types from the json object
/// `vars`, the compiled text called with them; a `template` error when the text does not
/// compile, a `conversion` error when vars is not an object. The trace of an error inside the
/// text names the text's own lines (`<template NAME>:LINE`).
bool render(const TemplateCompiler &compile, const rt::Record *tpl, const rt::Json *vars, rt::Slot &out);

/// The template compiler the C ABI's `cfm_model_render` uses while a run is on this thread: a
/// JIT run installs its own (its per-run cache) for as long as the scope lives, and the previous
/// one is back when it ends. Runs on other threads are not affected; with none installed,
/// `render` raises the `template` error "no template compiler".
class AbiTemplateScope {
public:
  explicit AbiTemplateScope(const TemplateCompiler &compile);
  AbiTemplateScope(const AbiTemplateScope &) = delete;
  AbiTemplateScope &operator=(const AbiTemplateScope &) = delete;
  ~AbiTemplateScope();

private:
  const TemplateCompiler *previous_;
};
bool abiRender(const rt::Record *tpl, const rt::Json *vars, rt::Slot &out);

} // namespace cfm::model
