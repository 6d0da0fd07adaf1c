// tokenizer_load.cc — Tokenizer::from_gguf: reads and validates tokenizer.ggml.* (the file is
// untrusted: TESTPLAN J4), then builds the encoders, the special-token matcher and the pieces.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "gguf/gguf_names.h"
#include "tokenizer/bpe.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/special_matcher.h"
#include "tokenizer/spm.h"
#include "tokenizer/tokenizer.h"

namespace maas {
namespace {

constexpr size_t kMaxVocab = size_t{1} << 24;
constexpr size_t kMaxTokenBytes = 16 * 1024;

namespace k = gguf_key;
namespace tt = gguf_tensor;

// Reads an optional token id key into *id; absent leaves *id unchanged.
Status read_id(const GgufFile& file, const char* key, int32_t n_vocab, int32_t* id) {
  if (file.find(key) == nullptr) return Status::Ok();
  auto v = file.get_int(key);
  if (!v.ok()) return v.status().with_context(key);
  if (*v < 0 || *v >= n_vocab) {
    return out_of_range(std::string(key) + " = " + std::to_string(*v) + " is outside the vocabulary of " +
                        std::to_string(n_vocab) + " tokens");
  }
  *id = static_cast<int32_t>(*v);
  return Status::Ok();
}

Status read_bool(const GgufFile& file, const char* key, bool* value) {
  if (file.find(key) == nullptr) return Status::Ok();
  auto v = file.get_bool(key);
  if (!v.ok()) return v.status().with_context(key);
  *value = *v;
  return Status::Ok();
}

bool parse_byte_token(std::string_view text, uint8_t* byte) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return false;
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) ? (c <= '9' ? c - '0' : (c | 32) - 'a' + 10) : -1; };
  const int hi = hex(text[3]), lo = hex(text[4]);
  if (hi < 0 || lo < 0) return false;
  *byte = static_cast<uint8_t>(hi * 16 + lo);
  return true;
}

}  // namespace

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const GgufFile& file) {
  std::unique_ptr<Tokenizer> tok(new Tokenizer());
  Status s = tok->init(file);
  if (!s.ok()) return s.with_context("tokenizer");
  return tok;
}

Status Tokenizer::init(const GgufFile& file) {
  if (file.find(k::kTokModel) == nullptr) return invalid_argument("missing tokenizer.ggml.model");
  ASSIGN_OR_RETURN(model_, file.get_string(k::kTokModel));
  if (model_ != "gpt2" && model_ != "llama") {
    return unimplemented("tokenizer model \"" + model_ + "\" (supported: gpt2, llama)");
  }
  if (file.find(k::kTokPre) != nullptr) {
    ASSIGN_OR_RETURN(pre_, file.get_string(k::kTokPre));
  } else {
    pre_ = "default";
  }
  const bool llama3 = pre_ == "llama-bpe" || pre_ == "llama3" || pre_ == "llama-v3";
  pre_kind_ = llama3 ? PreTokenizer::kLlama3 : PreTokenizer::kGpt2;

  if (file.find(k::kTokTokens) == nullptr) return invalid_argument("missing tokenizer.ggml.tokens");
  ASSIGN_OR_RETURN(vocab_.text, file.get_string_array(k::kTokTokens));
  const size_t n = vocab_.text.size();
  if (n == 0 || n > kMaxVocab) return invalid_argument("tokenizer.ggml.tokens has " + std::to_string(n) + " tokens");
  for (size_t i = 0; i < n; ++i) {
    if (vocab_.text[i].size() > kMaxTokenBytes) {
      return invalid_argument("token " + std::to_string(i) + " is " + std::to_string(vocab_.text[i].size()) +
                              " bytes long (limit " + std::to_string(kMaxTokenBytes) + ")");
    }
  }
  vocab_.score.assign(n, 0.0f);
  if (file.find(k::kTokScores) != nullptr) {
    ASSIGN_OR_RETURN(vocab_.score, file.get_float_array(k::kTokScores));
    if (vocab_.score.size() != n) {
      return invalid_argument("tokenizer.ggml.scores has " + std::to_string(vocab_.score.size()) + " entries for " +
                              std::to_string(n) + " tokens");
    }
    for (float sc : vocab_.score) {
      if (!std::isfinite(sc)) return invalid_argument("tokenizer.ggml.scores holds a non-finite score");
    }
  }
  vocab_.type.assign(n, tt::kTokenNormal);
  if (file.find(k::kTokTokenType) != nullptr) {
    ASSIGN_OR_RETURN(std::vector<int64_t> types, file.get_int_array(k::kTokTokenType));
    if (types.size() != n) {
      return invalid_argument("tokenizer.ggml.token_type has " + std::to_string(types.size()) + " entries for " +
                              std::to_string(n) + " tokens");
    }
    for (size_t i = 0; i < n; ++i) {
      if (types[i] < 0 || types[i] > tt::kTokenByte) {
        return invalid_argument("token " + std::to_string(i) + " has unknown type " + std::to_string(types[i]));
      }
      vocab_.type[i] = types[i] == 0 ? tt::kTokenNormal : static_cast<int32_t>(types[i]);
    }
  }
  vocab_.index.build(&vocab_.text);

  RETURN_IF_ERROR(load_ids(file));

  if (model_ == "gpt2") {
    if (file.find(k::kTokMerges) == nullptr) return invalid_argument("missing tokenizer.ggml.merges");
    ASSIGN_OR_RETURN(std::vector<std::string> merges, file.get_string_array(k::kTokMerges));
    ASSIGN_OR_RETURN(bpe_, BpeEncoder::build(vocab_, merges, /*ignore_merges=*/llama3));
  } else {
    spm_ = std::make_unique<SpmEncoder>(vocab_, unk_);
  }
  special_ = std::make_unique<SpecialMatcher>();
  for (size_t i = 0; i < n; ++i) {
    const int32_t t = vocab_.type[i];
    if (t == tt::kTokenControl || t == tt::kTokenUserDefined || t == tt::kTokenUnknown) {
      special_->add(vocab_.text[i], static_cast<int32_t>(i));
    }
  }
  build_pieces();
  return Status::Ok();
}

