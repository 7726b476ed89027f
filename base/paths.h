// paths.h — opening a file named by untrusted text (an OVF `href`, the agent's put_file)
// so that it can only be a file beneath a given directory (issue 12, "file disclosure").
//
// The rule, the same on every kernel: the relative path is resolved beneath the directory with
// `..` and symbolic links allowed only while they stay beneath it. An absolute path, an absolute
// symbolic link, a `..` or a relative link that climbs above the directory, and "magic" links
// (/proc/self/fd/N) are refused, whatever the target. The directory itself is trusted (the
// caller chose it; its own path may go through links). Linux ≥ 5.6 does this in the kernel with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), race-free; older kernels (ENOSYS) get a
// component-by-component walk with openat(O_NOFOLLOW) that follows the same rule.
#pragma once

#include <string>

#include "base/result.h"

namespace cfm::base {

/// An owned file descriptor, closed when destroyed.
class UniqueFd {
public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd &&o) noexcept : fd_(o.release()) {}
  UniqueFd &operator=(UniqueFd &&o) noexcept;
  UniqueFd(const UniqueFd &) = delete;
  UniqueFd &operator=(const UniqueFd &) = delete;
  ~UniqueFd();
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  explicit operator bool() const { return fd_ >= 0; }

private:
  int fd_ = -1;
};

/// Opens REL beneath the open directory DIRFD under the rule above, with open(2) FLAGS (O_CLOEXEC
/// and O_NOCTTY are always added; give O_NONBLOCK when the target might be a FIFO). Errors,
/// without the path for the caller to frame: "leaves its directory (...)" for a refused path, or
/// the system's reason in lower case ("no such file or directory").
Result<UniqueFd> openBeneath(int dirfd, const std::string &rel, int flags);
/// The same beneath the directory at DIR ("" is the current directory).
Result<UniqueFd> openBeneath(const std::string &dir, const std::string &rel, int flags);

/// The fallback walk alone (what openBeneath uses when the kernel has no openat2); public so
/// that the tests check that both give the same answers.
Result<UniqueFd> openBeneathWalk(int dirfd, const std::string &rel, int flags);

/// Opens (creating what is missing, mode MODE before the umask) the directory REL beneath the
/// open directory DIRFD, component by component, following NO symbolic link at all — not even
/// one that stays beneath — and refusing `..` and an absolute REL: the directory a confined
/// writer (the agent's put_file) writes into. Each step opens from the previous step's
/// descriptor (openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where the kernel has it,
/// openat with O_NOFOLLOW | O_DIRECTORY where not), so a directory swapped for a link while the
/// walk runs is refused, not followed. REL "" or "." is DIRFD's directory itself. The result is
/// opened O_RDONLY | O_DIRECTORY (usable with the *at calls and fsync). Refusals say "leaves its
/// directory (...)" like openBeneath's.
Result<UniqueFd> openDirBeneathNoLinks(int dirfd, const std::string &rel, bool create, unsigned mode = 0755);

/// strerror(err) with its first letter in lower case, as CFM's messages are written.
std::string systemError(int err);

} // namespace cfm::base
