// request_fields.cc — the shared request fields of SPEC §2: types, ranges, cross-field rules.
#include "api/request_fields.h"

#include <limits>

#include "sampling/sampling_params.h"

namespace maas::api {
namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

ApiError parse_stream(const Json& body, CommonFields* out) {
  RETURN_IF_API_ERROR(get_bool(body, "stream", &out->request.stream));
  const Json* so = find_field(body, "stream_options");
  if (!so) return ApiError{};
  if (!so->is_object()) return type_error("stream_options", "an object", *so);
  if (!out->request.stream) {
    return invalid_request("'stream_options' is only allowed when 'stream' is true.", "stream_options");
  }
  if (const Json* u = find_field(*so, "include_usage")) {
    RETURN_IF_API_ERROR(as_bool(*u, "stream_options.include_usage", &out->include_usage));
  }
  if (const Json* c = find_field(*so, "continuous_usage_stats")) {
    RETURN_IF_API_ERROR(as_bool(*c, "stream_options.continuous_usage_stats", &out->continuous_usage));
  }
  return ApiError{};
}

ApiError parse_seed(const Json& body, SamplingParams* p) {
  const Json* v = find_field(body, "seed");
  if (!v) return ApiError{};
  int64_t seed = 0;
  RETURN_IF_API_ERROR(
      as_int(*v, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), &seed));
  p->seed = static_cast<uint64_t>(seed);
  return ApiError{};
}

ApiError parse_sampling(const Json& body, SamplingParams* p) {
  RETURN_IF_API_ERROR(get_float(body, "temperature", 0.0, 2.0, false, &p->temperature));
  RETURN_IF_API_ERROR(get_float(body, "top_p", 0.0, 1.0, true, &p->top_p));
  RETURN_IF_API_ERROR(get_int32(body, "top_k", -1, kInt32Max, &p->top_k));
  RETURN_IF_API_ERROR(get_float(body, "min_p", 0.0, 1.0, false, &p->min_p));
  RETURN_IF_API_ERROR(get_float(body, "presence_penalty", -2.0, 2.0, false, &p->presence_penalty));
  RETURN_IF_API_ERROR(get_float(body, "frequency_penalty", -2.0, 2.0, false, &p->frequency_penalty));
  RETURN_IF_API_ERROR(get_float(body, "repetition_penalty", 0.0, 2.0, true, &p->repetition_penalty));
  return parse_seed(body, p);
}

ApiError parse_counts(const Json& body, ApiKind kind, CommonFields* out) {
  EngineRequest& r = out->request;
  RETURN_IF_API_ERROR(get_int32(body, "n", 1, kMaxN, &r.n));
  r.best_of = r.n;
  if (const Json* b = find_field(body, "best_of")) {
    int64_t best_of = 0;
    RETURN_IF_API_ERROR(as_int(*b, "best_of", 1, kInt32Max, &best_of));
    if (best_of < r.n) return invalid_request("'best_of' must be greater than or equal to 'n'.", "best_of");
    if (best_of > r.n && best_of > kMaxBestOf) {
      return invalid_request("'best_of' must be at most " + std::to_string(kMaxBestOf) + ".", "best_of");
    }
    r.best_of = static_cast<int32_t>(best_of);
  }
  const bool has_mt = find_field(body, "max_tokens") != nullptr;
  const bool has_mct = kind == ApiKind::kChat && find_field(body, "max_completion_tokens") != nullptr;
  if (has_mt && has_mct) {
    return invalid_request("Send either 'max_tokens' or 'max_completion_tokens', not both.", "max_completion_tokens");
  }
  RETURN_IF_API_ERROR(get_int32(body, has_mct ? "max_completion_tokens" : "max_tokens", 1, kInt32Max, &r.max_tokens));
  out->max_tokens_given = has_mt || has_mct;
  RETURN_IF_API_ERROR(get_int32(body, "min_tokens", 0, kInt32Max, &r.min_tokens));
  if (r.min_tokens > r.max_tokens) {  // against the default 16 too
    return invalid_request("'min_tokens' must be less than or equal to 'max_tokens'.", "min_tokens");
  }
  return ApiError{};
}

ApiError parse_stop(const Json& body, EngineRequest* r) {
  const Json* v = find_field(body, "stop");
  if (!v) return ApiError{};
  std::vector<const Json*> items;
  if (v->is_string()) {
    items.push_back(v);
  } else if (v->is_array()) {
    if (v->size() > kMaxStop) return invalid_request("'stop' may hold at most 4 strings.", "stop");
    for (const Json& s : *v) items.push_back(&s);
  } else {
    return type_error("stop", "a string or an array of strings", *v);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string param = v->is_array() ? "stop[" + std::to_string(i) + "]" : "stop";
    std::string s;
    RETURN_IF_API_ERROR(as_string(*items[i], param, &s));
    if (s.empty()) return invalid_request("Stop strings must be non-empty.", param);
    if (s.size() > kMaxStopBytes) {
      return invalid_request("Stop strings must be at most " + std::to_string(kMaxStopBytes) + " bytes.", param);
    }
    r->stop.push_back(std::move(s));
  }
  return ApiError{};
}

