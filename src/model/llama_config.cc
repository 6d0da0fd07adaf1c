// llama_config.cc — reading and validating Llama hyperparameters.
#include "model/llama_config.h"

#include "gguf/gguf_names.h"

namespace maas {
namespace {

constexpr int64_t kMaxDim = 1 << 20;  // no real model has a dimension near a million

Status read_dim(const GgufFile& f, const std::string& key, int32_t* out) {
  auto v = f.get_int(key);
  if (!v.ok()) return v.status();
  if (*v <= 0 || *v > kMaxDim) return invalid_argument("metadata '" + key + "' = " + std::to_string(*v) + " is out of range");
  *out = static_cast<int32_t>(*v);
  return Status::Ok();
}

Status read_optional_dim(const GgufFile& f, const std::string& key, int32_t* out) {
  if (f.find(key) == nullptr) return Status::Ok();
  return read_dim(f, key, out);
}

}  // namespace

StatusOr<LlamaConfig> LlamaConfig::from_gguf(const GgufFile& f) {
  using namespace gguf_key;
  ASSIGN_OR_RETURN(std::string arch, f.get_string(kArchitecture));
  if (arch != "llama") return unimplemented("unsupported architecture '" + arch + "' (maas runs 'llama' models)");
  LlamaConfig c;
  if (auto n = f.get_string(kName); n.ok()) c.name = *n;
  RETURN_IF_ERROR(read_dim(f, arch_key(arch, kEmbeddingLength), &c.n_embd));
  RETURN_IF_ERROR(read_dim(f, arch_key(arch, kBlockCount), &c.n_layer));
  RETURN_IF_ERROR(read_dim(f, arch_key(arch, kFeedForwardLength), &c.n_ff));
  RETURN_IF_ERROR(read_dim(f, arch_key(arch, kHeadCount), &c.n_head));
  RETURN_IF_ERROR(read_dim(f, arch_key(arch, kContextLength), &c.n_ctx_train));
  c.n_head_kv = c.n_head;
  RETURN_IF_ERROR(read_optional_dim(f, arch_key(arch, kHeadCountKv), &c.n_head_kv));
  if (c.n_embd % c.n_head != 0) return invalid_argument("embedding length is not a multiple of the head count");
  c.head_dim = c.n_embd / c.n_head;
  RETURN_IF_ERROR(read_optional_dim(f, arch_key(arch, kKeyLength), &c.head_dim));
  int32_t value_len = c.head_dim;
  RETURN_IF_ERROR(read_optional_dim(f, arch_key(arch, kValueLength), &value_len));
  if (value_len != c.head_dim) return unimplemented("key and value head sizes differ");
  if (c.n_head % c.n_head_kv != 0) return invalid_argument("head count is not a multiple of the KV head count");
  c.n_rot = c.head_dim;
  RETURN_IF_ERROR(read_optional_dim(f, arch_key(arch, kRopeDimensionCount), &c.n_rot));
  if (c.n_rot > c.head_dim || c.n_rot % 2 != 0) return invalid_argument("RoPE dimension count must be even and at most the head size");
  if (f.find(arch_key(arch, kRopeFreqBase)) != nullptr) {
    ASSIGN_OR_RETURN(c.rope_freq_base, f.get_float(arch_key(arch, kRopeFreqBase)));
  }
  if (f.find(arch_key(arch, kRmsEps)) != nullptr) {
    ASSIGN_OR_RETURN(c.rms_eps, f.get_float(arch_key(arch, kRmsEps)));
  }
  if (!(c.rope_freq_base > 0.0f) || !(c.rms_eps > 0.0f && c.rms_eps < 1.0f)) {
    return invalid_argument("RoPE base or RMS epsilon out of range");
  }
  if (auto st = f.find(arch_key(arch, kRopeScalingType)); st != nullptr && st->type == GgufValueType::kString &&
      st->str != "none" && st->str != "llama3") {
    return unimplemented("RoPE scaling '" + std::string(st->str) + "' is not supported");
  }
  const GgufTensorInfo* embd = f.find_tensor(gguf_tensor::kTokenEmbd);
  if (embd == nullptr) return invalid_argument("missing tensor token_embd.weight");
  if (embd->ne.size() != 2 || embd->ne[0] != c.n_embd || embd->ne[1] > kMaxDim) {
    return invalid_argument("token_embd.weight has the wrong shape");
  }
  c.n_vocab = static_cast<int32_t>(embd->ne[1]);
  c.has_rope_freqs = f.find_tensor(gguf_tensor::kRopeFreqs) != nullptr;
  c.tied_embeddings = f.find_tensor(gguf_tensor::kOutput) == nullptr;
  return c;
}

uint64_t LlamaConfig::count_parameters(const GgufFile& file) {
  uint64_t n = 0;
  for (const GgufTensorInfo& t : file.tensors()) {
    if (t.name != gguf_tensor::kRopeFreqs) n += t.n_elements;
  }
  return n;
}

}  // namespace maas
