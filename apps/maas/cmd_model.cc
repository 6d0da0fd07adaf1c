// cmd_model.cc — `maas model show PATH` and `maas model generate --out PATH ...`.
#include <cstdio>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "args.h"
#include "base/file_util.h"
#include "commands.h"
#include "gguf/gguf.h"
#include "gguf/gguf_names.h"
#include "gguf/gguf_writer.h"
#include "model/llama_config.h"
#include "model/synthetic_model.h"
#include "tokenizer/tokenizer.h"

namespace maas {
namespace {

std::string human_count(uint64_t n) {
  char buf[32];
  if (n >= 1000000000ull) std::snprintf(buf, sizeof(buf), "%.2fB", n / 1e9);
  else if (n >= 1000000ull) std::snprintf(buf, sizeof(buf), "%.1fM", n / 1e6);
  else std::snprintf(buf, sizeof(buf), "%llu", static_cast<unsigned long long>(n));
  return buf;
}

int model_show(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {"--output"}, {});
  if (!args.ok()) return report_error(args.status().message(), 2);
  if (args->positional().size() != 1) return report_error("usage: maas model show PATH [--output json]", 2);
  auto file = GgufFile::open(args->positional()[0]);
  if (!file.ok()) return report_error(file.status().message());
  const GgufFile& f = **file;
  auto config = LlamaConfig::from_gguf(f);
  if (!config.ok()) return report_error(config.status().message());
  const LlamaConfig& c = *config;
  std::map<std::string, int> types;
  for (const GgufTensorInfo& t : f.tensors()) types[std::string(ggml_type_name(t.type))]++;
  auto tok = Tokenizer::from_gguf(f);
  auto tmpl = f.get_string(gguf_key::kChatTemplate);

  nlohmann::ordered_json j;
  j["path"] = f.path();
  j["name"] = c.name;
  j["architecture"] = "llama";
  j["gguf_version"] = f.version();
  j["file_bytes"] = f.file_size();
  j["parameters"] = LlamaConfig::count_parameters(f);
  j["context_length"] = c.n_ctx_train;
  j["embedding_length"] = c.n_embd;
  j["block_count"] = c.n_layer;
  j["head_count"] = c.n_head;
  j["head_count_kv"] = c.n_head_kv;
  j["feed_forward_length"] = c.n_ff;
  j["rope_freq_base"] = c.rope_freq_base;
  j["rope_scaling"] = c.has_rope_freqs ? "llama3 (rope_freqs.weight)" : "none";
  j["tied_embeddings"] = c.tied_embeddings;
  j["tensor_types"] = types;
  if (tok.ok()) {
    j["vocabulary"] = {{"model", (*tok)->model()}, {"size", (*tok)->n_vocab()}, {"bos", (*tok)->bos_id()}, {"eos", (*tok)->eos_id()}};
  } else {
    j["vocabulary"] = {{"error", tok.status().message()}};
  }
  j["chat_template"] = tmpl.ok() ? *tmpl : std::string("(none in file; built-in template used)");

