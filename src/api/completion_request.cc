// completion_request.cc — POST /v1/completions and /completions: the `prompt` forms.
#include <string>
#include <vector>

#include "api/request_fields.h"
#include "api/request_parser.h"
#include "tokenizer/tokenizer.h"

namespace maas::api {
namespace {

const char* const kPromptForms =
    "'prompt' must be a non-empty string, an array of strings, an array of token ids or an array of token id arrays.";

ApiError token_ids(const Json& arr, const std::string& param, int32_t n_vocab, std::vector<int32_t>* out) {
  if (arr.empty()) return invalid_request("'" + param + "' must not be empty.", param);
  out->reserve(arr.size());
  for (const Json& v : arr) {
    if (!v.is_number_integer()) return invalid_request(kPromptForms, param);
    const bool in_vocab = v.is_number_unsigned() ? v.get<uint64_t>() < static_cast<uint64_t>(n_vocab)
                                                 : v.get<int64_t>() >= 0 && v.get<int64_t>() < n_vocab;
    if (!in_vocab) {
      return invalid_request("Token id " + v.dump() + " in '" + param + "' is out of vocabulary (size " +
                                 std::to_string(n_vocab) + ").",
                             param);
    }
    out->push_back(static_cast<int32_t>(v.get<int64_t>()));
  }
  return ApiError{};
}

ApiError text_prompt(const Json& v, const std::string& param, const ParseOptions& options, PromptInput* out) {
  if (!v.is_string()) return invalid_request(kPromptForms, param);
  const std::string& text = v.get_ref<const std::string&>();
  if (text.empty()) return invalid_request("'" + param + "' must be non-empty.", param);
  RETURN_IF_API_ERROR(check_text_size(ApiKind::kCompletion, text.size(), options));
  out->ids = options.tokenizer->encode(text, /*add_special=*/true, options.parse_special_in_prompt);
  out->echo_text = text;
  return ApiError{};
}

ApiError id_prompt(const Json& v, const std::string& param, const ParseOptions& options, PromptInput* out) {
  RETURN_IF_API_ERROR(token_ids(v, param, options.n_vocab, &out->ids));
  if (out->ids.size() > static_cast<size_t>(options.n_ctx)) return ApiError{};  // fit_context reports it
  out->echo_text = options.tokenizer->decode(out->ids, /*skip_special=*/false);
  return ApiError{};
}

// The element kind of an array prompt decides its form; every element must share it (D10).
ApiError parse_prompt(const Json& body, const ParseOptions& options, std::vector<PromptInput>* out) {
  const Json* p = find_field(body, "prompt");
  if (!p) return invalid_request("'prompt' is required.", "prompt");
  if (p->is_string()) return text_prompt(*p, "prompt", options, &out->emplace_back());
  if (!p->is_array()) return invalid_request(kPromptForms, "prompt");
  if (p->empty()) return invalid_request("'prompt' must not be empty.", "prompt");
  if ((*p)[0].is_number_integer()) return id_prompt(*p, "prompt", options, &out->emplace_back());
  const bool strings = (*p)[0].is_string();
  if (!strings && !(*p)[0].is_array()) return invalid_request(kPromptForms, "prompt");
  if (p->size() > kMaxPrompts) {
    return invalid_request("'prompt' may hold at most " + std::to_string(kMaxPrompts) + " prompts.", "prompt");
  }
  for (size_t i = 0; i < p->size(); ++i) {
    const std::string param = "prompt[" + std::to_string(i) + "]";
    const Json& v = (*p)[i];
    if (strings) {
      RETURN_IF_API_ERROR(text_prompt(v, param, options, &out->emplace_back()));
    } else {
      if (!v.is_array()) return invalid_request(kPromptForms, param);
      RETURN_IF_API_ERROR(id_prompt(v, param, options, &out->emplace_back()));
    }
  }
  return ApiError{};
}

}  // namespace

ApiOr<ParsedRequest> parse_completion_request(std::string_view body, const ParseOptions& options) {
  CHECK(options.tokenizer != nullptr);
  Json json;
  CommonFields fields;
  std::vector<std::string> ignored;
  RETURN_IF_API_ERROR(parse_request_prelude(body, ApiKind::kCompletion, options, &json, &fields, &ignored));
  std::vector<PromptInput> prompts;
  RETURN_IF_API_ERROR(parse_prompt(json, options, &prompts));
  return assemble_request(ApiKind::kCompletion, fields, std::move(prompts), options, std::move(ignored));
}

}  // namespace maas::api
