// result.h — the one Result<T> of CFM (errors are values; see STYLE.md "Errors are values"); base floor.
//
// Result<T> holds a T or an Error (a message). LLVM boundaries use llvm::Expected instead; code
// between the two converts explicitly. CFM_TRY propagates an error to the caller.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace cfm {

struct Error {
  std::string message;
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
