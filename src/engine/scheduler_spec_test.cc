// scheduler_spec_test.cc — the scheduler's side of speculative decoding, alone: a draft's KV
// slots and blocks, rollback, the token budget shared with other decodes, and the cost rule
// that cuts drafts to what they are worth (a fake step cost).
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "engine/scheduler.h"

namespace maas {
namespace {

// The scheduler alone: a draft's slots are reserved across a block boundary, commit() counts
// only the verified token, accept_draft() counts the accepted ones and frees the block that only
// rejected positions used; the prefix cache registers only blocks of verified tokens.
TEST(SchedulerSpec, DraftReservesBlocksAndRollbackFreesThem) {
  BlockManager blocks(8, 16);
  Scheduler scheduler(SchedulerOptions{}, blocks);
  RequestState r;
  r.request.max_tokens = 100;
  for (int32_t i = 0; i < 14; ++i) r.request.prompt.push_back(100 + i);
  auto seq = std::make_unique<Sequence>();
  seq->tokens = r.request.prompt;
  seq->n_prompt = 14;
  Sequence& s = *seq;
  r.seqs.push_back(std::move(seq));
  scheduler.add(&r);
  scheduler.commit(scheduler.schedule());  // the prompt: positions 0..13, one block
  ASSERT_EQ(s.n_computed, 14);
  s.tokens.push_back(7);                   // sampled
  s.draft = {8, 9, 10, 11, 12, 13, 14, 15};  // positions 15..22 cross into the second block
  SchedulerOutput out = scheduler.schedule();
  ASSERT_EQ(out.chunks.size(), 1u);
  EXPECT_EQ(out.chunks[0].n_tokens, 1);
  EXPECT_EQ(out.chunks[0].n_draft, 8);
  EXPECT_EQ(out.shape.n_tokens, 9);
  EXPECT_EQ(out.shape.n_rows, 9);
  EXPECT_EQ(s.block_table.size(), 2u);
  EXPECT_EQ(blocks.n_used(), 2);
  scheduler.commit(out);
  EXPECT_EQ(s.n_computed, 15);             // the draft is not counted
  EXPECT_TRUE(s.block_hashes.empty());     // block 0 is not full of verified tokens yet
  // Nothing accepted: the model's own token at position 15 is appended; block 1 held only
  // rejected positions and is freed.
  s.tokens.push_back(99);
  scheduler.accept_draft(s, 0);
  EXPECT_EQ(s.n_computed, 15);
  EXPECT_EQ(s.block_table.size(), 1u);
  EXPECT_EQ(blocks.n_used(), 1);
  // Next step: 3 of 4 accepted (positions 16..18 are verified) and the block they fill stays.
  s.draft = {20, 21, 22, 23};
  out = scheduler.schedule();
  ASSERT_EQ(out.chunks[0].n_draft, 4);
  scheduler.commit(out);
  EXPECT_EQ(s.n_computed, 16);
  ASSERT_EQ(s.block_hashes.size(), 1u);    // now block 0 is full of verified tokens
  for (int32_t t : {20, 21, 22, 5}) s.tokens.push_back(t);
  scheduler.accept_draft(s, 3);
  EXPECT_EQ(s.n_computed, 19);
  EXPECT_EQ(s.block_table.size(), 2u);
  EXPECT_EQ(s.block_hashes.size(), 1u);
  // A draft that would take the blocks other decodes need is dropped, never preempting.
  BlockManager few(2, 16);
  Scheduler tight(SchedulerOptions{}, few);
  RequestState q;
  q.request = r.request;
  q.request.max_tokens = 10;  // fits two blocks
  auto t = std::make_unique<Sequence>();
  t->tokens = q.request.prompt;
  t->n_prompt = 14;
  Sequence& ts = *t;
  q.seqs.push_back(std::move(t));
  tight.add(&q);
  tight.commit(tight.schedule());
  ts.tokens.push_back(7);
  ts.draft = {1, 2, 3, 4, 5, 6, 7, 8};
  out = tight.schedule();
  ASSERT_EQ(out.chunks.size(), 1u);
  EXPECT_EQ(out.chunks[0].n_draft, 0);
  EXPECT_TRUE(ts.draft.empty());
  EXPECT_TRUE(out.preempted.empty());
}

// Drafts take only what the other decodes leave of the step's token budget, and none run
// while more than spec_max_seqs sequences decode.
TEST(SchedulerSpec, DraftsNeverCrowdOutOtherDecodes) {
  for (int32_t spec_max_seqs : {0, 2}) {
    BlockManager blocks(64, 16);
    SchedulerOptions options;
    options.max_batch_tokens = 12;
    options.spec_max_seqs = spec_max_seqs;
    Scheduler scheduler(options, blocks);
    std::vector<std::unique_ptr<RequestState>> rs;
    for (int i = 0; i < 3; ++i) {
      auto r = std::make_unique<RequestState>();
      r->arrival = static_cast<uint64_t>(i);
      r->request.max_tokens = 50;
      r->request.prompt = {1, 2, 3, 4 + i};
      auto seq = std::make_unique<Sequence>();
      seq->tokens = r->request.prompt;
      seq->n_prompt = 4;
      r->seqs.push_back(std::move(seq));
      scheduler.add(r.get());
      rs.push_back(std::move(r));
    }
    scheduler.commit(scheduler.schedule());  // three prompts of 4 tokens
    for (auto& r : rs) {
      ASSERT_EQ(r->seqs[0]->n_computed, 4);
      r->seqs[0]->tokens.push_back(9);
      r->seqs[0]->draft = {1, 2, 3, 4, 5, 6, 7, 8};
    }
    SchedulerOutput out = scheduler.schedule();
    ASSERT_EQ(out.chunks.size(), 3u) << "every decode runs";
    int32_t total = 0;
    for (const ScheduledChunk& c : out.chunks) total += c.n_tokens + c.n_draft;
    EXPECT_EQ(total, spec_max_seqs == 0 ? 12 : 3);
    // The first draft runs whole (12 - 9 leaves one token for each of the others), the second
    // gets what is left but one, the third nothing.
    EXPECT_EQ(out.chunks[0].n_draft, spec_max_seqs == 0 ? 8 : 0);
    EXPECT_EQ(out.chunks[1].n_draft, spec_max_seqs == 0 ? 1 : 0);
    EXPECT_EQ(out.chunks[2].n_draft, 0);
  }
}

// seconds = base + per_token * tokens + per_row * rows.
class LinearCost : public StepCost {
 public:
  LinearCost(double base, double per_token, double per_row) : base_(base), per_token_(per_token), per_row_(per_row) {}
  double predict(const StepShape& s) const override { return base_ + per_token_ * s.n_tokens + per_row_ * s.n_rows; }

