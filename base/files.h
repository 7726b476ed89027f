// files.h — reading the files CFM is given (sources, templates, OVF descriptors, JSON), bounded.
//
// The base floor: no dependency beyond the C++ and POSIX libraries. Every file a user names is
// read through here so that the same rules hold everywhere (issue 12): only regular files (a
// FIFO, a device such as /dev/zero or a directory is refused before anything is read, and
// opening never blocks), never more than a stated number of bytes (checked on the size the
// kernel reports and again while reading, for files that grow), and a message that names the
// file and says what is wrong.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"

namespace cfm::base {

/// The largest source file (`.cfp`, including imports, and REPL `:load`) CFM reads. The front
/// end needs about 550 bytes per token (ANTLR's tokens and parse tree), so 8 MiB of dense code
/// costs at most a few GiB while parsing; real procedure files are a thousand times smaller.
constexpr uint64_t kMaxSourceBytes = uint64_t(8) << 20;

/// Reads the whole of `path`, which must be a regular file of at most `maxBytes` bytes.
/// Errors (the message without the path, for the caller to frame; the path as the error's place):
/// "is a directory", "is not a regular file" or the system's reason (ErrorKind::Io), "is larger
/// than the limit of N MiB" (ErrorKind::Limit).
Result<std::string> readRegularFile(const std::string &path, uint64_t maxBytes);

/// Reads the whole of the open descriptor `fd` (not closed here) under the same rules.
Result<std::string> readRegularFd(int fd, uint64_t maxBytes);

/// "N GiB" / "N MiB" / "N KiB" / "N bytes": how limits are written in messages.
std::string formatBytes(uint64_t n);

} // namespace cfm::base
