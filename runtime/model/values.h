// values.h — model objects (model.h) as language values: the records of the model types that
// every program knows (compiler/frontend/model_prelude.h). Fields are filled by name, so the
// order of the declaration is free; OVF property values become json typed from their OVF type.
// Also the other records the procedure API returns (a command's CommandResult).
#pragma once

#include "runtime/model/manager.h"
#include "runtime/model/model.h"
#include "runtime/value.h"

#include <vector>

namespace cfm::model {

/// The BusinessSystem record of `sys` (a new reference), with its running element and VM
/// instances. `sysType` is the program's BusinessSystem type; its fields' types lead to the others.
rt::Record *toValue(const BusinessSystem &sys,
                    const std::vector<BusinessSystemElementInstance> &elementInstances,
                    const std::vector<VMInstance> &vmInstances, const rt::TypeDesc *sysType);

/// The VMInstance record of `vm` (a new reference); `vmType` is the program's VMInstance type.
rt::Record *toValue(const VMInstance &vm, const rt::TypeDesc *vmType);
/// The CommandResult record of `r` (a new reference); `resultType` is the program's CommandResult.
rt::Record *toValue(const Manager::CommandResult &r, const rt::TypeDesc *resultType);

/// A property's value as json: booleans, integers and reals by their OVF type, otherwise the text.
rt::Json *propertyValue(const Property &p);

} // namespace cfm::model