Status Tokenizer::load_ids(const GgufFile& file) {
  const int32_t n = vocab_.n();
  if (model_ == "llama") {  // llama.cpp's SentencePiece defaults
    bos_ = n > 1 ? 1 : -1;
    eos_ = n > 2 ? 2 : -1;
    unk_ = 0;
  }
  RETURN_IF_ERROR(read_id(file, k::kTokBos, n, &bos_));
  RETURN_IF_ERROR(read_id(file, k::kTokEos, n, &eos_));
  RETURN_IF_ERROR(read_id(file, k::kTokEot, n, &eot_));
  RETURN_IF_ERROR(read_id(file, k::kTokEom, n, &eom_));
  RETURN_IF_ERROR(read_id(file, k::kTokUnk, n, &unk_));
  RETURN_IF_ERROR(read_bool(file, k::kTokAddBos, &add_bos_));
  RETURN_IF_ERROR(read_bool(file, k::kTokAddEos, &add_eos_));
  RETURN_IF_ERROR(read_bool(file, k::kTokAddSpacePrefix, &add_space_prefix_));

  // End of generation: the declared ids plus the control tokens chat formats end turns with.
  static constexpr std::string_view kEogTexts[] = {"<|eot_id|>", "<|eom_id|>", "<|end_of_text|>",
                                                   "<|endoftext|>", "<|im_end|>", "</s>"};
  for (std::string_view t : kEogTexts) {
    auto id = vocab_.find(t);
    if (!id || vocab_.type[*id] != tt::kTokenControl) continue;
    eog_ids_.push_back(*id);
    if (t == "<|eot_id|>" && eot_ < 0) eot_ = *id;
    if (t == "<|eom_id|>" && eom_ < 0) eom_ = *id;
  }
  for (int32_t id : {eos_, eot_, eom_}) {
    if (id >= 0) eog_ids_.push_back(id);
  }
  std::sort(eog_ids_.begin(), eog_ids_.end());
  eog_ids_.erase(std::unique(eog_ids_.begin(), eog_ids_.end()), eog_ids_.end());
  return Status::Ok();
}

void Tokenizer::build_pieces() {
  static constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581 "▁"
  pieces_.resize(vocab_.text.size());
  for (size_t i = 0; i < vocab_.text.size(); ++i) {
    const std::string& text = vocab_.text[i];
    const int32_t type = vocab_.type[i];
    std::string& piece = pieces_[i];
    uint8_t byte = 0;
    if (type == tt::kTokenControl || type == tt::kTokenUserDefined || type == tt::kTokenUnknown) {
      piece = text;
    } else if (type == tt::kTokenByte && parse_byte_token(text, &byte)) {
      piece.assign(1, static_cast<char>(byte));
    } else if (model_ == "gpt2") {
      if (!byte_level_decode(text, &piece)) piece = text;  // not byte-level text: as written
    } else {
      for (size_t pos = 0; pos < text.size();) {
        if (text.compare(pos, kSpaceMark.size(), kSpaceMark) == 0) {
          piece += ' ';
          pos += kSpaceMark.size();
        } else {
          piece += text[pos++];
        }
      }
    }
  }
}

}  // namespace maas
