// state.cpp — the agent's SQLite state (state.h).
#include "agent/state.h"

#include "base/paths.h"

#include <cerrno>
#include <filesystem>
#include <sys/stat.h>

namespace cfm::agent {

Result<std::unique_ptr<State>> State::open(const std::string &dir) {
  // Its parents too (a fresh image may have no /var/lib), mode 0755 as mkdir -p would make them.
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(dir).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec)
    return Error{ErrorKind::Io,
                 "cannot make the state directory's parent " + parent.string() + ": " + ec.message()};
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Error{ErrorKind::Io, "cannot make the state directory " + dir + ": " + base::systemError(errno)};
  ::chmod(dir.c_str(), 0700);
  auto db = CFM_TRY(sql::Db::open(dir + "/agent.db", sql::Db::Mode::Create));
  CFM_CHECK(db->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE IF NOT EXISTS requests(id TEXT PRIMARY KEY, nonce TEXT NOT NULL UNIQUE,"
                     " received_ms INTEGER NOT NULL, reply TEXT);"));
  return std::unique_ptr<State>(new State(std::move(db)));
}

Result<std::optional<State::Known>> State::find(const std::string &id) {
  auto st = CFM_TRY(db_->prepare("SELECT nonce, reply FROM requests WHERE id = ?"));
  st.bind(1, id);
  if (!CFM_TRY(st.step())) return std::optional<Known>();
  Known k;
  k.nonce = st.text(0);
  if (!std::holds_alternative<std::monostate>(st.value(1))) k.reply = st.text(1);
  return std::optional<Known>(std::move(k));
}

Result<bool> State::nonceSeen(const std::string &nonce) {
  auto st = CFM_TRY(db_->prepare("SELECT 1 FROM requests WHERE nonce = ?"));
  st.bind(1, nonce);
  return st.step();
}

Result<void> State::start(const std::string &id, const std::string &nonce, int64_t nowMs) {
  auto st = CFM_TRY(db_->prepare("INSERT INTO requests(id, nonce, received_ms) VALUES (?, ?, ?)"));
  st.bind(1, id).bind(2, nonce).bind(3, nowMs);
  return st.run();
}

Result<void> State::answer(const std::string &id, const std::string &reply) {
  auto st = CFM_TRY(db_->prepare("UPDATE requests SET reply = ? WHERE id = ?"));
  st.bind(1, reply).bind(2, id);
  return st.run();
}

Result<std::vector<std::string>> State::unanswered() {
  auto st = CFM_TRY(db_->prepare("SELECT id FROM requests WHERE reply IS NULL"));
  std::vector<std::string> ids;
  while (CFM_TRY(st.step())) ids.push_back(st.text(0));
  return ids;
}

Result<void> State::prune(int64_t cutoffMs) {
  auto st = CFM_TRY(db_->prepare("DELETE FROM requests WHERE received_ms < ?"));
  st.bind(1, cutoffMs);
  return st.run();
}

} // namespace cfm::agent
