// repl_api.cpp — the control API's REPL routes and their JSON (repl_api.h).
#include "cfmd/repl_api.h"

#include "base/text.h"

#include <nlohmann/json.hpp>

namespace cfm::cfmd {
namespace {

using Json = nlohmann::json;

void sendError(net::HttpResponder &out, int status, const std::string &message) {
  out.send(status, "application/json", "{\"error\":" + base::jsonQuote(message) + "}");
}

std::string dump(const Json &j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

} // namespace

std::string replReplyJson(const ReplReply &r) {
  Json output = Json::array();
  for (const ReplReply::Piece &p : r.output)
    output.push_back({{"stream", p.err ? "err" : "out"}, {"text", p.text}});
  return dump({{"output", output}, {"quit", r.quit}, {"declarations", r.declarations}, {"header", r.header}});
}

Result<ReplReply> parseReplReply(std::string_view body) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("output") || !j["output"].is_array())
    return Error{ErrorKind::Syntax, "the REPL reply is not the expected JSON object"};
  ReplReply r;
  for (const Json &p : j["output"]) {
    if (!p.is_object()) return Error{ErrorKind::Syntax, "a piece of the REPL's output is not an object"};
    r.output.push_back({p.value("stream", "out") == "err", p.value("text", "")});
  }
  r.quit = j.value("quit", false);
  r.declarations = j.value("declarations", "");
  r.header = j.value("header", "");
  return r;
}

std::string replInputJson(const std::string &input) { return dump({{"input", input}}); }

Result<std::string> parseReplInput(std::string_view body) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{ErrorKind::Syntax, "the body is not a JSON object"};
  auto it = j.find("input");
  if (it == j.end() || !it->is_string()) return Error{ErrorKind::Usage, "`input` must be a string"};
  return it->get<std::string>();
}

void handleRepl(ReplBackend &b, const net::UnixHttpRequest &req, net::HttpResponder &out) {
  const std::string &p = req.path;
  if (p == "/repl") {
    if (req.method != "POST") return sendError(out, 405, "use POST on /repl");
    std::string id;
    ReplStatus s = b.open(id);
    if (s.status) return sendError(out, s.status, s.error);
    out.send(201, "application/json", "{\"id\":" + base::jsonQuote(id) + "}");
    return;
  }
  std::string rest = p.substr(6); // after "/repl/"
  size_t slash = rest.find('/');
  std::string id = rest.substr(0, slash);
  std::string sub = slash == std::string::npos ? "" : rest.substr(slash);
  if (sub != "/eval" && sub != "/cancel" && sub != "/close")
    return sendError(out, 404, "no such resource: " + p);
  if (req.method != "POST") return sendError(out, 405, "use POST on /repl/ID" + sub);
  if (sub == "/eval") {
    auto input = parseReplInput(req.body);
    if (!input) return sendError(out, 400, input.error().message);
    ReplReply reply;
    ReplStatus s = b.eval(id, *input, reply);
    if (s.status) return sendError(out, s.status, s.error);
    out.send(200, "application/json", replReplyJson(reply));
    return;
  }
  ReplStatus s = sub == "/cancel" ? b.cancel(id) : b.close(id);
  if (s.status) return sendError(out, s.status, s.error);
  out.send(sub == "/cancel" ? 202 : 200, "application/json", "{\"id\":" + base::jsonQuote(id) + "}");
}

} // namespace cfm::cfmd
