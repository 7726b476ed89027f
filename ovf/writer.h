// writer.h — exports a business system as an OVF 1.x descriptor with CFM's extension, such that
// reading it back gives an equal model: toModel(read(write(m))) == m (tested over the samples and
// the whole shared corpus).
#pragma once

#include "base/result.h"
#include "runtime/model/model.h"

#include <string>

namespace cfm::ovf {

/// The descriptor text of SYS. Fails only for a model OVF cannot carry (e.g. two VM classes that
/// give one disk id different contents).
Result<std::string> write(const model::BusinessSystem &sys);

} // namespace cfm::ovf
