// cors.h — cross-origin requests from browsers (TESTPLAN B8). A preflight (`OPTIONS`) is
// answered by the transport's user without running any handler and without a key: 204 with
// the allowed methods and headers. Actual responses may carry `access-control-allow-origin`.
// Thread safety: pure functions.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "http/http.h"

namespace maas::http {

inline constexpr const char* kCorsAllowHeaders =
    "authorization, api-key, content-type, extra-parameters, x-request-id, idempotency-key, azureml-model-deployment";

bool is_preflight(const Request& request);  // method OPTIONS
// 204 with access-control-allow-{origin,methods,headers} and max-age 600.
void answer_preflight(Responder& responder, const std::string& allow_methods = "GET, POST, OPTIONS");

}  // namespace maas::http
