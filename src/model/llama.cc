// llama.cc — the Llama forward pass, top to bottom (Touvron et al. 2023; GQA, Ainslie et al.).
#include "model/llama.h"

#include <cmath>

#include "kernels/kernels.h"

namespace maas {

StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::load(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::open(path));
  return from_file(std::move(file));
}

StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::from_file(std::unique_ptr<GgufFile> file) {
  std::unique_ptr<LlamaModel> m(new LlamaModel());
  ASSIGN_OR_RETURN(m->config_, LlamaConfig::from_gguf(*file));
  ASSIGN_OR_RETURN(m->weights_, LlamaWeights::bind(*file, m->config_));
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
  tok_seq_.resize(static_cast<size_t>(n));
  tok_pos_.resize(static_cast<size_t>(n));
  int64_t t0 = 0;
  for (size_t s = 0; s < batch.seqs.size(); ++s) {
    const BatchSequence& seq = batch.seqs[s];
    CHECK(static_cast<int64_t>(seq.n_past + seq.n_tokens) <= static_cast<int64_t>(seq.n_table) * cache.block_size());
    for (int32_t j = 0; j < seq.n_tokens; ++j) {
      tok_seq_[static_cast<size_t>(t0 + j)] = static_cast<int32_t>(s);
      tok_pos_[static_cast<size_t>(t0 + j)] = seq.n_past + j;
    }
    t0 += seq.n_tokens;
  }
  CHECK(t0 == n);

  // x = token_embd[tokens]                                   [n, d]
  for (int64_t t = 0; t < n; ++t) {
    int32_t id = batch.tokens[static_cast<size_t>(t)];
    CHECK(id >= 0 && id < c.n_vocab);
    const uint8_t* row = static_cast<const uint8_t*>(weights_.token_embd.data) + id * weights_.token_embd.row_bytes();
    dequantize_row(weights_.token_embd.type, row, &x_[t * d], d);
  }

  for (int32_t il = 0; il < c.n_layer; ++il) {
    const LlamaLayerWeights& L = weights_.layers[static_cast<size_t>(il)];
    // Attention sublayer: x += Wo · attention(RoPE(Wq·xn), RoPE(Wk·xn), Wv·xn)
    for (int64_t t = 0; t < n; ++t) rms_norm(&x_[t * d], L.attn_norm.data(), &xn_[t * d], d, c.rms_eps);
    matmul(L.wq, xn_.data(), n, q_.data(), pool);      // [n, dq]
    matmul(L.wk, xn_.data(), n, k_.data(), pool);      // [n, dkv]
    matmul(L.wv, xn_.data(), n, v_.data(), pool);      // [n, dkv]
    attention(batch, il, cache, pool);                  // attn_ [n, dq]
    matmul(L.wo, attn_.data(), n, proj_.data(), pool);  // [n, d]
    add_inplace(x_.data(), proj_.data(), n * d);

    // Feed-forward sublayer (SwiGLU): x += W_down · (silu(W_gate·xn) ⊙ W_up·xn)
    for (int64_t t = 0; t < n; ++t) rms_norm(&x_[t * d], L.ffn_norm.data(), &xn_[t * d], d, c.rms_eps);
    matmul(L.w_gate, xn_.data(), n, gate_.data(), pool);  // [n, dff]
    matmul(L.w_up, xn_.data(), n, up_.data(), pool);      // [n, dff]
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
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  const int32_t hd = c.head_dim, dq = c.n_embd_q(), dkv = c.n_embd_kv(), bs = cache.block_size();
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));

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

  int32_t max_pos = 0;
  for (const BatchSequence& seq : batch.seqs) max_pos = std::max(max_pos, seq.n_past + seq.n_tokens);
  grow(scores_, static_cast<size_t>(pool.n_threads()) * max_pos);

  // Work items (token, head) are dealt out round-robin: a prompt's later tokens attend to more
  // positions, so contiguous halves would leave one thread with three quarters of the work.
  const int64_t n_work = n * c.n_head;
  pool.run([&](int ith, int nth) {
    float* scores = &scores_[static_cast<size_t>(ith) * max_pos];
    for (int64_t w = ith; w < n_work; w += nth) {
      const int64_t tok = w / c.n_head;
      const int32_t h = static_cast<int32_t>(w % c.n_head), g = h / c.n_gqa();
      const BatchSequence& seq = batch.seqs[static_cast<size_t>(tok_seq_[static_cast<size_t>(tok)])];
      const int32_t pos = tok_pos_[static_cast<size_t>(tok)];
      const float* q = &q_[tok * dq + h * hd];
      for (int32_t j = 0; j <= pos; ++j) {
        scores[j] = dot_f32(q, cache.k(il, seq.block_table[j / bs], j % bs) + g * hd, hd) * scale;
      }
      softmax(scores, pos + 1);
      float* out = &attn_[tok * dq + h * hd];
      std::fill_n(out, hd, 0.0f);
      for (int32_t j = 0; j <= pos; ++j) {
        axpy_f32(scores[j], cache.v(il, seq.block_table[j / bs], j % bs) + g * hd, out, hd);
      }
    }
  });
}

}  // namespace maas