  if (args->get("--output") == "json") {
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("%-22s %s\n", "path", f.path().c_str());
  std::printf("%-22s %s\n", "name", c.name.c_str());
  std::printf("%-22s llama (GGUF v%u, %s bytes)\n", "architecture", f.version(), human_count(f.file_size()).c_str());
  std::printf("%-22s %s\n", "parameters", human_count(LlamaConfig::count_parameters(f)).c_str());
  std::printf("%-22s %d\n", "context length", c.n_ctx_train);
  std::printf("%-22s %d embd, %d blocks, %d heads, %d KV heads, %d ff\n", "shape", c.n_embd, c.n_layer, c.n_head, c.n_head_kv, c.n_ff);
  std::printf("%-22s base %g, %s\n", "rope", c.rope_freq_base, c.has_rope_freqs ? "llama3 scaling factors" : "no scaling");
  std::printf("%-22s %s\n", "output", c.tied_embeddings ? "tied to token_embd" : "output.weight");
  std::string tt;
  for (const auto& [name, count] : types) tt += name + " x" + std::to_string(count) + "  ";
  std::printf("%-22s %s\n", "tensor types", tt.c_str());
  if (tok.ok()) {
    std::printf("%-22s %s, %d tokens, bos %d, eos %d\n", "vocabulary", std::string((*tok)->model()).c_str(), (*tok)->n_vocab(),
                (*tok)->bos_id(), (*tok)->eos_id());
  } else {
    std::printf("%-22s error: %s\n", "vocabulary", tok.status().message().c_str());
  }
  std::string t = tmpl.ok() ? *tmpl : "(none in file; built-in template used)";
  if (t.size() > 120) t = t.substr(0, 117) + "...";
  for (char& ch : t) if (ch == '\n') ch = ' ';
  std::printf("%-22s %s\n", "chat template", t.c_str());
  return 0;
}

// Loads tokenizer metadata from an HF tokenizer directory or a GGUF file into `w`; returns n_vocab.
StatusOr<int32_t> add_vocabulary(const Args& a, GgufWriter& w) {
  GgufWriter vocab;
  std::string vocab_name = a.get("--vocab", "llama3");
  std::string gguf_src = a.get("--vocab-gguf");
  if (gguf_src.empty() && vocab_name == "llama2") gguf_src = std::string(MAAS_SHARED_DIR) + "/data/tokenizer-vectors/ggml-vocab-llama-spm.gguf";
  std::unique_ptr<GgufFile> src;
  if (!gguf_src.empty()) {
    ASSIGN_OR_RETURN(src, GgufFile::open(gguf_src));
    for (const GgufKv& kv : src->kvs()) {
      if (kv.key.rfind("tokenizer.", 0) == 0) vocab.copy_kv(kv);
    }
  } else if (vocab_name == "llama3") {
    std::string dir = a.get("--hf-tokenizer", MAAS_DEFAULT_HF_TOKENIZER);
    ASSIGN_OR_RETURN(std::string tokenizer_json, read_file(dir + "/tokenizer.json"));
    ASSIGN_OR_RETURN(std::string config_json, read_file(dir + "/tokenizer_config.json"));
    RETURN_IF_ERROR(import_hf_tokenizer(tokenizer_json, config_json, vocab));
  } else {
    return invalid_argument("--vocab must be llama3 or llama2");
  }
  std::vector<uint8_t> bytes = vocab.serialize();
  ASSIGN_OR_RETURN(auto parsed, GgufFile::parse(bytes.data(), bytes.size()));
  uint64_t n = parsed->array_length(gguf_key::kTokTokens);
  if (n == 0) return invalid_argument("the vocabulary source has no tokenizer.ggml.tokens");
  for (const GgufKv& kv : parsed->kvs()) w.copy_kv(kv);
  return static_cast<int32_t>(n);
}

int model_generate(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {"--out", "--preset", "--type", "--vocab", "--hf-tokenizer", "--vocab-gguf", "--seed", "--threads", "--name",
                                 "--out-scale", "--qk-scale"},
                          {"--untied", "--rope-scaling"});
  if (!args.ok()) return report_error(args.status().message(), 2);
  if (!args->has("--out")) return report_error("usage: maas model generate --out PATH [--preset tiny|1b|test] [--type f16] ...", 2);
  Status s = generate_model(*args);
  if (s.code() == StatusCode::kInvalidArgument && s.message().rfind("usage:", 0) == 0) return report_error(s.message(), 2);
  if (!s.ok()) return report_error(s.message(), s.code() == StatusCode::kInvalidArgument ? 2 : 1);
  return 0;
}

}  // namespace

Status generate_model(const Args& args) {
  auto opts = synthetic_preset(args.get("--preset", "tiny"));
  if (!opts.ok()) return opts.status();
  opts->type = args.get("--type", opts->type);
  if (args.has("--name")) opts->name = args.get("--name");
  if (args.has("--untied")) opts->tied_embeddings = false;
  if (args.has("--rope-scaling")) opts->llama31_rope_scaling = true;
  auto seed = args.get_int("--seed", 42, 0, 1LL << 62);
  auto threads = args.get_int("--threads", 0, 0, 1024);
  // The residual scale (SyntheticModelOptions::out_scale): the default 4 makes a deep random
  // network chaotic (rounding grows through the blocks); fidelity measurements use a smaller one.
  auto out_scale = args.get_double("--out-scale", opts->out_scale, 0.0, 64.0);
  if (!seed.ok()) return seed.status();
  if (!threads.ok()) return threads.status();
  auto qk_scale = args.get_double("--qk-scale", opts->qk_scale, 0.0, 64.0);  // of the query and key matrices
  if (!out_scale.ok()) return out_scale.status();
  if (!qk_scale.ok()) return qk_scale.status();
  opts->qk_scale = static_cast<float>(*qk_scale);
  opts->seed = static_cast<uint64_t>(*seed);
  opts->out_scale = static_cast<float>(*out_scale);
  opts->n_threads = static_cast<int>(*threads);
  GgufWriter w;
  ASSIGN_OR_RETURN(int32_t n_vocab, add_vocabulary(args, w));
  std::filesystem::path out(args.get("--out"));
  std::error_code ec;
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path(), ec);
  RETURN_IF_ERROR(add_synthetic_llama(*opts, n_vocab, w));
  // Written beside the target and renamed, so a reader never sees half a model.
  const std::string tmp = out.string() + ".tmp";
  RETURN_IF_ERROR(w.write(tmp));
  std::filesystem::rename(tmp, out, ec);
  if (ec) return unavailable("cannot rename " + tmp + ": " + ec.message());
  std::fprintf(stderr, "wrote %s (%s, %d-token vocabulary, %s weights)\n", out.c_str(), opts->name.c_str(), n_vocab,
               opts->type.c_str());
  return Status::Ok();
}

int cmd_model(const std::vector<std::string>& argv) {
  if (argv.empty()) return report_error("usage: maas model list|show|register|pull|update|rm|check|generate ...", 2);
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  // `show` of a file inspects it locally; of a name asks the platform's catalog.
  std::error_code ec;
  if (argv[0] == "show" && !rest.empty() && std::filesystem::is_regular_file(rest[0], ec)) {
    return model_show(rest);
  }
  if (argv[0] == "generate") return model_generate(rest);
  if (argv[0] == "check") return cmd_model_check(rest);
  return cmd_model_platform(argv);
}

}  // namespace maas
