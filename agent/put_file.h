// put_file.h — how cfm-agent writes a file (docs/agent-protocol.md, `put_file`): atomically
// (a temporary file in the same directory, written, fsync'd, its mode set, renamed over the
// target, the directory fsync'd) and confined to the VM root: the path is absolute inside the VM,
// `..` is refused, and every directory on the way is opened from the previous one without
// following any symbolic link (base/paths.h, openDirBeneathNoLinks), so that no link — absolute,
// relative, or swapped in for a directory during the write — leads the write outside the root.
// Missing directories are made (mode 0755). A link as the last component is replaced, not followed.
#pragma once

#include "base/result.h"
#include "net/agent_proto.h"

#include <cstdint>
#include <string>

namespace cfm::agent {

struct PutFileOutcome {
  bool refused = false; ///< the path leaves the root or is not one: answer `rejected`
  std::string message;  ///< why, when it failed
  uint64_t bytes = 0;
};

/// Writes ARGS beneath the directory ROOT (the content's sha256 is checked first).
PutFileOutcome putFile(const net::PutFileArgs &args, const std::string &root);

} // namespace cfm::agent
