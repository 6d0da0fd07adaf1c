// cmd_run.cc — `maas run MODEL [PROMPT]`: stream generated text to the terminal, or chat.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "engine/generator.h"

namespace maas {
namespace {

struct RunOptions {
  GenerateParams gen;
  bool chat = false;
  bool parse_special = true;
  std::string system;
};

StatusOr<RunOptions> parse_run_options(const Args& a) {
  RunOptions o;
  ASSIGN_OR_RETURN(long long max_tokens, a.get_int("--max-tokens", 256, 1, 1 << 20));
  o.gen.max_tokens = static_cast<int32_t>(max_tokens);
  ASSIGN_OR_RETURN(double temperature, a.get_double("--temperature", 0.8, 0.0, 2.0));
  ASSIGN_OR_RETURN(double top_p, a.get_double("--top-p", 0.95, 0.0, 1.0));
  ASSIGN_OR_RETURN(long long top_k, a.get_int("--top-k", 40, -1, 1 << 20));
  o.gen.sampling.temperature = static_cast<float>(temperature);
  o.gen.sampling.top_p = static_cast<float>(top_p);
  o.gen.sampling.top_k = static_cast<int32_t>(top_k);
  if (a.has("--seed")) {
    ASSIGN_OR_RETURN(long long seed, a.get_int("--seed", 0, 0, (1LL << 62)));
    o.gen.sampling.seed = static_cast<uint64_t>(seed);
  }
  o.gen.ignore_eos = a.has("--ignore-eos");
  o.chat = a.has("--chat");
  o.parse_special = !a.has("--no-special");
  o.system = a.get("--system");
  return o;
}

void print_text(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

int interactive_chat(Generator& g, const RunOptions& o) {
  std::vector<ChatMessage> messages;
  if (!o.system.empty()) messages.push_back({"system", o.system});
  bool tty = isatty(STDIN_FILENO);
  if (tty) std::fprintf(stderr, "chat with %s (Ctrl-D to quit)\n", g.model().config().name.c_str());
  std::string line;
  for (;;) {
    if (tty) std::fputs("\n> ", stderr);
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    messages.push_back({"user", line});
    auto prompt = g.encode_chat(messages);
    if (!prompt.ok()) return report_error(prompt.status().message());
    std::string reply;
    auto stats = g.generate(*prompt, o.gen, [&](const std::string& s) { reply += s; print_text(s); }, /*keep_cache=*/true);
    if (!stats.ok()) {
      std::fprintf(stderr, "\nerror: %s\n", stats.status().message().c_str());
      messages.pop_back();
      continue;
    }
    print_text("\n");
    messages.push_back({"assistant", reply});
  }
  return 0;
}

}  // namespace

int cmd_run(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {"--max-tokens", "--temperature", "--top-p", "--top-k", "--seed", "--threads", "--ctx", "--system"},
                          {"--chat", "--no-special", "--ignore-eos", "--verbose"});
  if (!args.ok()) return report_error(args.status().message(), 2);
  if (args->positional().empty() || args->positional().size() > 2) return report_error("usage: maas run MODEL [PROMPT]", 2);
  auto opts = parse_run_options(*args);
  if (!opts.ok()) return report_error(opts.status().message(), 2);
  GeneratorOptions go;
  auto threads = args->get_int("--threads", 0, 0, 1024);
  auto ctx = args->get_int("--ctx", 4096, 16, 1 << 20);
  if (!threads.ok() || !ctx.ok()) return report_error((threads.ok() ? ctx.status() : threads.status()).message(), 2);
  go.n_threads = static_cast<int>(*threads);
  go.n_ctx = static_cast<int32_t>(*ctx);
  auto gen = Generator::load(args->positional()[0], go);
  if (!gen.ok()) return report_error(gen.status().message());
  Generator& g = **gen;
  if (args->positional().size() == 1) return interactive_chat(g, *opts);

  const std::string& text = args->positional()[1];
  std::vector<int32_t> prompt;
  if (opts->chat) {
    std::vector<ChatMessage> messages;
    if (!opts->system.empty()) messages.push_back({"system", opts->system});
    messages.push_back({"user", text});
    auto p = g.encode_chat(messages);
    if (!p.ok()) return report_error(p.status().message());
    prompt = std::move(*p);
  } else {
    prompt = g.tokenizer().encode(text, /*add_special=*/true, opts->parse_special);
  }
  if (!opts->chat) print_text(text);
  auto stats = g.generate(prompt, opts->gen, print_text);
  print_text("\n");
  if (!stats.ok()) return report_error(stats.status().message());
  if (args->has("--verbose")) {
    std::fprintf(stderr, "prompt: %d tokens, %.1f tok/s | generated: %d tokens, %.1f tok/s | finish: %s\n", stats->n_prompt,
                 stats->n_prompt / std::max(1e-9, stats->prefill_seconds), stats->n_generated,
                 stats->n_generated / std::max(1e-9, stats->decode_seconds), stats->finish_reason.c_str());
  }
  return 0;
}

int report_error(const std::string& message, int code) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return code;
}

}  // namespace maas
