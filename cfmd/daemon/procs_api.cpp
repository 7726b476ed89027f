// procs_api.cpp — cfmd's procedure-file routes (procs_api.h): JSON in and out over the store's
// procedure files; `put` checks each file with the front end (its imports among the system's
// stored files and the ones put with it) unless asked not to.
#include "cfmd/daemon/procs_api.h"

#include "base/files.h"
#include "base/sha256.h"
#include "base/text.h"
#include "cfmd/daemon/runner.h"
#include "frontend/frontend.h"
#include "support/diagnostics.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

namespace cfm::cfmd {

namespace {

using Json = nlohmann::json;

void sendJson(net::HttpResponder &out, int status, const Json &j) {
  out.send(status, "application/json", j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

void sendError(net::HttpResponder &out, int status, const std::string &message) {
  sendJson(out, status, Json{{"error", message}});
}

int statusOf(const Error &e) {
  if (e.kind == ErrorKind::Limit) return 413;
  if (e.kind == ErrorKind::Usage) return 400;
  return 500;
}

/// Checks FILES (name -> text) with the front end: imports resolve among ALL (the system's stored
/// files with FILES over them) and the daemon's stdlib. The diagnostics of the files that do not
/// check, as `cfmc check` prints them; "" when all check.
Result<std::string> checkFiles(const std::map<std::string, std::string> &files,
                               const std::map<std::string, std::string> &all) {
  auto read = [&all](const std::string &path) -> Result<std::string> {
    std::string key = std::filesystem::path(path).lexically_normal().string();
    auto it = all.find(key);
    if (it != all.end()) return it->second;
    if (key.rfind(frontend::stdlibDir() + "/", 0) == 0)
      return base::readRegularFile(key, base::kMaxSourceBytes);
    return Error{ErrorKind::Io, "no such procedure file in the system"};
  };
  std::string diags;
  std::lock_guard<std::mutex> compiling(compileMutex());
  frontend::runWithLargeStack([&] {
    for (const auto &[name, text] : files) {
      auto c = frontend::compileFile(name, read, frontend::stdlibDir());
      if (!c) {
        diags += name + ": error: " + c.error().message + "\n";
        continue;
      }
      if ((*c)->ok()) continue;
      std::ostringstream os;
      support::printConsole((*c)->diags, os);
      diags += os.str();
    }
  });
  return diags;
}

} // namespace

Result<std::unique_ptr<ProcsApi>> ProcsApi::open(const std::string &storePath) {
  auto st = CFM_TRY(store::Store::open(storePath));
  auto api = std::unique_ptr<ProcsApi>(new ProcsApi());
  api->store_ = std::move(st);
  return api;
}

bool ProcsApi::handle(const net::UnixHttpRequest &req, net::HttpResponder &out) {
  if (req.path != "/procs") return false;
  const std::string *system = req.param("system");
  const std::string *name = req.param("name");
  if (!system || system->empty()) return sendError(out, 400, "which system? (`?system=S`)"), true;
  std::lock_guard<std::mutex> g(mu_);
  auto version = store_->systemVersion(*system);
  if (!version) return sendError(out, 500, version.error().message), true;
  if (*version == 0)
    return sendError(out, 404, "no business system `" + *system + "` in this manager's store"), true;
  auto noFile = [&] {
    sendError(out, 404, "system `" + *system + "` has no procedure file `" + *name + "`");
  };
  if (req.method == "GET" && !name) {
    auto files = store_->procedureFiles(*system, false);
    if (!files) return sendError(out, 500, files.error().message), true;
    Json list = Json::array();
    for (const store::ProcedureFile &f : *files)
      list.push_back({{"name", f.name}, {"hash", f.hash}, {"size", f.size}, {"version", f.version}});
    sendJson(out, 200, Json{{"system", *system}, {"version", *version}, {"procs", std::move(list)}});
  } else if (req.method == "GET") {
    auto f = store_->procedureFile(*system, *name);
    if (!f) return sendError(out, 500, f.error().message), true;
    if (!*f) return noFile(), true;
    const store::ProcedureFile &p = **f;
    sendJson(
        out, 200,
        Json{{"name", p.name}, {"hash", p.hash}, {"size", p.size}, {"version", p.version}, {"text", p.text}});
  } else if (req.method == "DELETE") {
    if (!name) return sendError(out, 400, "which file? (`&name=N`)"), true;
    auto removed = store_->removeProcedureFile(*system, *name);
    if (!removed) return sendError(out, 500, removed.error().message), true;
    if (!*removed) return noFile(), true;
    sendJson(out, 200, Json{{"removed", *name}, {"version", *store_->systemVersion(*system)}});
  } else if (req.method == "POST") {
    Json j = Json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("files") || !j["files"].is_object())
      return sendError(out, 400, "the body must be {\"files\": {NAME: TEXT, ...}, \"check\": BOOL}"), true;
    std::vector<std::pair<std::string, std::string>> put;
    std::map<std::string, std::string> files;
    for (auto &[n, t] : j["files"].items()) {
      if (!t.is_string()) return sendError(out, 400, "the text of `" + n + "` must be a string"), true;
      if (std::string why = store::Store::procedureNameProblem(n); !why.empty())
        return sendError(out, 400, why), true;
      put.emplace_back(n, t.get<std::string>());
      files[n] = put.back().second;
    }
    if (put.empty()) return sendError(out, 400, "no files to put"), true;
    if (j.value("check", true)) {
      auto stored = store_->procedureFiles(*system);
      if (!stored) return sendError(out, 500, stored.error().message), true;
      std::map<std::string, std::string> all;
      for (const store::ProcedureFile &f : *stored) all[f.name] = f.text;
      for (auto &[n, t] : files) all[n] = t;
      auto diags = checkFiles(files, all);
      if (!diags) return sendError(out, 500, diags.error().message), true;
      if (!diags->empty())
        return sendJson(out, 422,
                        Json{{"error", "not stored: a file does not check (`--no-check` stores it anyway)"},
                             {"diagnostics", *diags}}),
               true;
    }
    auto r = store_->putProcedureFiles(*system, put);
    if (!r) return sendError(out, statusOf(r.error()), r.error().message), true;
    Json list = Json::array();
    for (auto &[n, t] : files) list.push_back({{"name", n}, {"hash", base::sha256Hex(t)}});
    sendJson(out, 200, Json{{"changed", r->changed}, {"version", r->version}, {"procs", std::move(list)}});
  } else {
    sendError(out, 405, "use GET, POST or DELETE on /procs");
  }
  return true;
}

Result<void> ProcsApi::fillStored(RunRequest &r) {
  std::lock_guard<std::mutex> g(mu_);
  if (CFM_TRY(store_->systemVersion(r.storedSystem)) == 0)
    return Error{ErrorKind::Usage, "no business system `" + r.storedSystem + "` in this manager's store"};
  auto files = CFM_TRY(store_->procedureFiles(r.storedSystem));
  r.files.clear();
  for (store::ProcedureFile &f : files) r.files[f.name] = std::move(f.text);
  if (!r.files.count(r.main))
    return Error{ErrorKind::Usage, "system `" + r.storedSystem + "` has no procedure file `" + r.main +
                                       "` (`cfmc procs list` shows its files)"};
  r.stdDir.clear(); // stored files import the daemon's own stdlib
  r.stdFiles.clear();
  return {};
}

} // namespace cfm::cfmd
