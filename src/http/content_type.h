// content_type.h — media types of request bodies: the inference APIs take JSON only (a missing
// or other Content-Type is 415, TESTPLAN A4), shared by the worker and the gateway.
// Thread safety: pure functions.
#pragma once

#include "http/http.h"

namespace maas::http {

// True when Content-Type is application/json, in any case, optionally with parameters
// ("application/json; charset=utf-8").
bool is_json_content_type(const Request& request);

}  // namespace maas::http
