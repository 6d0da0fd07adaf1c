// args.cc — flag parsing for the CLI.
#include "args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace maas {

StatusOr<Args> Args::parse(const std::vector<std::string>& argv, const std::set<std::string>& value_flags,
                           const std::set<std::string>& bool_flags) {
  Args a;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& s = argv[i];
    if (s.size() < 2 || s[0] != '-' || s == "-") {
      a.positional_.push_back(s);
      continue;
    }
    std::string name = s, value;
    bool has_value = false;
    if (size_t eq = s.find('='); eq != std::string::npos) {
      name = s.substr(0, eq);
      value = s.substr(eq + 1);
      has_value = true;
    }
    if (bool_flags.count(name)) {
      if (has_value) return invalid_argument(name + " takes no value");
      a.bools_.insert(name);
    } else if (value_flags.count(name)) {
      if (!has_value) {
        if (i + 1 >= argv.size()) return invalid_argument(name + " needs a value");
        value = argv[++i];
      }
      a.values_[name] = value;
      a.all_values_.emplace(name, value);
    } else {
      return invalid_argument("unknown option " + name);
    }
  }
  return a;
}

std::string Args::get(const std::string& flag, const std::string& fallback) const {
  auto it = values_.find(flag);
  return it == values_.end() ? fallback : it->second;
}

std::vector<std::string> Args::get_all(const std::string& flag) const {
  std::vector<std::string> out;
  auto [b, e] = all_values_.equal_range(flag);
  for (auto it = b; it != e; ++it) out.push_back(it->second);
  return out;
}

StatusOr<long long> Args::get_int(const std::string& flag, long long fallback, long long lo, long long hi) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return fallback;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (errno != 0 || end == it->second.c_str() || *end != '\0' || v < lo || v > hi) {
    return invalid_argument(flag + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return v;
}

StatusOr<double> Args::get_double(const std::string& flag, double fallback, double lo, double hi) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return fallback;
  char* end = nullptr;
  double v = std::strtod(it->second.c_str(), &end);
  if (end == it->second.c_str() || *end != '\0' || !(v >= lo && v <= hi)) {
    return invalid_argument(flag + " must be a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return v;
}

}  // namespace maas
