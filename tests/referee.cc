// referee.cc — `maas-referee`: writes a KL-divergence base file (eval/kl_base_file.h) from the
// double-precision reference forward pass (reference_llama.h) on a model file's dequantized
// weights, by `maas perplexity`'s chunking. Any run on the same file — a kernel variant, a
// backend, another engine (llama-perplexity reads the same format) — can then be scored against
// exact arithmetic on its own weights:
//
//   maas-referee --model M.gguf --file TEXT --ctx 128 --chunks 4 --kl-divergence-base exact.kld
//   maas perplexity --model M.gguf --kl-divergence-base exact.kld --kl-divergence
//   llama-perplexity -m M.gguf --kl-divergence-base exact.kld --kl-divergence
//
// --tokens-from BASE takes the tokens, context and chunk count of an existing base file (one
// written by llama.cpp, say) instead of tokenizing a text. Slow by design: the reference
// recomputes each chunk from scratch in double precision, on one thread.
#include <cmath>
#include <cstdio>
#include <algorithm>
#include <memory>

#include "base/file_util.h"
#include "eval/perplexity.h"
#include "gguf/gguf.h"
#include "tests/reference_llama.h"
#include "tokenizer/tokenizer.h"

namespace {

using namespace maas;

struct Options {
  std::string model, file, tokens_from, out;
  int32_t n_ctx = 512, n_chunk = -1;
};

StatusOr<Options> parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return invalid_argument("missing value for " + flag);
    std::string v = argv[++i];
    if (flag == "--model") o.model = v;
    else if (flag == "--file") o.file = v;
    else if (flag == "--tokens-from") o.tokens_from = v;
    else if (flag == "--kl-divergence-base") o.out = v;
    else if (flag == "--ctx") o.n_ctx = std::stoi(v);
    else if (flag == "--chunks") o.n_chunk = std::stoi(v);
    else return invalid_argument("unknown flag " + flag);
  }
  if (o.model.empty() || o.out.empty() || (o.file.empty() == o.tokens_from.empty())) {
    return invalid_argument(
        "usage: maas-referee --model M --kl-divergence-base OUT (--file TEXT [--ctx 512] [--chunks K] | --tokens-from BASE)");
  }
  return o;
}

// Tokens, context and chunk count, from the text or from a base file.
Status plan(const Options& o, const GgufFile& f, std::vector<int32_t>* tokens, eval::EvalOptions* e) {
  ASSIGN_OR_RETURN(auto tok, Tokenizer::from_gguf(f));
  e->bos = tok->add_bos() ? tok->bos_id() : -1;
  const GgufTensorInfo* embd = f.find_tensor("token_embd.weight");
  if (embd == nullptr || embd->ne.size() < 2) return invalid_argument("the model has no token_embd.weight");
  e->n_vocab = static_cast<int32_t>(embd->ne[1]);
  if (!o.tokens_from.empty()) {
    ASSIGN_OR_RETURN(auto base, eval::KlBaseReader::open(o.tokens_from));
    *tokens = base->header().tokens;
    e->n_ctx = base->header().n_ctx;
    e->n_chunk = o.n_chunk > 0 ? std::min(o.n_chunk, base->header().n_chunk) : base->header().n_chunk;
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(std::string text, read_file(o.file));
  *tokens = tok->encode(text, /*add_special=*/true, /*parse_special=*/false);
  e->n_ctx = o.n_ctx;
  const int32_t available = static_cast<int32_t>(tokens->size() / static_cast<size_t>(o.n_ctx));
  if (available < 1) return invalid_argument("the text is shorter than one chunk");
  e->n_chunk = o.n_chunk > 0 ? std::min(o.n_chunk, available) : available;
  return Status::Ok();
}

// The reference's logits for positions first.. of a chunk, shifted by each row's maximum so
// the float copy keeps double precision where the probabilities are.
Status reference_rows(const GgufFile& f, const std::vector<int32_t>& input, int32_t first, int32_t n_vocab, float* out) {
  auto logits = testing::reference_logits(f, input, first);
  if (logits.size() != input.size()) return internal_error("the reference forward pass could not read the model");
  for (size_t p = static_cast<size_t>(first); p < input.size(); ++p) {
    const auto& row = logits[p];
    if (row.size() != static_cast<size_t>(n_vocab)) return internal_error("vocabulary size mismatch");
    const double mx = *std::max_element(row.begin(), row.end());
    float* dst = out + (p - static_cast<size_t>(first)) * static_cast<size_t>(n_vocab);
    for (int32_t v = 0; v < n_vocab; ++v) dst[v] = static_cast<float>(row[static_cast<size_t>(v)] - mx);
  }
  return Status::Ok();
}

int run(int argc, char** argv) {
  auto o = parse(argc, argv);
  if (!o.ok()) return std::fprintf(stderr, "error: %s\n", o.status().message().c_str()), 2;
  auto f = GgufFile::open(o->model);
  if (!f.ok()) return std::fprintf(stderr, "error: %s\n", f.status().message().c_str()), 1;
  std::vector<int32_t> tokens;
  eval::EvalOptions e;
  if (Status s = plan(*o, **f, &tokens, &e); !s.ok()) return std::fprintf(stderr, "error: %s\n", s.message().c_str()), 1;
  eval::KlBaseHeader h{e.n_ctx, e.n_vocab, e.n_chunk, {tokens.begin(), tokens.begin() + static_cast<int64_t>(e.n_ctx) * e.n_chunk}};
  auto w = eval::KlBaseWriter::create(o->out, h);
  if (!w.ok()) return std::fprintf(stderr, "error: %s\n", w.status().message().c_str()), 1;
  e.save = w->get();
  e.progress = [](int32_t done, int32_t total, double ppl) { std::fprintf(stderr, "[%d/%d] PPL %.4f\n", done, total, ppl); };
  std::fprintf(stderr, "referee: %d chunks of %d tokens, double precision\n", e.n_chunk, e.n_ctx);
  auto r = eval::evaluate_chunks(tokens, e, [&](const std::vector<int32_t>& in, int32_t first, float* out) {
    return reference_rows(**f, in, first, e.n_vocab, out);
  });
  if (!r.ok()) return std::fprintf(stderr, "error: %s\n", r.status().message().c_str()), 1;
  std::printf("Final estimate: PPL = %.4f +/- %.5f  (exact, %zu tokens); wrote %s\n", r->ppl.value, r->ppl.error, r->count,
              o->out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }
