// unix_http.cpp — HTTP/1.1 on AF_UNIX for cfmd's control API: the request parser with its
// limits, the responder (Content-Length or chunked), the threaded server and the blocking client.
#include "net/unix_http.h"

#include "base/hex.h"
#include "base/text.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace cfm::net {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool percentDecode(std::string_view in, std::string &out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = base::hexDigit(in[i + 1]), lo = base::hexDigit(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += in[i];
    }
  }
  return true;
}

bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr))
      return false;
  return true;
}

bool fillAddress(const std::string &path, sockaddr_un &addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.data(), path.size());
  return true;
}

Result<int> connectTo(const std::string &path) {
  sockaddr_un addr;
  if (!fillAddress(path, addr)) return Error{ErrorKind::Usage, "socket path too long or empty: " + path};
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{ErrorKind::Io, std::string("socket: ") + std::strerror(errno)};
  if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd);
    return Error{ErrorKind::Io, "cannot connect to " + path + ": " + std::strerror(e)};
  }
  return fd;
}

} // namespace

const std::string *UnixHttpRequest::header(std::string_view name) const {
  for (const auto &[n, v] : headers)
    if (n == name) return &v;
  return nullptr;
}

const std::string *UnixHttpRequest::param(std::string_view name) const {
  for (const auto &[n, v] : query)
    if (n == name) return &v;
  return nullptr;
}

Error UnixHttpRequestParser::fail(int status, std::string message) {
  status_ = status;
  return Error{status == 413 || status == 431 ? ErrorKind::Limit : ErrorKind::Syntax, std::move(message)};
}

Result<bool> UnixHttpRequestParser::parseHead() {
  size_t end = buf_.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (buf_.size() > kMaxHttpHeadBytes)
      return fail(431, "request head over " + std::to_string(kMaxHttpHeadBytes) + " bytes");
    return false;
  }
  if (end + 4 > kMaxHttpHeadBytes)
    return fail(431, "request head over " + std::to_string(kMaxHttpHeadBytes) + " bytes");
  std::string_view head(buf_.data(), end);
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return fail(400, "malformed request line");
  req_.method = std::string(line.substr(0, sp1));
  req_.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  std::string_view version = line.substr(sp2 + 1);
  if (!isToken(req_.method)) return fail(400, "malformed method");
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    if (version.substr(0, 5) == "HTTP/")
      return fail(505, "HTTP version not supported: " + std::string(version));
    return fail(400, "malformed request line");
  }
  if (req_.target.empty() || req_.target[0] != '/')
    return fail(400, "request target must be an absolute path");
  for (char c : req_.target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return fail(400, "control character in request target");
  size_t q = req_.target.find('?');
  std::string raw = req_.target.substr(0, q);
  if (!percentDecode(raw, req_.path)) return fail(400, "malformed percent-encoding in path");
  if (q != std::string::npos) {
    std::string_view qs = std::string_view(req_.target).substr(q + 1);
    while (!qs.empty()) {
      size_t amp = qs.find('&');
      std::string_view pair = qs.substr(0, amp);
      size_t eq = pair.find('=');
      std::string name, value;
      if (!percentDecode(pair.substr(0, eq), name) ||
          !percentDecode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), value))
        return fail(400, "malformed percent-encoding in query");
      if (!name.empty()) req_.query.emplace_back(std::move(name), std::move(value));
      if (amp == std::string_view::npos) break;
      qs.remove_prefix(amp + 1);
    }
  }
  std::string_view rest = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
  while (!rest.empty()) {
    size_t e = rest.find("\r\n");
    std::string_view field = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view{} : rest.substr(e + 2);
    size_t colon = field.find(':');
    if (colon == std::string_view::npos || !isToken(field.substr(0, colon)))
      return fail(400, "malformed header field");
    if (req_.headers.size() == kMaxHttpHeaders)
      return fail(431, "more than " + std::to_string(kMaxHttpHeaders) + " header fields");
    std::string_view value = trim(field.substr(colon + 1));
    for (char c : value)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
        return fail(400, "control character in header value");
    req_.headers.emplace_back(lower(field.substr(0, colon)), std::string(value));
  }
  if (req_.header("transfer-encoding") != nullptr)
    return fail(501, "Transfer-Encoding in requests is not supported");
  const std::string *cl = req_.header("content-length");
  if (cl != nullptr) {
    if (cl->empty() || cl->size() > 12) return fail(400, "malformed Content-Length");
    size_t n = 0;
    for (char c : *cl) {
      if (c < '0' || c > '9') return fail(400, "malformed Content-Length");
      n = n * 10 + static_cast<size_t>(c - '0');
    }
    for (const auto &[name, v] : req_.headers)
      if (name == "content-length" && &v != cl && v != *cl)
        return fail(400, "conflicting Content-Length fields");
    if (n > kMaxHttpBodyBytes)
      return fail(413, "request body over " + std::to_string(kMaxHttpBodyBytes) + " bytes");
    bodyLength_ = n;
  } else if (req_.method == "POST" || req_.method == "PUT") {
    return fail(411, "a request with a body needs Content-Length");
  }
  headDone_ = true;
  buf_.erase(0, end + 4);
  return true;
}

