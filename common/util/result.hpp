// result.hpp - an expected value or an error message.
//
// Expected failures (a bad line in a file, a queue ID that does not
// validate, a database that is locked) are values of Result<T>; a broken
// invariant or a fatal start-up error throws and is caught once in main
// (FatalError in util/sysexits.hpp carries the exit code). The store's
// version of the rule is in store/database.hpp.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace etrn {

// What kind of failure an Error is, where the caller's next step depends
// on it (most errors are `other`).
enum class ErrorKind {
  other,
  refused,  // the other side refused it for good (SMTP 5xx, a permanent exit status)
  gone,     // what was asked about no longer exists (a queue file), or is another thing now
  busy,     // someone else is working on it right now (the MTA delivering it): try later
};

struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::other;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<Error>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an error.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() {
  return Ok{};
}

inline Error make_error(std::string message, ErrorKind kind = ErrorKind::other) {
  return Error{std::move(message), kind};
}

}  // namespace etrn

// Propagates an error from an expression returning Result<...>.
#define ETRN_TRY(expr)                                      \
  do {                                                      \
    auto etrn_try_result_ = (expr);                         \
    if (!etrn_try_result_) return etrn_try_result_.error(); \
  } while (0)
