// json_mask_bench.cc — what constrained decoding (response_format) costs per token: the time of
// JsonConstraint::mask over a real vocabulary in typical states of the JSON text, median of
// repeated runs. Usage: maas_json_mask_bench MODEL.gguf [REPEATS]  (the model's tokenizer only).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "sampling/json_constraint.h"
#include "tokenizer/tokenizer.h"

namespace {

using maas::JsonNode;

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: maas_json_mask_bench MODEL.gguf [REPEATS]\n");
    return 2;
  }
  const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 50;
  auto file = maas::GgufFile::open(argv[1]);
  if (!file.ok()) {
    std::fprintf(stderr, "%s\n", file.status().message().c_str());
    return 1;
  }
  auto tok = maas::Tokenizer::from_gguf(**file);
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", tok.status().message().c_str());
    return 1;
  }
  const maas::Tokenizer& t = **tok;
  const int32_t n = t.n_vocab();
  std::vector<std::string> pieces(static_cast<size_t>(n));
  std::vector<bool> usable(static_cast<size_t>(n));
  std::vector<int32_t> eog;
  for (int32_t id = 0; id < n; ++id) {
    pieces[static_cast<size_t>(id)] = t.token_to_piece(id);
    usable[static_cast<size_t>(id)] = !t.is_special(id) && !t.is_eog(id);
    if (t.is_eog(id)) eog.push_back(id);
  }
  auto t0 = std::chrono::steady_clock::now();
  auto vocab = std::make_shared<maas::ConstraintVocab>(pieces, usable, eog);
  std::printf("vocabulary: %d tokens, prepared in %.1f ms\n", n, ms_since(t0));

  // {"name": string, "n": integer, "tags": [string]} for the schema states.
  auto schema = std::make_shared<maas::JsonGrammar>();
  JsonNode* root = schema->add(JsonNode::Kind::kObject);
  JsonNode* tags = schema->add(JsonNode::Kind::kArray);
  tags->items = schema->add(JsonNode::Kind::kString);
  root->keys = {"name", "n", "tags"};
  root->values = {schema->add(JsonNode::Kind::kString), schema->add(JsonNode::Kind::kInteger), tags};
  root->required = 7;
  schema->root = root;

  struct State {
    const char* label;
    std::shared_ptr<const maas::JsonGrammar> grammar;
    const char* text;
  };
  const State states[] = {
      {"json_object: start", maas::json_object_grammar(), ""},
      {"json_object: free key", maas::json_object_grammar(), "{\"ke"},
      {"json_object: string value", maas::json_object_grammar(), "{\"key\": \"some te"},
      {"json_object: after a value", maas::json_object_grammar(), "{\"key\": 12"},
      {"json_object: array of numbers", maas::json_object_grammar(), "{\"a\": [1, "},
      {"schema: known key", schema, "{\"na"},
      {"schema: integer", schema, "{\"name\": \"x\", \"n\": 4"},
      {"schema: string item", schema, "{\"name\": \"x\", \"n\": 4, \"tags\": [\"ab"},
  };
  std::vector<float> logits(static_cast<size_t>(n));
  std::printf("%-32s %10s %10s %10s\n", "state", "median ms", "min ms", "allowed");
  for (const State& s : states) {
    maas::JsonConstraint c(s.grammar, vocab);
    for (const char* p = s.text; *p; ++p) {
      const std::vector<int32_t> ids = t.encode(std::string(1, *p), false, false);
      if (ids.size() != 1 || !c.accept(ids[0])) {
        std::fprintf(stderr, "could not feed '%s' as single-byte tokens\n", s.text);
        return 1;
      }
    }
    std::vector<double> ms;
    int allowed = 0;
    for (int r = 0; r < repeats; ++r) {
      std::fill(logits.begin(), logits.end(), 0.0f);
      const auto start = std::chrono::steady_clock::now();
      c.mask(logits.data(), n);
      ms.push_back(ms_since(start));
      allowed = static_cast<int>(std::count_if(logits.begin(), logits.end(), [](float x) { return x > -1e30f; }));
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%-32s %10.3f %10.3f %10d\n", s.label, ms[ms.size() / 2], ms[0], allowed);
  }
  return 0;
}
