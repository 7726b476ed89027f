// control_api.cpp — cfmd's control API: JSON bodies in and out, routes over the run table,
// output streamed as chunked JSON lines until the run ends.
#include "cfmd/control_api.h"

#include "base/text.h"

#include <nlohmann/json.hpp>

namespace cfm::cfmd {
namespace {

using Json = nlohmann::json;

void sendError(net::HttpResponder &out, int status, const std::string &message) {
  out.send(status, "application/json", "{\"error\":" + base::jsonQuote(message) + "}");
}

bool safeRelativePath(const std::string &p) {
  if (p.empty() || p[0] == '/' || p.find('\0') != std::string::npos) return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t slash = p.find('/', start);
    std::string part = p.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

std::string lineJson(const OutputLine &l) {
  return std::string("{\"stream\":\"") + (l.err ? "err" : "out") + "\",\"text\":" + base::jsonQuote(l.text) +
         "}\n";
}

} // namespace

Result<RunRequest> parseRunRequest(std::string_view body) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{ErrorKind::Syntax, "the body is not a JSON object"};
  RunRequest r;
  auto str = [&](const char *name, std::string &into, bool required) -> Result<void> {
    auto it = j.find(name);
    if (it == j.end()) {
      if (required) return Error{ErrorKind::Usage, std::string("`") + name + "` is missing"};
      return {};
    }
    if (!it->is_string()) return Error{ErrorKind::Usage, std::string("`") + name + "` must be a string"};
    into = it->get<std::string>();
    return {};
  };
  for (auto [name, into, required] :
       {std::tuple{"main", &r.main, true}, std::tuple{"proc", &r.proc, false},
        std::tuple{"engine", &r.engine, false}, std::tuple{"stored", &r.storedSystem, false}})
    if (auto ok = str(name, *into, required); !ok) return ok.takeError();
  if (r.engine != "jit" && r.engine != "interp")
    return Error{ErrorKind::Usage, "unknown engine `" + r.engine + "` (use `interp` or `jit`)"};
  auto files = j.find("files");
  if (!r.storedSystem.empty() && files == j.end()) {
    // A stored run: the daemon reads the files from its store.
    if (!safeRelativePath(r.main))
      return Error{ErrorKind::Usage, "`main` (" + r.main + ") is not a relative path"};
    files = j.emplace("files", Json::object()).first;
  }
  if (files == j.end() || !files->is_object()) return Error{ErrorKind::Usage, "`files` must be an object"};
  if (files->size() > kMaxRunFiles)
    return Error{ErrorKind::Limit, "more than " + std::to_string(kMaxRunFiles) + " files in one run"};
  for (auto &[path, text] : files->items()) {
    if (!safeRelativePath(path))
      return Error{ErrorKind::Usage, "file path `" + path + "` is not a relative path"};
    if (!text.is_string()) return Error{ErrorKind::Usage, "the text of `" + path + "` must be a string"};
    r.files[path] = text.get<std::string>();
  }
  if (r.storedSystem.empty() && !r.files.count(r.main))
    return Error{ErrorKind::Usage, "`main` (" + r.main + ") is not one of `files`"};
  if (auto stdObj = j.find("std"); stdObj != j.end()) {
    if (!stdObj->is_object()) return Error{ErrorKind::Usage, "`std` must be an object"};
    auto dir = stdObj->find("dir");
    if (dir == stdObj->end() || !dir->is_string() || dir->get<std::string>().empty() ||
        dir->get<std::string>()[0] != '/')
      return Error{ErrorKind::Usage, "`std.dir` must be an absolute path"};
    r.stdDir = dir->get<std::string>();
    auto stdFiles = stdObj->find("files");
    if (stdFiles == stdObj->end() || !stdFiles->is_object())
      return Error{ErrorKind::Usage, "`std.files` must be an object"};
    if (files->size() + stdFiles->size() > kMaxRunFiles)
      return Error{ErrorKind::Limit, "more than " + std::to_string(kMaxRunFiles) + " files in one run"};
    for (auto &[path, text] : stdFiles->items()) {
      if (!safeRelativePath(path))
        return Error{ErrorKind::Usage, "std file path `" + path + "` is not a relative path"};
      if (!text.is_string())
        return Error{ErrorKind::Usage, "the text of `std/" + path + "` must be a string"};
      r.stdFiles[path] = text.get<std::string>();
    }
  }
  if (auto args = j.find("args"); args != j.end()) {
    if (!args->is_object()) return Error{ErrorKind::Usage, "`args` must be an object"};
    for (auto &[name, value] : args->items()) {
      if (!value.is_string()) return Error{ErrorKind::Usage, "argument `" + name + "` must be a string"};
      r.args[name] = value.get<std::string>();
    }
  }
  return r;
}

std::string runRequestJson(const RunRequest &r) {
  Json j = {{"main", r.main}, {"proc", r.proc}, {"engine", r.engine}, {"files", r.files}, {"args", r.args}};
  if (!r.stdDir.empty()) j["std"] = {{"dir", r.stdDir}, {"files", r.stdFiles}};
  if (!r.storedSystem.empty()) j["stored"] = r.storedSystem;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string runJson(const RunInfo &r) {
  Json j = {{"id", r.id},           {"file", r.file},
            {"proc", r.proc},       {"state", std::string(runStateName(r.state))},
            {"exit", r.exitCode},   {"started_ms", r.startedMs},
            {"ended_ms", r.endedMs}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void ControlApi::handle(const net::UnixHttpRequest &req, net::HttpResponder &out) {
  if (extra_ && extra_(req, out)) return;
  const std::string &p = req.path;
  if (repl_ && (p == "/repl" || p.rfind("/repl/", 0) == 0)) return handleRepl(*repl_, req, out);
  if (p == "/runs") {
    if (req.method == "GET") {
      std::string body = "{\"runs\":[";
      bool first = true;
      for (const RunInfo &r : runs_.list()) {
        if (!first) body += ',';
        first = false;
        body += runJson(r);
      }
      out.send(200, "application/json", body + "]}");
    } else if (req.method == "POST") {
      auto rr = parseRunRequest(req.body);
      if (!rr) return sendError(out, 400, rr.error().message);
      auto id = start_(std::move(*rr));
      if (!id) return sendError(out, 400, id.error().message);
      out.send(201, "application/json", "{\"id\":" + base::jsonQuote(*id) + "}");
    } else {
      sendError(out, 405, "use GET or POST on /runs");
    }
    return;
  }
  if (p.rfind("/runs/", 0) != 0) return sendError(out, 404, "no such resource: " + p);
  std::string rest = p.substr(6);
  size_t slash = rest.find('/');
  std::string id = rest.substr(0, slash);
  std::string sub = slash == std::string::npos ? "" : rest.substr(slash);
  auto info = runs_.get(id);
  if (!info) return sendError(out, 404, "no run `" + id + "`");
  if (sub.empty()) {
    if (req.method != "GET") return sendError(out, 405, "use GET on /runs/ID");
    out.send(200, "application/json", runJson(*info));
  } else if (sub == "/output") {
    if (req.method != "GET") return sendError(out, 405, "use GET on /runs/ID/output");
    output(id, req, out);
  } else if (sub == "/cancel") {
    if (req.method != "POST") return sendError(out, 405, "use POST on /runs/ID/cancel");
    switch (runs_.cancel(id)) {
    case RunTable::CancelResult::Asked:
      out.send(202, "application/json", "{\"id\":" + base::jsonQuote(id) + "}");
      break;
    case RunTable::CancelResult::NoSuchRun: sendError(out, 404, "no run `" + id + "`"); break;
    case RunTable::CancelResult::Ended: sendError(out, 409, "run `" + id + "` has ended"); break;
    case RunTable::CancelResult::NotCancellable:
      sendError(out, 501, "run `" + id + "` cannot be cancelled");
      break;
    }
  } else {
    sendError(out, 404, "no such resource: " + p);
  }
}

void ControlApi::output(const std::string &id, const net::UnixHttpRequest &req, net::HttpResponder &out) {
  const std::string *f = req.param("follow");
  bool follow = f && (*f == "1" || *f == "true");
  size_t from = 0;
  if (const std::string *s = req.param("from")) {
    if (s->empty() || s->size() > 18 || s->find_first_not_of("0123456789") != std::string::npos)
      return sendError(out, 400, "`from` must be a line number");
    from = std::stoull(*s);
  }
  if (!out.begin(200, "application/x-ndjson")) return;
  for (;;) {
    OutputChunk c = runs_.read(id, from, follow);
    if (!c.found) break;
    std::string piece;
    for (const OutputLine &l : c.lines) piece += lineJson(l);
    if (c.ended) {
      auto info = runs_.get(id);
      piece += "{\"end\":true,\"state\":\"" + std::string(runStateName(info->state)) +
               "\",\"exit\":" + std::to_string(info->exitCode) + "}\n";
    }
    if (!piece.empty() && !out.write(piece)) return; // the client has gone
    from = c.next;
    if (c.ended || !follow || c.lines.empty()) break;
  }
  out.end();
}

} // namespace cfm::cfmd
