// repl_remote.cpp — a REPL session held by a manager's daemon, the client's side (repl_remote.h).
//
// Ctrl-C: SIGINT is blocked in every thread and taken by a thread of its own (sigwait). While an
// input runs it asks the daemon to cancel that input (the session stays); a second Ctrl-C during
// the same input, or one at the prompt, closes the session and leaves (130).
#include "cfmc/repl_remote.h"

#include "cfmc/daemon_client.h"
#include "cfmc/repl.h"
#include "cfmd/repl_api.h"
#include "net/unix_http.h"

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <pthread.h>
#include <thread>
#include <unistd.h>

namespace cfm::driver {

namespace {

using Json = nlohmann::json;

std::string errorOf(const net::UnixHttpReply &r) {
  Json j = Json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  return "status " + std::to_string(r.status) + ": " + r.body;
}

/// The session the Ctrl-C thread acts on, and whether an input of it is running.
std::mutex gMu;
std::string gSocket, gSession;
bool gRunning = false, gCancelAsked = false;

void startInterruptThread() {
  static bool started = false;
  if (started) return;
  started = true;
  sigset_t intr;
  sigemptyset(&intr);
  sigaddset(&intr, SIGINT);
  pthread_sigmask(SIG_BLOCK, &intr, nullptr);
  std::thread([intr] {
    for (;;) {
      int sig = 0;
      if (sigwait(&intr, &sig) != 0) continue;
      std::string socket, id;
      bool cancel = false;
      {
        std::lock_guard<std::mutex> g(gMu);
        socket = gSocket;
        id = gSession;
        cancel = gRunning && !gCancelAsked;
        if (cancel) gCancelAsked = true;
      }
      if (id.empty()) _exit(130);
      if (cancel) {
        (void)net::unixHttpRequest(socket, "POST", "/repl/" + id + "/cancel", "", "application/json");
        continue;
      }
      (void)net::unixHttpRequest(socket, "POST", "/repl/" + id + "/close", "", "application/json");
      fputc('\n', stderr);
      _exit(130);
    }
  }).detach();
}

} // namespace

RemoteRepl::RemoteRepl(DaemonTarget t, std::string id) : t_(std::move(t)), id_(std::move(id)) {}

Result<std::unique_ptr<RemoteRepl>> RemoteRepl::open(const DaemonTarget &t) {
  startInterruptThread();
  auto r = net::unixHttpRequest(t.socket, "POST", "/repl", "", "application/json");
  if (!r)
    return Error{ErrorKind::Io,
                 "cannot reach manager " + t.name + " at " + t.socket + ": " + r.error().message};
  if (r->status != 201) return Error{ErrorKind::Usage, "manager " + t.name + ": " + errorOf(*r)};
  Json j = Json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string())
    return Error{ErrorKind::Syntax, "manager " + t.name + " answered without a session id"};
  std::unique_ptr<RemoteRepl> repl(new RemoteRepl(t, j["id"].get<std::string>()));
  std::lock_guard<std::mutex> g(gMu);
  gSocket = t.socket;
  gSession = repl->id_;
  return repl;
}

RemoteRepl::~RemoteRepl() {
  {
    std::lock_guard<std::mutex> g(gMu);
    gSession.clear();
  }
  if (!closed_)
    (void)net::unixHttpRequest(t_.socket, "POST", "/repl/" + id_ + "/close", "", "application/json");
}

bool RemoteRepl::handle(const std::string &input) {
  {
    std::lock_guard<std::mutex> g(gMu);
    gRunning = true;
    gCancelAsked = false;
  }
  std::cout.flush();
  auto r = net::unixHttpRequest(t_.socket, "POST", "/repl/" + id_ + "/eval", cfmd::replInputJson(input),
                                "application/json");
  {
    std::lock_guard<std::mutex> g(gMu);
    gRunning = false;
  }
  if (!r) {
    failed_ = "lost manager " + t_.name + " at " + t_.socket + ": " + r.error().message;
    closed_ = true;
    return false;
  }
  if (r->status != 200) {
    failed_ = "manager " + t_.name + ": " + errorOf(*r);
    closed_ = r->status == 404;
    return false;
  }
  auto reply = cfmd::parseReplReply(r->body);
  if (!reply) {
    failed_ = "manager " + t_.name + ": " + reply.error().message;
    return false;
  }
  for (const cfmd::ReplReply::Piece &p : reply->output) {
    FILE *f = p.err ? stderr : stdout;
    fwrite(p.text.data(), 1, p.text.size(), f);
    fflush(f);
  }
  declarations_ = reply->declarations;
  header_ = reply->header;
  if (reply->quit) closed_ = true;
  return !reply->quit;
}

int replManagerChoice(const ManagerChoice &choice, bool inProcess, bool useLineEditing) {
  auto t = daemonTarget(choice);
  if (!t) {
    std::cerr << "cfmc: error: " << t.error().describe() << '\n';
    return 1;
  }
  if (daemonAnswers(*t)) {
    if (inProcess) {
      std::cerr << "cfmc: error: manager " << t->name << "'s daemon answers at " << t->socket
                << ": --in-process would open its store beside it (a second writer); leave it out\n";
      return 1;
    }
    return runReplOnDaemon(*t, useLineEditing);
  }
  if (inProcess) return -1;
  std::cerr << "cfmc: error: no manager daemon " << t->name << " is running (nothing answers at " << t->socket
            << "); start it with `cfmc local up` or `cfmd --config FILE`, or give --in-process\n";
  return 1;
}

} // namespace cfm::driver
