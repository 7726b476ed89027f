// result.h — the one Result<T> of CFM (errors are values; see STYLE.md "Errors are values"); base floor.
//
// Result<T> holds a T or an Error: a kind, a message and, when the error is about a place in a
// file, that place. LLVM boundaries use llvm::Expected instead; code between the two converts
// explicitly. CFM_TRY propagates an error to the caller.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cfm {

/// What went wrong, for programs that treat errors differently (`--format json`, a language
/// server, an exit status) without reading the message.
enum class ErrorKind : unsigned char {
  Io,       ///< a file or directory could not be opened, read or written (the system's reason)
  Limit,    ///< an input is larger than a stated limit (a file's size)
  Syntax,   ///< text that is not well-formed (an OVF descriptor's XML)
  Ovf,      ///< a well-formed OVF descriptor that CFM cannot accept or a model it cannot export
  Store,    ///< the SQLite store: not a store, its schema, a constraint, SQLite itself
  Usage,    ///< a request or setting that cannot be honoured (an environment variable's value)
  Internal, ///< a broken invariant of CFM itself
};

/// The kind's name in machine-readable output, spelt as the enumerator (as diagnostics' kinds
/// are): "Io", "Limit", "Syntax", "Ovf", "Store", "Usage", "Internal".
constexpr std::string_view errorKindName(ErrorKind k) {
  switch (k) {
  case ErrorKind::Io: return "Io";
  case ErrorKind::Limit: return "Limit";
  case ErrorKind::Syntax: return "Syntax";
  case ErrorKind::Ovf: return "Ovf";
  case ErrorKind::Store: return "Store";
  case ErrorKind::Usage: return "Usage";
  case ErrorKind::Internal: return "Internal";
  }
  return "Internal";
}

/// Where an error is: a file, and in it a line and a column (1-based; 0 when not known). Columns
/// count characters, not bytes.
struct SourceLoc {
  std::string file;
  int line = 0;
  int column = 0;
};

struct Error {
  ErrorKind kind;
  /// What is wrong, without the place (describe() puts the place in front). An error about a
  /// whole file (it cannot be read, it is too large) names the file in its message as well.
  std::string message;
  std::optional<SourceLoc> loc;

  Error(ErrorKind k, std::string m) : kind(k), message(std::move(m)) {}
  Error(ErrorKind k, std::string m, SourceLoc l) : kind(k), message(std::move(m)), loc(std::move(l)) {}

  /// The same error with CONTEXT put in front of its message; kind and place are kept.
  Error framed(std::string_view context) const {
    Error e = *this;
    e.message.insert(0, context);
    return e;
  }
  /// The same error, placed in FILE (no line) unless it already has a place.
  Error inFile(const std::string &file) const {
    Error e = *this;
    if (!e.loc) e.loc = SourceLoc{file, 0, 0};
    return e;
  }
  /// How a person reads it: `FILE:LINE:COL: error: MESSAGE` (`FILE:LINE: error: MESSAGE` without
  /// a column) when the place has a line, otherwise the message alone.
  std::string describe() const {
    if (!loc || loc->line <= 0) return message;
    std::string out = loc->file + ":" + std::to_string(loc->line);
    if (loc->column > 0) out += ":" + std::to_string(loc->column);
    return out + ": error: " + message;
  }
};

template <typename T> class [[nodiscard]] Result {
public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error e) : v_(std::move(e)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T &value() { return std::get<0>(v_); }
  const T &value() const { return std::get<0>(v_); }
  T &operator*() { return value(); }
  T *operator->() { return &value(); }
  const Error &error() const { return std::get<1>(v_); }
  Error takeError() { return std::move(std::get<1>(v_)); }

private:
  std::variant<T, Error> v_;
};

/// Result<void>: success or an Error.
template <> class [[nodiscard]] Result<void> {
public:
  Result() = default;
  Result(Error e) : e_(std::move(e)) {}
  bool ok() const { return !e_; }
  explicit operator bool() const { return ok(); }
  const Error &error() const { return *e_; }
  Error takeError() { return std::move(*e_); }

private:
  std::optional<Error> e_;
};

inline Result<void> success() { return {}; }

} // namespace cfm

/// Evaluates a Result expression; returns its error from the enclosing function if it failed,
/// otherwise yields its value.
#define CFM_TRY(expr)                                                                                        \
  ({                                                                                                         \
    auto cfm_try_r_ = (expr);                                                                                \
    if (!cfm_try_r_.ok()) return cfm_try_r_.takeError();                                                     \
    std::move(cfm_try_r_.value());                                                                           \
  })

/// CFM_TRY for a Result<void>: returns its error from the enclosing function if it failed.
#define CFM_CHECK(expr)                                                                                      \
  do {                                                                                                       \
    auto cfm_check_r_ = (expr);                                                                              \
    if (!cfm_check_r_.ok()) return cfm_check_r_.takeError();                                                 \
  } while (0)
