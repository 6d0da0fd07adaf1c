// content_safety.h — the gateway's content-safety hook (SPEC §1: always on for serverless
// endpoints, categories hate, sexual, violence, self_harm). It sees every prompt before it is
// forwarded and every completion (the whole body, or each streamed event) before it reaches
// the client. A blocked prompt is answered 400 `content_filter`; a blocked completion would end
// the choice with finish_reason `content_filter`. The analyzer is a later issue: today the
// pass-through implementation allows everything.
// Thread safety: implementations are called from many threads at once.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace maas::gateway {

struct SafetyVerdict {
  bool allowed = true;
  std::string category;  // "hate" | "sexual" | "violence" | "self_harm" when blocked
  std::string severity;  // "low" | "medium" | "high"
};

class ContentSafety {
 public:
  virtual ~ContentSafety() = default;
  virtual SafetyVerdict check_prompt(const nlohmann::json& request) = 0;
  virtual SafetyVerdict check_completion(std::string_view response_json) = 0;
};

class PassThroughSafety final : public ContentSafety {
 public:
  SafetyVerdict check_prompt(const nlohmann::json&) override { return {}; }
  SafetyVerdict check_completion(std::string_view) override { return {}; }
};

}  // namespace maas::gateway
