// llama_weights.cc — binding tensors by their GGUF names with shape and type checks.
#include "model/llama_weights.h"

#include "gguf/gguf_names.h"

namespace maas {
namespace {

std::string shape_str(const std::vector<int64_t>& ne) {
  std::string s = "{";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "}";
}

StatusOr<const GgufTensorInfo*> find_checked(const GgufFile& f, const std::string& name, std::vector<int64_t> ne) {
  const GgufTensorInfo* t = f.find_tensor(name);
  if (t == nullptr) return invalid_argument("missing tensor '" + name + "'");
  if (t->ne != ne) {
    return invalid_argument("tensor '" + name + "' has shape " + shape_str(t->ne) + ", expected " + shape_str(ne));
  }
  const GgmlTypeTraits* tr = ggml_type_traits(static_cast<uint32_t>(t->type));
  if (tr == nullptr || !tr->supported) {
    return unimplemented("tensor '" + name + "' has type " + std::string(ggml_type_name(t->type)) +
                         ", which maas does not support (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)");
  }
  return t;
}

StatusOr<WeightMatrix> matrix(const GgufFile& f, const std::string& name, int64_t n_rows, int64_t n_cols) {
  ASSIGN_OR_RETURN(const GgufTensorInfo* t, find_checked(f, name, {n_cols, n_rows}));
  return WeightMatrix{t->type, t->data, n_rows, n_cols};
}

StatusOr<std::vector<float>> vector_f32(const GgufFile& f, const std::string& name, int64_t n) {
  ASSIGN_OR_RETURN(const GgufTensorInfo* t, find_checked(f, name, {n}));
  std::vector<float> out(static_cast<size_t>(n));
  dequantize_row(t->type, t->data, out.data(), n);
  return out;
}

}  // namespace

StatusOr<LlamaWeights> LlamaWeights::bind(const GgufFile& f, const LlamaConfig& c) {
  using namespace gguf_tensor;
  LlamaWeights w;
  ASSIGN_OR_RETURN(w.token_embd, matrix(f, kTokenEmbd, c.n_vocab, c.n_embd));
  ASSIGN_OR_RETURN(w.output_norm, vector_f32(f, kOutputNorm, c.n_embd));
  if (c.tied_embeddings) {
    w.output = w.token_embd;
  } else {
    ASSIGN_OR_RETURN(w.output, matrix(f, kOutput, c.n_vocab, c.n_embd));
  }
  if (c.has_rope_freqs) {
    ASSIGN_OR_RETURN(w.rope_freqs, vector_f32(f, kRopeFreqs, c.n_rot / 2));
    for (float x : w.rope_freqs) {
      if (!(x > 0.0f)) return invalid_argument("rope_freqs.weight holds a non-positive factor");
    }
  }
  w.layers.resize(static_cast<size_t>(c.n_layer));
  for (int i = 0; i < c.n_layer; ++i) {
    LlamaLayerWeights& l = w.layers[static_cast<size_t>(i)];
    ASSIGN_OR_RETURN(l.attn_norm, vector_f32(f, block_tensor(kAttnNorm, i), c.n_embd));
    ASSIGN_OR_RETURN(l.wq, matrix(f, block_tensor(kAttnQ, i), c.n_embd_q(), c.n_embd));
    ASSIGN_OR_RETURN(l.wk, matrix(f, block_tensor(kAttnK, i), c.n_embd_kv(), c.n_embd));
    ASSIGN_OR_RETURN(l.wv, matrix(f, block_tensor(kAttnV, i), c.n_embd_kv(), c.n_embd));
    ASSIGN_OR_RETURN(l.wo, matrix(f, block_tensor(kAttnOut, i), c.n_embd, c.n_embd_q()));
    ASSIGN_OR_RETURN(l.ffn_norm, vector_f32(f, block_tensor(kFfnNorm, i), c.n_embd));
    ASSIGN_OR_RETURN(l.w_gate, matrix(f, block_tensor(kFfnGate, i), c.n_ff, c.n_embd));
    ASSIGN_OR_RETURN(l.w_up, matrix(f, block_tensor(kFfnUp, i), c.n_ff, c.n_embd));
    ASSIGN_OR_RETURN(l.w_down, matrix(f, block_tensor(kFfnDown, i), c.n_embd, c.n_ff));
  }
  return w;
}

}  // namespace maas
