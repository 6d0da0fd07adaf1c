// llama.cc — the Llama forward pass, top to bottom (Touvron et al. 2023; GQA, Ainslie et al.).
#include "model/llama.h"

#include <algorithm>
#include <cmath>

#include "kernels/kernels.h"

namespace maas {

StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::load(const std::string& path, const LoadOptions& options) {
  RETURN_IF_ERROR(options.validate());
  ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::open(path));
  return from_file(std::move(file), options);
}

StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::from_file(std::unique_ptr<GgufFile> file, const LoadOptions& options) {
  std::unique_ptr<LlamaModel> m(new LlamaModel());
  ASSIGN_OR_RETURN(m->config_, LlamaConfig::from_gguf(*file));
  ASSIGN_OR_RETURN(m->weights_, LlamaWeights::bind(*file, m->config_));
  RETURN_IF_ERROR(interleave_for_decode(m->weights_, *file, options));
  m->rope_ = std::make_unique<Rope>(m->config_, m->weights_.rope_freqs);
  m->file_ = std::move(file);
  return m;
}

int32_t LlamaModel::n_logit_rows(const Batch& batch) {
  int32_t n = 0;
  for (const BatchSequence& s : batch.seqs) n += s.all_logits ? s.n_tokens : 1;
  return n;
}

namespace {
void grow(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}
}  // namespace

void LlamaModel::forward(const Batch& batch, KvCache& cache, ThreadPool& pool, float* logits) {
  const LlamaConfig& c = config_;
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  const int64_t d = c.n_embd, dq = c.n_embd_q(), dkv = c.n_embd_kv(), dff = c.n_ff;
  CHECK(n > 0);
  grow(x_, n * d); grow(xn_, n * d); grow(q_, n * dq); grow(k_, n * dkv); grow(v_, n * dkv);
  grow(attn_, n * dq); grow(gate_, n * dff); grow(up_, n * dff); grow(proj_, n * d);
  int64_t t0 = 0;
  for (const BatchSequence& seq : batch.seqs) {
    CHECK(static_cast<int64_t>(seq.n_past + seq.n_tokens) <= static_cast<int64_t>(seq.n_table) * cache.block_size());
    t0 += seq.n_tokens;
  }
  CHECK(t0 == n);

  // x = token_embd[tokens]                                   [n, d]
  for (int64_t t = 0; t < n; ++t) {
    int32_t id = batch.tokens[static_cast<size_t>(t)];
    CHECK(id >= 0 && id < c.n_vocab);
    dequantize_matrix_row(weights_.token_embd, id, &x_[t * d]);
  }

  for (int32_t il = 0; il < c.n_layer; ++il) {
    const LlamaLayerWeights& L = weights_.layers[static_cast<size_t>(il)];
    // Attention sublayer: x += Wo · attention(RoPE(Wq·xn), RoPE(Wk·xn), Wv·xn)
    for (int64_t t = 0; t < n; ++t) rms_norm(&x_[t * d], L.attn_norm.data(), &xn_[t * d], d, c.rms_eps);
    matmul_many({{&L.wq, q_.data()}, {&L.wk, k_.data()}, {&L.wv, v_.data()}}, xn_.data(), n, pool);  // [n, dq], [n, dkv] x 2
    attention(batch, il, cache, pool);                  // attn_ [n, dq]
    matmul(L.wo, attn_.data(), n, proj_.data(), pool);  // [n, d]
    add_inplace(x_.data(), proj_.data(), n * d);

    // Feed-forward sublayer (SwiGLU): x += W_down · (silu(W_gate·xn) ⊙ W_up·xn)
    for (int64_t t = 0; t < n; ++t) rms_norm(&x_[t * d], L.ffn_norm.data(), &xn_[t * d], d, c.rms_eps);
    matmul_many({{&L.w_gate, gate_.data()}, {&L.w_up, up_.data()}}, xn_.data(), n, pool);  // [n, dff] x 2
    silu_mul(gate_.data(), up_.data(), gate_.data(), n * dff);
    matmul(L.w_down, gate_.data(), n, proj_.data(), pool);  // [n, d]
    add_inplace(x_.data(), proj_.data(), n * d);
  }

  // logits = W_out · rms_norm(x) for the rows that want them   [rows, n_vocab]
  int64_t rows = 0;
  t0 = 0;
  for (const BatchSequence& seq : batch.seqs) {
    int64_t first = seq.all_logits ? t0 : t0 + seq.n_tokens - 1;
    for (int64_t t = first; t < t0 + seq.n_tokens; ++t, ++rows) {
      rms_norm(&x_[t * d], weights_.output_norm.data(), &xn_[rows * d], d, c.rms_eps);
    }
    t0 += seq.n_tokens;
  }
  matmul(weights_.output, xn_.data(), rows, logits, pool);
}

