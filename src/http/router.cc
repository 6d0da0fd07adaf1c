// router.cc — pattern matching over path segments.
#include "http/router.h"

namespace maas::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool is_param(std::string_view s) { return s.size() > 2 && s.front() == '{' && s.back() == '}'; }

}  // namespace

const std::string& Router::Match::param(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return kEmpty;
}

void Router::add(std::string method, std::string_view pattern, int route) {
  Entry e{std::move(method), {}, route};
  for (std::string_view s : split_path(pattern)) e.segments.emplace_back(s);
  entries_.push_back(std::move(e));
}

bool Router::match_segments(const Entry& e, const std::vector<std::string_view>& path, Match* m) {
  if (e.segments.size() != path.size()) return false;
  std::vector<std::pair<std::string, std::string>> params;
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string& s = e.segments[i];
    if (is_param(s)) {
      params.emplace_back(s.substr(1, s.size() - 2), std::string(path[i]));
    } else if (s != path[i]) {
      return false;
    }
  }
  if (m != nullptr) m->params = std::move(params);
  return true;
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  const std::vector<std::string_view> segments = split_path(path);
  Match m;
  std::string allowed;
  for (const Entry& e : entries_) {
    if (!match_segments(e, segments, nullptr)) continue;
    if (e.method == method || (method == "HEAD" && e.method == "GET")) {
      match_segments(e, segments, &m);
      m.kind = Match::kFound;
      m.route = e.route;
      return m;
    }
    if (allowed.find(e.method) == std::string::npos) allowed += (allowed.empty() ? "" : ", ") + e.method;
  }
  if (!allowed.empty()) {
    m.kind = Match::kMethodNotAllowed;
    m.allowed = allowed;
  }
  return m;
}

}  // namespace maas::http