ApiError parse_stop_token_ids(const Json& body, int32_t n_vocab, EngineRequest* r) {
  const Json* v = find_field(body, "stop_token_ids");
  if (!v) return ApiError{};
  if (!v->is_array()) return type_error("stop_token_ids", "an array of token ids", *v);
  if (v->size() > kMaxTokenIdList) return invalid_request("'stop_token_ids' has too many entries.", "stop_token_ids");
  for (size_t i = 0; i < v->size(); ++i) {
    int64_t id = 0;
    RETURN_IF_API_ERROR(as_int((*v)[i], "stop_token_ids[" + std::to_string(i) + "]", 0, n_vocab - 1, &id));
    r->stop_token_ids.push_back(static_cast<int32_t>(id));
  }
  return ApiError{};
}

ApiError parse_generation_flags(const Json& body, const ParseOptions& options, EngineRequest* r) {
  r->ignore_eos = options.default_ignore_eos;
  RETURN_IF_API_ERROR(get_bool(body, "ignore_eos", &r->ignore_eos));
  RETURN_IF_API_ERROR(get_bool(body, "skip_special_tokens", &r->skip_special_tokens));
  RETURN_IF_API_ERROR(get_bool(body, "include_stop_str_in_output", &r->include_stop_str_in_output));
  RETURN_IF_API_ERROR(get_bool(body, "use_beam_search", &r->use_beam_search));
  // vLLM's scheduling priority: lower runs first; any 32-bit integer.
  RETURN_IF_API_ERROR(get_int32(body, "priority", -kInt32Max - 1, kInt32Max, &r->priority));
  RETURN_IF_API_ERROR(parse_stop(body, r));
  return parse_stop_token_ids(body, options.n_vocab, r);
}

// Keys are decimal token ids ("0", "128000"), no sign, no leading zeros.
ApiError parse_logit_bias(const Json& body, int32_t n_vocab, SamplingParams* p) {
  const Json* v = find_field(body, "logit_bias");
  if (!v) return ApiError{};
  if (!v->is_object()) return type_error("logit_bias", "an object", *v);
  if (v->size() > kMaxTokenIdList) return invalid_request("'logit_bias' has too many entries.", "logit_bias");
  for (const auto& [key, value] : v->items()) {
    const bool digits = !key.empty() && key.size() <= 10 && key.find_first_not_of("0123456789") == std::string::npos &&
                        (key.size() == 1 || key[0] != '0');
    const int64_t id = digits ? std::stoll(key) : -1;
    if (id < 0 || id >= n_vocab) {
      return invalid_request("'logit_bias' keys must be token ids in [0, " + std::to_string(n_vocab) + ").",
                             "logit_bias");
    }
    double bias = 0;
    RETURN_IF_API_ERROR(as_number(value, "logit_bias", -100.0, 100.0, false, &bias));
    p->logit_bias.emplace_back(static_cast<int32_t>(id), static_cast<float>(bias));
  }
  return ApiError{};
}

}  // namespace

ApiError parse_logprob_fields(const Json& body, ApiKind kind, CommonFields* out);  // request_logprobs.cc
ApiError check_unsupported_features(const Json& body, ApiKind kind);              // request_policy.cc

ApiError parse_common_fields(const Json& body, ApiKind kind, const ParseOptions& options, CommonFields* out) {
  EngineRequest& r = out->request;
  if (const Json* m = find_field(body, "model")) RETURN_IF_API_ERROR(as_string(*m, "model", &out->model));
  if (const Json* u = find_field(body, "user")) {
    std::string user;
    RETURN_IF_API_ERROR(as_string(*u, "user", &user));
  }
  RETURN_IF_API_ERROR(parse_stream(body, out));
  RETURN_IF_API_ERROR(parse_counts(body, kind, out));
  RETURN_IF_API_ERROR(parse_sampling(body, &r.sampling));
  RETURN_IF_API_ERROR(parse_generation_flags(body, options, &r));
  RETURN_IF_API_ERROR(parse_logit_bias(body, options.n_vocab, &r.sampling));
  RETURN_IF_API_ERROR(parse_logprob_fields(body, kind, out));
  RETURN_IF_API_ERROR(check_unsupported_features(body, kind));
  RETURN_IF_API_ERROR(parse_response_format(body, &r));
  if (r.stream && r.best_of > r.n) {
    return invalid_request("'best_of' greater than 'n' cannot be streamed.", "best_of");
  }
  if (r.use_beam_search) {
    if (r.best_of < 2) return invalid_request("Beam search needs 'best_of' (or 'n') > 1.", "use_beam_search");
    if (r.sampling.temperature != 0.0f) return invalid_request("Beam search needs 'temperature' 0.", "temperature");
    if (r.stream) return invalid_request("Beam search cannot be streamed.", "stream");
    if (r.json_grammar) return invalid_request("Beam search cannot follow a 'response_format'.", "use_beam_search");
  }
  r.sampling.n_logprobs = r.logprobs;
  const Status s = validate_sampling_params(r.sampling, options.n_vocab);  // defence in depth
  if (!s.ok()) {
    const std::string& m = s.message();
    return invalid_request(m, m.substr(0, m.find(' ')));
  }
  return ApiError{};
}

}  // namespace maas::api
