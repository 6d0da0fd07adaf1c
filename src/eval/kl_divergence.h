// kl_divergence.h — how far a run's next-token distributions are from a base run's: per position
// KL(base || run), the change in the probability of the token that came, and whether the top
// tokens agree; summarised as llama-perplexity --kl-divergence reports them.
//
// The base is given as log-probabilities (a decoded base-file record, or the exact reference's
// log-softmax); the run as raw logits. Everything is computed in double.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace maas::eval {

struct KlPosition {
  double kld = 0;       // sum_v p_base(v) (log p_base(v) - log p(v)), over p_base(v) > e^-16
  double p_diff = 0;    // p(token) - p_base(token)
  double nll = 0;       // -log p(token)
  double nll_base = 0;  // -log p_base(token)
  bool same_top = false;
};

// One position: logits of the run (n_vocab), base log-probabilities (n_vocab), the token that came.
KlPosition compare_position(const float* logits, const double* base_log_probs, int32_t n_vocab, int32_t token);

// log_softmax of double logits (the reference's) into out (n_vocab).
void log_softmax(const double* logits, int32_t n_vocab, double* out);

struct ValueWithError {
  double value = 0;
  double error = 0;  // standard error of the mean (0 below 10 samples)
};

struct KlSummary {
  size_t count = 0;
  ValueWithError ppl, ppl_base;   // perplexity of the run and of the base on the same tokens
  ValueWithError ln_ppl_ratio;    // mean ln(PPL / PPL_base), with the correlation accounted for
  ValueWithError kld;             // mean KL divergence
  double kld_median = 0, kld_p99 = 0, kld_max = 0;
  ValueWithError rms_p_diff;      // root mean square of p_diff
  double max_abs_p_diff = 0;
  ValueWithError same_top;        // share of positions whose top tokens agree
};

class KlAccumulator {
 public:
  void add(const KlPosition& p);
  size_t count() const { return kld_.size(); }
  KlSummary summary() const;

 private:
  std::vector<double> kld_;
  double sum_nll_ = 0, sum_nll2_ = 0, sum_nll_base_ = 0, sum_nll_base2_ = 0, sum_nll_nll_base_ = 0;
  double sum_kld_ = 0, sum_kld2_ = 0, sum_p_diff2_ = 0, sum_p_diff4_ = 0, max_abs_p_diff_ = 0;
  size_t n_same_top_ = 0;
};

}  // namespace maas::eval
