// api_error.cc — Status / validation failure -> HTTP status, headers and OpenAI error JSON.
#include "api/api_error.h"

#include <string>

#include <nlohmann/json.hpp>

#include "api/utf8_text.h"

namespace maas::api {
namespace {

constexpr const char* kInvalid = "invalid_request_error";
constexpr size_t kMaxEchoedName = 128;  // bytes of a user-supplied name quoted in a message

ApiError make(int status, std::string type, std::string code, std::string param, std::string message,
              int retry_after_ms = 0) {
  ApiError e;
  e.http_status = status;
  e.type = std::move(type);
  e.code = std::move(code);
  e.param = std::move(param);
  e.message = std::move(message);
  e.retry_after_ms = retry_after_ms;
  return e;
}

nlohmann::ordered_json null_if_empty(const std::string& s) {
  if (s.empty()) return nullptr;
  return truncate_utf8(s, kMaxEchoedName * 2);
}

}  // namespace

ApiError invalid_request(std::string message, std::string param, std::string code) {
  return make(400, kInvalid, std::move(code), std::move(param), std::move(message));
}
ApiError invalid_json(std::string message) { return make(400, kInvalid, "invalid_json", "", std::move(message)); }
ApiError context_length_exceeded(std::string message, std::string param) {
  return make(400, kInvalid, "context_length_exceeded", std::move(param), std::move(message));
}
ApiError unsupported_parameter(std::string message, std::string param) {
  return make(422, kInvalid, "parameter_not_supported", std::move(param), std::move(message));
}
ApiError unauthenticated() {
  return make(401, "authentication_error", "invalid_api_key", "",
              "Incorrect or missing API key. Provide it as 'Authorization: Bearer <key>' or 'api-key: <key>'.");
}
ApiError permission_denied(std::string message) {
  return make(403, "permission_error", "permission_denied", "", std::move(message));
}
ApiError model_not_found(std::string_view model) {
  return make(404, kInvalid, "model_not_found", "model",
              "The model '" + truncate_utf8(model, kMaxEchoedName) + "' does not exist.");
}
ApiError route_not_found(std::string_view path) {
  return make(404, kInvalid, "not_found", "", "No route for '" + truncate_utf8(path, kMaxEchoedName) + "'.");
}
ApiError method_not_allowed(std::string_view method) {
  return make(405, kInvalid, "method_not_allowed", "",
              "Method '" + truncate_utf8(method, 16) + "' is not allowed on this route.");
}
ApiError request_timeout() { return make(408, kInvalid, "request_timeout", "", "The request timed out."); }
ApiError payload_too_large(size_t limit_bytes) {
  return make(413, kInvalid, "request_too_large", "",
              "The request body is larger than " + std::to_string(limit_bytes) + " bytes.");
}
ApiError unsupported_media_type() {
  return make(415, kInvalid, "unsupported_media_type", "", "Content-Type must be application/json.");
}
ApiError rate_limited(std::string message, int retry_after_ms) {
  return make(429, "rate_limit_error", "rate_limit_exceeded", "", std::move(message), retry_after_ms);
}
ApiError overloaded(int retry_after_ms) {
  return make(503, "server_error", "server_is_overloaded", "", "The server is overloaded; retry later.",
              retry_after_ms);
}
ApiError service_unavailable(std::string message, int retry_after_ms) {
  return make(503, "server_error", "service_unavailable", "", std::move(message), retry_after_ms);
}
ApiError server_error() {
  return make(500, "server_error", "server_error", "", "The server had an error while processing your request.");
}

ApiError api_error_from_status(const Status& status) {
  const std::string& m = status.message();
  switch (status.code()) {
    case StatusCode::kOk: return ApiError{};
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kOutOfRange:
    case StatusCode::kUnimplemented: return invalid_request(m);
    case StatusCode::kNotFound: return make(404, kInvalid, "not_found", "", m);
    case StatusCode::kUnauthenticated: return unauthenticated();
    case StatusCode::kPermissionDenied: return permission_denied(m);
    case StatusCode::kAlreadyExists: return make(409, kInvalid, "conflict", "", m);
    case StatusCode::kDeadlineExceeded: return request_timeout();
    case StatusCode::kCancelled: return make(499, kInvalid, "cancelled", "", "The request was cancelled.");
    case StatusCode::kResourceExhausted: return overloaded(1000);
    case StatusCode::kUnavailable: return service_unavailable(m.empty() ? "The model is not ready." : m, 1000);
    case StatusCode::kDataLoss:
    case StatusCode::kInternal: return server_error();
  }
  return server_error();
}

std::string error_body_json(const ApiError& error) {
  nlohmann::ordered_json e;
  // 5xx: a fixed text, never internals (TESTPLAN L3); the factories above already comply,
  // this guards hand-built errors.
  const bool internal = error.http_status >= 500 && error.http_status != 503;
  e["message"] = internal ? server_error().message : truncate_utf8(error.message, kMaxErrorMessageBytes);
  e["type"] = error.type.empty() ? std::string(kInvalid) : error.type;
  e["param"] = null_if_empty(error.param);
  e["code"] = null_if_empty(error.code);
  nlohmann::ordered_json body;
  body["error"] = std::move(e);
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

HttpErrorResponse render_api_error(const ApiError& error, bool azure) {
  HttpErrorResponse r;
  r.status = error.ok() ? 500 : error.http_status;
  r.headers.emplace_back("content-type", "application/json");
  if (azure) r.headers.emplace_back("x-ms-error-code", !error.code.empty() ? error.code : error.type);
  if (error.retry_after_ms > 0) {
    r.headers.emplace_back("retry-after", std::to_string((error.retry_after_ms + 999) / 1000));
    r.headers.emplace_back("retry-after-ms", std::to_string(error.retry_after_ms));
  }
  r.body = error_body_json(error.ok() ? server_error() : error);
  return r;
}

}  // namespace maas::api
