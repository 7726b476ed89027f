// procs_cmd.cpp — `cfmc procs` (procs_cmd.h): reads the files to put, speaks cfmd's /procs
// routes over the manager's control socket, prints what comes back.
#include "cfmc/procs_cmd.h"

#include "base/files.h"
#include "cfmc/context.h"
#include "net/unix_http.h"

#include <cctype>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

namespace cfm::driver {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const char *const kProcsHelp =
    R"(usage: cfmc procs put SYSTEM FILE... [--as NAME] [--base DIR] [--no-check] [MANAGER]
       cfmc procs list SYSTEM [--json] [MANAGER]
       cfmc procs show SYSTEM NAME [MANAGER]
       cfmc procs rm SYSTEM NAME... [MANAGER]
MANAGER: --manager NAME | --config FILE, and --context FILE (as for `cfmc run --manager`)

A business system's procedure files, kept in the manager's store beside its model and shared
with the other managers as part of the system's configuration (a new configuration version,
the same conflict rule). The manager's daemon (cfmd) must be running.

  put    stores each FILE under its base name (`web3.cfp`), its path relative to --base DIR
         (`--base samples/web3 samples/web3/lib/util.cfp` is `lib/util.cfp`), or, for one
         FILE, --as NAME. A name is a relative path of letters, digits, `.`, `_`, `-` and `/`
         ending in `.cfp` (no `..`). Each file is checked first, its imports resolved among the
         system's stored files and the ones put with it (and the manager's standard library):
         one that does not check is refused with its diagnostics, and nothing is stored,
         unless --no-check. Imports are not put for you: name them too. At most 512 KiB a
         file, 256 files and 4 MiB a system.
  list   the system's files: name, size in bytes, the first 12 hex digits of the SHA-256 of
         the text (--json: the daemon's answer)
  show   prints file NAME's text
  rm     removes the files named

Run one: `cfmc run --manager NAME --stored SYSTEM FILE` (its imports among the same system's
stored files). Exit status: 0; 1 on an error (unknown system or file, a file that does not
check, too large, the daemon cannot be reached); 2 on bad usage.
)";

int fail(const std::string &msg) {
  std::cerr << "cfmc: error: " << msg << '\n';
  return 1;
}

