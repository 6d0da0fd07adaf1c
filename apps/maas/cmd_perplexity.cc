// cmd_perplexity.cc — `maas perplexity --model M --file TEXT`: perplexity over a text by
// llama-perplexity's method (eval/perplexity.h), and the KL divergence of this run from a saved
// base run: --kl-divergence-base FILE alone saves this run's log-probabilities; with
// --kl-divergence it compares this run with FILE (whose tokens and context it takes). Base files
// are llama.cpp's format, so either program's base can score the other, and the referee
// (tests/referee.cc) writes one from the double-precision forward pass.
// --kv-cache-dtype f32|f16|q8_0|auto (default f32 here, so a run measures the weights alone):
// the KV cache's element type, as the worker's flag; a base run with f32 and a compared run with
// f16 measure what the cache type costs.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <numeric>

#include "args.h"
#include "base/file_util.h"
#include "commands.h"
#include "eval/perplexity.h"
#include "kernels/kernels.h"
#include "engine/loaded_model.h"

namespace maas {
namespace {

constexpr char kUsage[] =
    "usage: maas perplexity --model PATH --file TEXT [--ctx 512] [--chunks K] [--batch 512] [--threads N]\n"
    "                       [--kl-divergence-base FILE [--kl-divergence]] [--kv-cache-dtype f32|f16|q8_0|auto]";

// The engine as a source of chunk logits: positions before `first` in batches that return no
// logits, then the scored half with every position's logits.
struct EngineRun {
  Model* model;
  KvCache* cache;
  std::vector<int32_t> table;
  int32_t n_batch;
  std::vector<float> scratch;  // the one logit row of an unscored batch

  Status operator()(const std::vector<int32_t>& input, int32_t first, float* out) {
    const int32_t n = static_cast<int32_t>(input.size());
    const size_t n_vocab = static_cast<size_t>(model->config().n_vocab);
    for (int32_t start = 0; start < n;) {
      const int32_t end = std::min({start + n_batch, n, start < first ? first : n});
      Batch batch;
      batch.tokens.assign(input.begin() + start, input.begin() + end);
      const bool scored = start >= first;
      batch.seqs.push_back({table.data(), static_cast<int32_t>(table.size()), start, end - start, scored});
      model->forward(batch, *cache, scored ? out + static_cast<size_t>(start - first) * n_vocab : scratch.data());
      start = end;
    }
    return Status::Ok();
  }
};

void print_kl(const eval::KlSummary& s) {
  std::printf("\n====== KL divergence from the base (%zu positions) ======\n", s.count);
  std::printf("PPL(run)            : %12.4f +/- %.4f\n", s.ppl.value, s.ppl.error);
  std::printf("PPL(base)           : %12.4f +/- %.4f\n", s.ppl_base.value, s.ppl_base.error);
  std::printf("ln(PPL/PPL(base))   : %12.6f +/- %.6f\n", s.ln_ppl_ratio.value, s.ln_ppl_ratio.error);
  std::printf("Mean    KLD         : %12.6g +/- %.3g\n", s.kld.value, s.kld.error);
  std::printf("Median  KLD         : %12.6g\n", s.kld_median);
  std::printf("99.0%%   KLD         : %12.6g\n", s.kld_p99);
  std::printf("Maximum KLD         : %12.6g\n", s.kld_max);
  std::printf("RMS Δp              : %11.4f %% +/- %.4f %%\n", 100 * s.rms_p_diff.value, 100 * s.rms_p_diff.error);
  std::printf("Maximum |Δp|        : %11.4f %%\n", 100 * s.max_abs_p_diff);
  std::printf("Same top token      : %11.4f %% +/- %.4f %%\n", 100 * s.same_top.value, 100 * s.same_top.error);
}

// Tokens and chunk count: from the base file when comparing, else from the text.
Status plan(const Args& a, const Tokenizer& tok, eval::KlBaseReader* base, std::vector<int32_t>* tokens, eval::EvalOptions* o) {
  ASSIGN_OR_RETURN(long long ctx, a.get_int("--ctx", 512, 4, 1 << 20));
  ASSIGN_OR_RETURN(long long chunks, a.get_int("--chunks", -1, -1, 1 << 20));
  if (base != nullptr) {
    *tokens = base->header().tokens;
    o->n_ctx = base->header().n_ctx;
    if (a.has("--ctx") && ctx != o->n_ctx) {
      std::fprintf(stderr, "note: the base file was computed with --ctx %d; using it\n", o->n_ctx);
    }
  } else {
    if (!a.has("--file")) return invalid_argument(kUsage);
    ASSIGN_OR_RETURN(std::string text, read_file(a.get("--file")));
    *tokens = tok.encode(text, /*add_special=*/true, /*parse_special=*/false);
    o->n_ctx = static_cast<int32_t>(ctx);
  }
  const long long available = static_cast<long long>(tokens->size()) / o->n_ctx;
  if (available < 1) {
    return invalid_argument("the text has " + std::to_string(tokens->size()) + " tokens; --ctx " + std::to_string(o->n_ctx) +
                            " needs at least that many");
  }
  o->n_chunk = static_cast<int32_t>(chunks < 0 ? available : std::min(chunks, available));
  o->bos = tok.add_bos() ? tok.bos_id() : -1;
  return Status::Ok();
}

void progress_bar(int32_t done, int32_t total, double ppl, std::chrono::steady_clock::time_point t0) {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int width = 30, filled = width * done / total;
  std::fprintf(stderr, "\r[%.*s%*s] %d/%d chunks  PPL %.4f  %.1f s/chunk  ETA %.0f s ", filled,
               "##############################", width - filled, "", done, total, ppl, s / done, s / done * (total - done));
  if (done == total || !isatty(STDERR_FILENO)) std::fputc('\n', stderr);
}

}  // namespace

int cmd_perplexity(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {"--model", "--file", "--ctx", "--chunks", "--batch", "--threads", "--kl-divergence-base",
                                 "--kv-cache-dtype"},
                          {"--kl-divergence"});
  if (!args.ok()) return report_error(args.status().message(), 2);
  if (!args->has("--model")) return report_error(kUsage, 2);
  const bool compare = args->has("--kl-divergence");
  const std::string base_path = args->get("--kl-divergence-base");
  if (compare && base_path.empty()) return report_error("--kl-divergence needs --kl-divergence-base FILE", 2);
  auto threads = args->get_int("--threads", 0, 0, 1024);
  auto n_batch = args->get_int("--batch", 512, 1, 1 << 16);
  if (!threads.ok() || !n_batch.ok()) return report_error((threads.ok() ? n_batch : threads).status().message(), 2);
  auto kv_choice = parse_kv_type(args->get("--kv-cache-dtype", "f32"));
  if (!kv_choice.ok()) return report_error("--kv-cache-dtype: " + kv_choice.status().message(), 2);

