// sqlite.cpp — the RAII layer of sqlite.h.
#include "sql/sqlite.h"

#include <sqlite3.h>

#include <unordered_map>

namespace cfm::sql {

/// Idle prepared statements by their SQL text (at most kMax; the store and cfm-cloud use a few
/// dozen texts, so nothing is ever evicted in practice: a statement past the limit is finalized).
struct Db::StmtCache {
  static constexpr size_t kMax = 256;
  std::unordered_map<std::string, sqlite3_stmt *> idle;
};

Db::Db() : cache_(std::make_unique<StmtCache>()) {}

Stmt::~Stmt() {
  if (s_) db_->release(s_);
}

void Db::release(sqlite3_stmt *s) {
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  if (cache_->idle.size() < StmtCache::kMax && cache_->idle.emplace(sqlite3_sql(s), s).second) return;
  sqlite3_finalize(s);
}

Stmt &Stmt::bind(int i, const Value &v) {
  if (std::holds_alternative<std::monostate>(v))
    sqlite3_bind_null(s_, i);
  else if (const int64_t *n = std::get_if<int64_t>(&v))
    sqlite3_bind_int64(s_, i, *n);
  else {
    const std::string &t = std::get<std::string>(v);
    sqlite3_bind_text(s_, i, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
  }
  return *this;
}

Result<bool> Stmt::step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->error(std::string("in `") + sqlite3_sql(s_) + "`");
}

Result<void> Stmt::run() {
  for (;;) {
    bool row = CFM_TRY(step());
    if (!row) return success();
  }
}

void Stmt::reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

int64_t Stmt::i64(int col) const { return sqlite3_column_int64(s_, col); }

std::string Stmt::text(int col) const {
  const unsigned char *t = sqlite3_column_text(s_, col);
  int n = sqlite3_column_bytes(s_, col);
  return t ? std::string(reinterpret_cast<const char *>(t), static_cast<size_t>(n)) : std::string();
}

Value Stmt::value(int col) const {
  switch (sqlite3_column_type(s_, col)) {
  case SQLITE_NULL: return std::monostate{};
  case SQLITE_INTEGER: return i64(col);
  default: return text(col);
  }
}

namespace {

/// PATH as an SQLite URI filename (sqlite.org/uri.html): `%`, `?` and `#` escaped, and no `//`
/// at the start (that would be read as an authority).
std::string uriOf(const std::string &path, const char *query) {
  std::string out = "file:";
  size_t i = 0;
  while (path.size() - i > 1 && path[i] == '/' && path[i + 1] == '/') ++i;
  for (; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%')
      out += "%25";
    else if (c == '?')
      out += "%3f";
    else if (c == '#')
      out += "%23";
    else
      out += c;
  }
  return out + "?" + query;
}

} // namespace

namespace {

/// SQLite's busy handler: waits before the connection tries the lock again. SQLite's own
/// (sqlite3_busy_timeout) first sleeps a whole millisecond and then longer, while the locks of
/// this program's transactions are held for tens of microseconds: a publisher meeting the
/// federation node's commit waited 1-5 ms for a lock freed long before (the p99 of
/// cfm-fed-bench). This one sleeps 10, 20, 50, 100, 200, 500 µs, then 1 ms, then 2 ms at a
/// time, and gives up (SQLITE_BUSY) after kBusyTimeoutMs in all.
int busyWait(void *, int count) {
  static constexpr int64_t kScheduleUs[] = {10, 20, 50, 100, 200, 500, 1000};
  constexpr int kSteps = static_cast<int>(sizeof kScheduleUs / sizeof kScheduleUs[0]);
  int64_t waited = 0; // what the earlier calls slept
  for (int i = 0; i < count && i < kSteps; ++i) waited += kScheduleUs[i];
  if (count > kSteps) waited += int64_t(count - kSteps) * 2000;
  if (waited >= int64_t(kBusyTimeoutMs) * 1000) return 0;
  int64_t us = count < kSteps ? kScheduleUs[count] : 2000;
  std::this_thread::sleep_for(std::chrono::microseconds(us));
  return 1;
}

} // namespace

Result<std::unique_ptr<Db>> Db::open(const std::string &path, Mode mode) {
  std::unique_ptr<Db> db(new Db());
  int flags = SQLITE_OPEN_NOMUTEX;
  std::string name = path;
  switch (mode) {
  case Mode::Create: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
  case Mode::Write: flags |= SQLITE_OPEN_READWRITE; break;
  case Mode::ReadOnly:
    flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
    name = uriOf(path, "mode=ro");
    break;
  case Mode::Immutable:
    flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
    name = uriOf(path, "mode=ro&immutable=1");
    break;
  }
  int rc = sqlite3_open_v2(name.c_str(), &db->h_, flags, nullptr);
  if (rc != SQLITE_OK) return db->error("cannot open `" + path + "`");
  sqlite3_extended_result_codes(db->h_, 1);
  sqlite3_busy_handler(db->h_, busyWait, nullptr);
  return db;
}

bool Db::busy() const {
  int rc = h_ ? sqlite3_errcode(h_) & 0xFF : SQLITE_OK;
  return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

Db::~Db() {
  for (auto &[sql, s] : cache_->idle) sqlite3_finalize(s);
  if (h_) sqlite3_close(h_); // every Stmt is finalized by then (they do not outlive the store)
}

Error Db::error(const std::string &what) const {
  std::string msg = h_ ? sqlite3_errmsg(h_) : "out of memory";
  return Error{ErrorKind::Store, "sqlite: " + msg + (what.empty() ? "" : " (" + what + ")")};
}

Result<void> Db::exec(const std::string &sql) {
  char *err = nullptr;
  if (sqlite3_exec(h_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Error{ErrorKind::Store, "sqlite: " + msg};
  }
  return success();
}

Result<Stmt> Db::prepare(const std::string &sql) {
  if (auto it = cache_->idle.find(sql); it != cache_->idle.end()) {
    sqlite3_stmt *s = it->second;
    cache_->idle.erase(it);
    return Stmt(s, this);
  }
  sqlite3_stmt *s = nullptr;
  if (sqlite3_prepare_v2(h_, sql.c_str(), static_cast<int>(sql.size()), &s, nullptr) != SQLITE_OK)
    return error("in `" + sql + "`");
  return Stmt(s, this);
}

int64_t Db::lastInsertId() const { return sqlite3_last_insert_rowid(h_); }

Result<std::unique_ptr<Tx>> Tx::begin(Db &db) {
  CFM_CHECK(db.exec("BEGIN IMMEDIATE"));
  return std::unique_ptr<Tx>(new Tx(db));
}

Result<void> Tx::commit() {
  CFM_CHECK(db_.exec("COMMIT"));
  done_ = true;
  return success();
}

Tx::~Tx() {
  if (!done_) (void)db_.exec("ROLLBACK");
}

} // namespace cfm::sql
