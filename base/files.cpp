// files.cpp — bounded reading of regular files (files.h).
#include "base/files.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cfm::base {

std::string formatBytes(uint64_t n) {
  if (n >= (uint64_t(1) << 30) && n % (uint64_t(1) << 30) == 0) return std::to_string(n >> 30) + " GiB";
  if (n >= (uint64_t(1) << 20) && n % (uint64_t(1) << 20) == 0) return std::to_string(n >> 20) + " MiB";
  if (n >= 1024 && n % 1024 == 0) return std::to_string(n >> 10) + " KiB";
  return std::to_string(n) + " bytes";
}

Result<std::string> readRegularFd(int fd, uint64_t maxBytes) {
  struct stat st;
  if (fstat(fd, &st) != 0) return Error{ErrorKind::Io, std::strerror(errno)};
  if (S_ISDIR(st.st_mode)) return Error{ErrorKind::Io, "is a directory"};
  if (!S_ISREG(st.st_mode)) return Error{ErrorKind::Io, "is not a regular file"};
  std::string tooLarge = "is larger than the limit of " + formatBytes(maxBytes);
  if (static_cast<uint64_t>(st.st_size) > maxBytes) return Error{ErrorKind::Limit, tooLarge};
  // Opened non-blocking so that opening a FIFO could not hang; a regular file reads the same.
  int flags = fcntl(fd, F_GETFL);
  if (flags != -1 && (flags & O_NONBLOCK)) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  std::string out;
  out.reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{ErrorKind::Io, std::strerror(errno)};
    }
    if (n == 0) break;
    if (out.size() + static_cast<uint64_t>(n) > maxBytes) return Error{ErrorKind::Limit, tooLarge};
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> readRegularFile(const std::string &path, uint64_t maxBytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return Error{ErrorKind::Io, std::strerror(errno), SourceLoc{path, 0, 0}};
  Result<std::string> r = readRegularFd(fd, maxBytes);
  ::close(fd);
  if (!r) return r.error().inFile(path);
  return r;
}

} // namespace cfm::base
