// request_parser.h — the one place a completions or chat request is parsed and validated
// (ARCHITECTURE: "api: parse + validate (one place)").
//
// parse_*_request(body, options) goes from raw body bytes to a ParsedRequest (api_request.h)
// or an ApiError to send as-is (api_error.h: render_api_error). Order: body JSON
// (json_body.h), unknown fields (Azure extra-parameters), the shared fields
// (request_fields.h), the prompt / messages, the model name, tokenization, the context rule.
// Every check happens before anything is given to the engine; nothing here blocks or
// allocates more than a constant factor of the body (TESTPLAN C8, D6, H7).
//
// Prompt forms (completions): "text", ["t1", "t2"] (a batch), [1, 2, 3] (token ids),
// [[1, 2], [3]] (a batch of token ids); mixing forms is a 400 (D10). Text prompts are
// encoded with BOS and, unless ParseOptions::parse_special_in_prompt, special-token strings
// as literal text (D9); token-id prompts are used as sent (no BOS added).
// Messages (chat): roles system | user | assistant (others, "tool" included, are 400
// param messages[i].role); content a string or an array of {"type":"text","text":s} parts
// joined with "\n"; rendered by ChatRenderer (chat_render.h) with add_generation_prompt
// (default true, a request field).
// Thread safety: pure functions of their arguments (the tokenizer / renderer are immutable).
#pragma once

#include <string>
#include <string_view>

#include "api/api_error.h"
#include "api/api_request.h"
#include "chat/chat_render.h"

namespace maas::api {

ApiOr<ParsedRequest> parse_completion_request(std::string_view body, const ParseOptions& options);

// `renderer` is built once per model (chat_render.h) over options.tokenizer.
ApiOr<ParsedRequest> parse_chat_request(std::string_view body, const ParseOptions& options,
                                        const ChatRenderer& renderer);

// The Azure `extra-parameters` header (nullptr when absent -> kError): "error", "drop",
// "ignore" (= drop), "pass-through"; anything else is a 400 naming the header.
ApiOr<ExtraParameters> parse_extra_parameters_header(const std::string* value);

// "cmpl-" / "chatcmpl-" followed by 24 random hex digits.
std::string make_response_id(ApiKind kind);

}  // namespace maas::api
