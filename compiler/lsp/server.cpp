// server.cpp — JSON-RPC framing and LSP dispatch over file descriptors (lsp/server.h): reads
// Content-Length framed messages (recovering from garbage), answers requests through the
// Workspace, and publishes diagnostics a short debounce after the last change of a document.
#include "lsp/server.h"

#include "lsp/engine.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <poll.h>
#include <set>
#include <unistd.h>
#include <utility>

namespace cfm::lsp {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxHeaderBytes = 8192;
constexpr size_t kMaxBodyBytes = size_t(64) << 20;

// JSON-RPC and LSP error codes
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;
constexpr int kServerNotInitialized = -32002;
constexpr int kRequestFailed = -32803;

int completionKind(ItemKind k) {
  switch (k) {
  case ItemKind::Keyword: return 14;
  case ItemKind::Variable: return 6;
  case ItemKind::Constant: return 21;
  case ItemKind::Function:
  case ItemKind::Procedure:
  case ItemKind::Template: return 3;
  case ItemKind::Record: return 22;
  case ItemKind::Field: return 5;
  case ItemKind::Method: return 2;
  case ItemKind::Module: return 9;
  }
  return 1;
}
int symbolKind(ItemKind k) {
  switch (k) {
  case ItemKind::Module: return 2;
  case ItemKind::Method: return 6;
  case ItemKind::Field: return 8;
  case ItemKind::Function:
  case ItemKind::Procedure:
  case ItemKind::Template: return 12;
  case ItemKind::Variable: return 13;
  case ItemKind::Constant: return 14;
  case ItemKind::Record: return 23;
  case ItemKind::Keyword: return 13;
  }
  return 13;
}

json toJson(Position p) { return {{"line", p.line}, {"character", p.character}}; }
json toJson(const Span &s) { return {{"start", toJson(s.start)}, {"end", toJson(s.end)}}; }
json toJson(const Location &l) { return {{"uri", pathToUri(l.path)}, {"range", toJson(l.range)}}; }
json toJson(const Symbol &s) {
  json j = {{"name", s.name},
            {"kind", symbolKind(s.kind)},
            {"range", toJson(s.range)},
            {"selectionRange", toJson(s.selection)}};
  if (!s.detail.empty()) j["detail"] = s.detail;
  if (!s.children.empty()) {
    j["children"] = json::array();
    for (const Symbol &c : s.children) j["children"].push_back(toJson(c));
  }
  return j;
}
Position positionOf(const json &params) {
  const json &p = params.at("position");
  return {p.at("line").get<uint32_t>(), p.at("character").get<uint32_t>()};
}
std::string docPath(const json &params) {
  return uriToPath(params.at("textDocument").at("uri").get<std::string>());
}

/// A folder as the workspace keeps its roots (Workspace::setRoots).
std::string canonicalPath(const std::string &path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : p.string();
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Server {
public:
  Server(int in, int out, const ServerOptions &o) : in_(in), out_(out), opts_(o) {}

  int run() {
    char chunk[65536];
    for (;;) {
      int timeout = -1;
      if (!pending_.empty()) {
        auto next = pending_.begin()->second;
        for (auto &[p, t] : pending_) next = std::min(next, t);
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
        timeout = ms < 0 ? 0 : static_cast<int>(ms) + 1;
      }
      pollfd pfd{in_, POLLIN, 0};
      int r = ::poll(&pfd, 1, timeout);
      if (r < 0 && errno != EINTR) return 1;
      if (r > 0) {
        ssize_t n = ::read(in_, chunk, sizeof chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) return shutdown_ ? 0 : 1; // the client went away
        buf_.append(chunk, static_cast<size_t>(n));
        while (auto body = nextMessage()) {
          handle(*body);
          if (exit_) return shutdown_ ? 0 : 1;
        }
      }
      publishDue();
    }
  }

private:
  // ---- framing ----

  /// The next complete message body in the buffer; errors (a header without Content-Length, a
  /// header too long) are answered and the offending bytes dropped.
  std::optional<std::string> nextMessage() {
    for (;;) {
      size_t end = buf_.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (buf_.size() > kMaxHeaderBytes) {
          sendError(nullptr, kParseError, "no message header in " + std::to_string(buf_.size()) + " bytes");
          buf_.clear();
        }
        return std::nullopt;
      }
      size_t length = std::string::npos;
      bool bad = false;
      size_t pos = 0;
      std::string header = buf_.substr(0, end);
      while (pos <= header.size()) {
        size_t nl = header.find("\r\n", pos);
        std::string line = header.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        pos = nl == std::string::npos ? header.size() + 1 : nl + 2;
        size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        for (char &ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (name != "content-length") continue;
        std::string v = line.substr(colon + 1);
        size_t i = v.find_first_not_of(" \t");
        size_t n = 0;
        bool digits = false;
        for (; i != std::string::npos && i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]));
             ++i) {
          n = n * 10 + static_cast<size_t>(v[i] - '0');
          digits = true;
          if (n > kMaxBodyBytes) break;
        }
        if (!digits || n > kMaxBodyBytes)
          bad = true;
        else
          length = n;
      }
      if (bad || length == std::string::npos) {
        sendError(nullptr, kParseError,
                  bad ? "bad Content-Length" : "a message header without Content-Length");
        buf_.erase(0, end + 4);
        continue;
      }
      if (buf_.size() < end + 4 + length) return std::nullopt;
      std::string body = buf_.substr(end + 4, length);
      buf_.erase(0, end + 4 + length);
      return body;
    }
  }

  void send(const json &j) {
    std::string body = j.dump(-1, ' ', false, json::error_handler_t::replace);
    std::string msg = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    size_t off = 0;
    while (off < msg.size()) {
      ssize_t n = ::write(out_, msg.data() + off, msg.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return; // the client is gone; the next read ends the loop
      off += static_cast<size_t>(n);
    }
  }
  void sendError(const json &id, int code, const std::string &message) {
    send({{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}});
  }
  void reply(const json &id, json result) {
    send({{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}});
  }

  // ---- dispatch ----

  void handle(const std::string &body) {
    json msg = json::parse(body, nullptr, false);
    if (msg.is_discarded()) return sendError(nullptr, kParseError, "the message is not JSON");
    if (msg.is_array()) return sendError(nullptr, kInvalidRequest, "batches are not supported");
    if (!msg.is_object() || !msg.contains("method") || !msg["method"].is_string()) {
      if (msg.is_object() && (msg.contains("result") || msg.contains("error"))) return; // a reply to us
      json id = msg.is_object() && msg.contains("id") ? msg["id"] : json(nullptr);
      return sendError(id, kInvalidRequest, "not a JSON-RPC request");
    }
    std::string method = msg["method"];
    bool request = msg.contains("id");
    json id = request ? msg["id"] : json(nullptr);
    if (request && !id.is_string() && !id.is_number_integer())
      return sendError(nullptr, kInvalidRequest, "a request id must be a number or a string");
    json params = msg.contains("params") ? msg["params"] : json::object();
    try {
      if (method == "exit") {
        exit_ = true;
        return;
      }
      if (!initialized_ && method != "initialize") {
        if (request) sendError(id, kServerNotInitialized, "the server is not initialized");
        return;
      }
      if (shutdown_) {
        if (request) sendError(id, kInvalidRequest, "the server is shut down");
        return;
      }
      if (request) return request_(id, method, params);
      notification(method, params);
    } catch (const json::exception &e) {
      if (request) sendError(id, kInvalidParams, std::string("bad parameters: ") + e.what());
    } catch (const std::exception &e) {
      if (request) sendError(id, kInternalError, e.what());
    }
  }

  json capabilities() const {
    return {{"positionEncoding", "utf-16"},
            {"textDocumentSync", {{"openClose", true}, {"change", 2}}},
            {"hoverProvider", true},
            {"completionProvider",
             {{"triggerCharacters", json::array({".", "\"", "/"})}, {"resolveProvider", false}}},
            {"signatureHelpProvider", {{"triggerCharacters", json::array({"(", ","})}}},
            {"definitionProvider", true},
            {"referencesProvider", true},
            {"documentSymbolProvider", true},
            {"documentFormattingProvider", true},
            {"documentRangeFormattingProvider", true},
            {"workspace", {{"workspaceFolders", {{"supported", true}, {"changeNotifications", true}}}}}};
  }

  /// The workspace's folders from initialize's parameters: workspaceFolders, else rootUri, else
  /// rootPath (each may be null).
  static std::vector<std::string> rootsOf(const json &params) {
    std::vector<std::string> roots;
    if (params.contains("workspaceFolders") && params["workspaceFolders"].is_array()) {
      for (const json &f : params["workspaceFolders"])
        if (f.is_object() && f.contains("uri") && f["uri"].is_string()) roots.push_back(uriToPath(f["uri"]));
    } else if (params.contains("rootUri") && params["rootUri"].is_string()) {
      roots.push_back(uriToPath(params["rootUri"]));
    } else if (params.contains("rootPath") && params["rootPath"].is_string()) {
      roots.push_back(params["rootPath"].get<std::string>());
    }
    return roots;
  }

  void request_(const json &id, const std::string &method, const json &params) {
    if (method == "initialize") {
      if (initialized_) return sendError(id, kInvalidRequest, "initialize was already called");
      initialized_ = true;
      ws_.setRoots(rootsOf(params));
      return reply(id, {{"capabilities", capabilities()},
                        {"serverInfo", {{"name", "cfmc lsp"}, {"version", opts_.version}}}});
    }
    if (method == "shutdown") {
      shutdown_ = true;
      return reply(id, nullptr);
    }
    if (method == "textDocument/hover") {
      auto h = ws_.hover(docPath(params), positionOf(params));
      if (!h) return reply(id, nullptr);
      return reply(id,
                   {{"contents", {{"kind", "markdown"}, {"value", h->text}}}, {"range", toJson(h->range)}});
    }
    if (method == "textDocument/completion") {
      json items = json::array();
      for (const CompletionEntry &e : ws_.complete(docPath(params), positionOf(params))) {
        json it = {{"label", e.label}, {"kind", completionKind(e.kind)}};
        if (!e.detail.empty()) it["detail"] = e.detail;
        items.push_back(std::move(it));
      }
      return reply(id, {{"isIncomplete", false}, {"items", std::move(items)}});
    }
    if (method == "textDocument/signatureHelp") {
      auto s = ws_.signature(docPath(params), positionOf(params));
      if (!s) return reply(id, nullptr);
      json ps = json::array();
      for (const std::string &p : s->params) ps.push_back({{"label", p}});
      int active =
          s->params.empty() ? 0 : std::min<int>(s->activeParameter, static_cast<int>(s->params.size()) - 1);
      return reply(id, {{"signatures", {{{"label", s->label}, {"parameters", ps}}}},
                        {"activeSignature", 0},
                        {"activeParameter", active}});
    }
    if (method == "textDocument/definition") {
      json out = json::array();
      for (const Location &l : ws_.definition(docPath(params), positionOf(params))) out.push_back(toJson(l));
      return reply(id, out);
    }
    if (method == "textDocument/references") {
      json out = json::array();
      bool withDecl = params.contains("context") ? params["context"].value("includeDeclaration", true) : true;
      std::string path = docPath(params);
      Position pos = positionOf(params);
      std::vector<Location> defs = withDecl ? std::vector<Location>{} : ws_.definition(path, pos);
      for (const Location &l : ws_.references(path, pos)) {
        bool isDef = false;
        for (const Location &d : defs)
          isDef |= d.path == l.path && d.range.start.line == l.range.start.line &&
                   d.range.start.character == l.range.start.character;
        if (!isDef) out.push_back(toJson(l));
      }
      return reply(id, out);
    }
    if (method == "textDocument/documentSymbol") {
      json out = json::array();
      for (const Symbol &s : ws_.symbols(docPath(params))) out.push_back(toJson(s));
      return reply(id, out);
    }
    if (method == "textDocument/formatting" || method == "textDocument/rangeFormatting") {
      std::optional<std::pair<uint32_t, uint32_t>> lines;
      if (method == "textDocument/rangeFormatting") {
        const json &r = params.at("range");
        uint32_t first = r.at("start").at("line").get<uint32_t>(),
                 last = r.at("end").at("line").get<uint32_t>();
        // a range ending at the start of a line does not take that line
        if (last > first && r.at("end").at("character").get<uint32_t>() == 0) --last;
        lines = std::make_pair(first, last);
      }
      std::string path = docPath(params);
      Result<std::vector<TextEdit>> edits = ws_.format(path, lines);
      if (!edits) {
        // the formatter refuses a file that does not parse: no edits, and the reason in the log
        const Error &e = edits.error();
        std::string why = e.kind == ErrorKind::Syntax
                              ? "not formatted: the file has syntax errors\n" + e.message
                              : "not formatted: " + e.message;
        send({{"jsonrpc", "2.0"},
              {"method", "window/logMessage"},
              {"params", {{"type", e.kind == ErrorKind::Syntax ? 3 : 1}, {"message", why}}}});
        if (e.kind != ErrorKind::Syntax) return sendError(id, kRequestFailed, why);
        return reply(id, json::array());
      }
      json out = json::array();
      for (const TextEdit &e : *edits) out.push_back({{"range", toJson(e.range)}, {"newText", e.newText}});
      return reply(id, out);
    }
    sendError(id, kMethodNotFound, "unknown method `" + method + "`");
  }

  void notification(const std::string &method, const json &params) {
    if (method == "textDocument/didOpen") {
      std::string path = docPath(params);
      ws_.open(path, params.at("textDocument").at("text").get<std::string>());
      scheduleAll(path);
    } else if (method == "textDocument/didChange") {
      std::string path = docPath(params);
      const std::string *old = ws_.text(path);
      std::string text = old ? *old : std::string();
      for (const json &c : params.at("contentChanges")) {
        if (!c.contains("range")) {
          text = c.at("text").get<std::string>();
          continue;
        }
        const json &r = c["range"];
        Position s{r.at("start").at("line").get<uint32_t>(), r.at("start").at("character").get<uint32_t>()};
        Position e{r.at("end").at("line").get<uint32_t>(), r.at("end").at("character").get<uint32_t>()};
        size_t a = offsetOf(text, s), b = offsetOf(text, e);
        if (b < a) std::swap(a, b);
        text.replace(a, b - a, c.at("text").get<std::string>());
      }
      ws_.change(path, std::move(text));
      scheduleAll(path);
    } else if (method == "workspace/didChangeWorkspaceFolders") {
      const json &ev = params.at("event");
      std::vector<std::string> roots = ws_.roots(), removed;
      for (const json &f : ev.value("removed", json::array()))
        removed.push_back(canonicalPath(uriToPath(f.at("uri"))));
      roots.erase(std::remove_if(roots.begin(), roots.end(),
                                 [&](const std::string &r) {
                                   return std::find(removed.begin(), removed.end(), r) != removed.end();
                                 }),
                  roots.end());
      for (const json &f : ev.value("added", json::array())) roots.push_back(uriToPath(f.at("uri")));
      ws_.setRoots(std::move(roots));
    } else if (method == "textDocument/didClose") {
      std::string path = docPath(params);
      ws_.close(path);
      pending_.erase(path);
      clearPublished(path);
    }
    // initialized, $/cancelRequest, didSave, workspace/* and others need nothing
  }

  /// The changed document first, then every other open one (an import may have changed).
  void scheduleAll(const std::string &changed) {
    auto due = Clock::now() + std::chrono::milliseconds(opts_.debounceMs);
    pending_[changed] = due;
    for (const std::string &p : ws_.openPaths())
      if (p != changed) pending_[p] = due + std::chrono::milliseconds(1);
  }

  void publishDue() {
    for (;;) {
      auto now = Clock::now();
      auto it = pending_.end();
      for (auto i = pending_.begin(); i != pending_.end(); ++i)
        if (i->second <= now && (it == pending_.end() || i->second < it->second)) it = i;
      if (it == pending_.end()) return;
      std::string path = it->first;
      pending_.erase(it);
      if (ws_.isOpen(path)) publish(path);
    }
  }

  void publish(const std::string &root) {
    std::map<std::string, std::vector<Diag>> byFile = ws_.diagnose(root);
    std::set<std::string> now;
    for (auto &[path, diags] : byFile) {
      json arr = json::array();
      for (const Diag &d : diags)
        arr.push_back({{"range", toJson(d.range)},
                       {"severity", 1},
                       {"source", "cfmc"},
                       {"code", d.code},
                       {"message", d.message}});
      // an import's own diagnostics come from its own compilation when it is open
      if (path != root && ws_.isOpen(path)) continue;
      now.insert(path);
      send({{"jsonrpc", "2.0"},
            {"method", "textDocument/publishDiagnostics"},
            {"params", {{"uri", pathToUri(path)}, {"diagnostics", arr}}}});
    }
    for (const std::string &p : published_[root])
      if (!now.count(p) && !ws_.isOpen(p)) sendEmpty(p);
    published_[root] = std::move(now);
  }
  void sendEmpty(const std::string &path) {
    send({{"jsonrpc", "2.0"},
          {"method", "textDocument/publishDiagnostics"},
          {"params", {{"uri", pathToUri(path)}, {"diagnostics", json::array()}}}});
  }
  void clearPublished(const std::string &root) {
    for (const std::string &p : published_[root]) sendEmpty(p);
    published_.erase(root);
  }

  int in_, out_;
  ServerOptions opts_;
  Workspace ws_;
  std::string buf_;
  bool initialized_ = false, shutdown_ = false, exit_ = false;
  std::map<std::string, Clock::time_point> pending_;
  std::map<std::string, std::set<std::string>> published_; // root → files it published
};

} // namespace

std::string uriToPath(const std::string &uri) {
  if (uri.rfind("file://", 0) != 0) return uri;
  std::string s = uri.substr(7);
  size_t slash = s.find('/'); // file://host/path: the host is dropped
  if (slash != 0 && slash != std::string::npos) s = s.substr(slash);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() + 0 && hexValue(s[i + 1]) >= 0 && hexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string pathToUri(const std::string &path) {
  if (path.empty() || path[0] != '/') return path; // not a file: the URI it came as
  static const char *hex = "0123456789ABCDEF";
  std::string out = "file://";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

int serve(int inFd, int outFd, const ServerOptions &opts) {
  try {
    return Server(inFd, outFd, opts).run();
  } catch (...) {
    return 1; // out of memory in the loop itself: nothing more to say on a broken channel
  }
}

} // namespace cfm::lsp
