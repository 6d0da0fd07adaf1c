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
    "  serve                     the platform: management API, inference gateway, supervised workers\n"
    "      --data-dir D --host 127.0.0.1 --port 8080 --domain D --default-model F | --no-default-model\n"
    "  model list | show NAME | register NAME --path F [--custom] | pull REPO FILE [--name N] |\n"
    "        update NAME --serverless-instances N | rm NAME        the platform's model catalog\n"
    "  offering list | show ID | update ID --price-input USD --price-output USD\n"
    "  workspace create NAME | list | show NAME\n"
    "  marketplace-subscription create [NAME] --model M | list | show NAME | delete NAME\n"
    "  serverless-endpoint create NAME --model M | list | show | update | get-credentials |\n"
    "        regenerate-keys NAME --key-type primary|secondary | delete NAME\n"
    "  usage show [--by day|endpoint|meter] [--since 24h] [--records]\n"
    "  instance list             worker processes of every deployment\n"
    "  online-endpoint create NAME [--shared-quota] | update NAME --traffic a=90,b=10 [--mirror-traffic b=20] |\n"
    "        list | show | get-credentials | regenerate-keys NAME --key-type T | delete NAME\n"
    "  online-deployment create NAME --endpoint E --model M --instance-type T [--instance-count N]\n"
    "        [--request-timeout-ms N --max-concurrent-requests N --content-safety on|off --data-collection on|off\n"
    "        --package-model] | update NAME --endpoint E [...] | list --endpoint E | show | get-logs | delete\n"
    "  instance-type list;  quota show | set --cores N [--gpus N] [--allow-overcommit true|false]\n"
    "  principal create NAME [--kind user|service_principal] | list | show NAME | delete NAME\n"
    "  token create [NAME] [--principal P] [--expires-in-days N] | list [--principal P] | revoke ID\n"
    "  role create NAME --actions A,B [--not-actions C] | list | show NAME | delete NAME\n"
    "  role-assignment create --principal P --role R [--scope S | --in-workspace W [--endpoint E]] | list | delete ID\n"
    "  audit show [--since 24h] [--principal P]\n"
    "      (platform commands: --data-dir D or --url U --token T, --workspace W, --output json)\n"
    "\n"
    "  worker --model PATH       one model's inference server (OpenAI and Azure API)\n"
    "      --host 127.0.0.1 --port 8080 --api-key-file FILE (or MAAS_API_KEY, or --api-key KEY) --threads N --ctx N\n"
    "      --chat-template NAME|FILE  a built-in template (llama2, llama3, llama3.1, llama3.2) or a Jinja file\n"
    "      --max-num-seqs 64 --max-batch-tokens 512 (256 and 2048 with --device cuda) --max-waiting 256\n"
    "      --request-timeout S --device cpu|cuda[:N] --gpu-memory-fraction 0.9 --kv-cache-dtype auto|f32|f16|q8_0\n"
    "      --cuda-graphs on|off (CUDA: decode steps replayed as graphs; on)\n"
    "      --weights-cache DIR --weights-sha256 HEX  one copy of the re-laid weights for all the model's workers\n"
    "      --num-speculative-tokens K  speculative decoding: up to K draft tokens a step by prompt lookup\n"
    "          (n-gram; 0 = off, the default) --ngram-prompt-lookup-max 4 --ngram-prompt-lookup-min 1\n"
    "  run MODEL [PROMPT]        generate text (or chat interactively when no prompt is given)\n"
    "      --max-tokens N --temperature T --top-p P --top-k K --seed S --chat --threads N\n"
    "      --system TEXT --ctx N --no-special --stop S (up to 4) --logprobs N --output json\n"
    "      --chat-template NAME|FILE --device cpu|cuda[:N] --ignore-eos --verbose\n"
    "      --num-speculative-tokens K --ngram-prompt-lookup-max N --ngram-prompt-lookup-min N  (as the worker)\n"
    "      (through the worker's engine and request parser: the same text, stops and logprobs)\n"
    "  model show PATH           architecture, parameters, context, tensor types, vocabulary, template\n"
    "  model check PATH          every load-time check of a model file, without reading the weights\n"
    "  model generate --out PATH  write a Llama-architecture model with random weights\n"
    "      --preset tiny|1b|test --type f32|f16|bf16|q8_0|q4_0|q4_k|q6_k|q4_k_m --vocab llama3|llama2\n"
    "      --hf-tokenizer DIR --vocab-gguf FILE --seed N --untied --rope-scaling\n"
    "  tokenize --model PATH --text T [--no-special]   print token ids as a JSON array\n"
    "  bench --model PATH        prompt processing and generation speed (like llama-bench)\n"
    "      -p 512 -n 128 -r 3 --threads N --output json\n"
    "  perplexity --model PATH --file TEXT   perplexity over a text (like llama-perplexity)\n"
    "      --ctx 512 --chunks K --batch 512 --threads N\n"
    "      --kl-divergence-base FILE [--kl-divergence]   save this run's log-probabilities, or compare with them\n"
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
  if (cmd == "perplexity") return maas::cmd_perplexity(rest);
  if (cmd == "worker") return maas::cmd_worker(rest);
  if (cmd == "serve") return maas::cmd_serve(rest);
  if (maas::is_platform_command(cmd)) return maas::cmd_platform(cmd, rest);
  if (maas::is_access_command(cmd)) return maas::cmd_access(cmd, rest);
  if (maas::is_online_command(cmd)) return maas::cmd_online(cmd, rest);
  std::fprintf(stderr, "error: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
  return 2;
}
