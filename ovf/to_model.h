// to_model.h — from a read OVF envelope to the model objects of a business system (and the
// import entry points the CLI and the store use). ovf/README.md, "From OVF to the model", says
// which OVF part becomes which field.
#pragma once

#include "base/result.h"
#include "ovf/envelope.h"
#include "runtime/model/model.h"

#include <functional>
#include <string>
#include <string_view>

namespace cfm::ovf {

/// Reads the content of a References/File (for templates given by `fileRef`).
using FileLoader = std::function<Result<std::string>(const FileRef &file)>;

/// The largest template file a loader reads.
inline constexpr size_t kMaxTemplateBytes = 1024 * 1024;
/// ScaleOutSection's `unbounded` maximum, as a count.
inline constexpr int kUnboundedInstances = 1000000;

/// A loader for plain relative hrefs under DIR (no `..`, no absolute paths, no URLs), opened
/// confined to DIR (base::openBeneath: a symbolic link leading outside DIR is refused) and read as
/// a regular file of at most kMaxTemplateBytes (a FIFO or a device is refused, never waited on).
FileLoader directoryLoader(std::string dir);
/// A loader that refuses every file (for descriptors read without a directory, e.g. from stdin).
FileLoader noFiles();

/// Maps ENV onto a business system; NAME is the file of the errors' places (as the reader's are).
Result<model::BusinessSystem> toModel(const Envelope &env, const FileLoader &load, const std::string &name);

/// read + toModel.
Result<model::BusinessSystem> importText(std::string_view text, const std::string &name,
                                         const FileLoader &load);
/// readFile + toModel, template files relative to the descriptor's directory.
Result<model::BusinessSystem> importFile(const std::string &path);

} // namespace cfm::ovf
