// tokenizer.h — text <-> token ids for Llama models, configured entirely by GGUF metadata
// (tokenizer.ggml.*), the way llama.cpp reads it:
//   model "gpt2":  byte-level BPE by merge rank (Llama 3 with pre "llama-bpe"; other `pre`
//                  values use the GPT-2 split regex).
//   model "llama": SentencePiece-style BPE by score, "▁" for spaces, a leading space added
//                  (add_space_prefix), byte fallback to <0xXX> tokens (Llama 2).
//
// Special tokens: control, user-defined and unknown tokens are recognised inside text when
// encode() is asked to (parse_special); otherwise their strings are ordinary text. Prompts
// from users should be encoded with parse_special = false (TESTPLAN D9).
//
// Errors: from_gguf validates every array and id it reads (element types, equal lengths, ids in
// range, token length) and returns InvalidArgument / OutOfRange / Unimplemented; a hostile file
// never crashes it. encode/decode accept any bytes; invalid UTF-8 in input is carried through
// byte-level tokens (gpt2) or byte fallback (llama), and decode() repairs invalid UTF-8 in its
// output with U+FFFD.
// Thread safety: immutable after from_gguf(); encode/decode may run concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gguf/gguf.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/vocab.h"

namespace maas {

class BpeEncoder;
class SpmEncoder;
class SpecialMatcher;

class Tokenizer {
 public:
  // Reads tokenizer.ggml.* from `file` (which need not outlive the tokenizer).
  static StatusOr<std::unique_ptr<Tokenizer>> from_gguf(const GgufFile& file);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // add_special: prepend BOS (and append EOS) as tokenizer.ggml.add_bos_token / add_eos_token
  // say (defaults: BOS yes, EOS no). parse_special: split out special-token strings.
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

  // The bytes a token stands for: byte-level decoded (gpt2), "▁" -> " " and <0xXX> -> the byte
  // (llama); control tokens give their text. Empty for an id out of range. Not necessarily UTF-8.
  std::string token_to_piece(int32_t id) const;
  // The text of `ids`, skipping special tokens when asked and ids out of range always; llama
  // drops the one leading space SentencePiece adds. Invalid UTF-8 becomes U+FFFD.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special) const;
  // The building block of decode(): appends id's bytes to *out. *at_start is true before the
  // first emitted token and cleared when one is emitted (a skipped token emits nothing).
  void append_piece(int32_t id, bool skip_special, bool* at_start, std::string* out) const;

  int32_t n_vocab() const { return vocab_.n(); }
  int32_t bos_id() const { return bos_; }  // -1 when the vocabulary has none
  int32_t eos_id() const { return eos_; }
  int32_t eot_id() const { return eot_; }
  bool add_bos() const { return add_bos_; }
  // End of generation: eos, eot, eom, and control tokens named <|eot_id|>, <|eom_id|>,
  // <|end_of_text|>, <|endoftext|>, <|im_end|>, </s>.
  bool is_eog(int32_t id) const;
  // Control and unknown tokens (skipped by decode with skip_special).
  bool is_special(int32_t id) const;
  int32_t token_type(int32_t id) const { return in_range(id) ? vocab_.type[id] : 0; }
  std::string_view token_text(int32_t id) const { return in_range(id) ? std::string_view(vocab_.text[id]) : ""; }
  std::string_view model() const { return model_; }  // "gpt2" | "llama"
  std::string_view pre() const { return pre_; }
  std::optional<int32_t> find_token(std::string_view text) const { return vocab_.find(text); }
  const Vocab& vocab() const { return vocab_; }  // for the encoders' tests
  int32_t unk_id() const { return unk_; }

 private:
  Tokenizer();
  Status init(const GgufFile& file);
  Status load_ids(const GgufFile& file);
  void build_pieces();
  bool in_range(int32_t id) const { return id >= 0 && id < vocab_.n(); }
  void encode_text(std::string_view text, bool after_special, std::vector<int32_t>* out) const;

  std::string model_, pre_;
  Vocab vocab_;
  std::vector<std::string> pieces_;  // token_to_piece, by id
  std::vector<int32_t> eog_ids_;     // sorted
  int32_t bos_ = -1, eos_ = -1, eot_ = -1, eom_ = -1, unk_ = -1;
  bool add_bos_ = true, add_eos_ = false, add_space_prefix_ = true;
  PreTokenizer pre_kind_ = PreTokenizer::kGpt2;
  std::unique_ptr<SpecialMatcher> special_;
  std::unique_ptr<BpeEncoder> bpe_;  // model gpt2
  std::unique_ptr<SpmEncoder> spm_;  // model llama
};

// Streams the text of generated ids without ever splitting a UTF-8 character: bytes of an
// incomplete sequence are held back until it completes; invalid bytes become U+FFFD as soon as
// they can no longer complete, and an incomplete tail becomes U+FFFD at flush(). The
// concatenated output of push()es and flush() equals decode() of the same ids.
// Thread safety: one per stream; the tokenizer must outlive it.
class IncrementalDecoder {
 public:
  IncrementalDecoder(const Tokenizer& tokenizer, bool skip_special)
      : tokenizer_(tokenizer), skip_special_(skip_special) {}
  std::string push(int32_t id);
  std::string flush();
  size_t n_pending_bytes() const { return pending_.size(); }

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_;
  bool at_start_ = true;
  std::string pending_;
};

class GgufWriter;
// Converts a Hugging Face tokenizer.json (+ tokenizer_config.json: chat_template, bos/eos,
// add_bos_token) into GGUF tokenizer metadata as llama.cpp's converter does. Byte-level BPE
// (Llama 3): model "gpt2", pre "llama-bpe" (the Llama 3 split regex) or "default" (GPT-2's),
// tokens in id order including added tokens (gaps filled with "[PAD<id>]", type unused), type 1
// normal / 3 control for special added tokens / 4 user-defined for other added tokens, merges
// "a b", bos/eos from the config, eot/eom ids for <|eot_id|> / <|eom_id|> when present.
// SentencePiece BPE with byte fallback (Llama 2): model "llama", scores from the merge ranks
// (-rank of the first merge forming a token), types 2 unknown / 3 control / 6 byte. Malformed JSON -> InvalidArgument; other tokenizer
// kinds -> Unimplemented. Nothing is written to `writer` on error.
Status import_hf_tokenizer(const std::string& tokenizer_json, const std::string& tokenizer_config_json,
                           GgufWriter& writer);

}  // namespace maas
