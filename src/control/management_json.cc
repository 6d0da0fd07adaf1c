// management_json.cc — resources as JSON for the management API, times and prices.
#include <cmath>
#include <cstdio>
#include <ctime>

#include "control/management_api.h"

namespace maas {

std::string iso_time(int64_t unix_ms) {
  if (unix_ms <= 0) return "";
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof(out), "%s.%03dZ", buf, static_cast<int>(unix_ms % 1000));
  return out;
}

StatusOr<int64_t> parse_time(const std::string& text, int64_t now_ms) {
  if (text.empty()) return invalid_argument("since must be a time");
  const char unit = text.back();
  if ((unit == 'h' || unit == 'd' || unit == 'm') && text.size() > 1 &&
      text.find_first_not_of("0123456789") == text.size() - 1) {
    const int64_t n = std::stoll(text.substr(0, text.size() - 1));
    const int64_t ms = unit == 'd' ? 86400000 : unit == 'h' ? 3600000 : 60000;
    if (n > 36500) return invalid_argument("since is too far back");
    return now_ms - n * ms;
  }
  if (text.find_first_not_of("0123456789") == std::string::npos && text.size() <= 15) return std::stoll(text);
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char tail = 0;
  const int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &tail);
  if (!(n == 3 && text.size() == 10) && !(n == 7 && tail == 'Z')) {
    return invalid_argument("since must be unix milliseconds, YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or a duration like 24h");
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return invalid_argument("since is not a valid date");
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

double usd_per_1k(int64_t micro) { return static_cast<double>(micro) / 1e6; }

StatusOr<int64_t> micro_from_usd(double usd) {
  if (!(usd >= 0 && usd <= 1000)) return invalid_argument("prices must be between 0 and 1000 USD per 1K tokens");
  return static_cast<int64_t>(std::llround(usd * 1e6));
}

OJson offering_json(const Offering& o) {
  OJson j;
  j["id"] = o.id;
  j["model"] = o.model_name;
  j["publisher"] = o.publisher;
  j["offer_id"] = o.offer_id;
  j["plan_id"] = o.plan_id;
  j["price_input_per_1k"] = usd_per_1k(o.price_input_micro);
  j["price_output_per_1k"] = usd_per_1k(o.price_output_micro);
  j["currency"] = "USD";
  j["meters"] = OJson::array({"input_tokens", "output_tokens", "fine_tuning"});
  j["terms"] = o.terms;
  j["updated_at"] = iso_time(o.updated_at);
  return j;
}

OJson model_json(const Model& m, const Offering* offering) {
  OJson j;
  j["name"] = m.name;
  j["display_name"] = m.display_name;
  j["publisher"] = m.publisher;
  j["family"] = m.family;
  j["task"] = m.task;
  j["license"] = m.license;
  j["parameters"] = m.parameters;
  j["context_length"] = m.context_length;
  j["description"] = m.description;
  j["custom"] = m.custom;
  j["weights"] = m.weights_path.empty() ? OJson(nullptr)
                                        : OJson{{"path", m.weights_path},
                                                {"sha256", m.weights_sha256},
                                                {"bytes", m.weights_bytes},
                                                {"registered_at", iso_time(m.weights_registered_at)}};
  j["serverless_instances"] = m.serverless_instances;
  if (offering != nullptr) j["offering"] = offering_json(*offering);
  return j;
}

OJson subscription_json(const Subscription& s, const std::string& workspace_name) {
  OJson j;
  j["id"] = s.id;
  j["name"] = s.name;
  j["workspace"] = workspace_name;
  j["offering"] = s.offering_id;
  j["model"] = s.model_name;
  j["state"] = s.state;
  j["terms_accepted_at"] = iso_time(s.terms_accepted_at);
  j["created_at"] = iso_time(s.created_at);
  return j;
}

}  // namespace maas
