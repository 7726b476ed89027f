// ec2_error.h — the error value of the net floor: an EC2 error code (ec2_errors.def) and a message,
// the two things cfm-cloud writes into `<Response><Errors><Error><Code>/<Message>`; and
// Ec2Result<T>, a T or such an error (errors are values, STYLE.md; base's Result carries a message
// only, and the server needs the code to choose the document and the HTTP status).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cfm::net {

enum class Ec2Error {
#define X(name, code, status) name,
#include "net/ec2_errors.def"
#undef X
};

/// The code as written in the error document ("SignatureDoesNotMatch").
std::string_view ec2ErrorCode(Ec2Error e);
/// The HTTP status EC2 answers with for this code.
int ec2HttpStatus(Ec2Error e);

/// A refused request: what cfm-cloud turns into the EC2 error document.
struct Ec2Failure {
  Ec2Error code;
  std::string message; // lowercase, says what is wrong ("signed header `host` is missing")
};

template <typename T> class [[nodiscard]] Ec2Result {
public:
  Ec2Result(T value) : v_(std::move(value)) {}
  Ec2Result(Ec2Failure f) : v_(std::move(f)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T &value() { return std::get<0>(v_); }
  const T &value() const { return std::get<0>(v_); }
  T &operator*() { return value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }
  const Ec2Failure &failure() const { return std::get<1>(v_); }
  Ec2Failure takeFailure() { return std::move(std::get<1>(v_)); }

private:
  std::variant<T, Ec2Failure> v_;
};

inline Ec2Failure ec2Fail(Ec2Error code, std::string message) { return Ec2Failure{code, std::move(message)}; }

} // namespace cfm::net

/// CFM_TRY for Ec2Result: returns the failure from the enclosing function, else yields the value.
#define CFM_NET_TRY(expr)                                                                                    \
  ({                                                                                                         \
    auto cfm_net_try_r_ = (expr);                                                                            \
    if (!cfm_net_try_r_.ok()) return cfm_net_try_r_.takeFailure();                                           \
    std::move(cfm_net_try_r_.value());                                                                       \
  })
