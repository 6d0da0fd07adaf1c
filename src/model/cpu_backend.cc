// cpu_backend.cc — the CPU backend (cpu_backend.h): kernels.h on a ThreadPool, host memory.
#include "model/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "base/thread_pool.h"
#include "model/cpu_kv_cache.h"

namespace maas {

CpuKvCache::CpuKvCache(const LlamaConfig& c, const KvCacheOptions& o)
    : KvCache(c, o), row_bytes_(kv_row_bytes(o.type, c.n_embd_kv())) {
  const size_t n = static_cast<size_t>(c.n_layer) * o.n_blocks * o.block_size * row_bytes_;
  k_.assign(n, 0);  // zero bytes: 0.0 in every type
  v_.assign(n, 0);
}

namespace {

class CpuBuffer final : public Buffer {
 public:
  explicit CpuBuffer(size_t n) : storage_(n) {
    data_ = storage_.data();
    size_ = n;
  }

 private:
  std::vector<float> storage_;
};

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int n_threads) : pool_(n_threads) {}

  std::string name() const override { return "cpu"; }
  int n_threads() const override { return pool_.n_threads(); }

  Status prepare_weights(LlamaWeights& w, const GgufFile& file, const LoadOptions& o) override {
    return interleave_for_decode(w, file, o);
  }

  std::unique_ptr<Buffer> allocate(size_t n_floats) override { return std::make_unique<CpuBuffer>(n_floats); }

  StatusOr<std::unique_ptr<KvCache>> allocate_kv_cache(const LlamaConfig& c, const KvCacheOptions& o) override {
    if (!attention_reads(kv_ggml_type(o.type))) {
      return unimplemented(std::string("the CPU backend's attention does not read a KV cache of ") + kv_type_name(o.type));
    }
    if (o.type == KvType::kQ8_0 && c.head_dim % 32 != 0) {
      return invalid_argument("a q8_0 KV cache needs head_dim a multiple of 32; this model's is " +
                              std::to_string(c.head_dim));
    }
    if (o.n_blocks <= 0 || o.block_size <= 0) return invalid_argument("the KV cache needs blocks of slots");
    return std::unique_ptr<KvCache>(std::make_unique<CpuKvCache>(c, o));
  }

  void copy_kv_block(KvCache& cache, int32_t src, int32_t dst, int32_t n_slots) override {
    CpuKvCache& kv = host(cache);
    const size_t n = static_cast<size_t>(n_slots) * kv.row_bytes();
    for (int32_t layer = 0; layer < kv.n_layer(); ++layer) {
      std::copy_n(kv.k(layer, src, 0), n, kv.k(layer, dst, 0));
      std::copy_n(kv.v(layer, src, 0), n, kv.v(layer, dst, 0));
    }
  }

  void embed(const WeightMatrix& table, const Batch& batch, float* x) override {
    const int64_t d = table.n_cols;
    for (size_t t = 0; t < batch.tokens.size(); ++t) dequantize_matrix_row(table, batch.tokens[t], x + t * d);
  }

  void rms_norm(const float* x, const float* w, float* out, int64_t n, int64_t d, float eps) override {
    for (int64_t t = 0; t < n; ++t) maas::rms_norm(x + t * d, w, out + t * d, d, eps);
  }

  void matmul(const WeightMatrix& w, const float* x, int64_t n, float* y) override { maas::matmul(w, x, n, y, pool_); }
  void matmul_many(std::initializer_list<MatmulOut> outs, const float* x, int64_t n) override {
    maas::matmul_many(outs, x, n, pool_);
  }
  void silu_mul(const float* gate, const float* up, float* out, int64_t n) override { maas::silu_mul(gate, up, out, n); }
  void add(float* y, const float* x, int64_t n) override { add_inplace(y, x, n); }

  void rope_store_kv(const Batch& batch, int32_t layer, const Rope& rope, float* q, float* k, const float* v,
                     KvCache& cache) override;
  void attention(const Batch& batch, int32_t layer, const float* q, int32_t n_head, KvCache& cache,
                 float* out) override;

  void gather_logit_rows(const Batch& batch, const float* x, int64_t d, float* out) override {
    int64_t t0 = 0, rows = 0;
    for (const BatchSequence& seq : batch.seqs) {
      for (int64_t t = seq.all_logits ? t0 : t0 + seq.n_tokens - 1; t < t0 + seq.n_tokens; ++t, ++rows) {
        std::memcpy(out + rows * d, x + t * d, static_cast<size_t>(d) * sizeof(float));
      }
      t0 += seq.n_tokens;
    }
  }

  void logits(const WeightMatrix& w, const float* x, int64_t rows, float* host_logits) override {
    maas::matmul(w, x, rows, host_logits, pool_);
  }

