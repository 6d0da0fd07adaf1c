// json_constraint.h — constrained decoding: each step, only tokens that keep the generated text
// a prefix of JSON the request's grammar accepts may be sampled (response_format).
//
// ConstraintVocab holds every usable token's bytes once per tokenizer (control tokens are never
// allowed; end-of-generation tokens are allowed exactly when the text is a complete value).
// JsonConstraint is one sequence's state. mask() sets the logits of every other token to -inf
// before the sampler sees them (so logprobs and alternatives are those of the constrained
// distribution); accept() advances it by the sampled token.
// Cost per step: tokens are grouped by their first byte, and a group is skipped when the
// matcher refuses that byte; inside a plain string every token without '"', '\' or control
// bytes is allowed without simulating it. The rest are simulated byte by byte on a copy of the
// matcher (a few thousand tokens per step for a 128k vocabulary; measured in the test).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sampling/json_grammar.h"
#include "sampling/json_matcher.h"

namespace maas {

class ConstraintVocab {
 public:
  // pieces[id]: the token's bytes; usable[id]: may appear in generated JSON; eog: end tokens.
  ConstraintVocab(std::vector<std::string> pieces, const std::vector<bool>& usable, std::vector<int32_t> eog);

  int32_t n_vocab() const { return static_cast<int32_t>(pieces_.size()); }

 private:
  friend class JsonConstraint;
  std::vector<std::string> pieces_;
  std::array<std::vector<int32_t>, 256> by_first_;  // usable tokens by their first byte
  std::vector<uint8_t> usable_;
  std::vector<int32_t> plain_chars_;  // characters of a token that stays inside a string; -1: not such a token
  std::vector<int32_t> eog_;
};

class JsonConstraint {
 public:
  JsonConstraint(std::shared_ptr<const JsonGrammar> grammar, std::shared_ptr<const ConstraintVocab> vocab);

  // logits[id] = -inf for every token that cannot come next (n_vocab entries).
  void mask(float* logits, int32_t n_vocab);
  // Advances by `token`; false if the grammar refuses it (then the state is unchanged).
  bool accept(int32_t token);
  // The text is a whole value and nothing but whitespace may follow: the sequence is done.
  bool closed() const { return matcher_.closed(); }
  bool complete() const { return matcher_.complete(); }

 private:
  std::shared_ptr<const JsonGrammar> grammar_;
  std::shared_ptr<const ConstraintVocab> vocab_;
  JsonMatcher matcher_;
  std::vector<uint8_t> allowed_;
};

}  // namespace maas
