// line_sink.cpp — fopencookie streams that cut what is written into lines for a callback.
#include "cfmd/line_sink.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace cfm::cfmd {
namespace {

struct Sink {
  std::function<void(std::string_view)> onLine;
  std::string partial;
};

ssize_t sinkWrite(void *cookie, const char *buf, size_t size) {
  auto *s = static_cast<Sink *>(cookie);
  std::string_view in(buf, size);
  while (!in.empty()) {
    size_t nl = in.find('\n');
    if (nl == std::string_view::npos) {
      s->partial.append(in);
      while (s->partial.size() >= kMaxLineBytes) {
        s->onLine(std::string_view(s->partial).substr(0, kMaxLineBytes));
        s->partial.erase(0, kMaxLineBytes);
      }
      break;
    }
    s->partial.append(in.substr(0, nl));
    s->onLine(s->partial);
    s->partial.clear();
    in.remove_prefix(nl + 1);
  }
  return static_cast<ssize_t>(size);
}

int sinkClose(void *cookie) {
  std::unique_ptr<Sink> s(static_cast<Sink *>(cookie));
  if (!s->partial.empty()) s->onLine(s->partial);
  return 0;
}

} // namespace

Result<FILE *> openLineSink(std::function<void(std::string_view)> onLine) {
  auto s = std::make_unique<Sink>();
  s->onLine = std::move(onLine);
  cookie_io_functions_t io{};
  io.write = sinkWrite;
  io.close = sinkClose;
  FILE *f = fopencookie(s.get(), "w", io);
  if (f == nullptr) return Error{ErrorKind::Io, std::string("fopencookie: ") + std::strerror(errno)};
  (void)s.release(); // the stream owns it now; sinkClose frees it
  setvbuf(f, nullptr, _IOLBF, 0);
  return f;
}

} // namespace cfm::cfmd
