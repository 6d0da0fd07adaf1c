// hf_import.cc — import_hf_tokenizer: Hugging Face tokenizer.json (+ tokenizer_config.json) to
// GGUF tokenizer metadata, following llama.cpp's convert_hf_to_gguf.py. JSON is parsed without
// exceptions; any nlohmann exception from an unexpected shape is caught at the boundary below.
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "gguf/gguf_names.h"
#include "gguf/gguf_writer.h"
#include "tokenizer/tokenizer.h"

namespace maas {
namespace {

using nlohmann::json;
namespace k = gguf_key;
namespace tt = gguf_tensor;

constexpr const char* kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr int64_t kMaxVocab = int64_t{1} << 24;

struct Imported {
  bool byte_level = false;  // model "gpt2"; else "llama"
  std::string pre = "default";
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<float> scores;
  std::vector<std::string> merges;
  int64_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1;
  bool add_bos = true, add_eos = false;
  std::string chat_template;
};

size_t utf8_char_count(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  return n;
}

// Visits a component and, for "Sequence"s, the components inside it.
template <typename F>
void for_each_component(const json& c, const F& f) {
  if (!c.is_object()) return;
  f(c);
  for (const char* list : {"pretokenizers", "decoders", "normalizers"}) {
    if (c.contains(list) && c[list].is_array()) {
      for (const json& sub : c[list]) for_each_component(sub, f);
    }
  }
}

bool has_type(const json& root, const char* section, const std::string& type) {
  bool found = false;
  if (root.contains(section)) {
    for_each_component(root[section], [&](const json& c) { found |= c.value("type", "") == type; });
  }
  return found;
}

// The content of a config token entry: "text" or {"content": "text"}.
std::string token_content(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return "";
}

Status read_vocab(const json& root, Imported* im) {
  const json& model = root.at("model");
  const json& vocab = model.at("vocab");
  if (!vocab.is_object()) return invalid_argument("model.vocab is not an object");
  const json added = root.contains("added_tokens") && root["added_tokens"].is_array() ? root["added_tokens"] : json::array();
  int64_t max_id = -1;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) max_id = std::max(max_id, it.value().get<int64_t>());
  for (const json& a : added) max_id = std::max(max_id, a.at("id").get<int64_t>());
  if (max_id < 0 || max_id >= kMaxVocab) return invalid_argument("vocabulary ids out of range");
  const size_t n = static_cast<size_t>(max_id) + 1;
  im->tokens.assign(n, "");
  im->types.assign(n, 0);
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const int64_t id = it.value().get<int64_t>();
    if (id < 0) return invalid_argument("negative id for \"" + it.key() + "\"");
    if (im->types[id] != 0) return invalid_argument("vocabulary id " + std::to_string(id) + " used twice");
    im->tokens[id] = it.key();
    im->types[id] = tt::kTokenNormal;
  }
  const std::string unk = model.contains("unk_token") && model["unk_token"].is_string() ? model["unk_token"].get<std::string>() : "";
  for (const json& a : added) {
    const int64_t id = a.at("id").get<int64_t>();
    if (id < 0) return invalid_argument("negative added token id");
    im->tokens[id] = a.at("content").get<std::string>();
    const bool special = a.value("special", false);
    im->types[id] = !special ? tt::kTokenUserDefined : (im->tokens[id] == unk ? tt::kTokenUnknown : tt::kTokenControl);
  }
  for (size_t i = 0; i < n; ++i) {
    if (im->types[i] == 0) {
      im->tokens[i] = "[PAD" + std::to_string(i) + "]";
      im->types[i] = tt::kTokenUnused;
    }
  }
  return Status::Ok();
}

Status read_merges(const json& model, Imported* im) {
  if (!model.contains("merges")) return invalid_argument("model.merges is missing");
  for (const json& m : model.at("merges")) {
    if (m.is_string()) {
      im->merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2) {
      im->merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    } else {
      return invalid_argument("model.merges holds an entry that is neither \"a b\" nor [a, b]");
    }
  }
  return Status::Ok();
}

Status read_pre(const json& root, Imported* im) {
  std::string regex;
  bool byte_level_regex = false;
  if (root.contains("pre_tokenizer")) {
    for_each_component(root["pre_tokenizer"], [&](const json& c) {
      const std::string type = c.value("type", "");
      if (type == "Split" && c.contains("pattern") && c["pattern"].contains("Regex")) regex = c["pattern"]["Regex"].get<std::string>();
      if (type == "ByteLevel" && c.value("use_regex", true)) byte_level_regex = true;
    });
  }
  if (regex == kLlama3Regex) {
    im->pre = "llama-bpe";
  } else if (regex.empty() && byte_level_regex) {
    im->pre = "default";
  } else {
    return unimplemented("byte-level pre-tokenizer regex not supported: " + regex.substr(0, 80));
  }
  return Status::Ok();
}

