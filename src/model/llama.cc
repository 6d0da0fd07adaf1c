// llama.cc — the Llama forward pass, top to bottom (Touvron et al. 2023; GQA, Ainslie et al.).
#include "model/llama.h"

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
  ASSIGN_OR_RETURN(m->backend_, make_backend(options));
  RETURN_IF_ERROR(m->backend_->prepare_weights(m->weights_, *file, options));
  m->rope_ = std::make_unique<Rope>(m->config_, m->weights_.rope_freqs);
  m->file_ = std::move(file);
  return m;
}

void LlamaModel::reserve(int64_t n) {
  if (n <= n_reserved_) return;
  const LlamaConfig& c = config_;
  auto rows = [&](int64_t width) { return static_cast<size_t>(n * width); };
  x_ = backend_->allocate(rows(c.n_embd));
  xn_ = backend_->allocate(rows(c.n_embd));
  q_ = backend_->allocate(rows(c.n_embd_q()));
  k_ = backend_->allocate(rows(c.n_embd_kv()));
  v_ = backend_->allocate(rows(c.n_embd_kv()));
  attn_ = backend_->allocate(rows(c.n_embd_q()));
  gate_ = backend_->allocate(rows(c.n_ff));
  up_ = backend_->allocate(rows(c.n_ff));
  proj_ = backend_->allocate(rows(c.n_embd));
  n_reserved_ = n;
}

void LlamaModel::forward(const Batch& batch, KvCache& cache, float* logits) {
  const LlamaConfig& c = config_;
  const LlamaWeights& W = weights_;
  Backend& be = *backend_;
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  const int64_t d = c.n_embd;
  CHECK(n > 0);
  int64_t n_seq_tokens = 0;
  for (const BatchSequence& seq : batch.seqs) {
    CHECK(static_cast<int64_t>(seq.n_past + seq.n_tokens) <= static_cast<int64_t>(seq.n_table) * cache.block_size());
    n_seq_tokens += seq.n_tokens;
  }
  CHECK(n_seq_tokens == n);
  for (int32_t id : batch.tokens) CHECK(id >= 0 && id < c.n_vocab);
  reserve(n);
  float *x = x_->data(), *xn = xn_->data(), *q = q_->data(), *k = k_->data(), *v = v_->data();
  float *attn = attn_->data(), *gate = gate_->data(), *up = up_->data(), *proj = proj_->data();

  be.begin_step(batch, cache);
  be.embed(W.token_embd, batch, x);  // x = token_embd[tokens]         [n, d]

  for (int32_t il = 0; il < c.n_layer; ++il) {
    const LlamaLayerWeights& L = W.layers[static_cast<size_t>(il)];
    // Attention sublayer: x += Wo · attention(RoPE(Wq·xn), RoPE(Wk·xn), Wv·xn)
    be.rms_norm(x, L.attn_norm.data(), xn, n, d, c.rms_eps);    // [n, d]
    be.matmul_many({{&L.wq, q}, {&L.wk, k}, {&L.wv, v}}, xn, n);  // [n, dq], [n, dkv] x 2
    be.rope_store_kv(batch, il, *rope_, q, k, v, cache);        // q, k rotated; k, v cached
    be.attention(batch, il, q, c.n_head, cache, attn);          // [n, dq]
    be.matmul_add(L.wo, attn, n, x, proj);                      // x += Wo·attn   [n, d]

    // Feed-forward sublayer (SwiGLU): x += W_down · (silu(W_gate·xn) ⊙ W_up·xn)
    be.rms_norm(x, L.ffn_norm.data(), xn, n, d, c.rms_eps);     // [n, d]
    be.matmul_swiglu(L.w_gate, L.w_up, xn, n, gate, up);        // gate = silu(W_gate·xn) ⊙ W_up·xn   [n, n_ff]
    be.matmul_add(L.w_down, gate, n, x, proj);                  // x += W_down·gate   [n, d]
  }

  // logits = W_out · rms_norm(x) for the rows that want them   [rows, n_vocab]
  const int64_t rows = n_logit_rows(batch);
  be.gather_logit_rows(batch, x, d, xn);  // [rows, d]
  be.rms_norm(xn, W.output_norm.data(), xn, rows, d, c.rms_eps);
  be.logits(W.output, xn, rows, logits);
  const Status s = be.finish_step();
  CHECK_MSG(s.ok(), ("forward pass on " + be.name() + ": " + s.to_string()).c_str());
}

}  // namespace maas
