// repl_api.h — the control API's REPL routes (cfmd/README.md "REPL sessions"; API.md "Where
// procedures run": `cfmc repl --manager NAME` evaluates each input in that manager). The daemon
// holds the sessions (cfmd/daemon/repl_host.h); this is their HTTP + JSON face, on base and net
// only, shared with the client (cfmc/repl_remote.cpp).
//   POST /repl                  -> 201 {"id": "s-1"}; 503 when kMaxReplSessions are open
//   POST /repl/ID/eval          {"input": TEXT}
//                               -> 200 {"output": [{"stream": "out"|"err", "text": T}, ...],
//                                  "quit": BOOL, "declarations": TEXT, "header": TEXT}
//                                  once the input has ended (output in the order it was
//                                  written); 409 while another input of the session runs
//   POST /repl/ID/cancel        -> 202 {"id": ID}: cancels the running input (not the session)
//   POST /repl/ID/close         -> 200 {"id": ID}
// An unknown or closed session is 404. Errors are {"error": MESSAGE}.
#pragma once

#include "base/result.h"
#include "net/unix_http.h"

#include <string>
#include <string_view>
#include <vector>

namespace cfm::cfmd {

/// What one input printed, and the session's state after it.
struct ReplReply {
  struct Piece {
    bool err = false;
    std::string text;
  };
  std::vector<Piece> output;
  bool quit = false;        // the input was `:quit`: the session is closed
  std::string declarations; // repl::Session::declarationsText() (the client's completion, :doc)
  std::string header;       // repl::Session::procedureHeader()
};

std::string replReplyJson(const ReplReply &r);
Result<ReplReply> parseReplReply(std::string_view body);
std::string replInputJson(const std::string &input);
Result<std::string> parseReplInput(std::string_view body);

/// An answer of the session table: `status` 0 is success, else the HTTP status and `error`.
struct ReplStatus {
  int status = 0;
  std::string error;
};

/// The sessions, as the routes see them (the daemon's ReplHost implements it).
class ReplBackend {
public:
  virtual ~ReplBackend() = default;
  virtual ReplStatus open(std::string &id) = 0;
  virtual ReplStatus eval(const std::string &id, const std::string &input, ReplReply &reply) = 0;
  virtual ReplStatus cancel(const std::string &id) = 0;
  virtual ReplStatus close(const std::string &id) = 0;
};

/// Serves a request whose path is `/repl` or starts with `/repl/`.
void handleRepl(ReplBackend &b, const net::UnixHttpRequest &req, net::HttpResponder &out);

} // namespace cfm::cfmd
