// runs.cpp — the store's record of the manager daemon's runs and their output (store.h, "Runs"):
// what `cfmc runs` and `cfmc logs` show after cfmd restarted, and the runs a crash interrupted.
#include "runtime/store/store.h"

namespace cfm::store {

Result<void> Store::saveRun(const RunRecord &r) {
  Stmt s = CFM_TRY(db_->prepare(
      "INSERT INTO run (id, seq, file, proc, state, exit_code, started_at, ended_at) VALUES (?, ?, ?, ?, ?, "
      "?, "
      "?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state, exit_code = excluded.exit_code, ended_at "
      "= excluded.ended_at, version = version + 1"));
  s.bind(1, r.id).bind(2, r.seq).bind(3, r.file).bind(4, r.proc).bind(5, r.state);
  s.bind(6, int64_t(r.exitCode)).bind(7, r.startedMs).bind(8, r.endedMs);
  CFM_CHECK(s.run());
  return {};
}

Result<void> Store::appendRunOutput(std::string_view id, int64_t firstN, const std::vector<RunLine> &lines) {
  if (lines.empty()) return {};
  auto tx = CFM_TRY(Tx::begin(*db_));
  Stmt ins =
      CFM_TRY(db_->prepare("INSERT OR REPLACE INTO run_output (run, n, err, text) VALUES (?, ?, ?, ?)"));
  int64_t n = firstN;
  for (const RunLine &l : lines) {
    ins.reset();
    ins.bind(1, std::string(id)).bind(2, n++).bind(3, int64_t(l.err ? 1 : 0)).bind(4, l.text);
    CFM_CHECK(ins.run());
  }
  if (n > kMaxRunLines) {
    Stmt del = CFM_TRY(db_->prepare("DELETE FROM run_output WHERE run = ? AND n < ?"));
    del.bind(1, std::string(id)).bind(2, n - kMaxRunLines);
    CFM_CHECK(del.run());
  }
  CFM_CHECK(tx->commit());
  return {};
}

Result<std::vector<Store::RunRecord>> Store::lastRuns(size_t limit) {
  Stmt s = CFM_TRY(db_->prepare(
      "SELECT id, seq, file, proc, state, exit_code, started_at, ended_at FROM (SELECT * FROM run "
      "ORDER BY seq DESC LIMIT ?) ORDER BY seq"));
  s.bind(1, int64_t(limit));
  std::vector<RunRecord> out;
  while (CFM_TRY(s.step()))
    out.push_back(RunRecord{s.text(0), s.i64(1), s.text(2), s.text(3), s.text(4), static_cast<int>(s.i64(5)),
                            s.i64(6), s.i64(7)});
  return out;
}

Result<std::vector<Store::RunLine>> Store::runOutput(std::string_view id, int64_t fromN, size_t limit) {
  Stmt s =
      CFM_TRY(db_->prepare("SELECT err, text FROM run_output WHERE run = ? AND n >= ? ORDER BY n LIMIT ?"));
  s.bind(1, std::string(id)).bind(2, fromN).bind(3, int64_t(limit));
  std::vector<RunLine> out;
  while (CFM_TRY(s.step())) out.push_back(RunLine{s.i64(0) != 0, s.text(1)});
  return out;
}

Result<std::pair<int64_t, int64_t>> Store::runOutputRange(std::string_view id) {
  Stmt s = CFM_TRY(
      db_->prepare("SELECT coalesce(min(n), 0), coalesce(max(n) + 1, 0) FROM run_output WHERE run = ?"));
  s.bind(1, std::string(id));
  if (!CFM_TRY(s.step())) return std::pair<int64_t, int64_t>(0, 0);
  return std::pair<int64_t, int64_t>(s.i64(0), s.i64(1));
}

Result<int64_t> Store::interruptRunningRuns(int64_t nowMs) {
  Stmt s = CFM_TRY(db_->prepare("UPDATE run SET state = 'interrupted', exit_code = 1, ended_at = ?, version "
                                "= version + 1 WHERE state = "
                                "'running' RETURNING id"));
  s.bind(1, nowMs);
  int64_t n = 0;
  while (CFM_TRY(s.step())) ++n;
  return n;
}

} // namespace cfm::store
