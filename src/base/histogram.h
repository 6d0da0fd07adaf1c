// histogram.h — a latency histogram with fixed bucket bounds, and the Prometheus text
// exposition helpers, shared by the worker's /metrics and the platform's.
// Thread safety: Histogram methods may be called from any thread (one mutex per histogram).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace maas {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);  // ascending upper bounds (seconds)
  void observe(double seconds);
  // Appends "name_bucket{labels,le=...}", "_sum", "_count" lines (labels may be empty).
  void render(const std::string& name, const std::string& labels, std::string& out) const;
  uint64_t count() const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // guarded by mu_; one per bound, plus +Inf
  double sum_ = 0;                // guarded by mu_
  uint64_t count_ = 0;            // guarded by mu_
};

namespace prom {
std::string number(double v);  // shortest exact text ("%.17g")
// "# HELP name text\n# TYPE name type\n".
void help(std::string& out, const std::string& name, const char* type, const char* text);
// "name{labels} value\n" ("name value\n" when labels is empty).
void sample(std::string& out, const std::string& name, const std::string& labels, double value);
// A label value escaped for the exposition format (backslash, quote, newline).
std::string escape_label(const std::string& value);
}  // namespace prom

}  // namespace maas
