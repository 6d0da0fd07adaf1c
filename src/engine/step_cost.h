// step_cost.h — how long an engine step takes, as a function of what it computes: the cost
// model behind the scheduler's step-time budget (scheduler.h).
//
// A step is described by its shape: tokens computed (decode tokens and prompt chunks together),
// rows sampled (one per sequence whose last token is computed: every decode, and a prompt's
// final chunk), and attention work (for every token, the positions it attends to, i.e. its
// position + 1). On a CPU the time of a step is close to linear in these: a fixed part (weights
// streamed once per step, thread joins), a part per token (the matrix products), a part per
// sampled row (the output head over the vocabulary and sampling) and a part per attended key.
//
// StepCostModel learns the four coefficients online from the steps the engine ran: an
// exponentially weighted least-squares fit (recent steps count most, so it follows a machine
// whose load changes) with a light ridge pull toward a prior and coefficients kept >= 0 (so the
// prediction never falls when a step grows, and the scheduler's search for the largest prompt
// chunk that fits is a plain bisection). It holds on any machine and model size because nothing
// in it is a constant of the model: the prior only matters for the first few steps.
// A least-squares fit predicts a step's mean time; the steps clients feel are the slow ones (a
// noisy machine, page faults, a thread descheduled). overrun() is the 95th percentile of
// measured / predicted time over the last kOverrunWindow steps that took long enough to matter,
// so the scheduler can plan a budgeted step at budget / overrun() and have 95% of such steps land
// within the budget itself: on a quiet machine it stays near 1, on a busy one it grows.
// Tests give the scheduler a fake StepCost instead.
// Thread safety: engine thread only (coefficients() may be copied out for metrics there).
#pragma once

#include <array>
#include <cstdint>

namespace maas {

struct StepShape {
  int32_t n_tokens = 0;   // tokens computed (decodes + prompt chunk tokens)
  int32_t n_rows = 0;     // rows sampled (sequences whose last token is computed this step)
  int64_t n_attend = 0;   // sum over tokens of the keys each attends to (position + 1)
  int32_t n_decode = 0;   // of n_tokens: generated tokens (one per decoding sequence)
  int32_t n_prefill = 0;  // of n_tokens: prompt tokens (and recomputed ones after preemption)

  // Adds a chunk of `n` tokens starting at position `start`; `sampled` when it ends its sequence.
  void add_chunk(int32_t start, int32_t n, bool sampled, bool decode);
};

// The seam the scheduler plans with.
class StepCost {
 public:
  virtual ~StepCost() = default;
  // Predicted seconds for a step of this shape; never decreases when any field grows.
  virtual double predict(const StepShape& shape) const = 0;
  // A high quantile of measured / predicted step time, >= 1: how much longer than predicted a
  // step may run. 1 for a cost that is exact (tests).
  virtual double overrun() const { return 1.0; }
};

class StepCostModel : public StepCost {
 public:
  // Coefficients: seconds per step, per token, per sampled row, per 1024 attended keys.
  using Coefficients = std::array<double, 4>;
  // The prior: a small, fast model on a few cores (1B-class on 2 cores is ~5x slower per token).
  static constexpr Coefficients kPrior = {0.005, 0.001, 0.001, 0.00002};

  // overrun(): steps predicted shorter than kOverrunMinSeconds do not count (their relative
  // jitter is large and they never threaten a budget); fewer than kOverrunMinSteps counted
  // steps give 1; the result is capped at kOverrunMax.
  static constexpr int kOverrunWindow = 128;
  static constexpr int kOverrunMinSteps = 16;
  static constexpr double kOverrunMinSeconds = 0.02;
  static constexpr double kOverrunMax = 1.5;

  explicit StepCostModel(Coefficients prior = kPrior, double forgetting = 0.97);
  double predict(const StepShape& shape) const override;
  double overrun() const override { return overrun_; }
  // Feeds back one step that ran: its shape and its measured wall time.
  void observe(const StepShape& shape, double seconds);
  const Coefficients& coefficients() const { return theta_; }
  int64_t n_observed() const { return n_observed_; }

 private:
  void refit();
  void record_ratio(double predicted, double seconds);

  Coefficients prior_;
  double forgetting_;
  std::array<std::array<double, 4>, 4> xtx_{};  // weighted sum of x x^T (scaled features)
  std::array<double, 4> xty_{};                 // weighted sum of x y
  Coefficients theta_;                          // in seconds per unscaled unit
  int64_t n_observed_ = 0;
  std::array<float, kOverrunWindow> ratios_{};  // measured / predicted, a ring
  int32_t n_ratios_ = 0;                        // filled entries (<= kOverrunWindow)
  int32_t next_ratio_ = 0;                      // where the next one goes
  double overrun_ = 1.0;
};

}  // namespace maas
