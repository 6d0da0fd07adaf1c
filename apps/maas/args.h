// args.h — command-line flags for the maas subcommands: `--name value`, `--name=value`,
// boolean `--flag`, and positionals. Unknown flags are errors (a typo must not be ignored).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"

namespace maas {

class Args {
 public:
  // value_flags take a value; bool_flags do not. Anything else starting with "--" is an error.
  static StatusOr<Args> parse(const std::vector<std::string>& argv, const std::set<std::string>& value_flags,
                              const std::set<std::string>& bool_flags);

  bool has(const std::string& flag) const { return values_.count(flag) > 0 || bools_.count(flag) > 0; }
  std::string get(const std::string& flag, const std::string& fallback = "") const;
  // Every value of a repeatable flag, in order.
  std::vector<std::string> get_all(const std::string& flag) const;
  StatusOr<long long> get_int(const std::string& flag, long long fallback, long long lo, long long hi) const;
  StatusOr<double> get_double(const std::string& flag, double fallback, double lo, double hi) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;  // last value of each flag
  std::multimap<std::string, std::string> all_values_;
  std::set<std::string> bools_;
  std::vector<std::string> positional_;
};

}  // namespace maas
