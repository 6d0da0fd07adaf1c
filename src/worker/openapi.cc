// openapi.cc — the OpenAPI 3 document of the worker's inference API (SPEC §2).
#include <nlohmann/json.hpp>

#include "worker/worker_server.h"

namespace maas {
namespace {

using Json = nlohmann::ordered_json;

Json ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }

Json json_body(const std::string& schema) {
  return {{"required", true}, {"content", {{"application/json", {{"schema", ref(schema)}}}}}};
}

Json responses(const std::string& ok_schema, bool stream) {
  Json ok = {{"description", "OK"}, {"content", {{"application/json", {{"schema", ref(ok_schema)}}}}}};
  if (stream) ok["content"]["text/event-stream"] = {{"schema", {{"type", "string"}}}};
  Json err = {{"description", "Error"}, {"content", {{"application/json", {{"schema", ref("Error")}}}}}};
  return {{"200", ok}, {"400", err}, {"401", err}, {"404", err}, {"413", err}, {"422", err}, {"429", err},
          {"500", err}, {"503", err}};
}

Json post_op(const std::string& id, const std::string& summary, const std::string& req, const std::string& resp, bool stream) {
  return {{"post", {{"operationId", id}, {"summary", summary}, {"requestBody", json_body(req)}, {"responses", responses(resp, stream)}}}};
}

Json get_op(const std::string& id, const std::string& summary, const std::string& resp) {
  return {{"get", {{"operationId", id}, {"summary", summary}, {"responses", responses(resp, false)}}}};
}

Json sampling_properties() {
  Json num = {{"type", "number"}};
  Json integer = {{"type", "integer"}};
  return {
      {"model", {{"type", "string"}}},
      {"stream", {{"type", "boolean"}, {"default", false}}},
      {"max_tokens", {{"type", "integer"}, {"minimum", 1}, {"default", 16}}},
      {"temperature", {{"type", "number"}, {"minimum", 0}, {"maximum", 2}, {"default", 1}}},
      {"top_p", {{"type", "number"}, {"exclusiveMinimum", true}, {"minimum", 0}, {"maximum", 1}, {"default", 1}}},
      {"top_k", integer}, {"min_p", num},
      {"n", {{"type", "integer"}, {"minimum", 1}, {"maximum", 128}, {"default", 1}}},
      {"best_of", {{"type", "integer"}, {"minimum", 1}, {"maximum", 20}}},
      {"stop", {{"oneOf", Json::array({{{"type", "string"}}, {{"type", "array"}, {"maxItems", 4}, {"items", {{"type", "string"}}}}})}}},
      {"presence_penalty", {{"type", "number"}, {"minimum", -2}, {"maximum", 2}}},
      {"frequency_penalty", {{"type", "number"}, {"minimum", -2}, {"maximum", 2}}},
      {"repetition_penalty", num},
      {"seed", integer},
      {"ignore_eos", {{"type", "boolean"}, {"default", false}}},
      {"use_beam_search", {{"type", "boolean"}, {"default", false}}},
      {"priority", {{"type", "integer"}, {"default", 0}, {"description", "Scheduling priority: lower runs first; ties in arrival order."}}},
      {"stop_token_ids", {{"type", "array"}, {"items", integer}}},
      {"skip_special_tokens", {{"type", "boolean"}, {"default", true}}},
      {"include_stop_str_in_output", {{"type", "boolean"}}},
      {"min_tokens", integer},
      {"logit_bias", {{"type", "object"}, {"additionalProperties", num}}},
      {"stream_options", {{"type", "object"}, {"properties", {{"include_usage", {{"type", "boolean"}}}}}}},
      {"user", {{"type", "string"}}},
  };
}

Json schemas() {
  Json usage = {{"type", "object"}, {"properties", {{"prompt_tokens", {{"type", "integer"}}}, {"completion_tokens", {{"type", "integer"}}}, {"total_tokens", {{"type", "integer"}}}}}};
  Json completion_req = {{"type", "object"}, {"required", Json::array({"prompt"})}, {"properties", sampling_properties()}};
  completion_req["properties"]["prompt"] = {{"oneOf", Json::array({{{"type", "string"}}, {{"type", "array"}, {"items", {{"type", "string"}}}},
                                                                   {{"type", "array"}, {"items", {{"type", "integer"}}}},
                                                                   {{"type", "array"}, {"items", {{"type", "array"}, {"items", {{"type", "integer"}}}}}}})}};
  completion_req["properties"]["logprobs"] = {{"type", "integer"}, {"minimum", 0}, {"maximum", 20}};
  completion_req["properties"]["echo"] = {{"type", "boolean"}};
  Json str = {{"type", "string"}};
  Json part = {{"type", "object"}, {"properties", {{"type", str}, {"text", str}}}};
  Json parts = {{"type", "array"}, {"items", part}};
  Json content = {{"oneOf", Json::array({str, parts})}};
  Json role = {{"type", "string"}, {"enum", Json::array({"system", "user", "assistant"})}};
  Json message = {{"type", "object"}, {"required", Json::array({"role", "content"})},
                  {"properties", {{"role", role}, {"content", content}}}};
  Json chat_req = {{"type", "object"}, {"required", Json::array({"messages"})}, {"properties", sampling_properties()}};
  chat_req["properties"]["messages"] = {{"type", "array"}, {"minItems", 1}, {"items", message}};
  chat_req["properties"]["logprobs"] = {{"oneOf", Json::array({{{"type", "boolean"}}, {{"type", "integer"}}})}};
  chat_req["properties"]["top_logprobs"] = {{"type", "integer"}, {"minimum", 0}, {"maximum", 20}};
  Json finish = {{"type", "string"}, {"nullable", true}};
  Json completion = {{"type", "object"}, {"properties", {{"id", {{"type", "string"}}}, {"object", {{"type", "string"}}}, {"created", {{"type", "integer"}}}, {"model", {{"type", "string"}}},
      {"choices", {{"type", "array"}, {"items", {{"type", "object"}, {"properties", {{"index", {{"type", "integer"}}}, {"text", {{"type", "string"}}}, {"logprobs", {{"type", "object"}, {"nullable", true}}}, {"finish_reason", finish}}}}}}}, {"usage", usage}}}};
  Json chat = completion;
  chat["properties"]["choices"]["items"]["properties"].erase("text");
  chat["properties"]["choices"]["items"]["properties"]["message"] = {{"type", "object"}, {"properties", {{"role", {{"type", "string"}}}, {"content", {{"type", "string"}}}}}};
  Json error = {{"type", "object"}, {"properties", {{"error", {{"type", "object"}, {"properties", {{"message", {{"type", "string"}}}, {"type", {{"type", "string"}}}, {"param", {{"type", "string"}, {"nullable", true}}}, {"code", {{"type", "string"}, {"nullable", true}}}}}}}}}};
  Json status = {{"type", "object"}, {"properties", {{"status", {{"type", "string"}}}}}};
  Json info = {{"type", "object"}, {"properties", {{"model_name", {{"type", "string"}}}, {"model_type", {{"type", "string"}}}, {"model_provider_name", {{"type", "string"}}}}}};
  Json models = {{"type", "object"}, {"properties", {{"object", {{"type", "string"}}}, {"data", {{"type", "array"}, {"items", {{"type", "object"}, {"properties", {{"id", {{"type", "string"}}}, {"object", {{"type", "string"}}}, {"created", {{"type", "integer"}}}, {"owned_by", {{"type", "string"}}}, {"max_model_len", {{"type", "integer"}}}}}}}}}}}};
  Json tok_req = {{"type", "object"}, {"required", Json::array({"prompt"})}, {"properties", {{"prompt", {{"type", "string"}}}, {"add_special_tokens", {{"type", "boolean"}}}}}};
  Json tok_resp = {{"type", "object"}, {"properties", {{"tokens", {{"type", "array"}, {"items", {{"type", "integer"}}}}}, {"count", {{"type", "integer"}}}, {"max_model_len", {{"type", "integer"}}}}}};
  Json detok_req = {{"type", "object"}, {"required", Json::array({"tokens"})}, {"properties", {{"tokens", {{"type", "array"}, {"items", {{"type", "integer"}}}}}}}};
  Json detok_resp = {{"type", "object"}, {"properties", {{"prompt", {{"type", "string"}}}}}};
  return {{"CompletionRequest", completion_req}, {"ChatRequest", chat_req}, {"Completion", completion}, {"ChatCompletion", chat},
          {"Error", error}, {"Status", status}, {"Info", info}, {"ModelList", models}, {"TokenizeRequest", tok_req},
          {"TokenizeResponse", tok_resp}, {"DetokenizeRequest", detok_req}, {"DetokenizeResponse", detok_resp},
          {"Metrics", {{"type", "string"}}}, {"OpenApiDocument", {{"type", "object"}}}};
}

std::string build() {
  Json paths = {
      {"/v1/completions", post_op("createCompletion", "Text completion (OpenAI style)", "CompletionRequest", "Completion", true)},
      {"/v1/chat/completions", post_op("createChatCompletion", "Chat completion (OpenAI style)", "ChatRequest", "ChatCompletion", true)},
      {"/completions", post_op("azureCompletion", "Text completion (Azure AI Model Inference)", "CompletionRequest", "Completion", true)},
      {"/chat/completions", post_op("azureChatCompletion", "Chat completion (Azure AI Model Inference)", "ChatRequest", "ChatCompletion", true)},
      {"/info", get_op("getModelInfo", "The served model", "Info")},
      {"/v1/models", get_op("listModels", "OpenAI model list", "ModelList")},
      {"/tokenize", post_op("tokenize", "Text to token ids", "TokenizeRequest", "TokenizeResponse", false)},
      {"/detokenize", post_op("detokenize", "Token ids to text", "DetokenizeRequest", "DetokenizeResponse", false)},
      {"/health", get_op("health", "Liveness", "Status")},
      {"/health/live", get_op("healthLive", "Liveness", "Status")},
      {"/health/ready", get_op("healthReady", "Readiness (503 while loading or draining)", "Status")},
      {"/metrics", get_op("metrics", "Prometheus metrics", "Metrics")},
      {"/openapi.json", get_op("openapi", "This OpenAPI document", "OpenApiDocument")},
  };
  for (const char* p : {"/completions", "/chat/completions"}) {
    paths[p]["post"]["parameters"] = Json::array({
        {{"name", "api-version"}, {"in", "query"}, {"required", false}, {"schema", {{"type", "string"}}}},
        {{"name", "extra-parameters"}, {"in", "header"}, {"required", false},
         {"schema", {{"type", "string"}, {"enum", Json::array({"error", "drop", "ignore", "pass-through"})}}}}});
  }
  Json doc = {{"openapi", "3.0.3"},
              {"info", {{"title", "maas inference API"}, {"version", "1.0.0"}}},
              {"paths", paths},
              {"components", {{"schemas", schemas()},
                              {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
                                                   {"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "api-key"}}}}}}},
              {"security", Json::array({{{"bearer", Json::array()}}, {{"apiKey", Json::array()}}})}};
  return doc.dump(2);
}

}  // namespace

const std::string& openapi_document() {
  static const std::string doc = build();
  return doc;
}

}  // namespace maas
