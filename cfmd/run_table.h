// run_table.h — cfmd's runs (issue 15): each run's id (r-<n>), what it runs, its state and exit
// status, and its output lines (stdout and stderr, in order), with waits for followers (`cfmc
// logs --follow`, `cfmc run --manager` through the daemon) and a per-run cancel hook. Thread-safe:
// runs append from their own threads while the control API reads. A journal (the daemon's: the
// store's `run` tables, cfmd/daemon/run_journal.h) is told of every run, line and end, and the
// runs of an earlier process are adopted back at start.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cfm::cfmd {

/// Interrupted: the daemon that ran it stopped or died before it ended (an adopted run).
enum class RunState { Running, Succeeded, Failed, Cancelled, Interrupted };
std::string_view runStateName(RunState s); // "running", "succeeded", ..., "interrupted"
/// The state named S (as runStateName gives it); Failed for a name it does not know.
RunState runStateOf(std::string_view s);

struct RunInfo {
  std::string id;
  std::string file; // the program's root file, as the client named it
  std::string proc;
  RunState state = RunState::Running;
  int exitCode = 0; // meaningful once not running
  int64_t startedMs = 0;
  int64_t endedMs = 0;
  bool cancelRequested = false;
};

struct OutputLine {
  bool err = false; // stderr, else stdout
  std::string text; // without its newline
};

/// What read() found: lines from `from` on, the index after them, and whether the run has ended
/// (then no line will follow the ones returned).
struct OutputChunk {
  std::vector<OutputLine> lines;
  size_t next = 0;
  bool ended = false;
  bool found = true; // false: no such run
};

constexpr size_t kMaxOutputLinesKept = 100000; // per run; older lines are dropped (counted)

/// What the table tells as runs go (under its lock: implementations only queue, never block).
class RunJournal {
public:
  virtual ~RunJournal() = default;
  virtual void started(const RunInfo &r) = 0;
  /// Line number N (from 0) of run ID.
  virtual void line(const std::string &id, size_t n, const OutputLine &l) = 0;
  virtual void finished(const RunInfo &r) = 0;
};

/// The number N of a run id r-N, 0 when ID is not one.
uint64_t runNumber(std::string_view id);

class RunTable {
public:
  /// Tells JOURNAL (null: none) of what happens from now on; set before the first run.
  void setJournal(RunJournal *journal);
  /// An ended run of an earlier process: its last LINES, the first of them being line FIRST.
  /// The next new run's number comes after its.
  void adopt(RunInfo info, std::vector<OutputLine> lines, size_t first);
  /// A new run in state running; its id is r-<n>, n counting from 1 (after the adopted runs').
  std::string create(std::string file, std::string proc);
  void append(const std::string &id, bool err, std::string_view text);
  /// Ends a run: succeeded (exit 0), failed (exit != 0) or cancelled when a cancel was asked.
  void finish(const std::string &id, int exitCode);
  /// Installs what cancel() calls for run `id` (the run's own way of stopping its tasks).
  void setCancelHook(const std::string &id, std::function<void()> hook);
  enum class CancelResult { Asked, NoSuchRun, Ended, NotCancellable };
  /// Asks run `id` to stop through its cancel hook; NotCancellable when it has none (nothing
  /// is promised then: the run goes on).
  CancelResult cancel(const std::string &id);
  std::vector<RunInfo> list() const; ///< by run number
  std::optional<RunInfo> get(const std::string &id) const;
  /// Output of run `id` from line `from`; with `wait`, blocks until there is some or the run
  /// ends (or close() is called).
  OutputChunk read(const std::string &id, size_t from, bool wait);
  /// Wakes every waiting reader for good (the daemon is stopping).
  void close();

private:
  struct Run {
    RunInfo info;
    std::vector<OutputLine> lines;
    size_t dropped = 0; // lines before lines[0] no longer kept
    std::function<void()> cancelHook;
  };
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, Run> runs_;
  uint64_t next_ = 1;
  bool closed_ = false;
  RunJournal *journal_ = nullptr;
};

} // namespace cfm::cfmd