  std::unique_ptr<eval::KlBaseReader> reader;
  if (compare) {
    auto r = eval::KlBaseReader::open(base_path);
    if (!r.ok()) return report_error(r.status().message());
    reader = std::move(*r);
  }
  LoaderOptions lo;  // the one loader (engine/loaded_model.h); --ctx is the chunk length, sized below
  lo.model_path = args->get("--model");
  lo.load.n_threads = static_cast<int>(*threads);
  lo.need_chat_template = false;
  lo.engine.n_ctx = 0;  // no serving context asked: nothing to clamp or log
  auto loaded = load_served_model(lo);
  if (!loaded.ok()) return report_error(loaded.status().message());
  Model& model = *loaded->model;
  const Tokenizer& tok = *loaded->tokenizer;
  const int32_t n_vocab = model.config().n_vocab;
  if (reader && reader->header().n_vocab != n_vocab) {
    return report_error("the base file's vocabulary has " + std::to_string(reader->header().n_vocab) + " tokens, the model's " +
                        std::to_string(n_vocab));
  }
  std::vector<int32_t> tokens;
  eval::EvalOptions o;
  o.n_vocab = n_vocab;
  if (Status s = plan(*args, tok, reader.get(), &tokens, &o); !s.ok()) return report_error(s.message(), 2);

  std::unique_ptr<eval::KlBaseWriter> writer;
  if (!base_path.empty() && !compare) {
    eval::KlBaseHeader h{o.n_ctx, n_vocab, o.n_chunk, {tokens.begin(), tokens.begin() + static_cast<int64_t>(o.n_ctx) * o.n_chunk}};
    auto w = eval::KlBaseWriter::create(base_path, h);
    if (!w.ok()) return report_error(w.status().message());
    writer = std::move(*w);
  }
  o.save = writer.get();
  o.compare = reader.get();

  const int32_t bs = 16;
  const KvType kv_type = kv_type_for_backend(*kv_choice, model.backend().name());
  auto cache = model.allocate_kv_cache({.n_blocks = (o.n_ctx + bs - 1) / bs, .block_size = bs, .type = kv_type});
  if (!cache.ok()) return report_error(cache.status().message());
  EngineRun run{&model, cache->get(), std::vector<int32_t>(static_cast<size_t>((*cache)->n_blocks())),
                static_cast<int32_t>(*n_batch), std::vector<float>(static_cast<size_t>(n_vocab))};
  std::iota(run.table.begin(), run.table.end(), 0);
  std::fprintf(stderr, "perplexity: %zu tokens, %d chunks of %d, scoring the last %d of each; kernels %s, %d threads, KV %s\n",
               tokens.size(), o.n_chunk, o.n_ctx, o.n_ctx - 1 - o.n_ctx / 2, kernel_variant().c_str(), model.backend().n_threads(),
               kv_type_name(kv_type));
  const auto t0 = std::chrono::steady_clock::now();
  o.progress = [t0](int32_t done, int32_t total, double ppl) { progress_bar(done, total, ppl, t0); };
  auto result = eval::evaluate_chunks(tokens, o, std::ref(run));
  if (!result.ok()) return report_error(result.status().message());
  std::printf("Final estimate: PPL = %.4f +/- %.5f  (%zu tokens)\n", result->ppl.value, result->ppl.error, result->count);
  if (result->kl) print_kl(*result->kl);
  if (writer) std::fprintf(stderr, "saved the log-probabilities to %s\n", base_path.c_str());
  return 0;
}

}  // namespace maas
