// loaded_model_test.cc — the one loader: the context clamped once (requested, training context,
// KV cache), the served name, the chat template and its override, and hostile files as errors.
#include "engine/loaded_model.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <optional>

#include "base/file_util.h"
#include "engine/engine_core.h"
#include "gguf/gguf.h"
#include "gguf/gguf_names.h"
#include "gguf/gguf_writer.h"
#include "model/synthetic_model.h"

namespace maas {
namespace {

std::string temp(const std::string& name) { return ::testing::TempDir() + "/loaded_model_" + name; }

// A small random Llama model with the Llama 2 vocabulary, trained context n_ctx_train, and the
// given tokenizer.chat_template (none: the built-in for the vocabulary applies).
std::string write_model(const std::string& name, int32_t n_ctx_train, std::optional<std::string> chat_template) {
  const char* shared = std::getenv("MAAS_SHARED_DIR");
  auto vocab = GgufFile::open(std::string(shared ? shared : "") + "/data/tokenizer-vectors/ggml-vocab-llama-spm.gguf");
  EXPECT_TRUE(vocab.ok()) << "the Llama 2 vocabulary is missing (MAAS_SHARED_DIR)";
  if (!vocab.ok()) return "";
  GgufWriter w;
  for (const GgufKv& kv : (*vocab)->kvs()) {
    if (kv.key.rfind("tokenizer.", 0) == 0 && kv.key != gguf_key::kChatTemplate) w.copy_kv(kv);
  }
  if (chat_template) w.add_string(gguf_key::kChatTemplate, *chat_template);
  auto opts = synthetic_preset("test");
  EXPECT_TRUE(opts.ok());
  opts->type = "f32";
  opts->n_ctx = n_ctx_train;
  EXPECT_TRUE(
      add_synthetic_llama(*opts, static_cast<int32_t>((*vocab)->array_length("tokenizer.ggml.tokens")), w).ok());
  const std::string path = temp(name + ".gguf");
  EXPECT_TRUE(w.write(path).ok());
  return path;
}

LoaderOptions options_for(const std::string& path, int32_t n_ctx) {
  LoaderOptions o;
  o.model_path = path;
  o.load.n_threads = 2;
  o.engine.n_ctx = n_ctx;
  o.engine.max_num_seqs = 4;
  return o;
}

const std::string& model_256() {
  static const std::string path = write_model("ctx256", 256, std::nullopt);
  return path;
}

TEST(LoadedModel, ContextIsTheRequestWhenItFits) {
  auto m = load_served_model(options_for(model_256(), 100));
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->max_model_len(), 100);
  EXPECT_NE(m->model, nullptr);
  EXPECT_NE(m->tokenizer, nullptr);
  EXPECT_EQ(m->served_name, "maas-test-llama");  // general.name
}

TEST(LoadedModel, ContextIsClampedToTheTrainingContext) {
  auto m = load_served_model(options_for(model_256(), 4096));
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->max_model_len(), 256);
  EXPECT_GE(m->engine.n_kv_blocks * m->engine.kv_block_size, 256);  // default cache: a full context at least

  auto unasked = load_served_model(options_for(model_256(), 0));  // bench, perplexity: no context asked
  ASSERT_TRUE(unasked.ok()) << unasked.status().to_string();
  EXPECT_EQ(unasked->max_model_len(), 256);
}

TEST(LoadedModel, ContextIsClampedToWhatTheKvCacheHolds) {
  LoaderOptions o = options_for(model_256(), 200);
  o.engine.n_kv_blocks = 4;  // 64 positions
  o.engine.kv_block_size = 16;
  auto m = load_served_model(o);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->max_model_len(), 64);
  // Clamped once: resolving again (the Engine does) changes nothing.
  EngineOptions again = resolve_engine_options(m->engine, m->model->config());
  EXPECT_EQ(again.n_ctx, 64);
  EXPECT_EQ(again.n_kv_blocks, 4);
  // ... and the engine refuses what the API would (prompt + max_tokens > 64).
  EngineCore core(*m->model, *m->tokenizer, m->engine);
  EngineRequest r;
  r.prompt = std::vector<int32_t>(60, 1);
  r.max_tokens = 5;
  EXPECT_EQ(core.validate(r).code(), StatusCode::kInvalidArgument);
  r.max_tokens = 4;
  EXPECT_TRUE(core.validate(r).ok());
}