int usage(const std::string &msg) {
  std::cerr << "cfmc: " << msg << "\n\n" << kProcsHelp;
  return 2;
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
std::string enc(const std::string &s) {
  static const char *hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string errorOf(const net::UnixHttpReply &r) {
  Json j = Json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  return "status " + std::to_string(r.status) + ": " + r.body;
}

} // namespace

int cmdProcs(const std::vector<std::string> &args) {
  if (args.empty()) return usage("which action? (put, list, show, rm)");
  const std::string action = args[0];
  if (action == "-h" || action == "--help") {
    std::cout << kProcsHelp;
    return 0;
  }
  if (action != "put" && action != "list" && action != "show" && action != "rm")
    return usage("unknown action `" + action + "` (put, list, show, rm)");
  ManagerChoice choice;
  std::string as, baseDir;
  bool check = true, json = false;
  std::vector<std::string> pos;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kProcsHelp;
      return 0;
    }
    bool valued = false;
    for (auto [flag, into] :
         {std::pair{"--manager", &choice.manager}, std::pair{"--config", &choice.config},
          std::pair{"--context", &choice.context}, std::pair{"--as", &as}, std::pair{"--base", &baseDir}}) {
      std::string f = flag;
      if (a == f) {
        if (i + 1 >= args.size() || args[i + 1].empty()) return usage("`" + f + "` needs a value");
        *into = args[++i];
      } else if (a.rfind(f + "=", 0) == 0) {
        *into = a.substr(f.size() + 1);
      } else {
        continue;
      }
      if ((f == "--as" || f == "--base" || f == "--no-check") && action != "put")
        return usage("`" + f + "` is an option of `cfmc procs put`");
      valued = true;
      break;
    }
    if (valued) continue;
    if (a == "--no-check" && action == "put") {
      check = false;
      continue;
    }
    if (a == "--json" && action == "list") {
      json = true;
      continue;
    }
    if (a.size() > 1 && a[0] == '-') return usage("unknown option `" + a + "`");
    pos.push_back(a);
  }
  if (pos.empty()) return usage("which system?");
  const std::string system = pos[0];
  pos.erase(pos.begin());
  if (action == "list" && !pos.empty()) return usage("unexpected argument `" + pos[0] + "`");
  if (action == "show" && pos.size() != 1) return usage("`cfmc procs show` takes one NAME");
  if ((action == "put" || action == "rm") && pos.empty())
    return usage(action == "put" ? "which files?" : "which files? (`cfmc procs list` shows them)");
  if (!as.empty() && pos.size() != 1) return usage("`--as` names one FILE");
  if (!as.empty() && !baseDir.empty()) return usage("give `--as` or `--base`, not both");
  if (!choice.config.empty() && !choice.manager.empty())
    return usage("give `--manager NAME` or `--config FILE`, not both");
  auto t = daemonTarget(choice);
  if (!t) return fail(t.error().describe());
  auto call = [&](std::string_view method, const std::string &target,
                  std::string_view body = {}) -> Result<net::UnixHttpReply> {
    auto r = net::unixHttpRequest(t->socket, method, target, body, "application/json");
    if (!r)
      return Error{ErrorKind::Io,
                   "cannot reach manager " + t->name + " at " + t->socket + ": " + r.error().message};
    return r;
  };
  const std::string where = "/procs?system=" + enc(system);

  if (action == "put") {
    Json files = Json::object();
    for (const std::string &file : pos) {
      std::string name = as;
      if (name.empty() && !baseDir.empty()) {
        fs::path rel =
            fs::path(file).lexically_normal().lexically_relative(fs::path(baseDir).lexically_normal());
        if (rel.empty() || rel.string().rfind("..", 0) == 0)
          return fail("`" + file + "` is not beneath --base `" + baseDir + "`");
        name = rel.string();
      }
      if (name.empty()) name = fs::path(file).filename().string();
      if (files.contains(name)) return fail("two files would be stored as `" + name + "`");
      auto text = base::readRegularFile(file, base::kMaxSourceBytes);
      if (!text) return fail(text.error().describe());
      files[name] = *text;
    }
    Json body{{"files", files}, {"check", check}};
    auto r = call("POST", where, body.dump(-1, ' ', false, Json::error_handler_t::replace));
    if (!r) return fail(r.error().message);
    if (r->status == 422) {
      Json j = Json::parse(r->body, nullptr, false);
      if (j.is_object() && j.contains("diagnostics") && j["diagnostics"].is_string())
        std::cerr << j["diagnostics"].get<std::string>();
    }
    if (r->status != 200) return fail("manager " + t->name + ": " + errorOf(*r));
    Json j = Json::parse(r->body, nullptr, false);
    if (!j.is_object()) return fail("manager " + t->name + " answered an unexpected reply");
    std::cout << (j.value("changed", false) ? "stored " : "unchanged ") << files.size()
              << (files.size() == 1 ? " file" : " files") << " in " << system << " (version "
              << j.value("version", int64_t(0)) << ")\n";
    return 0;
  }
  if (action == "rm") {
    for (const std::string &name : pos) {
      auto r = call("DELETE", where + "&name=" + enc(name));
      if (!r) return fail(r.error().message);
      if (r->status != 200) return fail("manager " + t->name + ": " + errorOf(*r));
    }
    return 0;
  }
  auto r = call("GET", action == "show" ? where + "&name=" + enc(pos[0]) : where);
  if (!r) return fail(r.error().message);
  if (r->status != 200) return fail("manager " + t->name + ": " + errorOf(*r));
  Json j = Json::parse(r->body, nullptr, false);
  if (!j.is_object()) return fail("manager " + t->name + " answered an unexpected reply");
  if (action == "show") {
    std::cout << j.value("text", "");
    return 0;
  }
  if (json) {
    std::cout << r->body << '\n';
    return 0;
  }
  if (j.contains("procs") && j["procs"].is_array())
    for (const Json &f : j["procs"])
      std::cout << f.value("name", "?") << '\t' << f.value("size", int64_t(0)) << '\t'
                << f.value("hash", "").substr(0, 12) << '\n';
  return 0;
}

} // namespace cfm::driver
