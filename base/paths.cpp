// paths.cpp — confined opening of relative paths (paths.h): openat2 where the kernel has it, a
// component-by-component walk with the same rule where it does not.
#include "base/paths.h"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace cfm::base {

namespace {

/// The one message for every refused path, whichever resolver refused it.
const char *const kLeaves = "leaves its directory (an absolute path, a `..` above it or a symbolic link "
                            "pointing outside it)";

/// At most this many symbolic links are followed in one path (the kernel's limit too).
constexpr int kMaxLinks = 40;

/// Appends the components of PATH to OUT (dropping empty ones and `.`), in order.
void splitInto(const std::string &path, std::vector<std::string> &out) {
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string::npos) end = path.size();
    std::string c = path.substr(pos, end - pos);
    if (!c.empty() && c != ".") out.push_back(std::move(c));
    pos = end + 1;
  }
}

std::atomic<bool> gNoOpenat2{false};

} // namespace

UniqueFd &UniqueFd::operator=(UniqueFd &&o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

std::string systemError(int err) {
  std::string s = std::strerror(err);
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

Result<UniqueFd> openBeneathWalk(int dirfd, const std::string &rel, int flags) {
  if (rel.empty()) return Error{ErrorKind::Io, systemError(ENOENT)};
  if (rel[0] == '/') return Error{ErrorKind::Io, kLeaves};
  // The components still to resolve, front first (stored reversed so that a link's target is
  // pushed in front cheaply), and the directories walked into below DIRFD (for `..`).
  std::vector<std::string> todo;
  splitInto(rel, todo);
  std::vector<std::string> rev(todo.rbegin(), todo.rend());
  std::vector<UniqueFd> stack;
  int links = 0;
  auto cur = [&] { return stack.empty() ? dirfd : stack.back().get(); };
  while (!rev.empty()) {
    std::string c = std::move(rev.back());
    rev.pop_back();
    if (c == "..") {
      if (stack.empty()) return Error{ErrorKind::Io, kLeaves};
      stack.pop_back();
      continue;
    }
    struct stat st;
    if (fstatat(cur(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return Error{ErrorKind::Io, systemError(errno)};
    if (S_ISLNK(st.st_mode)) {
      if (++links > kMaxLinks) return Error{ErrorKind::Io, systemError(ELOOP)};
      char buf[PATH_MAX];
      ssize_t n = readlinkat(cur(), c.c_str(), buf, sizeof buf);
      if (n < 0) return Error{ErrorKind::Io, systemError(errno)};
      if (n == 0 || static_cast<size_t>(n) >= sizeof buf) return Error{ErrorKind::Io, systemError(ENOENT)};
      std::string target(buf, static_cast<size_t>(n));
      if (target[0] == '/') return Error{ErrorKind::Io, kLeaves};
      std::vector<std::string> parts;
      splitInto(target, parts);
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) rev.push_back(std::move(*it));
      continue;
    }
    if (rev.empty()) {
      // The last component, known not to be a link; O_NOFOLLOW refuses one swapped in since.
      int fd = ::openat(cur(), c.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
      if (fd < 0) return Error{ErrorKind::Io, errno == ELOOP ? std::string(kLeaves) : systemError(errno)};
      return UniqueFd(fd);
    }
    int fd = ::openat(cur(), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Error{ErrorKind::Io, errno == ELOOP ? std::string(kLeaves) : systemError(errno)};
    stack.emplace_back(fd);
  }
  // The path ended on a directory (`a/..`, `.`, or a link to a directory).
  int fd = ::openat(cur(), ".", flags | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return Error{ErrorKind::Io, systemError(errno)};
  return UniqueFd(fd);
}

Result<UniqueFd> openBeneath(int dirfd, const std::string &rel, int flags) {
  if (rel.empty()) return Error{ErrorKind::Io, systemError(ENOENT)};
  if (!gNoOpenat2.load(std::memory_order_relaxed)) {
    struct open_how how;
    std::memset(&how, 0, sizeof how);
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NOCTTY);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    for (int attempt = 0;; ++attempt) {
      long fd = syscall(SYS_openat2, dirfd, rel.c_str(), &how, sizeof how);
      if (fd >= 0) return UniqueFd(static_cast<int>(fd));
      int err = errno;
      if (err == EAGAIN && attempt < 16) continue; // a concurrent rename: the kernel asks to retry
      if (err == ENOSYS) {
        gNoOpenat2.store(true, std::memory_order_relaxed);
        break;
      }
      if (err == EXDEV) return Error{ErrorKind::Io, kLeaves};
      return Error{ErrorKind::Io, systemError(err)};
    }
  }
  return openBeneathWalk(dirfd, rel, flags);
}

Result<UniqueFd> openDirBeneathNoLinks(int dirfd, const std::string &rel, bool create, unsigned mode) {
  if (!rel.empty() && rel[0] == '/') return Error{ErrorKind::Io, kLeaves};
  std::vector<std::string> parts;
  splitInto(rel, parts);
  int first = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (first < 0) return Error{ErrorKind::Io, systemError(errno)};
  UniqueFd cur(first);
  for (const std::string &c : parts) {
    if (c == "..") return Error{ErrorKind::Io, kLeaves};
    if (create && ::mkdirat(cur.get(), c.c_str(), mode) != 0 && errno != EEXIST)
      return Error{ErrorKind::Io, systemError(errno)};
    long fd = -1;
    int err = 0;
    if (!gNoOpenat2.load(std::memory_order_relaxed)) {
      struct open_how how;
      std::memset(&how, 0, sizeof how);
      how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW;
      how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
      for (int attempt = 0;; ++attempt) {
        fd = syscall(SYS_openat2, cur.get(), c.c_str(), &how, sizeof how);
        err = fd < 0 ? errno : 0;
        if (fd >= 0 || err != EAGAIN || attempt >= 16) break;
      }
      if (fd < 0 && err == ENOSYS) gNoOpenat2.store(true, std::memory_order_relaxed);
    }
    if (gNoOpenat2.load(std::memory_order_relaxed)) {
      fd = ::openat(cur.get(), c.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      err = fd < 0 ? errno : 0;
    }
    if (fd < 0) {
      // A symbolic link where a directory must be: ELOOP (openat2 and O_NOFOLLOW both say so).
      if (err == ELOOP || err == EXDEV) return Error{ErrorKind::Io, kLeaves};
      return Error{ErrorKind::Io, systemError(err)};
    }
    cur = UniqueFd(static_cast<int>(fd));
  }
  return cur;
}

Result<UniqueFd> openBeneath(const std::string &dir, const std::string &rel, int flags) {
  int d = ::open(dir.empty() ? "." : dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (d < 0) return Error{ErrorKind::Io, "its directory cannot be opened: " + systemError(errno)};
  UniqueFd dirFd(d);
  return openBeneath(dirFd.get(), rel, flags);
}

} // namespace cfm::base
