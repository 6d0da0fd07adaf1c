// inference_request.h — what the gateway reads from an inference request body, and the body it
// forwards. The body is checked by the same strict parser the worker uses (api/json_body.h:
// UTF-8, depth, duplicate keys, NaN), so a body the gateway rewrites cannot mean something the
// worker would have refused; every field rule beyond that stays with the worker.
//
// Rate-limit estimate (SPEC §3): prompt tokens + max_tokens * max(n, best_of). The gateway does
// not tokenize: a text prompt counts ceil(UTF-8 bytes / 4) tokens (plus 4 per chat message for
// the template), a token-id prompt counts its ids exactly; max_tokens defaults to 16 (SPEC §2).
// The real count replaces the estimate when the request ends (RateLimiter::reconcile).
// Forwarded body: `stream_options` gains include_usage and continuous_usage_stats on streams
// (the relay removes what the client did not ask for), and a `model` naming the endpoint is
// replaced by the served model's name.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/api_error.h"

namespace maas::gateway {

struct InferenceRequest {
  nlohmann::json body;
  bool stream = false;
  bool include_usage = false;      // what the client asked for
  bool continuous_usage = false;
  int64_t estimated_tokens = 0;
  std::string forward_body;        // what goes to the worker
};

// A 400 ApiError for a body the worker would refuse as JSON (same messages).
api::ApiOr<InferenceRequest> read_inference_request(std::string_view body, bool chat, const std::string& endpoint_name,
                                                    const std::string& served_name);

}  // namespace maas::gateway
