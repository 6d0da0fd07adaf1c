// kl_divergence.cc — per-position KL divergence and its summary (see kl_divergence.h).
#include "eval/kl_divergence.h"

#include <algorithm>
#include <cmath>

namespace maas::eval {
namespace {

// Mean and standard error from sums, as llama-perplexity computes them.
ValueWithError mean_and_error(double sum, double sum2, size_t n) {
  if (n == 0) return {};
  const double mean = sum / static_cast<double>(n);
  const double var = sum2 / static_cast<double>(n) - mean * mean;
  return {mean, var > 0 && n > 10 ? std::sqrt(var / static_cast<double>(n - 1)) : 0.0};
}

double percentile(const std::vector<double>& sorted, double fraction) {
  const double p = fraction * static_cast<double>(sorted.size() - 1);
  const size_t i = static_cast<size_t>(p);
  const double f = p - static_cast<double>(i);
  return (1 - f) * sorted[i] + f * sorted[std::min(i + 1, sorted.size() - 1)];
}

}  // namespace

void log_softmax(const double* logits, int32_t n_vocab, double* out) {
  const double mx = *std::max_element(logits, logits + n_vocab);
  double sum = 0;
  for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(logits[i] - mx);
  const double lse = mx + std::log(sum);
  for (int32_t i = 0; i < n_vocab; ++i) out[i] = logits[i] - lse;
}

KlPosition compare_position(const float* logits, const double* base_log_probs, int32_t n_vocab, int32_t token) {
  const int32_t top = static_cast<int32_t>(std::max_element(logits, logits + n_vocab) - logits);
  const int32_t top_base = static_cast<int32_t>(std::max_element(base_log_probs, base_log_probs + n_vocab) - base_log_probs);
  double sum = 0;
  for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - logits[top]);
  const double lse = logits[top] + std::log(sum);  // log p(v) = logits[v] - lse
  KlPosition r;
  for (int32_t i = 0; i < n_vocab; ++i) {
    if (base_log_probs[i] > -16.0) r.kld += std::exp(base_log_probs[i]) * (base_log_probs[i] - (logits[i] - lse));
  }
  r.nll = lse - logits[token];
  r.nll_base = -base_log_probs[token];
  r.p_diff = std::exp(-r.nll) - std::exp(-r.nll_base);
  r.same_top = top == top_base;
  return r;
}

void KlAccumulator::add(const KlPosition& p) {
  kld_.push_back(p.kld);
  sum_nll_ += p.nll;
  sum_nll2_ += p.nll * p.nll;
  sum_nll_base_ += p.nll_base;
  sum_nll_base2_ += p.nll_base * p.nll_base;
  sum_nll_nll_base_ += p.nll * p.nll_base;
  sum_kld_ += p.kld;
  sum_kld2_ += p.kld * p.kld;
  sum_p_diff2_ += p.p_diff * p.p_diff;
  sum_p_diff4_ += p.p_diff * p.p_diff * p.p_diff * p.p_diff;
  max_abs_p_diff_ = std::max(max_abs_p_diff_, std::fabs(p.p_diff));
  n_same_top_ += p.same_top ? 1 : 0;
}

KlSummary KlAccumulator::summary() const {
  KlSummary s;
  const size_t n = kld_.size();
  s.count = n;
  if (n == 0) return s;
  const ValueWithError ln_ppl = mean_and_error(sum_nll_, sum_nll2_, n);
  const ValueWithError ln_base = mean_and_error(sum_nll_base_, sum_nll_base2_, n);
  s.ppl = {std::exp(ln_ppl.value), std::exp(ln_ppl.value) * ln_ppl.error};
  s.ppl_base = {std::exp(ln_base.value), std::exp(ln_base.value) * ln_base.error};
  const double dn = static_cast<double>(n);
  const double cov = n < 10 ? 0.0 : (sum_nll_nll_base_ / dn - (sum_nll_ / dn) * (sum_nll_base_ / dn)) / (dn - 1);
  const double var_ratio = ln_ppl.error * ln_ppl.error + ln_base.error * ln_base.error - 2 * cov;
  s.ln_ppl_ratio = {ln_ppl.value - ln_base.value, std::sqrt(std::max(0.0, var_ratio))};
  s.kld = mean_and_error(sum_kld_, sum_kld2_, n);
  std::vector<double> sorted = kld_;
  std::sort(sorted.begin(), sorted.end());
  s.kld_median = percentile(sorted, 0.5);
  s.kld_p99 = percentile(sorted, 0.99);
  s.kld_max = sorted.back();
  const ValueWithError mse = mean_and_error(sum_p_diff2_, sum_p_diff4_, n);
  const double rms = std::sqrt(mse.value);
  s.rms_p_diff = {rms, rms > 0 ? 0.5 / rms * mse.error : 0.0};
  s.max_abs_p_diff = max_abs_p_diff_;
  const double top = static_cast<double>(n_same_top_) / dn;
  s.same_top = {top, n > 1 ? std::sqrt(top * (1 - top) / (dn - 1)) : 0.0};
  return s;
}

}  // namespace maas::eval
