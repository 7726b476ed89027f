// run_table.cpp — cfmd's table of runs: ids, states, output lines and followers' waits.
#include "cfmd/run_table.h"

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace cfm::cfmd {
namespace {

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

std::string_view runStateName(RunState s) {
  switch (s) {
  case RunState::Running: return "running";
  case RunState::Succeeded: return "succeeded";
  case RunState::Failed: return "failed";
  case RunState::Cancelled: return "cancelled";
  case RunState::Interrupted: return "interrupted";
  }
  return "failed";
}

RunState runStateOf(std::string_view s) {
  for (RunState r :
       {RunState::Running, RunState::Succeeded, RunState::Failed, RunState::Cancelled, RunState::Interrupted})
    if (runStateName(r) == s) return r;
  return RunState::Failed;
}

uint64_t runNumber(std::string_view id) {
  if (id.size() < 3 || id.substr(0, 2) != "r-") return 0;
  uint64_t n = 0;
  for (char c : id.substr(2)) {
    if (c < '0' || c > '9' || n > (UINT64_MAX - 9) / 10) return 0;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

void RunTable::setJournal(RunJournal *journal) {
  std::lock_guard<std::mutex> lock(mu_);
  journal_ = journal;
}

void RunTable::adopt(RunInfo info, std::vector<OutputLine> lines, size_t first) {
  std::lock_guard<std::mutex> lock(mu_);
  next_ = std::max(next_, runNumber(info.id) + 1);
  Run &r = runs_[info.id];
  r.info = std::move(info);
  r.lines = std::move(lines);
  r.dropped = first;
}

std::string RunTable::create(std::string file, std::string proc) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string id = "r-" + std::to_string(next_++);
  Run &r = runs_[id];
  r.info.id = id;
  r.info.file = std::move(file);
  r.info.proc = std::move(proc);
  r.info.startedMs = nowMs();
  if (journal_) journal_->started(r.info);
  return id;
}

void RunTable::append(const std::string &id, bool err, std::string_view text) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(id);
  if (it == runs_.end() || it->second.info.state != RunState::Running) return;
  Run &r = it->second;
  r.lines.push_back(OutputLine{err, std::string(text)});
  if (journal_) journal_->line(id, r.dropped + r.lines.size() - 1, r.lines.back());
  if (r.lines.size() > kMaxOutputLinesKept) {
    r.lines.erase(r.lines.begin());
    ++r.dropped;
  }
  changed_.notify_all();
}

void RunTable::finish(const std::string &id, int exitCode) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(id);
  if (it == runs_.end() || it->second.info.state != RunState::Running) return;
  RunInfo &info = it->second.info;
  info.exitCode = exitCode;
  info.endedMs = nowMs();
  info.state = info.cancelRequested ? RunState::Cancelled
               : exitCode == 0      ? RunState::Succeeded
                                    : RunState::Failed;
  it->second.cancelHook = nullptr;
  if (journal_) journal_->finished(info);
  changed_.notify_all();
}

void RunTable::setCancelHook(const std::string &id, std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(id);
  if (it != runs_.end() && it->second.info.state == RunState::Running)
    it->second.cancelHook = std::move(hook);
}

RunTable::CancelResult RunTable::cancel(const std::string &id) {
  std::function<void()> hook;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = runs_.find(id);
    if (it == runs_.end()) return CancelResult::NoSuchRun;
    if (it->second.info.state != RunState::Running) return CancelResult::Ended;
    if (!it->second.cancelHook) return CancelResult::NotCancellable;
    it->second.info.cancelRequested = true;
    hook = it->second.cancelHook;
  }
  hook(); // outside the lock: the hook may append or finish
  return CancelResult::Asked;
}

std::vector<RunInfo> RunTable::list() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RunInfo> out;
  for (const auto &[id, r] : runs_) out.push_back(r.info);
  std::sort(out.begin(), out.end(),
            [](const RunInfo &a, const RunInfo &b) { return runNumber(a.id) < runNumber(b.id); });
  return out;
}

std::optional<RunInfo> RunTable::get(const std::string &id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(id);
  if (it == runs_.end()) return std::nullopt;
  return it->second.info;
}

OutputChunk RunTable::read(const std::string &id, size_t from, bool wait) {
  std::unique_lock<std::mutex> lock(mu_);
  OutputChunk c;
  for (;;) {
    auto it = runs_.find(id);
    if (it == runs_.end()) {
      c.found = false;
      return c;
    }
    const Run &r = it->second;
    size_t end = r.dropped + r.lines.size();
    bool ended = r.info.state != RunState::Running;
    if (from < end || ended || !wait || closed_) {
      size_t start = from < r.dropped ? r.dropped : from;
      for (size_t i = start; i < end; ++i) c.lines.push_back(r.lines[i - r.dropped]);
      c.next = end > from ? end : from;
      c.ended = ended;
      return c;
    }
    changed_.wait(lock);
  }
}

void RunTable::close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  changed_.notify_all();
}

} // namespace cfm::cfmd
