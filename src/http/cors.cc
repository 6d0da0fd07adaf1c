// cors.cc — CORS preflight answers.
#include "http/cors.h"

namespace maas::http {

bool is_preflight(const Request& request) { return request.method == "OPTIONS"; }

void answer_preflight(Responder& responder, const std::string& allow_methods) {
  responder.send(204, {{"access-control-allow-origin", "*"},
                       {"access-control-allow-methods", allow_methods},
                       {"access-control-allow-headers", kCorsAllowHeaders},
                       {"access-control-max-age", "600"}}, "");
}

}  // namespace maas::http
