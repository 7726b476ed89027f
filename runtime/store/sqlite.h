// sqlite.h — a thin RAII layer over SQLite for the store: a connection, prepared statements with
// typed binding, and transactions that roll back unless committed. Every failure is a Result
// error carrying SQLite's message; statements are finalized and the connection closed in
// destructors, so no path leaks them.
#pragma once

#include "base/result.h"

#include <cstdint>
#include <memory>
#include <string>
#include <variant>

struct sqlite3;
struct sqlite3_stmt;

namespace cfm::store {

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

class Db {
public:
  static Result<std::unique_ptr<Db>> open(const std::string &path);
  ~Db();
  Db(const Db &) = delete;
  Db &operator=(const Db &) = delete;
  /// Runs one or more statements without parameters.
  Result<void> exec(const std::string &sql);
  Result<Stmt> prepare(const std::string &sql);
  int64_t lastInsertId() const;
  Error error(const std::string &what) const;

private:
  Db() = default;
  sqlite3 *h_ = nullptr;
};

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

} // namespace cfm::store