TEST(LoadedModel, ServedNameOverride) {
  LoaderOptions o = options_for(model_256(), 64);
  o.served_model_name = "my-llama";
  auto m = load_served_model(o);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->served_name, "my-llama");
}

TEST(LoadedModel, ChatTemplateFromTheFileOrTheBuiltInForTheVocabulary) {
  auto m = load_served_model(options_for(model_256(), 64));
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  ASSERT_NE(m->chat_template, nullptr);
  EXPECT_EQ(m->chat_template->source(), builtin_chat_template("llama2"));  // SentencePiece vocabulary

  const std::string own = "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}";
  auto f = load_served_model(options_for(write_model("own_template", 256, own), 64));
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->chat_template->source(), own);
}

TEST(LoadedModel, ChatTemplateOverrideByNameOrFile) {
  LoaderOptions o = options_for(model_256(), 64);
  o.chat_template = "llama3";
  auto m = load_served_model(o);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->chat_template->source(), builtin_chat_template("llama3"));

  const std::string jinja = "{{ messages[0].content }}!";
  const std::string file = temp("template.jinja");
  std::ofstream(file) << jinja;
  o.chat_template = file;
  m = load_served_model(o);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  auto text = m->chat_template->render({{"user", "hi"}}, true, "<s>", "</s>");
  ASSERT_TRUE(text.ok()) << text.status().to_string();
  EXPECT_EQ(*text, "hi!");

  o.chat_template = temp("no-such-template.jinja");
  m = load_served_model(o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("--chat-template"), std::string::npos) << m.status().to_string();

  std::ofstream(temp("broken.jinja")) << "{% for %}";
  o.chat_template = temp("broken.jinja");
  m = load_served_model(o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument) << m.status().to_string();
  EXPECT_NE(m.status().message().find("syntax error"), std::string::npos) << m.status().to_string();
}

TEST(LoadedModel, ABrokenTemplateInTheFileFailsTheLoadUnlessOverriddenOrNotNeeded) {
  const std::string path = write_model("broken_template", 256, std::string("{% if %}"));
  auto m = load_served_model(options_for(path, 64));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("tokenizer.chat_template"), std::string::npos) << m.status().to_string();

  LoaderOptions o = options_for(path, 64);
  o.chat_template = "llama2";
  m = load_served_model(o);
  EXPECT_TRUE(m.ok()) << m.status().to_string();

  o.chat_template.clear();
  o.need_chat_template = false;  // bench, perplexity
  m = load_served_model(o);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->chat_template, nullptr);
}

TEST(LoadedModel, HostileFilesAreErrorsNotCrashes) {
  auto missing = load_served_model(options_for(temp("missing.gguf"), 64));
  EXPECT_FALSE(missing.ok());

  std::ofstream(temp("text.gguf")) << "not a model at all";
  auto text = load_served_model(options_for(temp("text.gguf"), 64));
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.status().message().find("not a GGUF file"), std::string::npos) << text.status().to_string();

  // A valid file cut in its header, its metadata and its tensor data.
  auto bytes = read_file(model_256());
  ASSERT_TRUE(bytes.ok());
  for (size_t cut : {size_t{8}, size_t{24}, size_t{100}, size_t{4096}, size_t{100000}, bytes->size() / 2}) {
    const std::string path = temp("cut.gguf");
    std::ofstream(path, std::ios::binary).write(bytes->data(), static_cast<std::streamsize>(cut));
    auto m = load_served_model(options_for(path, 64));
    EXPECT_FALSE(m.ok()) << "a file cut at " << cut << " bytes loaded";
  }

  LoaderOptions bad = options_for(model_256(), 64);
  bad.load.device = "tpu";
  auto dev = load_served_model(bad);
  ASSERT_FALSE(dev.ok());
  EXPECT_EQ(dev.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace maas