// Causal self-attention with grouped KV heads, over the paged cache:
//   for each new token t (position p) and head h, with kv head g = h / n_gqa:
//   attn[t,h] = sum_{j<=p} softmax_j(q[t,h]·K[g,j] / sqrt(head_dim)) V[g,j]
void LlamaModel::attention(const Batch& batch, int32_t il, KvCache& cache, ThreadPool& pool) {
  const LlamaConfig& c = config_;
  const int32_t hd = c.head_dim, dq = c.n_embd_q(), dkv = c.n_embd_kv(), bs = cache.block_size();
  const int32_t n_gqa = c.n_gqa();

  // RoPE on q and k, then append k and v to the cache.
  int64_t t = 0;
  for (const BatchSequence& seq : batch.seqs) {
    for (int32_t j = 0; j < seq.n_tokens; ++j, ++t) {
      int32_t pos = seq.n_past + j;
      rope_->apply(&q_[t * dq], c.n_head, pos);
      rope_->apply(&k_[t * dkv], c.n_head_kv, pos);
      int32_t block = seq.block_table[pos / bs], slot = pos % bs;
      std::copy_n(&k_[t * dkv], dkv, cache.k(il, block, slot));
      std::copy_n(&v_[t * dkv], dkv, cache.v(il, block, slot));
    }
  }

  // One work item per (KV head, chunk): the chunks of every head go by heaviest first and threads
  // take the next item as they finish, so the last ones taken are the cheapest.
  plan_attention(batch);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t n_chunks = static_cast<int64_t>(chunks_.size()), n_work = n_chunks * c.n_head_kv;
  pool.deal(static_cast<long>(n_work), 1, [&](long w, long) {
    const AttentionChunk& ch = chunks_[static_cast<size_t>(w % n_chunks)];
    const int32_t g = static_cast<int32_t>(w / n_chunks);
    const BatchSequence& seq = batch.seqs[static_cast<size_t>(ch.seq)];
    const int64_t first = ch.tok * dq + static_cast<int64_t>(g) * n_gqa * hd;  // head g * n_gqa of token ch.tok
    // q, out: [n_tokens][n_gqa][hd] with row stride dq; K, V of head g: [slot][hd], stride dkv
    attention_paged({.q = &q_[first], .out = &attn_[first], .stride = dq, .n_heads = n_gqa, .head_dim = hd,
                     .pos0 = ch.pos0, .n_tokens = ch.n_tokens, .scale = scale},
                    {.k = cache.k(il, 0, 0) + g * hd, .v = cache.v(il, 0, 0) + g * hd, .row_stride = dkv,
                     .block_table = seq.block_table, .block_size = bs});
  });
}

// attention()'s chunks: up to kChunk consecutive new tokens of one sequence, latest first. The
// kernel reads each cached K/V row once for all of a chunk's rows; later tokens see more keys.
void LlamaModel::plan_attention(const Batch& batch) {
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

}  // namespace maas
