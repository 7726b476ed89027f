// run_journal.h — cfmd's runs kept in the manager's store (issue 15: "each run with an id, its
// output and status kept in the store"): the run table's journal (cfmd/run_table.h) queues what
// happens and a thread of its own writes it to the store's `run` and `run_output` tables (a
// batch every 200 ms, at once when a run ends), so no run waits for SQLite; at start the runs of
// the previous process come back (those it left running as `interrupted`).
#pragma once

#include "base/result.h"
#include "cfmd/run_table.h"
#include "runtime/store/store.h"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace cfm::cfmd {

class StoreRunJournal final : public RunJournal {
public:
  /// Opens its own connection to the store at STOREPATH and starts its writer.
  static Result<std::unique_ptr<StoreRunJournal>> open(const std::string &storePath);
  ~StoreRunJournal() override; ///< writes what is queued, then stops
  StoreRunJournal(const StoreRunJournal &) = delete;
  StoreRunJournal &operator=(const StoreRunJournal &) = delete;

  /// Marks the runs an earlier process left running as interrupted and gives TABLE the last
  /// kRestoredRuns runs with the last kRestoredLines lines of each. Before the table's first run.
  Result<void> restore(RunTable &table);
  static constexpr size_t kRestoredRuns = 200, kRestoredLines = 2000;

  void started(const RunInfo &r) override;
  void line(const std::string &id, size_t n, const OutputLine &l) override;
  void finished(const RunInfo &r) override;

private:
  StoreRunJournal() = default;
  struct Op {
    enum Kind { Run, Line } kind;
    RunInfo info;   // Run: the run's record as it is now
    std::string id; // Line
    size_t n = 0;
    OutputLine line;
  };
  void writer();
  void write(std::deque<Op> &ops);

  std::unique_ptr<store::Store> store_;
  std::mutex storeMu_; // the store connection: the writer's, or restore()'s
  std::mutex mu_;      // the queue
  std::condition_variable cv_;
  std::deque<Op> queue_;
  bool urgent_ = false, stopping_ = false;
  std::thread thread_;
};

} // namespace cfm::cfmd
