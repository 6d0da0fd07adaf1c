// api_error.h — the one place where failures become HTTP answers (ARCHITECTURE rule 5).
//
// An ApiError is what the client will see: an HTTP status and the OpenAI error body
//   {"error":{"message":str,"type":str,"param":str|null,"code":str|null}}
// Request validation builds ApiErrors directly (it knows the offending `param`); everything
// else (engine, tokenizer, internal failures) arrives as a Status and goes through
// api_error_from_status(). render_api_error() produces the status line, headers and body:
//   - Azure routes (`azure = true`) also get `x-ms-error-code: <code or type>`;
//   - 429 and 503 carry `Retry-After` (seconds) and `retry-after-ms` when retry_after_ms > 0;
//   - messages are made safe: invalid UTF-8 -> U+FFFD, cut to kMaxErrorMessageBytes on a
//     character boundary (TESTPLAN L1, L4, H7); 5xx messages never carry internals (L3).
// A default-constructed ApiError is "no error" (ok()).
// Thread safety: plain values and pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace maas::api {

inline constexpr size_t kMaxErrorMessageBytes = 1024;

struct ApiError {
  int http_status = 0;   // 0: no error
  std::string type;      // "invalid_request_error", "authentication_error", "server_error", ...
  std::string code;      // "" -> JSON null
  std::string param;     // "" -> JSON null
  std::string message;
  int retry_after_ms = 0;  // > 0: Retry-After / retry-after-ms headers

  bool ok() const { return http_status == 0; }
};

// Factories for the status codes of SPEC §2 (messages may contain user bytes; they are
// sanitised when rendered).
ApiError invalid_request(std::string message, std::string param = "", std::string code = "");  // 400
ApiError invalid_json(std::string message);                                      // 400 invalid_json
ApiError context_length_exceeded(std::string message, std::string param);       // 400
ApiError unsupported_parameter(std::string message, std::string param);         // 422 parameter_not_supported
ApiError unauthenticated();                                                      // 401 invalid_api_key
ApiError permission_denied(std::string message);                                 // 403
ApiError model_not_found(std::string_view model);                                // 404 model_not_found
ApiError route_not_found(std::string_view path);                                 // 404 not_found
ApiError method_not_allowed(std::string_view method);                            // 405
ApiError request_timeout();                                                      // 408
ApiError payload_too_large(size_t limit_bytes);                                  // 413
ApiError unsupported_media_type();                                               // 415
ApiError rate_limited(std::string message, int retry_after_ms);                  // 429 rate_limit_exceeded
ApiError overloaded(int retry_after_ms);                                         // 503 server_is_overloaded
ApiError service_unavailable(std::string message, int retry_after_ms);             // 503 service_unavailable
ApiError server_error();                                                         // 500, fixed message

// Status -> ApiError: InvalidArgument / FailedPrecondition / OutOfRange / Unimplemented 400,
// NotFound 404, Unauthenticated 401, PermissionDenied 403, AlreadyExists 409,
// DeadlineExceeded 408, Cancelled 499 (client closed), ResourceExhausted 503 overloaded,
// Unavailable 503, Internal / DataLoss 500 with a fixed message. Ok -> ok ApiError.
ApiError api_error_from_status(const Status& status);

struct HttpErrorResponse {
  int status = 500;
  std::vector<std::pair<std::string, std::string>> headers;  // content-type first
  std::string body;                                          // valid UTF-8 JSON, <= ~2 KiB
};

// The error body JSON (valid UTF-8, message sanitised and truncated).
std::string error_body_json(const ApiError& error);
HttpErrorResponse render_api_error(const ApiError& error, bool azure);

// Either a value or a (non-ok) ApiError, like StatusOr.
template <typename T>
class [[nodiscard]] ApiOr {
 public:
  ApiOr(ApiError error) : error_(std::move(error)) { CHECK(!error_.ok()); }  // NOLINT
  ApiOr(T value) : value_(std::move(value)) {}                              // NOLINT
  bool ok() const { return value_.has_value(); }
  const ApiError& error() const { return error_; }
  T& value() & { CHECK(ok()); return *value_; }
  const T& value() const& { CHECK(ok()); return *value_; }
  T&& value() && { CHECK(ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  ApiError error_;
  std::optional<T> value_;
};

}  // namespace maas::api

#define RETURN_IF_API_ERROR(expr)                          \
  do {                                                     \
    ::maas::api::ApiError maas_api_error_ = (expr);        \
    if (!maas_api_error_.ok()) return maas_api_error_;     \
  } while (0)