// SentencePiece style: token types, and scores that reproduce the merge order of tokenizer.json
// (the HF file has no scores): a token's score is minus the rank of the first merge that forms
// it, so the SentencePiece merge loop picks pairs in the same order as rank-based BPE. Tokens no
// merge forms keep score 0 (single characters, bytes) or rank past the last merge.
Status set_spm_types_and_scores(const json& model, Imported* im) {
  std::unordered_map<std::string, size_t> ids;
  ids.reserve(im->tokens.size());
  for (size_t i = 0; i < im->tokens.size(); ++i) ids.emplace(im->tokens[i], i);
  RETURN_IF_ERROR(read_merges(model, im));
  const float unranked = -static_cast<float>(im->merges.size() + 1);
  im->scores.assign(im->tokens.size(), unranked);
  std::vector<bool> ranked(im->tokens.size(), false);
  for (size_t r = 0; r < im->merges.size(); ++r) {
    const std::string& m = im->merges[r];
    const size_t sp = m.find(' ', 1);
    if (sp == std::string::npos) continue;
    auto it = ids.find(m.substr(0, sp) + m.substr(sp + 1));
    if (it == ids.end() || ranked[it->second]) continue;
    ranked[it->second] = true;
    im->scores[it->second] = -static_cast<float>(r);
  }
  for (size_t i = 0; i < im->tokens.size(); ++i) {
    const std::string& t = im->tokens[i];
    unsigned byte = 0;
    char tail = 0;
    if (im->types[i] != tt::kTokenNormal) {
      im->scores[i] = 0.0f;
    } else if (t.size() == 6 && std::sscanf(t.c_str(), "<0x%2X%c", &byte, &tail) == 2 && tail == '>') {
      im->types[i] = tt::kTokenByte;
      im->scores[i] = 0.0f;
    } else if (!ranked[i] && utf8_char_count(t) == 1) {
      im->scores[i] = 0.0f;
    }
  }
  im->merges.clear();  // SentencePiece vocabularies carry scores, not merges
  return Status::Ok();
}

int64_t find_id(const Imported& im, const std::string& text) {
  if (text.empty()) return -1;
  for (size_t i = 0; i < im.tokens.size(); ++i) {
    if (im.tokens[i] == text) return static_cast<int64_t>(i);
  }
  return -1;
}

Status read_config(const json& config, Imported* im) {
  if (!config.is_object()) return invalid_argument("tokenizer_config.json is not an object");
  if (config.contains("bos_token")) im->bos = find_id(*im, token_content(config["bos_token"]));
  if (config.contains("eos_token")) im->eos = find_id(*im, token_content(config["eos_token"]));
  if (config.contains("add_bos_token") && config["add_bos_token"].is_boolean()) im->add_bos = config["add_bos_token"].get<bool>();
  if (config.contains("add_eos_token") && config["add_eos_token"].is_boolean()) im->add_eos = config["add_eos_token"].get<bool>();
  if (config.contains("chat_template") && config["chat_template"].is_string()) {
    im->chat_template = config["chat_template"].get<std::string>();
  }
  im->eot = find_id(*im, "<|eot_id|>");
  im->eom = find_id(*im, "<|eom_id|>");
  return Status::Ok();
}

Status import(const std::string& tokenizer_json, const std::string& config_json, Imported* im) {
  const json root = json::parse(tokenizer_json, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) return invalid_argument("tokenizer.json is not a JSON object");
  const json config = config_json.empty() ? json::object() : json::parse(config_json, nullptr, false);
  if (config.is_discarded()) return invalid_argument("tokenizer_config.json is not valid JSON");
  if (!root.contains("model") || !root["model"].is_object()) return invalid_argument("tokenizer.json has no model");
  const json& model = root["model"];
  if (model.value("type", "BPE") != "BPE") return unimplemented("tokenizer model type " + model.value("type", ""));
  im->byte_level = has_type(root, "pre_tokenizer", "ByteLevel") || has_type(root, "decoder", "ByteLevel");
  const bool spm = model.value("byte_fallback", false) || has_type(root, "decoder", "ByteFallback");
  if (!im->byte_level && !spm) return unimplemented("BPE tokenizer that is neither byte-level nor SentencePiece-style");
  RETURN_IF_ERROR(read_vocab(root, im));
  if (im->byte_level) {
    RETURN_IF_ERROR(read_pre(root, im));
    RETURN_IF_ERROR(read_merges(model, im));
  } else {
    RETURN_IF_ERROR(set_spm_types_and_scores(model, im));
    if (model.contains("unk_token") && model["unk_token"].is_string()) im->unk = find_id(*im, model["unk_token"].get<std::string>());
  }
  return read_config(config, im);
}

void write(const Imported& im, GgufWriter& w) {
  w.add_string(k::kTokModel, im.byte_level ? "gpt2" : "llama");
  w.add_string(k::kTokPre, im.pre);
  w.add_string_array(k::kTokTokens, im.tokens);
  if (!im.byte_level) w.add_f32_array(k::kTokScores, im.scores);
  w.add_i32_array(k::kTokTokenType, im.types);
  if (im.byte_level) w.add_string_array(k::kTokMerges, im.merges);
  const std::pair<const char*, int64_t> ids[] = {
      {k::kTokBos, im.bos}, {k::kTokEos, im.eos}, {k::kTokEot, im.eot}, {k::kTokEom, im.eom}, {k::kTokUnk, im.unk}};
  for (const auto& [key, id] : ids) {
    if (id >= 0) w.add_u32(key, static_cast<uint32_t>(id));
  }
  w.add_bool(k::kTokAddBos, im.add_bos);
  w.add_bool(k::kTokAddEos, im.add_eos);
  if (!im.chat_template.empty()) w.add_string(k::kChatTemplate, im.chat_template);
}

}  // namespace

Status import_hf_tokenizer(const std::string& tokenizer_json, const std::string& tokenizer_config_json,
                           GgufWriter& writer) {
  Imported im;
  try {
    RETURN_IF_ERROR(import(tokenizer_json, tokenizer_config_json, &im));
  } catch (const std::exception& e) {
    return invalid_argument(std::string("unexpected tokenizer.json structure: ") + e.what());
  }
  write(im, writer);
  return Status::Ok();
}

}  // namespace maas
