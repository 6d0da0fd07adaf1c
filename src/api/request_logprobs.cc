// request_logprobs.cc — the two shapes of the logprobs request fields.
//   completions: logprobs int in [0, 20] (SPEC §2; OpenAI caps it at 5, maas follows SPEC),
//                echo bool; echo + logprobs also returns the prompt's logprobs (not streamable).
//   chat:        logprobs bool (OpenAI) with top_logprobs int in [0, 20], which requires
//                logprobs: true; or the seed's int form logprobs: k (then no top_logprobs).
#include "api/request_fields.h"

namespace maas::api {
namespace {

ApiError parse_completion_logprobs(const Json& body, CommonFields* out) {
  EngineRequest& r = out->request;
  if (const Json* v = find_field(body, "logprobs")) {
    int64_t k = 0;
    RETURN_IF_API_ERROR(as_int(*v, "logprobs", 0, kMaxLogprobs, &k));
    r.logprobs = static_cast<int32_t>(k);
  }
  RETURN_IF_API_ERROR(get_bool(body, "echo", &out->echo));
  r.echo_logprobs = out->echo && r.logprobs >= 0;
  if (r.echo_logprobs && r.stream) {
    return invalid_request("'echo' with 'logprobs' cannot be streamed.", "echo");
  }
  return ApiError{};
}

ApiError parse_chat_logprobs(const Json& body, CommonFields* out) {
  EngineRequest& r = out->request;
  const Json* lp = find_field(body, "logprobs");
  const Json* top = find_field(body, "top_logprobs");
  bool enabled = false;
  if (lp && lp->is_number_integer()) {
    int64_t k = 0;
    RETURN_IF_API_ERROR(as_int(*lp, "logprobs", 0, kMaxLogprobs, &k));
    if (top) return invalid_request("Use 'top_logprobs' with 'logprobs': true, not with an integer.", "top_logprobs");
    r.logprobs = static_cast<int32_t>(k);
    return ApiError{};
  }
  if (lp && !lp->is_boolean()) return type_error("logprobs", "a boolean", *lp);
  if (lp) enabled = lp->get<bool>();
  int64_t k = 0;
  if (top) {
    RETURN_IF_API_ERROR(as_int(*top, "top_logprobs", 0, kMaxLogprobs, &k));
    if (!enabled) return invalid_request("'top_logprobs' requires 'logprobs' to be true.", "top_logprobs");
  }
  if (enabled) r.logprobs = static_cast<int32_t>(k);
  return ApiError{};
}

}  // namespace

ApiError parse_logprob_fields(const Json& body, ApiKind kind, CommonFields* out) {
  return kind == ApiKind::kCompletion ? parse_completion_logprobs(body, out) : parse_chat_logprobs(body, out);
}

}  // namespace maas::api
