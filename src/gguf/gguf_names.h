// gguf_names.h — the one table of GGUF metadata keys and tensor names maas reads and writes
// (the names llama.cpp's converter uses). "%s" stands for the architecture, "%d" for a block.
#pragma once

#include <string>

namespace maas::gguf_key {

inline constexpr const char* kArchitecture = "general.architecture";
inline constexpr const char* kName = "general.name";
inline constexpr const char* kAlignment = "general.alignment";
inline constexpr const char* kFileType = "general.file_type";
inline constexpr const char* kQuantizationVersion = "general.quantization_version";

// per-architecture hyperparameters: arch + suffix, e.g. "llama.embedding_length"
inline constexpr const char* kContextLength = ".context_length";
inline constexpr const char* kEmbeddingLength = ".embedding_length";
inline constexpr const char* kBlockCount = ".block_count";
inline constexpr const char* kFeedForwardLength = ".feed_forward_length";
inline constexpr const char* kHeadCount = ".attention.head_count";
inline constexpr const char* kHeadCountKv = ".attention.head_count_kv";
inline constexpr const char* kRmsEps = ".attention.layer_norm_rms_epsilon";
inline constexpr const char* kKeyLength = ".attention.key_length";
inline constexpr const char* kValueLength = ".attention.value_length";
inline constexpr const char* kRopeFreqBase = ".rope.freq_base";
inline constexpr const char* kRopeDimensionCount = ".rope.dimension_count";
inline constexpr const char* kRopeScalingType = ".rope.scaling.type";
inline constexpr const char* kRopeScalingFactor = ".rope.scaling.factor";
inline constexpr const char* kVocabSize = ".vocab_size";

inline std::string arch_key(const std::string& arch, const char* suffix) { return arch + suffix; }

// tokenizer
inline constexpr const char* kTokModel = "tokenizer.ggml.model";            // "gpt2" | "llama"
inline constexpr const char* kTokPre = "tokenizer.ggml.pre";                // "llama-bpe", "default"
inline constexpr const char* kTokTokens = "tokenizer.ggml.tokens";          // string[]
inline constexpr const char* kTokScores = "tokenizer.ggml.scores";          // f32[]
inline constexpr const char* kTokTokenType = "tokenizer.ggml.token_type";   // i32[]
inline constexpr const char* kTokMerges = "tokenizer.ggml.merges";          // string[] "a b"
inline constexpr const char* kTokBos = "tokenizer.ggml.bos_token_id";
inline constexpr const char* kTokEos = "tokenizer.ggml.eos_token_id";
inline constexpr const char* kTokEot = "tokenizer.ggml.eot_token_id";
inline constexpr const char* kTokEom = "tokenizer.ggml.eom_token_id";
inline constexpr const char* kTokUnk = "tokenizer.ggml.unknown_token_id";
inline constexpr const char* kTokPad = "tokenizer.ggml.padding_token_id";
inline constexpr const char* kTokAddBos = "tokenizer.ggml.add_bos_token";
inline constexpr const char* kTokAddEos = "tokenizer.ggml.add_eos_token";
inline constexpr const char* kTokAddSpacePrefix = "tokenizer.ggml.add_space_prefix";
inline constexpr const char* kChatTemplate = "tokenizer.chat_template";

}  // namespace maas::gguf_key

namespace maas::gguf_tensor {
// Token types (tokenizer.ggml.token_type), as llama.cpp numbers them.
inline constexpr int kTokenNormal = 1, kTokenUnknown = 2, kTokenControl = 3, kTokenUserDefined = 4,
                     kTokenUnused = 5, kTokenByte = 6;

inline constexpr const char* kTokenEmbd = "token_embd.weight";    // {n_embd, n_vocab}
inline constexpr const char* kOutputNorm = "output_norm.weight";  // {n_embd}
inline constexpr const char* kOutput = "output.weight";           // {n_embd, n_vocab}; absent = tied
inline constexpr const char* kRopeFreqs = "rope_freqs.weight";    // {n_rot/2} llama3 scaling factors
// per block: printf with the block index
inline constexpr const char* kAttnNorm = "blk.%d.attn_norm.weight";   // {n_embd}
inline constexpr const char* kAttnQ = "blk.%d.attn_q.weight";         // {n_embd, n_head*head_dim}
inline constexpr const char* kAttnK = "blk.%d.attn_k.weight";         // {n_embd, n_head_kv*head_dim}
inline constexpr const char* kAttnV = "blk.%d.attn_v.weight";         // {n_embd, n_head_kv*head_dim}
inline constexpr const char* kAttnOut = "blk.%d.attn_output.weight";  // {n_head*head_dim, n_embd}
inline constexpr const char* kFfnNorm = "blk.%d.ffn_norm.weight";     // {n_embd}
inline constexpr const char* kFfnGate = "blk.%d.ffn_gate.weight";     // {n_embd, n_ff}
inline constexpr const char* kFfnUp = "blk.%d.ffn_up.weight";         // {n_embd, n_ff}
inline constexpr const char* kFfnDown = "blk.%d.ffn_down.weight";     // {n_ff, n_embd}

std::string block_tensor(const char* pattern, int block);
}  // namespace maas::gguf_tensor
