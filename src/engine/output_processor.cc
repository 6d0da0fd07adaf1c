// output_processor.cc — incremental text, stop strings with holdback, logprobs (see header).
#include "engine/output_processor.h"

#include <algorithm>

namespace maas {

OutputProcessor::OutputProcessor(const Tokenizer& tokenizer, OutputOptions options)
    : options_(std::move(options)), decoder_(tokenizer, options_.skip_special_tokens) {
  std::erase_if(options_.stop, [](const std::string& s) { return s.empty(); });
  for (const std::string& s : options_.stop) max_stop_ = std::max(max_stop_, s.size());
}

bool OutputProcessor::push(int32_t token, bool emit_text, bool check_stop) {
  if (stopped_ || finished_) return stopped_;
  if (!emit_text) return false;
  const size_t old_size = text_.size();
  text_ += decoder_.push(token);
  if (!check_stop || max_stop_ == 0 || text_.size() == old_size) return false;
  // A match must end in the new text; it may start up to max_stop_ - 1 bytes before it.
  const size_t from = old_size > max_stop_ - 1 ? old_size - (max_stop_ - 1) : 0;
  size_t best = std::string::npos, best_len = 0;
  for (const std::string& s : options_.stop) {
    size_t pos = text_.find(s, from);
    if (pos < best) {
      best = pos;
      best_len = s.size();
    }
  }
  if (best == std::string::npos) return false;
  text_.resize(options_.include_stop_str_in_output ? best + best_len : best);
  stopped_ = true;
  return true;
}

void OutputProcessor::finish() {
  if (finished_) return;
  if (!stopped_) text_ += decoder_.flush();
  finished_ = true;
}

// Bytes at the end of text_ that could be the start of a stop string (not yet deliverable).
size_t OutputProcessor::held_back() const {
  if (stopped_ || finished_ || max_stop_ == 0) return 0;
  size_t longest = 0;
  for (const std::string& s : options_.stop) {
    size_t max_len = std::min(s.size() - 1, text_.size());
    for (size_t len = max_len; len > longest; --len) {
      if (text_.compare(text_.size() - len, len, s, 0, len) == 0) {
        longest = len;
        break;
      }
    }
  }
  return longest;
}

void OutputProcessor::take(SequenceDelta* delta) {
  size_t end = text_.size() - held_back();
  if (end > n_sent_) {
    delta->text.append(text_, n_sent_, end - n_sent_);
    n_sent_ = end;
  }
  for (TokenLogprobs& lp : pending_logprobs_) delta->logprobs.push_back(std::move(lp));
  pending_logprobs_.clear();
}

}  // namespace maas
