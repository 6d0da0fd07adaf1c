// main.cc — the maas command line: one binary, subcommands (SPEC §5).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"

namespace {

const char* kUsage =
    "maas — Llama models as managed HTTP APIs on your own machines\n"
    "\n"
    "usage: maas <command> [options]\n"
    "\n"
    "  worker --model PATH       one model's inference server (OpenAI and Azure API)\n"
    "      --host 127.0.0.1 --port 8080 --api-key-file FILE (or MAAS_API_KEY, or --api-key KEY) --threads N --ctx N\n"
    "      --max-num-seqs 64 --max-batch-tokens 512 --max-waiting 256 --request-timeout S\n"
    "  run MODEL [PROMPT]        generate text (or chat interactively when no prompt is given)\n"
    "      --max-tokens N --temperature T --top-p P --top-k K --seed S --chat --threads N\n"
    "      --system TEXT --ctx N --no-special\n"
    "  model show PATH           architecture, parameters, context, tensor types, vocabulary, template\n"
    "  model generate --out PATH  write a Llama-architecture model with random weights\n"
    "      --preset tiny|1b|test --type f32|f16|bf16|q8_0|q4_0|q4_k|q6_k|q4_k_m --vocab llama3|llama2\n"
    "      --hf-tokenizer DIR --vocab-gguf FILE --seed N --untied --rope-scaling\n"
    "  tokenize --model PATH --text T [--no-special]   print token ids as a JSON array\n"
    "  bench --model PATH        prompt processing and generation speed (like llama-bench)\n"
    "      -p 512 -n 128 -r 3 --threads N --output json\n"
    "\n"
    "  --help                    this text\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "help") == 0 ||
      std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  std::vector<std::string> rest(argv + 2, argv + argc);
  if (cmd == "run") return maas::cmd_run(rest);
  if (cmd == "model") return maas::cmd_model(rest);
  if (cmd == "tokenize") return maas::cmd_tokenize(rest);
  if (cmd == "bench") return maas::cmd_bench(rest);
  if (cmd == "worker") return maas::cmd_worker(rest);
  if (cmd == "serve") return maas::cmd_serve(rest);
  if (maas::is_platform_command(cmd)) return maas::cmd_platform(cmd, rest);
  std::fprintf(stderr, "error: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
  return 2;
}