 private:
  double base_, per_token_, per_row_;
};

// n sequences decoding, each with an 8-token draft and acceptance estimate `acceptance`;
// returns the draft lengths the scheduler runs.
std::vector<int32_t> draft_lengths(int n, float acceptance, const StepCost& cost, std::vector<float>* after = nullptr) {
  BlockManager blocks(256, 16);
  SchedulerOptions options;
  options.max_batch_tokens = 512;
  Scheduler scheduler(options, blocks, &cost);
  std::vector<std::unique_ptr<RequestState>> rs;
  for (int i = 0; i < n; ++i) {
    auto r = std::make_unique<RequestState>();
    r->arrival = static_cast<uint64_t>(i);
    r->request.max_tokens = 50;
    r->request.prompt = {1, 2, 3, 4 + i};
    auto seq = std::make_unique<Sequence>();
    seq->tokens = r->request.prompt;
    seq->n_prompt = 4;
    seq->draft_acceptance = acceptance;
    r->seqs.push_back(std::move(seq));
    scheduler.add(r.get());
    rs.push_back(std::move(r));
  }
  scheduler.commit(scheduler.schedule());
  for (auto& r : rs) {
    r->seqs[0]->tokens.push_back(9);
    r->seqs[0]->draft = {1, 2, 3, 4, 5, 6, 7, 8};
  }
  std::vector<int32_t> lengths;
  for (const ScheduledChunk& c : scheduler.schedule().chunks) lengths.push_back(c.n_draft);
  if (after) {
    for (auto& r : rs) after->push_back(r->seqs[0]->draft_acceptance);
  }
  return lengths;
}

// With a cost model, the i-th draft token runs while acceptance^i times a decode token's share
// of the step outweighs what it adds to the step (0.015 s a token here).
TEST(SchedulerSpec, DraftsAreCutToWhatTheyAreWorth) {
  const LinearCost cost(0.2, 0.01, 0.005);
  // A lone stream drafts whole, whatever its estimate.
  EXPECT_EQ(draft_lengths(1, 0.3f, cost), std::vector<int32_t>({8}));
  // Two streams: a token is worth (0.2 + 2 * 0.015) / 2 = 0.115 s; 0.5^2 * 0.115 > 0.015 > 0.5^3 * 0.115.
  EXPECT_EQ(draft_lengths(2, 0.5f, cost), std::vector<int32_t>({2, 2}));
  EXPECT_EQ(draft_lengths(2, 0.9f, cost), std::vector<int32_t>({8, 8}));
  // Eight streams: a token is worth (0.2 + 8 * 0.015) / 8 = 0.04 s; 0.5 * 0.04 > 0.015 > 0.25 * 0.04.
  EXPECT_EQ(draft_lengths(8, 0.5f, cost), std::vector<int32_t>(8, 1));
  // Poor acceptance: nothing runs, and the estimate drifts back toward the prior to try again.
  std::vector<float> after;
  EXPECT_EQ(draft_lengths(8, 0.3f, cost, &after), std::vector<int32_t>(8, 0));
  for (float a : after) EXPECT_NEAR(a, 0.3f + 0.05f * (Sequence::kDraftAcceptancePrior - 0.3f), 1e-6);
  // Tokens nearly free (a device whose steps are bound by reading the weights): whole drafts.
  EXPECT_EQ(draft_lengths(8, 0.8f, LinearCost(0.2, 0.0001, 0.0001)), std::vector<int32_t>(8, 8));
}

}  // namespace
}  // namespace maas
