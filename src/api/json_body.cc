// json_body.cc — safe JSON body parsing: UTF-8 check, depth pre-scan, duplicate-key callback.
#include "api/json_body.h"

#include <string>
#include <unordered_set>
#include <vector>

#include "api/utf8_text.h"
#include "base/utf8.h"

namespace maas::api {

int json_nesting_depth(std::string_view text, int limit) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) max_depth = depth;
      if (max_depth > limit) return limit + 1;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

namespace {

// Tracks the keys of every open object; remembers the first duplicate.
class DuplicateKeyCheck {
 public:
  bool operator()(int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) {
      open_.emplace_back();
    } else if (event == E::object_end) {
      if (!open_.empty()) open_.pop_back();
    } else if (event == E::key && !open_.empty() && parsed.is_string()) {
      if (!open_.back().insert(parsed.get_ref<const std::string&>()).second && duplicate_.empty()) {
        duplicate_ = parsed.get<std::string>();
        if (duplicate_.empty()) duplicate_ = "\"\"";
      }
    }
    return true;
  }
  const std::string& duplicate() const { return duplicate_; }

 private:
  std::vector<std::unordered_set<std::string>> open_;
  std::string duplicate_;
};

}  // namespace

ApiError parse_json_body(std::string_view body, nlohmann::json* out) {
  if (!utf8_valid(body)) return invalid_json("The request body is not valid UTF-8.");
  if (json_nesting_depth(body, kMaxJsonDepth) > kMaxJsonDepth) {
    return invalid_json("JSON nesting too deep (more than " + std::to_string(kMaxJsonDepth) + " levels).");
  }
  DuplicateKeyCheck check;
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(body.begin(), body.end(),
                                   [&check](int d, nlohmann::json::parse_event_t e, nlohmann::json& p) {
                                     return check(d, e, p);
                                   });
  } catch (const nlohmann::json::parse_error& e) {
    return invalid_json("The request body is not valid JSON (syntax error at byte " + std::to_string(e.byte) + ").");
  } catch (const nlohmann::json::out_of_range&) {  // 1e400: no double holds it
    return invalid_json("The request body holds a number out of range.");
  } catch (const nlohmann::json::exception&) {
    return invalid_json("The request body is not valid JSON.");
  }
  if (!check.duplicate().empty()) {
    return invalid_json("Duplicate key '" + truncate_utf8(check.duplicate(), 64) + "' in the request body.");
  }
  if (!parsed.is_object()) return invalid_request("The request body must be a JSON object.");
  *out = std::move(parsed);
  return ApiError{};
}

}  // namespace maas::api
