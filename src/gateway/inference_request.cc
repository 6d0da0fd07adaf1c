// inference_request.cc — body parsing, the token estimate and the forwarded body.
#include "gateway/inference_request.h"

#include <algorithm>

#include "api/json_body.h"

namespace maas::gateway {
namespace {

using Json = nlohmann::json;

int64_t text_tokens(const std::string& s) { return static_cast<int64_t>((s.size() + 3) / 4); }

int64_t prompt_tokens(const Json& body, bool chat) {
  int64_t n = 0;
  if (chat) {
    auto m = body.find("messages");
    if (m == body.end() || !m->is_array()) return 0;
    for (const Json& msg : *m) {
      n += 4;
      if (!msg.is_object()) continue;
      auto c = msg.find("content");
      if (c == msg.end()) continue;
      if (c->is_string()) n += text_tokens(c->get<std::string>());
      if (c->is_array()) {
        for (const Json& part : *c) {
          if (part.is_object() && part.contains("text") && part["text"].is_string()) {
            n += text_tokens(part["text"].get<std::string>());
          }
        }
      }
    }
    return n;
  }
  auto p = body.find("prompt");
  if (p == body.end()) return 0;
  if (p->is_string()) return text_tokens(p->get<std::string>());
  if (!p->is_array()) return 0;
  for (const Json& e : *p) {
    if (e.is_string()) n += text_tokens(e.get<std::string>());
    else if (e.is_number_integer()) n += 1;
    else if (e.is_array()) n += static_cast<int64_t>(e.size());
  }
  return n;
}

// A positive integer field, or `fallback` when absent or not one (the worker rejects it then).
int64_t int_field(const Json& body, const char* name, int64_t fallback, int64_t cap) {
  auto f = body.find(name);
  if (f == body.end() || !f->is_number_integer()) return fallback;
  const uint64_t u = f->is_number_unsigned() ? f->get<uint64_t>() : 0;
  const int64_t v = f->is_number_unsigned() ? (u > static_cast<uint64_t>(cap) ? cap : static_cast<int64_t>(u))
                                            : f->get<int64_t>();
  return std::clamp<int64_t>(v, 1, cap);
}

}  // namespace

api::ApiOr<InferenceRequest> read_inference_request(std::string_view body, bool chat, const std::string& endpoint_name,
                                                    const std::string& served_name) {
  InferenceRequest r;
  RETURN_IF_API_ERROR(api::parse_json_body(body, &r.body));
  Json& b = r.body;
  if (auto s = b.find("stream"); s != b.end() && s->is_boolean()) r.stream = s->get<bool>();
  Json* so = nullptr;
  if (auto it = b.find("stream_options"); it != b.end() && it->is_object()) so = &*it;
  if (so != nullptr) {
    if (auto u = so->find("include_usage"); u != so->end() && u->is_boolean()) r.include_usage = u->get<bool>();
    if (auto c = so->find("continuous_usage_stats"); c != so->end() && c->is_boolean()) {
      r.continuous_usage = c->get<bool>() && r.include_usage;
    }
  }
  const int64_t max_tokens = int_field(b, b.contains("max_completion_tokens") ? "max_completion_tokens" : "max_tokens",
                                       16, int64_t{1} << 40);
  const int64_t n = int_field(b, "n", 1, 1 << 20);
  const int64_t best_of = int_field(b, "best_of", 1, 1 << 20);
  r.estimated_tokens = prompt_tokens(b, chat) + max_tokens * std::max(n, best_of);

  // The forwarded body: usage on every chunk of a stream (fields of the wrong type are left
  // alone so the worker refuses them as it would have).
  Json fwd = b;
  if (r.stream && (so == nullptr || so->is_object())) {
    Json& fso = fwd["stream_options"];
    if (!fso.contains("include_usage") || fso["include_usage"].is_boolean()) fso["include_usage"] = true;
    if (!fso.contains("continuous_usage_stats") || fso["continuous_usage_stats"].is_boolean()) {
      fso["continuous_usage_stats"] = true;
    }
  }
  if (auto m = fwd.find("model"); m != fwd.end() && m->is_string() && m->get<std::string>() == endpoint_name) {
    *m = served_name;
  }
  r.forward_body = fwd.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

}  // namespace maas::gateway
