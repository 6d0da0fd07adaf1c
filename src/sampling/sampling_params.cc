// sampling_params.cc — range checks for SamplingParams (SPEC §2), naming the API field.
#include "sampling/sampling_params.h"

#include <cstdio>
#include <string>

namespace maas {
namespace {

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Written as !(in range) so that NaN, which fails every comparison, is rejected.
Status check_closed(const char* field, float v, double lo, double hi) {
  const double x = v;
  if (!(x >= lo && x <= hi)) {
    return invalid_argument(std::string(field) + " must be in [" + format_number(lo) + ", " + format_number(hi) +
                            "], got " + format_number(x));
  }
  return Status::Ok();
}

// (lo, hi]
Status check_open_closed(const char* field, float v, double lo, double hi) {
  const double x = v;
  if (!(x > lo && x <= hi)) {
    return invalid_argument(std::string(field) + " must be in (" + format_number(lo) + ", " + format_number(hi) +
                            "], got " + format_number(x));
  }
  return Status::Ok();
}

}  // namespace

Status validate_sampling_params(const SamplingParams& p, int32_t n_vocab) {
  RETURN_IF_ERROR(check_closed("temperature", p.temperature, 0.0, 2.0));
  RETURN_IF_ERROR(check_open_closed("top_p", p.top_p, 0.0, 1.0));
  if (p.top_k < -1) {
    return invalid_argument("top_k must be -1, 0 (off) or positive, got " + std::to_string(p.top_k));
  }
  RETURN_IF_ERROR(check_closed("min_p", p.min_p, 0.0, 1.0));
  RETURN_IF_ERROR(check_closed("presence_penalty", p.presence_penalty, -2.0, 2.0));
  RETURN_IF_ERROR(check_closed("frequency_penalty", p.frequency_penalty, -2.0, 2.0));
  RETURN_IF_ERROR(check_open_closed("repetition_penalty", p.repetition_penalty, 0.0, 2.0));
  if (p.n_logprobs != -1 && (p.n_logprobs < 0 || p.n_logprobs > 20)) {
    return invalid_argument("logprobs must be in [0, 20], got " + std::to_string(p.n_logprobs));
  }
  for (const auto& [id, bias] : p.logit_bias) {
    if (id < 0 || id >= n_vocab) {
      return invalid_argument("logit_bias: token id " + std::to_string(id) + " is out of range [0, " +
                              std::to_string(n_vocab) + ")");
    }
    const double b = bias;
    if (!(b >= -100.0 && b <= 100.0)) {
      return invalid_argument("logit_bias: bias for token " + std::to_string(id) + " must be in [-100, 100], got " +
                              format_number(b));
    }
  }
  return Status::Ok();
}

}  // namespace maas