Result<bool> UnixHttpRequestParser::feed(std::string_view bytes) {
  if (status_ != 0) return Error{ErrorKind::Usage, "the parser already failed"};
  buf_.append(bytes);
  if (!headDone_) {
    auto h = parseHead();
    if (!h.ok()) return h.takeError();
    if (!*h) return false;
  }
  if (buf_.size() > bodyLength_)
    return fail(400, "bytes after the request body (one request per connection)");
  if (buf_.size() < bodyLength_) return false;
  req_.body = std::move(buf_);
  buf_.clear();
  return true;
}

std::string_view httpReason(int status) {
  switch (status) {
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 400: return "Bad Request";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 409: return "Conflict";
  case 411: return "Length Required";
  case 413: return "Content Too Large";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 503: return "Service Unavailable";
  case 505: return "HTTP Version Not Supported";
  default: return "Status";
  }
}

bool HttpResponder::writeAll(std::string_view bytes) {
  while (!broken_ && !bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      broken_ = true;
      break;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return !broken_;
}

bool HttpResponder::send(int status, std::string_view contentType, std::string_view body) {
  answered_ = true;
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(httpReason(status)) +
                     "\r\nContent-Type: " + std::string(contentType) +
                     "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  return writeAll(head) && writeAll(body);
}

bool HttpResponder::begin(int status, std::string_view contentType) {
  answered_ = true;
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(httpReason(status)) +
                     "\r\nContent-Type: " + std::string(contentType) +
                     "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  return writeAll(head);
}

bool HttpResponder::write(std::string_view piece) {
  if (piece.empty()) return !broken_;
  char size[32];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
  return writeAll(std::string_view(size, static_cast<size_t>(n))) && writeAll(piece) && writeAll("\r\n");
}

bool HttpResponder::end() { return writeAll("0\r\n\r\n"); }

bool unixSocketAnswers(const std::string &path) {
  auto fd = connectTo(path);
  if (!fd.ok()) return false;
  ::close(*fd);
  return true;
}

Result<std::unique_ptr<UnixHttpServer>> UnixHttpServer::listen(const std::string &path, Handler handler) {
  sockaddr_un addr;
  if (!fillAddress(path, addr)) return Error{ErrorKind::Usage, "socket path too long or empty: " + path};
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return Error{ErrorKind::Usage, path + " exists and is not a socket"};
    if (unixSocketAnswers(path)) return Error{ErrorKind::Usage, "another server answers on " + path};
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return Error{ErrorKind::Io, "cannot remove stale socket " + path + ": " + std::strerror(errno)};
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{ErrorKind::Io, std::string("socket: ") + std::strerror(errno)};
  // The socket's mode comes from the umask at bind(): 0600 from the start, so no other user can
  // connect in between; fchmod does not apply to sockets on Linux.
  mode_t old = ::umask(0177);
  int rc = ::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr);
  int e = errno;
  ::umask(old);
  if (rc != 0 || ::listen(fd, 64) != 0) {
    if (rc == 0) e = errno;
    ::close(fd);
    return Error{ErrorKind::Io, "cannot listen on " + path + ": " + std::strerror(e)};
  }
  std::unique_ptr<UnixHttpServer> s(new UnixHttpServer(path, fd, std::move(handler)));
  s->acceptThread_ = std::thread([p = s.get()] { p->acceptLoop(); });
  return s;
}

UnixHttpServer::UnixHttpServer(std::string path, int fd, Handler handler)
    : path_(std::move(path)), listenFd_(fd), handler_(std::move(handler)) {}

UnixHttpServer::~UnixHttpServer() { stop(); }

void UnixHttpServer::stop() {
  if (stopping_.exchange(true)) return;
  ::shutdown(listenFd_, SHUT_RDWR);
  if (acceptThread_.joinable()) acceptThread_.join();
  ::close(listenFd_);
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
    workers.swap(workers_);
  }
  for (auto &t : workers) t.join();
  ::unlink(path_.c_str());
}

