// Failure as a value (STYLE.md rule 4): a small closed set of codes, each there because some
// caller reacts to it differently. Messages may name identifiers and files, never record
// contents or patient data.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/check.h"

namespace hokan {

enum class StatusCode {
  kOk,
  kInvalidArgument,  // The request is malformed; retrying won't help.
  kNotFound,
  kAlreadyExists,
  kUnauthenticated,     // We don't know who is asking.
  kPermissionDenied,    // We know, and they may not do this.
  kFailedPrecondition,  // Not allowed in the current state.
  kUnavailable,         // Transient (disk full, busy); a retry may help.
  kDataLoss,            // Stored bytes are corrupt or were tampered with.
  kInternal,            // A bug in this program.
};

// Stable lower-case name of a code ("not_found"), used in JSON and on the command line.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK.
  Status(StatusCode code, std::string message);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "context: message", same code. OK stays OK.
  Status WithContext(std::string_view context) const;
  // "not_found: message".
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

std::ostream& operator<<(std::ostream& os, const Status& status);

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExistsError(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status UnauthenticatedError(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status PermissionDeniedError(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status FailedPreconditionError(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DataLossError(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// A T, or the non-OK Status that explains why there is none. Member names follow C++23
// std::expected<T, Status>, so moving to it later is a rename.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Status error) : value_(std::move(error)) {  // NOLINT(google-explicit-constructor)
    HK_CHECK(!std::get<Status>(value_).ok());
  }

  bool has_value() const { return std::holds_alternative<T>(value_); }
  explicit operator bool() const { return has_value(); }

  T& value() & { return Get(); }
  const T& value() const& { return Get(); }
  T&& value() && { return std::move(Get()); }
  T& operator*() & { return Get(); }
  const T& operator*() const& { return Get(); }
  T&& operator*() && { return std::move(Get()); }
  T* operator->() { return &Get(); }
  const T* operator->() const { return &Get(); }

  // The error; OK when there is a value.
  Status error() const { return has_value() ? OkStatus() : std::get<Status>(value_); }

 private:
  T& Get() {
    HK_CHECK(has_value());
    return std::get<T>(value_);
  }
  const T& Get() const {
    HK_CHECK(has_value());
    return std::get<T>(value_);
  }
  std::variant<T, Status> value_;
};

// The Status of a Status or of a Result<T>; used by matchers and macros.
inline Status StatusOf(const Status& s) { return s; }
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.error();
}

}  // namespace hokan

#define HK_CONCAT_INNER_(a, b) a##b
#define HK_CONCAT_(a, b) HK_CONCAT_INNER_(a, b)

// Macro parameters below are identifiers and declarations, which cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
// The status variable is named by line, so a lambda inside `expr` may use the macro too.
#define HK_RETURN_IF_ERROR(expr) HK_RETURN_IF_ERROR_IMPL_(HK_CONCAT_(hk_status_, __LINE__), expr)
#define HK_RETURN_IF_ERROR_IMPL_(status, expr) \
  do {                                         \
    ::hokan::Status status = (expr);           \
    if (!status.ok()) return status;           \
  } while (false)

// Several statements: never the body of an unbraced `if`.
#define HK_ASSIGN_OR_RETURN(lhs, rexpr) \
  HK_ASSIGN_OR_RETURN_IMPL_(HK_CONCAT_(hk_result_, __LINE__), lhs, rexpr)
#define HK_ASSIGN_OR_RETURN_IMPL_(result, lhs, rexpr) \
  auto result = (rexpr);                              \
  if (!result) return result.error();                 \
  lhs = std::move(result).value()
// NOLINTEND(bugprone-macro-parentheses)
