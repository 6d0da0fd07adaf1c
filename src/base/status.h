// status.h — recoverable errors as values (after LevelDB's Status and Abseil's StatusOr).
//
// Every function that can fail on user input or the outside world returns Status or
// StatusOr<T>; invariants use CHECK (check.h). Both types are [[nodiscard]]. Status is cheap to
// copy when ok (no allocation). Thread safety: values, no shared state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/check.h"

namespace maas {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong (bad request, bad file contents)
  kNotFound,            // a named thing does not exist (file, tensor, key, model)
  kOutOfRange,          // a value past a limit (context length, vocabulary)
  kUnimplemented,       // valid but not supported (tensor type, architecture)
  kDataLoss,            // truncated or corrupt data
  kResourceExhausted,   // queue full, cache full, too large
  kFailedPrecondition,  // wrong state for the operation
  kUnavailable,         // loading, draining, try again later
  kCancelled,           // the client went away
  kDeadlineExceeded,    // a timeout
  kUnauthenticated,
  kPermissionDenied,
  kAlreadyExists,
  kInternal,            // a bug or an unexpected system failure
};

std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: message", or "OK".
  std::string to_string() const;
  // Returns a copy whose message is "context: message" (for adding where an error happened).
  Status with_context(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status out_of_range(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status data_loss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status resource_exhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status failed_precondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status internal_error(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status already_exists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status permission_denied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status deadline_exceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }

// StatusOr<T>: either a value or a non-ok Status. Accessing the value of an error is a CHECK
// failure (a bug), so callers test ok() first or use ASSIGN_OR_RETURN.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : status_(std::move(status)) { CHECK(!status_.ok()); }  // NOLINT
  StatusOr(T value) : value_(std::move(value)) {}                                 // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { CHECK(ok()); return *value_; }
  const T& value() const& { CHECK(ok()); return *value_; }
  T&& value() && { CHECK(ok()); return std::move(*value_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace maas

#define MAAS_CONCAT_INNER(a, b) a##b
#define MAAS_CONCAT(a, b) MAAS_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::maas::Status maas_status_ = (expr);          \
    if (!maas_status_.ok()) return maas_status_;   \
  } while (0)

#define MAAS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

// ASSIGN_OR_RETURN(auto x, f()) declares x from f()'s value or returns f()'s error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  MAAS_ASSIGN_OR_RETURN_IMPL(MAAS_CONCAT(maas_statusor_, __LINE__), lhs, expr)