void UnixHttpServer::acceptLoop() {
  while (!stopping_) {
    int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ::close(fd);
      break;
    }
    open_.push_back(fd);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

void UnixHttpServer::serve(int fd) {
  UnixHttpRequestParser parser;
  HttpResponder out(fd);
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; // closed before a whole request: nothing to answer
    auto done = parser.feed(std::string_view(buf, static_cast<size_t>(n)));
    if (!done.ok()) {
      out.send(parser.status(), "application/json",
               "{\"error\":" +
                   base::jsonQuote(std::string(httpReason(parser.status())) + ": " + done.error().message) +
                   "}");
      break;
    }
    if (*done) {
      handler_(parser.request(), out);
      if (!out.answered()) out.send(500, "application/json", "{\"error\":\"no reply\"}");
      break;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
  std::erase(open_, fd);
}

namespace {

// Reads a reply: status line, headers, then the body by Content-Length, chunks or to the end.
class ReplyReader {
public:
  explicit ReplyReader(int fd) : fd_(fd) {}

  Result<UnixHttpReply> read(const std::function<bool(std::string_view)> &onBody) {
    UnixHttpReply reply;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (buf_.size() > kMaxHttpHeadBytes) return Error{ErrorKind::Limit, "reply head too large"};
      if (!more()) return Error{ErrorKind::Io, "connection closed before the reply"};
    }
    std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    if (head.compare(0, 9, "HTTP/1.1 ") != 0 && head.compare(0, 9, "HTTP/1.0 ") != 0)
      return Error{ErrorKind::Syntax, "malformed reply status line"};
    reply.status = std::atoi(head.c_str() + 9);
    if (reply.status < 100 || reply.status > 599) return Error{ErrorKind::Syntax, "malformed reply status"};
    bool chunked = false;
    long long length = -1;
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos) {
      size_t next = head.find("\r\n", pos + 2);
      std::string_view field = std::string_view(head).substr(
          pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      size_t colon = field.find(':');
      if (colon != std::string_view::npos) {
        std::string name = lower(field.substr(0, colon));
        std::string_view value = trim(field.substr(colon + 1));
        if (name == "transfer-encoding" && lower(value) == "chunked") chunked = true;
        if (name == "content-length") length = std::atoll(std::string(value).c_str());
        if (name == "content-type") reply.contentType = std::string(value);
      }
      pos = next;
    }
    auto deliver = [&](std::string_view piece) {
      if (onBody) return onBody(piece);
      if (reply.body.size() + piece.size() > kMaxHttpBodyBytes) return false;
      reply.body.append(piece);
      return true;
    };
    if (chunked) {
      for (;;) {
        size_t eol;
        while ((eol = buf_.find("\r\n")) == std::string::npos)
          if (buf_.size() > 64 || !more()) return Error{ErrorKind::Syntax, "malformed chunk size"};
        size_t size = 0;
        size_t i = 0;
        for (; i < eol && base::hexDigit(buf_[i]) >= 0; ++i) {
          if (size > (kMaxHttpBodyBytes >> 4)) return Error{ErrorKind::Limit, "chunk too large"};
          size = size * 16 + static_cast<size_t>(base::hexDigit(buf_[i]));
        }
        if (i == 0) return Error{ErrorKind::Syntax, "malformed chunk size"};
        buf_.erase(0, eol + 2);
        while (buf_.size() < size + 2)
          if (!more()) return Error{ErrorKind::Io, "connection closed inside a chunk"};
        if (size == 0) break;
        if (!deliver(std::string_view(buf_).substr(0, size))) return reply;
        buf_.erase(0, size + 2);
      }
    } else if (length >= 0) {
      if (static_cast<size_t>(length) > kMaxHttpBodyBytes)
        return Error{ErrorKind::Limit, "reply body too large"};
      while (buf_.size() < static_cast<size_t>(length))
        if (!more()) return Error{ErrorKind::Io, "connection closed inside the reply body"};
      deliver(std::string_view(buf_).substr(0, static_cast<size_t>(length)));
    } else {
      while (more()) {
      }
      deliver(buf_);
    }
    return reply;
  }

private:
  bool more() {
    char tmp[16384];
    for (;;) {
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buf_.append(tmp, static_cast<size_t>(n));
      return true;
    }
  }
  int fd_;
  std::string buf_;
};

} // namespace

Result<UnixHttpReply> unixHttpRequest(const std::string &path, std::string_view method,
                                      std::string_view target, std::string_view body,
                                      std::string_view contentType,
                                      const std::function<bool(std::string_view)> &onBody) {
  auto fd = connectTo(path);
  if (!fd.ok()) return fd.takeError();
  std::string req = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n";
  if (!body.empty() || method == "POST" || method == "PUT")
    req += "Content-Type: " + std::string(contentType) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "Connection: close\r\n\r\n";
  req.append(body);
  std::string_view rest = req;
  while (!rest.empty()) {
    ssize_t n = ::send(*fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(*fd);
      return Error{ErrorKind::Io, "cannot send to " + path + ": " + std::strerror(e)};
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  ReplyReader reader(*fd);
  auto reply = reader.read(onBody);
  ::close(*fd);
  return reply;
}

} // namespace cfm::net
