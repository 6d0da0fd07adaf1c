// step_cost.cc — the step shape and the online least-squares step cost model (see step_cost.h).
#include "engine/step_cost.h"

#include <algorithm>

namespace maas {
namespace {

// Features are scaled to similar magnitudes for one typical busy step, so that one ridge weight
// suits all four and the Gauss-Seidel sweeps converge quickly: a step, 64 tokens, 16 rows, 64 Ki
// attended keys (the coefficients are kept per unscaled unit: per token, per row, per 1024 keys).
constexpr std::array<double, 4> kScale = {1.0, 64.0, 16.0, 64.0};
constexpr double kRidge = 0.3;  // pull toward the prior, in units of one step's evidence
constexpr int kSweeps = 60;

std::array<double, 4> features(const StepShape& s) {
  return {1.0, s.n_tokens / kScale[1], s.n_rows / kScale[2], static_cast<double>(s.n_attend) / 1024.0 / kScale[3]};
}

}  // namespace

void StepShape::add_chunk(int32_t start, int32_t n, bool sampled, bool decode) {
  n_tokens += n;
  n_rows += sampled ? 1 : 0;
  // Positions start .. start + n - 1 attend to start + 1 .. start + n keys.
  n_attend += static_cast<int64_t>(n) * start + static_cast<int64_t>(n) * (n + 1) / 2;
  (decode ? n_decode : n_prefill) += n;
}

StepCostModel::StepCostModel(Coefficients prior, double forgetting)
    : prior_(prior), forgetting_(forgetting), theta_(prior) {}

double StepCostModel::predict(const StepShape& s) const {
  return theta_[0] + theta_[1] * s.n_tokens + theta_[2] * s.n_rows +
         theta_[3] * (static_cast<double>(s.n_attend) / 1024.0);
}

void StepCostModel::observe(const StepShape& shape, double seconds) {
  if (shape.n_tokens <= 0 || !(seconds >= 0)) return;
  record_ratio(predict(shape), seconds);
  const std::array<double, 4> x = features(shape);
  for (size_t i = 0; i < 4; ++i) {
    for (size_t j = 0; j < 4; ++j) xtx_[i][j] = forgetting_ * xtx_[i][j] + x[i] * x[j];
    xty_[i] = forgetting_ * xty_[i] + x[i] * seconds;
  }
  ++n_observed_;
  refit();
}

// The prediction the step was planned with (before this step refits the model) against what it took.
void StepCostModel::record_ratio(double predicted, double seconds) {
  if (predicted < kOverrunMinSeconds) return;
  ratios_[static_cast<size_t>(next_ratio_)] = static_cast<float>(seconds / predicted);
  next_ratio_ = (next_ratio_ + 1) % kOverrunWindow;
  n_ratios_ = std::min(n_ratios_ + 1, kOverrunWindow);
  if (n_ratios_ < kOverrunMinSteps) return;
  std::array<float, kOverrunWindow> r = ratios_;
  const auto end = r.begin() + n_ratios_;
  const auto q = r.begin() + (n_ratios_ * 95) / 100;  // the 95th percentile (nearest rank, low)
  std::nth_element(r.begin(), q, end);
  overrun_ = std::clamp(static_cast<double>(*q), 1.0, kOverrunMax);
}

// Minimises sum w (y - x.theta)^2 + ridge |theta - prior|^2 over theta >= 0 (scaled units) by
// projected Gauss-Seidel, warm-started from the current fit: the system is 4x4 and positive
// definite (the ridge term), so a few dozen sweeps converge.
void StepCostModel::refit() {
  std::array<double, 4> t{}, p{};
  for (size_t i = 0; i < 4; ++i) {
    t[i] = theta_[i] * kScale[i];
    p[i] = prior_[i] * kScale[i];
  }
  for (int sweep = 0; sweep < kSweeps; ++sweep) {
    for (size_t i = 0; i < 4; ++i) {
      double rhs = xty_[i] + kRidge * p[i];
      for (size_t j = 0; j < 4; ++j) {
        if (j != i) rhs -= xtx_[i][j] * t[j];
      }
      t[i] = std::max(0.0, rhs / (xtx_[i][i] + kRidge));
    }
  }
  for (size_t i = 0; i < 4; ++i) theta_[i] = t[i] / kScale[i];
}

}  // namespace maas
