// atomic_file.cpp — temp file, fsync, rename (atomic_file.h).
#include "base/atomic_file.h"

#include "base/paths.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace cfm::base {

bool sameFile(const std::string &a, const std::string &b) {
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

Result<void> replaceFileAtomically(const std::string &path, std::string_view text, const AtomicWrite &how) {
  if (path.empty()) return Error{ErrorKind::Io, systemError(ENOENT)};
  // Through a symbolic link, the file it points to is the one replaced.
  std::string target = path;
  if (char *real = ::realpath(path.c_str(), nullptr)) {
    target = real;
    std::free(real);
  }
  size_t slash = target.rfind('/');
  std::string dir = slash == std::string::npos ? "." : target.substr(0, slash == 0 ? 1 : slash);
  std::string base = slash == std::string::npos ? target : target.substr(slash + 1);
  mode_t mode;
  struct stat st;
  if (::stat(target.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) return Error{ErrorKind::Io, "is not a regular file"};
    mode = how.mode >= 0 ? mode_t(how.mode) : st.st_mode & 07777;
  } else if (how.mode >= 0) {
    mode = mode_t(how.mode);
  } else {
    mode_t mask = ::umask(0);
    ::umask(mask);
    mode = 0666 & ~mask;
  }
  std::string tmpl = dir + "/." + base + ".tmp-XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return Error{ErrorKind::Io, "cannot create a file in its directory: " + systemError(errno)};
  UniqueFd file(fd);
  std::string tmp(name.data());
  auto failed = [&](const std::string &what) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Error{ErrorKind::Io, what + systemError(err)};
  };
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failed("cannot write: ");
    }
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) != 0) return failed("cannot set its mode: ");
  if (how.durable && ::fsync(fd) != 0) return failed("cannot write: ");
  if (::close(file.release()) != 0) return failed("cannot write: ");
  if (::rename(tmp.c_str(), target.c_str()) != 0) return failed("cannot replace it: ");
  // The rename itself is durable once the directory is.
  if (!how.durable) return success();
  if (int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    (void)::fsync(d);
    ::close(d);
  }
  return success();
}

} // namespace cfm::base
