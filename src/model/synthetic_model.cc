// synthetic_model.cc — random Llama weights, quantized and laid out as llama.cpp writes them.
#include "model/synthetic_model.h"

#include <cmath>
#include <cstring>
#include <numbers>
#include <random>

#include "base/thread_pool.h"
#include "gguf/gguf_names.h"
#include "kernels/kernels.h"

namespace maas {
namespace {

StatusOr<GgmlType> parse_type(const std::string& t) {
  if (t == "f32") return GgmlType::kF32;
  if (t == "f16") return GgmlType::kF16;
  if (t == "bf16") return GgmlType::kBF16;
  if (t == "q8_0") return GgmlType::kQ8_0;
  if (t == "q4_0") return GgmlType::kQ4_0;
  if (t == "q4_k" || t == "q4_k_m") return GgmlType::kQ4_K;
  if (t == "q6_k") return GgmlType::kQ6_K;
  return invalid_argument("unknown weight type '" + t + "' (f32 f16 bf16 q8_0 q4_0 q4_k q6_k q4_k_m)");
}

// llama.cpp's rule for which layers of a Q4_K_M model get Q6_K attn_v / ffn_down.
bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// Gaussian values, deterministic per (seed, tensor index), generated and quantized row-parallel.
std::vector<uint8_t> random_matrix(int64_t n_rows, int64_t n_cols, float std_dev, GgmlType type,
                                   uint64_t seed, ThreadPool& pool) {
  size_t row_bytes = ggml_row_size(type, n_cols);
  std::vector<uint8_t> out(row_bytes * static_cast<size_t>(n_rows));
  pool.run([&](int ith, int nth) {
    long begin, end;
    ThreadPool::split(n_rows, ith, nth, 1, &begin, &end);
    std::vector<float> row(static_cast<size_t>(n_cols));
    for (long r = begin; r < end; ++r) {
      std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(r));
      std::normal_distribution<float> dist(0.0f, std_dev);
      for (float& x : row) x = dist(rng);
      quantize_row(type, row.data(), out.data() + static_cast<size_t>(r) * row_bytes, n_cols);
    }
  });
  return out;
}

std::vector<uint8_t> constant_vector(int64_t n, float value, float jitter, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-jitter, jitter);
  std::vector<uint8_t> out(static_cast<size_t>(n) * 4);
  for (int64_t i = 0; i < n; ++i) {
    float v = value + dist(rng);
    std::memcpy(out.data() + i * 4, &v, 4);
  }
  return out;
}

// Llama 3.1's RoPE frequency divisors (factor 8, low 1, high 4, original context 8192).
std::vector<float> llama31_rope_factors(const SyntheticModelOptions& o) {
  const double factor = 8, low = 1, high = 4, old_ctx = 8192;
  const int32_t n_rot = o.n_embd / o.n_head;
  std::vector<float> f;
  for (int32_t i = 0; i < n_rot / 2; ++i) {
    double freq = std::pow(static_cast<double>(o.rope_freq_base), -2.0 * i / n_rot);
    double wavelen = 2 * std::numbers::pi / freq;
    if (wavelen < old_ctx / high) {
      f.push_back(1.0f);
    } else if (wavelen > old_ctx / low) {
      f.push_back(static_cast<float>(factor));
    } else {
      double smooth = (old_ctx / wavelen - low) / (high - low);
      f.push_back(static_cast<float>(1.0 / ((1 - smooth) / factor + smooth)));
    }
  }
  return f;
}

}  // namespace

int32_t file_type_for(const std::string& t) {
  if (t == "f32") return 0;
  if (t == "f16") return 1;
  if (t == "q4_0") return 2;
  if (t == "q8_0") return 7;
  if (t == "q4_k_m") return 15;
  if (t == "q4_k") return 14;  // closest named mix (Q4_K_S)
  if (t == "q6_k") return 18;
  if (t == "bf16") return 32;
  return 0;
}

StatusOr<SyntheticModelOptions> synthetic_preset(const std::string& name) {
  SyntheticModelOptions o;
  if (name == "tiny") return o;
  if (name == "1b") {
    o.name = "maas-1b-shape-llama3";
    o.n_embd = 2048; o.n_layer = 16; o.n_head = 32; o.n_head_kv = 8; o.n_ff = 8192; o.n_ctx = 131072;
    o.llama31_rope_scaling = true;
    return o;
  }
  if (name == "8b") {  // Llama 3 8B's shape (separate output matrix), for the GPU check
    o.name = "maas-8b-shape-llama3";
    o.n_embd = 4096; o.n_layer = 32; o.n_head = 32; o.n_head_kv = 8; o.n_ff = 14336; o.n_ctx = 131072;
    o.llama31_rope_scaling = true;
    o.tied_embeddings = false;
    return o;
  }
  if (name == "test") {
    o.name = "maas-test-llama";
    o.n_embd = 64; o.n_layer = 2; o.n_head = 4; o.n_head_kv = 2; o.n_ff = 256; o.n_ctx = 512;
    return o;
  }
  return invalid_argument("unknown model preset '" + name + "' (tiny, 1b, 8b, test)");
}

