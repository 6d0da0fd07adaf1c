// request_parser.cc — the steps shared by completions and chat: prelude (body, unknown
// fields, shared fields, model) and assembly of the engine requests and response options.
#include "api/request_parser.h"

#include <ctime>
#include <random>

#include "api/json_body.h"
#include "api/request_fields.h"
#include "api/utf8_text.h"

namespace maas::api {

ApiError parse_request_prelude(std::string_view body, ApiKind kind, const ParseOptions& options, Json* body_json,
                               CommonFields* fields, std::vector<std::string>* ignored) {
  RETURN_IF_API_ERROR(parse_json_body(body, body_json));
  RETURN_IF_API_ERROR(check_unknown_fields(*body_json, kind, options, ignored));
  RETURN_IF_API_ERROR(parse_common_fields(*body_json, kind, options, fields));
  if (!fields->model.empty() && !options.model_name.empty() && fields->model != options.model_name) {
    return model_not_found(fields->model);
  }
  return ApiError{};
}

ApiError check_text_size(ApiKind kind, size_t text_bytes, const ParseOptions& options) {
  if (options.max_piece_bytes <= 0) return ApiError{};
  // Every token covers at most max_piece_bytes of text, so fewer tokens are impossible.
  const uint64_t min_tokens = (text_bytes + static_cast<uint64_t>(options.max_piece_bytes) - 1) /
                              static_cast<uint64_t>(options.max_piece_bytes);
  if (min_tokens < static_cast<uint64_t>(options.n_ctx)) return ApiError{};
  const bool chat = kind == ApiKind::kChat;
  return context_length_exceeded("This model's maximum context length is " + std::to_string(options.n_ctx) +
                                     " tokens; the " + (chat ? "messages" : "prompt") + " (" +
                                     std::to_string(text_bytes) + " bytes) cannot fit in it.",
                                 chat ? "messages" : "prompt");
}

ApiOr<ParsedRequest> assemble_request(ApiKind kind, const CommonFields& fields, std::vector<PromptInput> prompts,
                                      const ParseOptions& options, std::vector<std::string> ignored) {
  ParsedRequest out;
  out.ignored_fields = std::move(ignored);
  const EngineRequest& base = fields.request;
  for (size_t i = 0; i < prompts.size(); ++i) {
    EngineRequest r = base;
    r.id = prompts.size() == 1 ? options.request_id : options.request_id + "-" + std::to_string(i);
    r.prompt = std::move(prompts[i].ids);
    RETURN_IF_API_ERROR(fit_context(kind, r.prompt.size(), options, fields.max_tokens_given, &r.max_tokens));
    if (r.min_tokens > r.max_tokens) r.min_tokens = r.max_tokens;
    if (r.sampling.seed) *r.sampling.seed += static_cast<uint64_t>(i) * static_cast<uint64_t>(r.best_of);
    out.reserved_tokens += static_cast<int64_t>(r.prompt.size()) +
                           static_cast<int64_t>(r.max_tokens) * std::max(r.n, r.best_of);
    out.prompts.push_back(std::move(r));
  }
  ResponseOptions& ro = out.response;
  ro.kind = kind;
  ro.id = options.response_id.empty() ? make_response_id(kind) : options.response_id;
  ro.created = options.created != 0 ? options.created : static_cast<int64_t>(std::time(nullptr));
  ro.model = !options.model_name.empty() ? options.model_name : fields.model;
  ro.stream = base.stream;
  ro.include_usage = fields.include_usage;
  ro.continuous_usage = fields.include_usage && fields.continuous_usage;
  ro.n = base.n;
  ro.logprobs = base.logprobs;
  ro.echo = fields.echo;
  if (ro.echo) {
    for (PromptInput& p : prompts) ro.echo_text.push_back(std::move(p.echo_text));
  }
  return out;
}

ApiOr<ExtraParameters> parse_extra_parameters_header(const std::string* value) {
  if (value == nullptr || *value == "error") return ExtraParameters::kError;
  if (*value == "drop" || *value == "ignore") return ExtraParameters::kDrop;
  if (*value == "pass-through") return ExtraParameters::kPassThrough;
  return invalid_request("The 'extra-parameters' header must be 'error', 'drop', 'ignore' or 'pass-through'.",
                         "extra-parameters");
}

std::string make_response_id(ApiKind kind) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = kind == ApiKind::kChat ? "chatcmpl-" : "cmpl-";
  for (int i = 0; i < 24; ++i) id.push_back(kHex[rng() & 15]);
  return id;
}

}  // namespace maas::api
