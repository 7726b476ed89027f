// reader.h — reads an OVF descriptor (DSP0243 0.9, 1.x, 2.x, with CFM's extension) into an
// Envelope, or says what is wrong and where (Error::loc; describe() gives `FILE:LINE:COL: error:
// MESSAGE`). Any input gives one or the other; nothing is printed. ovf/README.md lists what is
// read and what is checked.
#pragma once

#include "base/result.h"
#include "ovf/envelope.h"

#include <string>
#include <string_view>

namespace cfm::ovf {

/// Reads the descriptor TEXT; NAME (usually its path) is the file of every error's place.
Result<Envelope> read(std::string_view text, const std::string &name);

/// Reads the file at PATH (at most kMaxDescriptorBytes).
Result<Envelope> readFile(const std::string &path);

/// Reads a whole (small) file: for descriptors and the template files they reference.
Result<std::string> slurp(const std::string &path, size_t limit);

/// The byte multiplier of an allocation-units string (`byte`, `byte * 2^20`, `MegaBytes`, `GB`,
/// ...), or an error naming it.
Result<uint64_t> byteUnits(std::string_view units);

} // namespace cfm::ovf
