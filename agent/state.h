// state.h — cfm-agent's memory of requests (docs/agent-protocol.md, "Exactly once"): SQLite
// (agent.db in the state directory, synchronous=FULL) with one row per request that passed
// verification: id, nonce, when it was received, and its reply once answered. A request is
// recorded before it runs, so that after a crash it is answered "may have run", never run again.
#pragma once

#include "base/result.h"
#include "sql/sqlite.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cfm::agent {

/// How long answers are kept (the 60 s window refuses an older id anyway).
constexpr int64_t kKeepAnswersMs = 24LL * 3600 * 1000;

class State {
public:
  /// Opens (creating) DIR/agent.db; DIR is made mode 0700 when missing, its parents too.
  static Result<std::unique_ptr<State>> open(const std::string &dir);

  struct Known {
    std::string nonce;
    std::optional<std::string> reply; ///< the reply payload; none while it runs
  };
  Result<std::optional<Known>> find(const std::string &id);
  Result<bool> nonceSeen(const std::string &nonce);
  /// Records ID (with NONCE, received at NOW_MS) as started.
  Result<void> start(const std::string &id, const std::string &nonce, int64_t nowMs);
  /// Stores the reply payload of ID.
  Result<void> answer(const std::string &id, const std::string &reply);
  /// The ids of requests started but never answered (after a restart).
  Result<std::vector<std::string>> unanswered();
  /// Forgets requests received before CUTOFF_MS.
  Result<void> prune(int64_t cutoffMs);

private:
  explicit State(std::unique_ptr<sql::Db> db) : db_(std::move(db)) {}
  std::unique_ptr<sql::Db> db_;
};

} // namespace cfm::agent
