// router.h — method + path routing for the worker's API and the platform's management API.
//
// Patterns are absolute paths whose segments are literal ("workspaces") or a parameter
// ("{name}", matching exactly one non-empty segment). Matching is case-sensitive over the
// transport's normalised path (http.h), so `/V1/models` is not `/v1/models` (TESTPLAN B7).
// A path that matches some pattern under another method gives kMethodNotAllowed with the
// allowed methods (for the 405 `allow` header); HEAD matches GET routes. Routes are tried in
// the order added; the first match wins.
// Thread safety: add() before use; match() is const and may run on any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace maas::http {

class Router {
 public:
  void add(std::string method, std::string_view pattern, int route);

  struct Match {
    enum Kind { kFound, kMethodNotAllowed, kNotFound } kind = kNotFound;
    int route = -1;
    std::vector<std::pair<std::string, std::string>> params;  // by name, in path order
    std::string allowed;                                       // "GET, POST" for kMethodNotAllowed
    const std::string& param(std::string_view name) const;    // "" when absent
  };
  Match match(std::string_view method, std::string_view path) const;

 private:
  struct Entry {
    std::string method;
    std::vector<std::string> segments;  // "{x}" marks a parameter
    int route;
  };
  static bool match_segments(const Entry& e, const std::vector<std::string_view>& path, Match* m);
  std::vector<Entry> entries_;
};

}  // namespace maas::http
