// run_journal.cpp — cfmd's runs written to the store by a thread of their own (run_journal.h).
#include "cfmd/daemon/run_journal.h"

#include <chrono>
#include <iostream>

namespace cfm::cfmd {

namespace {

store::Store::RunRecord recordOf(const RunInfo &r) {
  return store::Store::RunRecord{r.id,
                                 static_cast<int64_t>(runNumber(r.id)),
                                 r.file,
                                 r.proc,
                                 std::string(runStateName(r.state)),
                                 r.exitCode,
                                 r.startedMs,
                                 r.endedMs};
}

} // namespace

Result<std::unique_ptr<StoreRunJournal>> StoreRunJournal::open(const std::string &storePath) {
  std::unique_ptr<StoreRunJournal> j(new StoreRunJournal());
  auto st = store::Store::open(storePath);
  if (!st) return st.takeError();
  j->store_ = std::move(*st);
  StoreRunJournal *raw = j.get();
  j->thread_ = std::thread([raw] { raw->writer(); });
  return j;
}

StoreRunJournal::~StoreRunJournal() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

Result<void> StoreRunJournal::restore(RunTable &table) {
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::lock_guard<std::mutex> g(storeMu_); // the writer does not touch the store meanwhile
  CFM_CHECK(store_->interruptRunningRuns(now));
  auto runs = CFM_TRY(store_->lastRuns(kRestoredRuns));
  for (const auto &r : runs) {
    auto [first, end] = CFM_TRY(store_->runOutputRange(r.id));
    int64_t from = std::max(first, end - static_cast<int64_t>(kRestoredLines));
    auto lines = CFM_TRY(store_->runOutput(r.id, from, kRestoredLines));
    std::vector<OutputLine> out;
    out.reserve(lines.size());
    for (auto &l : lines) out.push_back(OutputLine{l.err, std::move(l.text)});
    RunInfo info;
    info.id = r.id;
    info.file = r.file;
    info.proc = r.proc;
    info.state = runStateOf(r.state);
    info.exitCode = r.exitCode;
    info.startedMs = r.startedMs;
    info.endedMs = r.endedMs;
    table.adopt(std::move(info), std::move(out), static_cast<size_t>(from));
  }
  return {};
}

void StoreRunJournal::started(const RunInfo &r) {
  std::lock_guard<std::mutex> g(mu_);
  queue_.push_back(Op{Op::Run, r, "", 0, {}});
  urgent_ = true; // `cfmc runs` after a restart should know every run that began
  cv_.notify_one();
}

void StoreRunJournal::line(const std::string &id, size_t n, const OutputLine &l) {
  std::lock_guard<std::mutex> g(mu_);
  queue_.push_back(Op{Op::Line, {}, id, n, l});
}

void StoreRunJournal::finished(const RunInfo &r) {
  std::lock_guard<std::mutex> g(mu_);
  queue_.push_back(Op{Op::Run, r, "", 0, {}});
  urgent_ = true;
  cv_.notify_one();
}

void StoreRunJournal::writer() {
  std::unique_lock<std::mutex> g(mu_);
  for (;;) {
    cv_.wait_for(g, std::chrono::milliseconds(200), [this] { return stopping_ || urgent_; });
    std::deque<Op> ops;
    ops.swap(queue_);
    urgent_ = false;
    bool stop = stopping_;
    if (!ops.empty()) {
      g.unlock(); // runs go on queueing while the batch is written
      {
        std::lock_guard<std::mutex> s(storeMu_);
        write(ops);
      }
      g.lock();
    }
    if (stop && queue_.empty()) return;
  }
}

void StoreRunJournal::write(std::deque<Op> &ops) {
  // Consecutive lines of one run go in one transaction; runs are written in their order.
  size_t i = 0;
  while (i < ops.size()) {
    Op &op = ops[i];
    if (op.kind == Op::Run) {
      if (auto r = store_->saveRun(recordOf(op.info)); !r)
        std::cerr << "cfmd: cannot record run " << op.info.id << ": " << r.error().message << std::endl;
      ++i;
      continue;
    }
    std::vector<store::Store::RunLine> lines;
    const std::string id = op.id;
    const size_t first = op.n;
    while (i < ops.size() && ops[i].kind == Op::Line && ops[i].id == id && ops[i].n == first + lines.size()) {
      lines.push_back(store::Store::RunLine{ops[i].line.err, std::move(ops[i].line.text)});
      ++i;
    }
    if (auto r = store_->appendRunOutput(id, static_cast<int64_t>(first), lines); !r)
      std::cerr << "cfmd: cannot record the output of run " << id << ": " << r.error().message << std::endl;
  }
}

} // namespace cfm::cfmd
