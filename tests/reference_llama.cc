// reference_llama.cc — the double-precision reference forward pass (see reference_llama.h).
//
//   h_0 = E[tokens]
//   for each block l:
//     a   = RMSNorm(h) * g_attn;   q = Wq a, k = Wk a, v = Wv a   (per head, GQA groups)
//     q,k = RoPE(q), RoPE(k)  on adjacent pairs (2i, 2i+1), theta_i = pos * base^(-2i/d) / f_i
//     o   = softmax(q k^T / sqrt(d) + causal mask) v
//     h   = h + Wo o
//     m   = RMSNorm(h) * g_ffn;   h = h + Wdown (silu(Wgate m) * (Wup m))
//   logits = Wout (RMSNorm(h) * g_out)
#include "tests/reference_llama.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "kernels/kernels.h"

namespace maas::testing {
namespace {

using Vec = std::vector<double>;
using Mat = std::vector<Vec>;  // rows

struct Tensor {
  std::vector<int64_t> ne;
  Mat rows;  // ne[1] rows of ne[0]; 1 row for vectors
};

Tensor load(const GgufFile& f, const std::string& name) {
  const GgufTensorInfo* t = f.find_tensor(name);
  Tensor out;
  if (t == nullptr) return out;
  out.ne = t->ne;
  int64_t cols = t->ne[0], n_rows = t->ne.size() > 1 ? t->ne[1] : 1;
  size_t row_bytes = ggml_row_size(t->type, cols);
  std::vector<float> tmp(static_cast<size_t>(cols));
  for (int64_t r = 0; r < n_rows; ++r) {
    dequantize_row(t->type, t->data + r * row_bytes, tmp.data(), cols);
    out.rows.emplace_back(tmp.begin(), tmp.end());
  }
  return out;
}

// Row r of a matrix (empty if the tensor is missing).
Vec load_row(const GgufFile& f, const std::string& name, int64_t r) {
  const GgufTensorInfo* t = f.find_tensor(name);
  if (t == nullptr || r < 0 || r >= (t->ne.size() > 1 ? t->ne[1] : 1)) return {};
  const int64_t cols = t->ne[0];
  std::vector<float> tmp(static_cast<size_t>(cols));
  dequantize_row(t->type, t->data + r * ggml_row_size(t->type, cols), tmp.data(), cols);
  return Vec(tmp.begin(), tmp.end());
}

// Y[t] = W X[t] for every token t, arranged so that the vector units do the work and every dot
// product still adds its terms one by one, in column order (the lanes are tokens, not columns):
// a block of kBlock tokens is transposed (xt[c][j] = X[t0 + j][c]); four weight rows at a time
// multiply kLanes tokens of it, each weight element broadcast against a vector of the tokens'
// activations; the four rows stay in cache while they meet every token of the block.
// (maas-referee runs 1B-shape models through this: ~1 TFLOP per 512-token chunk.)
constexpr size_t kLanes = 16, kRows = 4, kBlock = 64;
typedef double Lanes8 __attribute__((vector_size(8 * sizeof(double))));

// s[i][j] = sum over c of a[i][c] * xt[c * stride + j], for i < kRows, j < kLanes. Compiled
// for AVX-512, AVX2 and baseline x86-64; the loader picks the widest the CPU has.
__attribute__((target_clones("avx512f", "avx2", "default")))
void dot_rows(const double* const a[kRows], const double* xt, size_t stride, size_t cols, double s[kRows][kLanes]) {
  Lanes8 acc[kRows][2] = {};
  for (size_t c = 0; c < cols; ++c) {
    Lanes8 x0, x1;
    std::memcpy(&x0, xt + c * stride, sizeof x0);
    std::memcpy(&x1, xt + c * stride + 8, sizeof x1);
    for (size_t i = 0; i < kRows; ++i) {
      const double w = a[i][c];
      acc[i][0] += w * x0;
      acc[i][1] += w * x1;
    }
  }
  for (size_t i = 0; i < kRows; ++i) std::memcpy(s[i], acc[i], sizeof acc[i]);
}

Mat matmul(const Mat& w, const Mat& x) {
  const size_t n = x.size(), n_rows = w.size(), cols = n_rows == 0 ? 0 : w[0].size();
  Mat y(n, Vec(n_rows));
  std::vector<double> xt(cols * kBlock);
  for (size_t t0 = 0; t0 < n; t0 += kBlock) {
    const size_t nt = std::min(kBlock, n - t0), groups = (nt + kLanes - 1) / kLanes;
    std::fill(xt.begin(), xt.end(), 0.0);  // lanes past the last token multiply zeros
    for (size_t j = 0; j < nt; ++j) {
      for (size_t c = 0; c < cols; ++c) xt[c * kBlock + j] = x[t0 + j][c];
    }
    for (size_t r = 0; r < n_rows; r += kRows) {
      const double* a[kRows];
      for (size_t i = 0; i < kRows; ++i) a[i] = w[std::min(r + i, n_rows - 1)].data();  // past the end: repeat the last row
      for (size_t g = 0; g < groups; ++g) {
        double s[kRows][kLanes];
        dot_rows(a, xt.data() + g * kLanes, kBlock, cols, s);
        for (size_t i = 0; i < kRows && r + i < n_rows; ++i) {
          for (size_t j = 0; j < kLanes && g * kLanes + j < nt; ++j) y[t0 + g * kLanes + j][r + i] = s[i][j];
        }
      }
    }
  }
  return y;
}

Vec rms_norm(const Vec& x, const Vec& g, double eps) {
  double ss = 0;
  for (double v : x) ss += v * v;
  double inv = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
  Vec y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * inv * g[i];
  return y;
}

void rope(Vec& x, int n_heads, int head_dim, int n_rot, int pos, double base, const Vec& factors) {
  for (int h = 0; h < n_heads; ++h) {
    for (int i = 0; i < n_rot / 2; ++i) {
      double theta = pos * std::pow(base, -2.0 * i / n_rot);
      if (!factors.empty()) theta /= factors[static_cast<size_t>(i)];
      double c = std::cos(theta), s = std::sin(theta);
      double& a = x[static_cast<size_t>(h * head_dim + 2 * i)];
      double& b = x[static_cast<size_t>(h * head_dim + 2 * i + 1)];
      double a0 = a, b0 = b;
      a = a0 * c - b0 * s;
      b = a0 * s + b0 * c;
    }
  }
}

int64_t meta_int(const GgufFile& f, const std::string& key, int64_t fallback) {
  auto v = f.get_int(key);
  return v.ok() ? *v : fallback;
}

}  // namespace

std::vector<std::vector<double>> reference_logits(const GgufFile& f, const std::vector<int32_t>& tokens, size_t first_row) {
  const int n_embd = static_cast<int>(meta_int(f, "llama.embedding_length", 0));
  const int n_layer = static_cast<int>(meta_int(f, "llama.block_count", 0));
  const int n_head = static_cast<int>(meta_int(f, "llama.attention.head_count", 0));
  const int n_head_kv = static_cast<int>(meta_int(f, "llama.attention.head_count_kv", n_head));
  const int head_dim = n_embd / n_head;
  const int n_rot = static_cast<int>(meta_int(f, "llama.rope.dimension_count", head_dim));
  auto base_or = f.get_float("llama.rope.freq_base");
  auto eps_or = f.get_float("llama.attention.layer_norm_rms_epsilon");
  const double base = base_or.ok() ? *base_or : 10000.0;
  const double eps = eps_or.ok() ? *eps_or : 1e-5;
  if (n_embd == 0 || n_layer == 0 || n_head == 0) return {};

  // Tied: the embedding is also the output matrix, read whole; untied, only the rows of the
  // tokens at hand are read (a 1B-shape embedding is 2 GB in doubles).
  Tensor out_own = load(f, "output.weight");
  const bool tied = out_own.rows.empty();
  Tensor embd = tied ? load(f, "token_embd.weight") : Tensor{};
  const Tensor& out = tied ? embd : out_own;
  Tensor out_norm = load(f, "output_norm.weight");
  Tensor freqs = load(f, "rope_freqs.weight");
  Vec factors = freqs.rows.empty() ? Vec() : freqs.rows[0];

  const size_t n = tokens.size();
  Mat h(n);
  for (size_t t = 0; t < n; ++t) {
    h[t] = tied ? embd.rows[static_cast<size_t>(tokens[t])] : load_row(f, "token_embd.weight", tokens[t]);
  }

  for (int l = 0; l < n_layer; ++l) {
    auto name = [&](const char* suffix) { return "blk." + std::to_string(l) + "." + suffix; };
    Tensor attn_norm = load(f, name("attn_norm.weight")), wq = load(f, name("attn_q.weight")),
           wk = load(f, name("attn_k.weight")), wv = load(f, name("attn_v.weight")),
           wo = load(f, name("attn_output.weight")), ffn_norm = load(f, name("ffn_norm.weight")),
           wg = load(f, name("ffn_gate.weight")), wu = load(f, name("ffn_up.weight")),
           wd = load(f, name("ffn_down.weight"));
    Mat a(n);
    for (size_t t = 0; t < n; ++t) a[t] = rms_norm(h[t], attn_norm.rows[0], eps);
    Mat q = matmul(wq.rows, a), k = matmul(wk.rows, a), v = matmul(wv.rows, a);
    for (size_t t = 0; t < n; ++t) {
      rope(q[t], n_head, head_dim, n_rot, static_cast<int>(t), base, factors);
      rope(k[t], n_head_kv, head_dim, n_rot, static_cast<int>(t), base, factors);
    }
    Mat o(n, Vec(static_cast<size_t>(n_head * head_dim), 0.0));
    for (size_t t = 0; t < n; ++t) {
      for (int hh = 0; hh < n_head; ++hh) {
        int g = hh / (n_head / n_head_kv);
        Vec s(t + 1);
        double mx = -1e300;
        for (size_t j = 0; j <= t; ++j) {
          double dot = 0;
          for (int d = 0; d < head_dim; ++d) dot += q[t][static_cast<size_t>(hh * head_dim + d)] * k[j][static_cast<size_t>(g * head_dim + d)];
          s[j] = dot / std::sqrt(static_cast<double>(head_dim));
          mx = std::max(mx, s[j]);
        }
        double sum = 0;
        for (double& x : s) sum += (x = std::exp(x - mx));
        for (size_t j = 0; j <= t; ++j) {
          for (int d = 0; d < head_dim; ++d) o[t][static_cast<size_t>(hh * head_dim + d)] += s[j] / sum * v[j][static_cast<size_t>(g * head_dim + d)];
        }
      }
    }
    Mat proj = matmul(wo.rows, o);
    Mat m(n);
    for (size_t t = 0; t < n; ++t) {
      for (size_t i = 0; i < proj[t].size(); ++i) h[t][i] += proj[t][i];
      m[t] = rms_norm(h[t], ffn_norm.rows[0], eps);
    }
    Mat gate = matmul(wg.rows, m), up = matmul(wu.rows, m);
    for (size_t t = 0; t < n; ++t) {
      for (size_t i = 0; i < gate[t].size(); ++i) gate[t][i] = gate[t][i] / (1.0 + std::exp(-gate[t][i])) * up[t][i];
    }
    Mat down = matmul(wd.rows, gate);
    for (size_t t = 0; t < n; ++t) {
      for (size_t i = 0; i < down[t].size(); ++i) h[t][i] += down[t][i];
    }
  }
  Mat normed;
  for (size_t t = first_row; t < n; ++t) normed.push_back(rms_norm(h[t], out_norm.rows[0], eps));
  Mat scored = matmul(out.rows, normed);
  Mat logits(n);
  for (size_t t = first_row; t < n; ++t) logits[t] = std::move(scored[t - first_row]);
  return logits;
}

}  // namespace maas::testing
