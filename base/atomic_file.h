// atomic_file.h — writing a file whole or not at all (issue 12, "data loss"): `cfmc ovf export
// -o`, and later whatever else CFM writes into a file a user names.
//
// The text goes to a new file in the target's directory (so that the rename stays on one file
// system), which is flushed to disk, given the mode of the file it replaces (or 0666 less the
// umask), and renamed over the target; the directory is then flushed. A reader sees the old
// content or the new, never a part; a failure leaves the target as it was and no temporary file.
// A symbolic link as the target is kept: the file it points to is replaced.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace cfm::base {

/// How replaceFileAtomically writes: `durable` flushes the file and its directory to disk (the
/// default; off for files that need only survive a crash of the process, not of the machine,
/// such as a local cloud's per-instance files); `mode`, when not -1, is the new file's mode
/// (else the replaced file's, or 0666 less the umask).
struct AtomicWrite {
  bool durable = true;
  int mode = -1;
};

/// Replaces (or creates) the file at PATH with TEXT, atomically. Errors, without the path for the
/// caller to frame, in lower case: the system's reason.
Result<void> replaceFileAtomically(const std::string &path, std::string_view text,
                                   const AtomicWrite &how = {});

/// True when A and B exist and are the same file (device and inode, links followed).
bool sameFile(const std::string &a, const std::string &b);

} // namespace cfm::base
