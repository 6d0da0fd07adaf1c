// sse_relay.cc — event framing, usage extraction and rewriting.
#include "gateway/sse_relay.h"

#include <nlohmann/json.hpp>

namespace maas::gateway {
namespace {

constexpr std::string_view kUsageKey = ",\"usage\":";
constexpr std::string_view kFinishKey = "\"finish_reason\":\"";

}  // namespace

bool SseRelay::take_usage(std::string_view json, size_t* usage_key) {
  *usage_key = json.rfind(kUsageKey);
  if (*usage_key == std::string_view::npos || json.empty() || json.back() != '}') return false;
  // The object between ,"usage": and the chunk's closing brace.
  std::string_view value = json.substr(*usage_key + kUsageKey.size());
  value.remove_suffix(1);
  if (value == "null") return true;
  nlohmann::json u = nlohmann::json::parse(value, nullptr, false);
  if (!u.is_object()) {
    nlohmann::json whole = nlohmann::json::parse(json, nullptr, false);
    if (!whole.is_object() || !whole.contains("usage") || !whole["usage"].is_object()) return false;
    u = whole["usage"];
  }
  usage_.prompt_tokens = u.value("prompt_tokens", usage_.prompt_tokens);
  usage_.completion_tokens = u.value("completion_tokens", usage_.completion_tokens);
  usage_.seen = true;
  return true;
}

std::string SseRelay::relay_event(std::string_view payload) {
  if (payload == "[DONE]") {
    saw_done_ = true;
    return "";
  }
  if (payload.rfind("{\"error\"", 0) == 0) {
    saw_error_ = true;
    return "data: " + std::string(payload) + "\n\n";
  }
  if (size_t f = payload.rfind(kFinishKey); f != std::string_view::npos) {
    const size_t start = f + kFinishKey.size();
    const size_t end = payload.find('"', start);
    if (end != std::string_view::npos) finish_reason_ = std::string(payload.substr(start, end - start));
  }
  size_t key = 0;
  const bool has_usage = take_usage(payload, &key);
  if (continuous_ || !has_usage) return "data: " + std::string(payload) + "\n\n";
  const bool usage_only = payload.find("\"choices\":[]") != std::string_view::npos;
  if (usage_only) return include_usage_ ? "data: " + std::string(payload) + "\n\n" : "";
  std::string out = "data: ";
  out.append(payload.substr(0, key));
  out += include_usage_ ? ",\"usage\":null}" : "}";
  out += "\n\n";
  return out;
}

std::string SseRelay::feed(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  size_t pos = 0;
  for (;;) {
    const size_t end = pending_.find("\n\n", pos);
    if (end == std::string::npos) break;
    std::string_view event(pending_.data() + pos, end - pos);
    pos = end + 2;
    if (event.rfind("data: ", 0) == 0) {
      out += relay_event(event.substr(6));
    } else if (!event.empty()) {
      out.append(event);  // comments or other fields pass as they are
      out += "\n\n";
    }
  }
  pending_.erase(0, pos);
  return out;
}

}  // namespace maas::gateway