Status add_synthetic_llama(const SyntheticModelOptions& o, int32_t n_vocab, GgufWriter& w) {
  using namespace gguf_key;
  using namespace gguf_tensor;
  ASSIGN_OR_RETURN(GgmlType type, parse_type(o.type));
  const bool mix = o.type == "q4_k_m";
  const int32_t head_dim = o.n_embd / o.n_head;
  const int block = ggml_traits(type).block_size;
  if (o.n_embd % o.n_head != 0 || o.n_head % o.n_head_kv != 0) return invalid_argument("inconsistent head counts");
  if (o.n_embd % block != 0 || o.n_ff % block != 0 || (mix && (o.n_embd % 256 || o.n_ff % 256))) {
    return invalid_argument("embedding and feed-forward widths must be multiples of the " + o.type + " block size");
  }
  const std::string arch = "llama";
  w.add_string(kArchitecture, arch);
  w.add_string(kName, o.name);
  w.add_u32(arch_key(arch, kContextLength), static_cast<uint32_t>(o.n_ctx));
  w.add_u32(arch_key(arch, kEmbeddingLength), static_cast<uint32_t>(o.n_embd));
  w.add_u32(arch_key(arch, kBlockCount), static_cast<uint32_t>(o.n_layer));
  w.add_u32(arch_key(arch, kFeedForwardLength), static_cast<uint32_t>(o.n_ff));
  w.add_u32(arch_key(arch, kHeadCount), static_cast<uint32_t>(o.n_head));
  w.add_u32(arch_key(arch, kHeadCountKv), static_cast<uint32_t>(o.n_head_kv));
  w.add_f32(arch_key(arch, kRopeFreqBase), o.rope_freq_base);
  w.add_f32(arch_key(arch, kRmsEps), o.rms_eps);
  w.add_u32(arch_key(arch, kRopeDimensionCount), static_cast<uint32_t>(head_dim));
  w.add_u32(arch_key(arch, kVocabSize), static_cast<uint32_t>(n_vocab));
  w.add_u32(kFileType, static_cast<uint32_t>(file_type_for(o.type)));
  w.add_u32(kQuantizationVersion, 2);

  ThreadPool pool(o.n_threads);
  uint64_t seed = o.seed;
  const GgmlType out_type = mix ? GgmlType::kQ6_K : type;
  const float embd_std = 1.0f;
  // Tied: token_embd doubles as the output matrix, stored in the output's type.
  w.add_tensor(kTokenEmbd, {o.n_embd, n_vocab}, o.tied_embeddings ? out_type : type,
               random_matrix(n_vocab, o.n_embd, embd_std, o.tied_embeddings ? out_type : type, seed++, pool));
  // Output norm 0.2 keeps logits at a std of about 3 with unit-variance embeddings.
  w.add_tensor(kOutputNorm, {o.n_embd}, GgmlType::kF32, constant_vector(o.n_embd, 0.2f, 0.02f, seed++));
  if (!o.tied_embeddings) {
    w.add_tensor(kOutput, {o.n_embd, n_vocab}, out_type, random_matrix(n_vocab, o.n_embd, 1.0f, out_type, seed++, pool));
  }
  if (o.llama31_rope_scaling) {
    std::vector<float> f = llama31_rope_factors(o);
    std::vector<uint8_t> b(f.size() * 4);
    std::memcpy(b.data(), f.data(), b.size());
    w.add_tensor(kRopeFreqs, {static_cast<int64_t>(f.size())}, GgmlType::kF32, std::move(b));
  }
  const int32_t dq = o.n_embd, dkv = o.n_head_kv * head_dim;
  const float s_in = 1.0f / std::sqrt(static_cast<float>(o.n_embd));
  const float s_ff = 1.0f / std::sqrt(static_cast<float>(o.n_ff));
  for (int i = 0; i < o.n_layer; ++i) {
    GgmlType more = (mix && use_more_bits(i, o.n_layer)) ? GgmlType::kQ6_K : type;
    w.add_tensor(block_tensor(kAttnNorm, i), {o.n_embd}, GgmlType::kF32, constant_vector(o.n_embd, 1.0f, 0.1f, seed++));
    w.add_tensor(block_tensor(kAttnQ, i), {o.n_embd, dq}, type, random_matrix(dq, o.n_embd, o.qk_scale * s_in, type, seed++, pool));
    w.add_tensor(block_tensor(kAttnK, i), {o.n_embd, dkv}, type, random_matrix(dkv, o.n_embd, o.qk_scale * s_in, type, seed++, pool));
    w.add_tensor(block_tensor(kAttnV, i), {o.n_embd, dkv}, more, random_matrix(dkv, o.n_embd, s_in, more, seed++, pool));
    w.add_tensor(block_tensor(kAttnOut, i), {dq, o.n_embd}, type, random_matrix(o.n_embd, dq, o.out_scale * s_in, type, seed++, pool));
    w.add_tensor(block_tensor(kFfnNorm, i), {o.n_embd}, GgmlType::kF32, constant_vector(o.n_embd, 1.0f, 0.1f, seed++));
    w.add_tensor(block_tensor(kFfnGate, i), {o.n_embd, o.n_ff}, type, random_matrix(o.n_ff, o.n_embd, s_in, type, seed++, pool));
    w.add_tensor(block_tensor(kFfnUp, i), {o.n_embd, o.n_ff}, type, random_matrix(o.n_ff, o.n_embd, s_in, type, seed++, pool));
    w.add_tensor(block_tensor(kFfnDown, i), {o.n_ff, o.n_embd}, more, random_matrix(o.n_embd, o.n_ff, 2 * o.out_scale * s_ff, more, seed++, pool));
  }
  return Status::Ok();
}

}  // namespace maas