 private:
  static CpuKvCache& host(KvCache& cache) { return static_cast<CpuKvCache&>(cache); }
  void plan_attention(const Batch& batch);

  ThreadPool pool_;
  // attention()'s work: consecutive new tokens of one sequence, heaviest (latest) first.
  struct AttentionChunk {
    int32_t seq;       // index in Batch::seqs
    int64_t tok;       // first token's row in the batch
    int32_t pos0;      // its position in the sequence
    int32_t n_tokens;
  };
  std::vector<AttentionChunk> chunks_;
};

void CpuBackend::rope_store_kv(const Batch& batch, int32_t il, const Rope& rope, float* q, float* k, const float* v,
                               KvCache& cache) {
  CpuKvCache& kv = host(cache);
  const int32_t dkv = kv.n_embd_kv(), bs = kv.block_size();
  const int64_t dq = static_cast<int64_t>(rope.n_head()) * kv.head_dim();
  const GgmlType type = kv.ggml_type();
  int64_t t = 0;
  for (const BatchSequence& seq : batch.seqs) {
    for (int32_t j = 0; j < seq.n_tokens; ++j, ++t) {
      int32_t pos = seq.n_past + j;
      rope.apply(&q[t * dq], rope.n_head(), pos);
      rope.apply(&k[t * dkv], kv.n_head_kv(), pos);
      int32_t block = seq.block_table[pos / bs], slot = pos % bs;
      quantize_row(type, &k[t * dkv], kv.k(il, block, slot), dkv);  // F32: a copy; F16, Q8_0: rounded
      quantize_row(type, &v[t * dkv], kv.v(il, block, slot), dkv);
    }
  }
}

// One work item per (KV head, chunk): the chunks of every head go by heaviest first and threads
// take the next item as they finish, so the last ones taken are the cheapest.
void CpuBackend::attention(const Batch& batch, int32_t il, const float* q, int32_t n_head, KvCache& cache,
                           float* out) {
  CpuKvCache& kv = host(cache);
  const int32_t hd = kv.head_dim(), dq = n_head * hd, dkv = kv.n_embd_kv(), bs = kv.block_size();
  const GgmlType type = kv.ggml_type();
  const int32_t n_head_kv = kv.n_head_kv(), n_gqa = n_head / n_head_kv;
  plan_attention(batch);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t n_chunks = static_cast<int64_t>(chunks_.size()), n_work = n_chunks * n_head_kv;
  pool_.deal(static_cast<long>(n_work), 1, [&](long w, long) {
    const AttentionChunk& ch = chunks_[static_cast<size_t>(w % n_chunks)];
    const int32_t g = static_cast<int32_t>(w / n_chunks);
    const BatchSequence& seq = batch.seqs[static_cast<size_t>(ch.seq)];
    const int64_t first = ch.tok * dq + static_cast<int64_t>(g) * n_gqa * hd;  // head g * n_gqa of token ch.tok
    // q, out: [n_tokens][n_gqa][hd] with row stride dq; K, V of head g: [slot][hd], stride dkv elements
    const size_t head = ggml_row_size(type, static_cast<int64_t>(g) * hd);
    attention_paged({.q = &q[first], .out = &out[first], .stride = dq, .n_heads = n_gqa, .head_dim = hd,
                     .pos0 = ch.pos0, .n_tokens = ch.n_tokens, .scale = scale},
                    {.k = kv.k(il, 0, 0) + head, .v = kv.v(il, 0, 0) + head, .row_stride = dkv,
                     .block_table = seq.block_table, .block_size = bs, .type = type});
  });
}

// attention()'s chunks: up to kChunk consecutive new tokens of one sequence, latest first. The
// kernel reads each cached K/V row once for all of a chunk's rows; later tokens see more keys.
void CpuBackend::plan_attention(const Batch& batch) {
  constexpr int32_t kChunk = 16;
  chunks_.clear();
  int64_t t = 0;
  for (size_t s = 0; s < batch.seqs.size(); ++s) {
    const BatchSequence& seq = batch.seqs[s];
    for (int32_t j = 0; j < seq.n_tokens; j += kChunk) {
      chunks_.push_back({static_cast<int32_t>(s), t + j, seq.n_past + j, std::min(kChunk, seq.n_tokens - j)});
    }
    t += seq.n_tokens;
  }
  std::sort(chunks_.begin(), chunks_.end(), [](const AttentionChunk& a, const AttentionChunk& b) {
    return a.pos0 + a.n_tokens > b.pos0 + b.n_tokens;
  });
}

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int n_threads) { return std::make_unique<CpuBackend>(n_threads); }

}  // namespace maas
