// sqlite.h — a thin RAII layer over SQLite (the store, cfm-cloud's state): a connection, prepared statements
// with typed binding, and transactions that roll back unless committed. Every failure is a Result error
// carrying SQLite's message; statements are finalized and the connection closed in destructors, so no path
// leaks them.
#pragma once

#include "base/result.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <variant>

struct sqlite3;
struct sqlite3_stmt;

namespace cfm::sql {

/// A column value: NULL, an integer or text.
using Value = std::variant<std::monostate, int64_t, std::string>;

class Db;

class Stmt {
public:
  Stmt(Stmt &&o) noexcept : s_(o.s_), db_(o.db_) { o.s_ = nullptr; }
  Stmt &operator=(Stmt &&) = delete;
  ~Stmt();
  Stmt &bind(int index, const Value &v); ///< 1-based, as SQLite counts
  /// Steps once: true when a row is ready, false when done.
  Result<bool> step();
  /// Steps to the end (for statements without rows).
  Result<void> run();
  void reset();
  int64_t i64(int col) const;
  std::string text(int col) const;
  Value value(int col) const;

private:
  friend class Db;
  Stmt(sqlite3_stmt *s, Db *db) : s_(s), db_(db) {}
  sqlite3_stmt *s_;
  Db *db_;
};

/// How long a connection waits for another process's lock before SQLite says `database is
/// locked` (store.h, "Concurrency").
inline constexpr int kBusyTimeoutMs = 30000;

class Db {
public:
  enum class Mode {
    Create,    ///< read-write, the file created when missing
    Write,     ///< read-write, the file must exist
    ReadOnly,  ///< SQLITE_OPEN_READONLY (uses an existing -wal/-shm; SQLite may create them)
    Immutable, ///< read-only, no locks and no -wal/-shm: only for a file nobody can be writing
  };
  /// Opens PATH with a busy handler that waits for another connection's lock in steps from
  /// 10 µs, for up to kBusyTimeoutMs in all.
  static Result<std::unique_ptr<Db>> open(const std::string &path, Mode mode = Mode::Create);
  ~Db();
  Db(const Db &) = delete;
  Db &operator=(const Db &) = delete;
  /// Runs one or more statements without parameters.
  Result<void> exec(const std::string &sql);
  /// A statement of SQL. Statements are cached by their text: preparing the same text again
  /// (once the first Stmt is gone) reuses the compiled statement, so callers need not keep
  /// statements themselves. Like the connection, one thread at a time.
  Result<Stmt> prepare(const std::string &sql);
  int64_t lastInsertId() const;
  Error error(const std::string &what) const;
  /// True when the last failure was SQLITE_BUSY or SQLITE_LOCKED (another connection's lock).
  bool busy() const;

private:
  friend class Stmt;
  struct StmtCache;
  Db();
  /// Takes back a statement a Stmt is done with: reset and kept for the next prepare() of the
  /// same text, or finalized when one is kept already.
  void release(sqlite3_stmt *s);
  sqlite3 *h_ = nullptr;
  std::unique_ptr<StmtCache> cache_;
};

/// Runs F (which returns a Result) again while it fails because another connection holds a lock,
/// for up to kBusyTimeoutMs: for the steps SQLite's busy handler does not wait on (switching a
/// new file to WAL while another process creates it).
template <typename F> auto whileBusy(Db &db, F f) -> decltype(f()) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  for (;;) {
    auto r = f();
    if (r || !db.busy() || std::chrono::steady_clock::now() >= deadline) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

/// BEGIN IMMEDIATE ... COMMIT; destroyed without commit() it rolls back.
class Tx {
public:
  static Result<std::unique_ptr<Tx>> begin(Db &db);
  Result<void> commit();
  ~Tx();

private:
  explicit Tx(Db &db) : db_(db) {}
  Db &db_;
  bool done_ = false;
};

} // namespace cfm::sql
