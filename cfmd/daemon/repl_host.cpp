// repl_host.cpp — the daemon's REPL sessions (repl_host.h): a thread per session that evaluates
// its inputs one at a time with the session's manager installed, output captured per input.
#include "cfmd/daemon/repl_host.h"

#include "cfmd/daemon/runner.h"
#include "frontend/frontend.h"
#include "repl/repl_session.h"
#include "runtime/cloud/manager.h"
#include "runtime/model/manager.h"
#include "runtime/sched/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <system_error>
#include <vector>

namespace cfm::cfmd {

namespace {

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

} // namespace

struct ReplHost::Sess {
  std::string id;
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;                                 // the thread has its manager (or failed: `failure`)
  std::string failure;                                // why the session could not start
  std::optional<std::string> job;                     // the input waiting for the thread
  bool busy = false;                                  // an input is queued or running
  bool replied = false;                               // `reply` holds the last input's answer
  bool closing = false;                               // close asked: the thread ends after the running input
  bool ended = false;                                 // the thread has ended
  ReplReply reply;                                    // written by the session's thread while busy
  std::shared_ptr<rt::sched::RunCanceller> canceller; // the running input's
  int64_t lastUsedMs = 0;
};

namespace {

/// A stream whose writes become pieces of the current input's reply (the session's thread
/// writes; the handler reads the reply once the input has ended).
struct Capture {
  ReplHost::Sess *s;
  bool err;
};

ssize_t captureWrite(void *cookie, const char *buf, size_t n) {
  auto *c = static_cast<Capture *>(cookie);
  std::vector<ReplReply::Piece> &out = c->s->reply.output;
  if (!out.empty() && out.back().err == c->err)
    out.back().text.append(buf, n);
  else
    out.push_back({c->err, std::string(buf, n)});
  return static_cast<ssize_t>(n);
}

FILE *openCapture(Capture *c) {
  cookie_io_functions_t io{};
  io.write = captureWrite;
  FILE *f = fopencookie(c, "w", io);
  if (f) setvbuf(f, nullptr, _IONBF, 0); // out and err interleave as written
  return f;
}

} // namespace

ReplHost::ReplHost(ManagerHost &host, size_t maxSessions, int64_t idleMs)
    : host_(host), maxSessions_(maxSessions), idleMs_(idleMs) {
  sweeper_ = std::thread([this] { sweep(); });
}

ReplHost::~ReplHost() {
  (void)stop(0);
  if (sweeper_.joinable()) sweeper_.join();
}

void ReplHost::sweep() {
  std::unique_lock<std::mutex> g(mu_);
  while (!stopping_) {
    changed_.wait_for(g,
                      std::chrono::milliseconds(std::min<int64_t>(1000, std::max<int64_t>(idleMs_ / 4, 10))));
    int64_t now = nowMs();
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      std::shared_ptr<Sess> s = it->second;
      bool idle;
      {
        std::lock_guard<std::mutex> sg(s->mu);
        idle = !s->busy && now - s->lastUsedMs >= idleMs_;
      }
      if (idle) {
        closeLocked(s);
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

void ReplHost::closeLocked(const std::shared_ptr<Sess> &s) {
  std::lock_guard<std::mutex> sg(s->mu);
  s->closing = true;
  if (s->busy && s->canceller) s->canceller->cancel();
  s->cv.notify_all();
}

void ReplHost::body(std::shared_ptr<Sess> s) {
  Capture outC{s.get(), false}, errC{s.get(), true};
  FILE *out = openCapture(&outC);
  FILE *err = openCapture(&errC);
  frontend::runWithLargeStack([&] {
    auto mgr = host_.forRun();
    {
      std::lock_guard<std::mutex> g(s->mu);
      s->ready = true;
      if (!out || !err)
        s->failure = "cannot open the session's output streams";
      else if (!mgr)
        s->failure = "cannot open the manager for the session: " + mgr.error().describe();
      s->cv.notify_all();
      if (!s->failure.empty()) return;
    }
    model::setThreadManager((*mgr)->manager.get());
    {
      repl::Session session(false, 2, out, err);
      session.setCompileMutex(&compileMutex());
      session.refuseLoad("`:load` reads a file of this machine; in a session held by the daemon, "
                         "`import` a path on the daemon's machine instead");
      for (;;) {
        std::string input;
        std::shared_ptr<rt::sched::RunCanceller> canceller;
        {
          std::unique_lock<std::mutex> g(s->mu);
          s->cv.wait(g, [&] { return s->job.has_value() || s->closing; });
          if (!s->job) break;
          input = std::move(*s->job);
          s->job.reset();
          canceller = s->canceller;
        }
        rt::sched::setRunCanceller(canceller);
        bool more = session.handle(input);
        rt::sched::setRunCanceller(nullptr);
        std::lock_guard<std::mutex> g(s->mu);
        s->reply.quit = !more;
        s->reply.declarations = session.declarationsText();
        s->reply.header = session.procedureHeader();
        s->replied = true;
        s->busy = false;
        s->canceller.reset();
        s->lastUsedMs = nowMs();
        if (!more) s->closing = true;
        s->cv.notify_all();
        if (!more) break;
      }
    }
    model::setThreadManager(nullptr);
  });
  if (out) fclose(out);
  if (err) fclose(err);
  {
    std::lock_guard<std::mutex> g(s->mu);
    s->ended = true;
    s->cv.notify_all();
  }
  std::lock_guard<std::mutex> g(mu_);
  if (auto it = sessions_.find(s->id); it != sessions_.end() && it->second == s) sessions_.erase(it);
  --threads_;
  changed_.notify_all();
}

ReplStatus ReplHost::open(std::string &id) {
  auto s = std::make_shared<Sess>();
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopping_) return {503, "the manager is stopping"};
    if (sessions_.size() >= maxSessions_)
      return {503, "at most " + std::to_string(maxSessions_) + " REPL sessions can be open at once"};
    s->id = "s-" + std::to_string(nextId_++);
    s->lastUsedMs = nowMs();
    sessions_[s->id] = s;
    ++threads_;
  }
  try {
    std::thread([this, s] { body(s); }).detach();
  } catch (const std::system_error &e) {
    std::lock_guard<std::mutex> g(mu_);
    sessions_.erase(s->id);
    --threads_;
    return {500, std::string("cannot start a thread for the session: ") + e.what()};
  }
  std::unique_lock<std::mutex> g(s->mu);
  s->cv.wait(g, [&] { return s->ready; });
  if (!s->failure.empty()) return {500, s->failure};
  id = s->id;
  return {};
}

ReplStatus ReplHost::eval(const std::string &id, const std::string &input, ReplReply &reply) {
  std::shared_ptr<Sess> s;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return {404, "no REPL session `" + id + "`"};
    s = it->second;
  }
  std::unique_lock<std::mutex> g(s->mu);
  if (s->closing || s->ended) return {404, "no REPL session `" + id + "`"};
  if (s->busy) return {409, "an input of REPL session `" + id + "` is running"};
  s->busy = true;
  s->replied = false;
  s->reply = ReplReply{};
  s->canceller = std::make_shared<rt::sched::RunCanceller>();
  s->job = input;
  s->cv.notify_all();
  s->cv.wait(g, [&] { return s->replied || s->ended; });
  if (!s->replied) return {404, "REPL session `" + id + "` was closed"};
  reply = std::move(s->reply);
  return {};
}

ReplStatus ReplHost::cancel(const std::string &id) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return {404, "no REPL session `" + id + "`"};
  std::lock_guard<std::mutex> sg(it->second->mu);
  if (it->second->canceller) it->second->canceller->cancel();
  return {}; // nothing running: nothing to cancel
}

ReplStatus ReplHost::close(const std::string &id) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return {404, "no REPL session `" + id + "`"};
  closeLocked(it->second);
  sessions_.erase(it);
  return {};
}

bool ReplHost::stop(int64_t waitMs) {
  std::unique_lock<std::mutex> g(mu_);
  stopping_ = true;
  for (auto &[id, s] : sessions_) closeLocked(s);
  sessions_.clear();
  changed_.notify_all();
  return changed_.wait_for(g, std::chrono::milliseconds(waitMs), [this] { return threads_ == 0; });
}

} // namespace cfm::cfmd
