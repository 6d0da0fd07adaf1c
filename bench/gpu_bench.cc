// gpu_bench.cc — maas-gpu-bench: bench/gpu-check.sh's model writer and measuring tool, built from
// the model libraries alone (no tokenizer, HTTP or platform libraries), so that the check can
// build it on a GPU machine that has none of their packages. Subcommands (gpu_bench.h):
//   maas-gpu-bench generate --preset 8b --type bf16 --out PATH [--vocab 128256] [--seed 42]
//       [--vocab-gguf FILE]
//       random weights of a synthetic_model.h preset; no tokenizer (the forward pass needs none),
//       or FILE's tokenizer.* metadata (then its vocabulary size), so a worker can serve the file
//   maas-gpu-bench run --model PATH [--device cuda] [-p 512] [-n 128] [-r 3] [--kv f16|f32]
//       [--gpu-memory-fraction 0.9] [--threads N] [--copy-gbps G] [--peak-tflops T] [--cuda-graphs on|off]
//       prefill of p random tokens (ppP) and n single-token decode steps from an empty cache (tgN)
//   maas-gpu-bench batch --model PATH [--device cuda] [--batches 1,16,64,256] [--ctx 1024] [-n 16]
//       [-r 3] [--kv f16|f32] [--copy-gbps G] [--cuda-graphs on|off]
//       decode steps of B sequences that each hold ctx positions in the KV cache
//   maas-gpu-bench copybw [--gib 2] [-r 20]
//       the card's device-to-device copy bandwidth (bytes read + written)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "gguf/gguf_writer.h"
#include "gpu_bench.h"
#include "model/synthetic_model.h"

namespace maas::gpu_bench {

std::string get(const Flags& f, const std::string& key, const std::string& fallback) {
  auto it = f.find(key);
  return it == f.end() ? fallback : it->second;
}

double get_double(const Flags& f, const std::string& key, double fallback) {
  auto it = f.find(key);
  return it == f.end() ? fallback : std::atof(it->second.c_str());
}

int fail(const Status& s) {
  std::fprintf(stderr, "maas-gpu-bench: %s\n", s.to_string().c_str());
  return 1;
}

namespace {

StatusOr<Flags> parse_flags(int argc, char** argv) {
  Flags f;
  for (int i = 2; i < argc; i += 2) {
    if (i + 1 >= argc || argv[i][0] != '-') return invalid_argument(std::string("expected --flag VALUE at '") + argv[i] + "'");
    f[argv[i]] = argv[i + 1];
  }
  return f;
}

}  // namespace

int cmd_generate(const Flags& f) {
  auto opts = synthetic_preset(get(f, "--preset", "tiny"));
  if (!opts.ok()) return fail(opts.status());
  opts->type = get(f, "--type", opts->type);
  opts->seed = std::strtoull(get(f, "--seed", "42").c_str(), nullptr, 10);
  int32_t n_vocab = std::atoi(get(f, "--vocab", "128256").c_str());
  const std::string out = get(f, "--out", "");
  if (out.empty()) return fail(invalid_argument("generate needs --out PATH"));
  const auto t0 = std::chrono::steady_clock::now();
  GgufWriter w;
  if (const std::string vocab_file = get(f, "--vocab-gguf", ""); !vocab_file.empty()) {
    auto src = GgufFile::open(vocab_file);
    if (!src.ok()) return fail(src.status());
    for (const GgufKv& kv : (*src)->kvs()) {
      if (kv.key.rfind("tokenizer.", 0) == 0) w.copy_kv(kv);
    }
    n_vocab = static_cast<int32_t>((*src)->array_length("tokenizer.ggml.tokens"));
    if (n_vocab == 0) return fail(invalid_argument(vocab_file + " has no tokenizer.ggml.tokens"));
  }
  if (Status s = add_synthetic_llama(*opts, n_vocab, w); !s.ok()) return fail(s);
  if (Status s = w.write(out); !s.ok()) return fail(s);
  std::printf("wrote %s (%s, %s, %d-token vocabulary%s) in %.1f s\n", out.c_str(), opts->name.c_str(),
              opts->type.c_str(), n_vocab, f.count("--vocab-gguf") ? ", with a tokenizer" : "",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}

}  // namespace maas::gpu_bench

int main(int argc, char** argv) {
  using namespace maas::gpu_bench;
  const std::string cmd = argc > 1 ? argv[1] : "";
  auto flags = parse_flags(argc, argv);
  int (*const fn)(const Flags&) = cmd == "generate" ? cmd_generate
                                  : cmd == "run"    ? cmd_run
                                  : cmd == "batch"  ? cmd_batch
                                  : cmd == "copybw" ? cmd_copybw
                                                    : nullptr;
  if (fn == nullptr) {
    std::fprintf(stderr,
                 "usage: maas-gpu-bench generate --preset 8b --type bf16 --out PATH [--vocab-gguf FILE]\n"
                 "       maas-gpu-bench run --model PATH [--device cuda] [-p 512] [-n 128] [-r 3]\n"
                 "       maas-gpu-bench batch --model PATH [--device cuda] [--batches 1,16,64,256] [--ctx 1024]\n"
                 "       maas-gpu-bench copybw [--gib 2] [-r 20]\n");
    return 2;
  }
  if (!flags.ok()) return fail(flags.status());
  return fn(*flags);
}
