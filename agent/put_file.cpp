// put_file.cpp — atomic, confined file writes (put_file.h).
#include "agent/put_file.h"

#include "base/paths.h"
#include "net/sigv4.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace cfm::agent {

namespace {

PutFileOutcome refused(std::string why) { return {true, std::move(why), 0}; }
PutFileOutcome failed(std::string why) { return {false, std::move(why), 0}; }

} // namespace

PutFileOutcome putFile(const net::PutFileArgs &args, const std::string &root) {
  const std::string &path = args.path;
  if (path.empty() || path[0] != '/') return refused("put_file: the path must be absolute inside the VM");
  if (path.find('\0') != std::string::npos) return refused("put_file: the path holds a NUL byte");
  // The components: empty ones and `.` dropped, `..` refused (never resolved, even inside).
  std::vector<std::string> parts;
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string::npos) end = path.size();
    std::string c = path.substr(pos, end - pos);
    if (c == "..") return refused("put_file: the path leaves the root (`..`)");
    if (!c.empty() && c != ".") parts.push_back(std::move(c));
    pos = end + 1;
  }
  if (parts.empty()) return refused("put_file: the path names no file");
  if (parts.back().size() > 200) return failed("put_file: the file name is too long");
  std::string name = parts.back();
  parts.pop_back();
  std::string dirRel;
  for (const auto &p : parts) dirRel += (dirRel.empty() ? "" : "/") + p;

  std::string want = args.sha256;
  for (char &c : want) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (net::sha256Hex(args.content) != want) return failed("put_file: the content does not match its sha256");

  int rootFd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootFd < 0) return failed("put_file: the VM root cannot be opened: " + base::systemError(errno));
  base::UniqueFd rootDir(rootFd);
  auto dir = base::openDirBeneathNoLinks(rootDir.get(), dirRel, true);
  if (!dir) {
    const std::string &m = dir.error().message;
    if (m.rfind("leaves its directory", 0) == 0)
      return refused("put_file: the path leaves the root (a symbolic link on the way)");
    return failed("put_file: " + m);
  }
  int d = dir->get();

  // The temporary file: a name of our own, O_EXCL so that nothing there is reused or followed.
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    auto suffix = net::randomHex(8);
    if (!suffix) return failed("put_file: " + suffix.error().message);
    tmp = ".cfm-put-" + *suffix;
    fd = ::openat(d, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST)
      return failed("put_file: cannot create a temporary file: " + base::systemError(errno));
  }
  if (fd < 0) return failed("put_file: cannot create a temporary file");
  base::UniqueFd file(fd);
  auto fail = [&](const std::string &what) {
    int err = errno;
    ::unlinkat(d, tmp.c_str(), 0);
    return failed("put_file: " + what + ": " + base::systemError(err));
  };
  size_t off = 0;
  while (off < args.content.size()) {
    ssize_t n = ::write(fd, args.content.data() + off, args.content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write failed");
    off += size_t(n);
  }
  if (::fchmod(fd, args.mode) != 0) return fail("cannot set the mode");
  if (::fsync(fd) != 0) return fail("fsync failed");
  file = base::UniqueFd();
  if (::renameat(d, tmp.c_str(), d, name.c_str()) != 0) return fail("cannot rename into place");
  ::fsync(d);
  return {false, "", off};
}

} // namespace cfm::agent
