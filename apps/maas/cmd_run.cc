// cmd_run.cc — `maas run MODEL [PROMPT]`: stream generated text to the terminal, or chat.
//
// Runs through the engine core exactly as `maas worker` serves (run_session.h): the flags become
// an OpenAI completions request (a chat request with --chat or without PROMPT), parsed by the
// worker's parser, so sampling, seeds, stop strings (--stop, up to 4) and logprobs behave as the
// server's. The CLI's one rule of its own: --max-tokens is cut to the room the context leaves
// after the prompt (a prompt that leaves none is an error). --logprobs N prints, after the text,
// each generated token's logprob and its top N alternatives to stderr; --output json prints the
// response body the worker would send for the same request instead of streaming the text.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "run_session.h"

namespace maas {
namespace {

using Json = nlohmann::json;

struct RunOptions {
  Json fields;  // request body fields from the flags (sampling, stop, logprobs, ...)
  int32_t max_tokens = 256;
  int32_t logprobs = -1;
  bool chat = false;
  bool parse_special = true;
  bool json_output = false;
  bool verbose = false;
  std::string system;
};

StatusOr<RunOptions> parse_run_options(const Args& a) {
  RunOptions o;
  ASSIGN_OR_RETURN(long long max_tokens, a.get_int("--max-tokens", 256, 1, 1 << 20));
  ASSIGN_OR_RETURN(double temperature, a.get_double("--temperature", 0.8, 0.0, 2.0));
  ASSIGN_OR_RETURN(double top_p, a.get_double("--top-p", 0.95, 0.0, 1.0));
  ASSIGN_OR_RETURN(long long top_k, a.get_int("--top-k", 40, -1, 1 << 20));
  ASSIGN_OR_RETURN(long long logprobs, a.get_int("--logprobs", -1, 0, 20));
  o.max_tokens = static_cast<int32_t>(max_tokens);
  o.logprobs = static_cast<int32_t>(logprobs);
  o.fields = {{"temperature", temperature}, {"top_p", top_p}, {"top_k", top_k}};
  if (a.has("--seed")) {
    ASSIGN_OR_RETURN(long long seed, a.get_int("--seed", 0, 0, (1LL << 62)));
    o.fields["seed"] = seed;
  }
  std::vector<std::string> stop = a.get_all("--stop");
  if (stop.size() > 4) return invalid_argument("--stop may be given at most 4 times");
  if (!stop.empty()) o.fields["stop"] = stop;
  if (a.has("--logprobs")) o.fields["logprobs"] = logprobs;
  if (a.has("--ignore-eos")) o.fields["ignore_eos"] = true;
  o.json_output = a.get("--output") == "json";
  if (a.has("--output") && !o.json_output) return invalid_argument("--output takes json");
  o.chat = a.has("--chat");
  o.parse_special = !a.has("--no-special");
  o.verbose = a.has("--verbose");
  o.system = a.get("--system");
  return o;
}

void print_text(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

// The request body for a prompt of `n_prompt` tokens: --max-tokens cut to the room left.
StatusOr<Json> request_body(const RunOptions& o, size_t n_prompt, int32_t n_ctx) {
  if (n_prompt >= static_cast<size_t>(n_ctx)) {
    return out_of_range("the prompt has " + std::to_string(n_prompt) + " tokens; the context holds " +
                        std::to_string(n_ctx));
  }
  Json body = o.fields;
  body["max_tokens"] = std::min<int64_t>(o.max_tokens, n_ctx - static_cast<int64_t>(n_prompt));
  body["stream"] = !o.json_output;
  return body;
}

// A token's bytes as a JSON string (invalid UTF-8 shown as U+FFFD).
std::string quoted(const std::string& piece) {
  return Json(piece).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// One generated token per line: its text (JSON-quoted), logprob, then the top alternatives.
void print_logprobs(const Tokenizer& tok, const std::vector<TokenLogprobs>& tokens) {
  std::fprintf(stderr, "logprobs (token, logprob, top alternatives):\n");
  for (const TokenLogprobs& t : tokens) {
    std::string line = quoted(tok.token_to_piece(t.id));
    char buf[32];
    std::snprintf(buf, sizeof(buf), "\t%.6f\t", static_cast<double>(t.logprob));
    line += buf;
    for (size_t i = 0; i < t.top.size(); ++i) {
      std::snprintf(buf, sizeof(buf), "=%.6f", static_cast<double>(t.top[i].logprob));
      if (i > 0) line += ' ';
      line += quoted(tok.token_to_piece(t.top[i].id));
      line += buf;
    }
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

void print_stats(const RunTurn& t) {
  const double decode_s = std::max(1e-9, t.total_seconds - t.first_output_seconds);
  std::fprintf(stderr, "prompt: %d tokens (%d cached), %.1f tok/s | generated: %d tokens, %.1f tok/s | finish: %s\n",
               t.prompt_tokens, t.cached_prompt_tokens,
               (t.prompt_tokens - t.cached_prompt_tokens) / std::max(1e-9, t.first_output_seconds), t.completion_tokens,
               std::max(0, t.completion_tokens - 1) / decode_s, t.finish_reason.c_str());
  if (t.spec_draft_tokens > 0) {
    std::fprintf(stderr, "speculative: %lld draft tokens, %lld accepted (%.0f%%)\n", static_cast<long long>(t.spec_draft_tokens),
                 static_cast<long long>(t.spec_accepted_tokens),
                 100.0 * static_cast<double>(t.spec_accepted_tokens) / static_cast<double>(t.spec_draft_tokens));
  }
}

// Runs one turn; prints the text (or the JSON body), then logprobs and stats as asked.
StatusOr<RunTurn> run_turn(RunSession& s, const RunOptions& o, const Json& body, bool chat) {
  auto on_text = [&](std::string_view text) {
    if (!o.json_output) print_text(text);
  };
  ASSIGN_OR_RETURN(RunTurn turn, s.run(body, chat, on_text));
  print_text(o.json_output ? turn.response_body + "\n" : "\n");
  if (o.logprobs >= 0 && !o.json_output) print_logprobs(s.tokenizer(), turn.logprobs);
  if (o.verbose) print_stats(turn);
  return turn;
}

Json messages_json(const std::vector<ChatMessage>& messages) {
  Json out = Json::array();
  for (const ChatMessage& m : messages) out.push_back({{"role", m.role}, {"content", m.content}});
  return out;
}

StatusOr<RunTurn> chat_turn(RunSession& s, const RunOptions& o, const std::vector<ChatMessage>& messages) {
  ASSIGN_OR_RETURN(std::vector<int32_t> ids, s.render_chat(messages));
  ASSIGN_OR_RETURN(Json body, request_body(o, ids.size(), s.n_ctx()));
  body["messages"] = messages_json(messages);
  return run_turn(s, o, body, /*chat=*/true);
}

int interactive_chat(RunSession& s, const RunOptions& o) {
  std::vector<ChatMessage> messages;
  if (!o.system.empty()) messages.push_back({"system", o.system});
  bool tty = isatty(STDIN_FILENO);
  if (tty) std::fprintf(stderr, "chat with %s (Ctrl-D to quit)\n", s.loaded().served_name.c_str());
  std::string line;
  for (;;) {
    if (tty) std::fputs("\n> ", stderr);
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    messages.push_back({"user", line});
    auto turn = chat_turn(s, o, messages);
    if (!turn.ok()) {
      std::fprintf(stderr, "\nerror: %s\n", turn.status().message().c_str());
      messages.pop_back();
      continue;
    }
    messages.push_back({"assistant", turn->text});
  }
  return 0;
}

StatusOr<LoaderOptions> loader_options(const Args& a) {
  LoaderOptions lo;
  lo.model_path = a.positional()[0];
  ASSIGN_OR_RETURN(long long threads, a.get_int("--threads", 0, 0, 1024));
  ASSIGN_OR_RETURN(long long ctx, a.get_int("--ctx", 4096, 16, 1 << 20));
  lo.load.n_threads = static_cast<int>(threads);
  lo.load.device = a.get("--device", "cpu");
  RETURN_IF_ERROR(lo.load.validate());
  lo.chat_template = a.get("--chat-template");
  lo.engine.n_ctx = static_cast<int32_t>(ctx);
  lo.engine.max_num_seqs = 1;        // one sequence; the KV cache holds one full context
  lo.engine.step_time_target_s = 0;  // no decodes to protect: prompts at full batch
  ASSIGN_OR_RETURN(long long spec_k, a.get_int("--num-speculative-tokens", 0, 0, 64));
  ASSIGN_OR_RETURN(long long lookup_max, a.get_int("--ngram-prompt-lookup-max", 4, 1, 64));
  ASSIGN_OR_RETURN(long long lookup_min, a.get_int("--ngram-prompt-lookup-min", 1, 1, 64));
  lo.engine.num_speculative_tokens = static_cast<int32_t>(spec_k);
  lo.engine.ngram_prompt_lookup_max = static_cast<int32_t>(lookup_max);
  lo.engine.ngram_prompt_lookup_min = static_cast<int32_t>(lookup_min);
  RETURN_IF_ERROR(validate_speculative_options(lo.engine));
  return lo;
}

}  // namespace

int cmd_run(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv,
                          {"--max-tokens", "--temperature", "--top-p", "--top-k", "--seed", "--threads", "--ctx",
                           "--system", "--stop", "--logprobs", "--output", "--chat-template", "--device",
                           "--num-speculative-tokens", "--ngram-prompt-lookup-max", "--ngram-prompt-lookup-min"},
                          {"--chat", "--no-special", "--ignore-eos", "--verbose"});
  if (!args.ok()) return report_error(args.status().message(), 2);
  if (args->positional().empty() || args->positional().size() > 2)
    return report_error("usage: maas run MODEL [PROMPT]", 2);
  auto opts = parse_run_options(*args);
  if (!opts.ok()) return report_error(opts.status().message(), 2);
  auto lo = loader_options(*args);
  if (!lo.ok()) return report_error(lo.status().message(), 2);
  auto session = RunSession::load(*lo);
  if (!session.ok()) return report_error(session.status().message());
  RunSession& s = **session;
  if (args->positional().size() == 1) return interactive_chat(s, *opts);

  const std::string& text = args->positional()[1];
  StatusOr<RunTurn> turn = internal_error("no turn");
  if (opts->chat) {
    std::vector<ChatMessage> messages;
    if (!opts->system.empty()) messages.push_back({"system", opts->system});
    messages.push_back({"user", text});
    turn = chat_turn(s, *opts, messages);
  } else {
    std::vector<int32_t> ids = s.tokenizer().encode(text, /*add_special=*/true, opts->parse_special);
    auto body = request_body(*opts, ids.size(), s.n_ctx());
    if (!body.ok()) return report_error(body.status().message());
    (*body)["prompt"] = ids;  // as tokenized here (--no-special): the server takes ids as sent
    if (!opts->json_output) print_text(text);
    turn = run_turn(s, *opts, *body, /*chat=*/false);
  }
  if (!turn.ok()) return report_error(turn.status().message());
  return 0;
}

int report_error(const std::string& message, int code) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return code;
}

}  // namespace maas
