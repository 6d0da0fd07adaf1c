// catalog.cc — the Meta Llama family (SPEC §1, the seed's model list) and its offerings.
// Parameter counts and context lengths are those of the published checkpoints; default prices
// follow the pay-as-you-go list prices a cloud catalog charged for these models.
#include "control/catalog.h"

#include <cctype>

namespace maas {
namespace {

struct Entry {
  const char* name;
  const char* display;
  const char* family;
  const char* task;
  const char* license;
  int64_t parameters;
  int32_t context;
  int64_t price_in, price_out;  // micro-USD per 1K tokens
};

const Entry kEntries[] = {
    {"Llama-2-7b-chat", "Llama 2 7B Chat", "Llama 2", "chat-completions", "llama2", 6738415616, 4096, 520, 670},
    {"Llama-2-13b-chat", "Llama 2 13B Chat", "Llama 2", "chat-completions", "llama2", 13015864320, 4096, 810, 940},
    {"Llama-2-70b-chat", "Llama 2 70B Chat", "Llama 2", "chat-completions", "llama2", 68976648192, 4096, 1540, 1770},
    {"Meta-Llama-3-8B", "Meta Llama 3 8B", "Llama 3", "text-generation", "llama3", 8030261248, 8192, 300, 610},
    {"Meta-Llama-3-8B-Instruct", "Meta Llama 3 8B Instruct", "Llama 3", "chat-completions", "llama3", 8030261248, 8192,
     300, 610},
    {"Meta-Llama-3-70B", "Meta Llama 3 70B", "Llama 3", "text-generation", "llama3", 70553706496, 8192, 2680, 3540},
    {"Meta-Llama-3-70B-Instruct", "Meta Llama 3 70B Instruct", "Llama 3", "chat-completions", "llama3", 70553706496,
     8192, 2680, 3540},
    {"Meta-Llama-3.1-8B-Instruct", "Meta Llama 3.1 8B Instruct", "Llama 3.1", "chat-completions", "llama3.1",
     8030261248, 131072, 300, 610},
    {"Meta-Llama-3.1-70B-Instruct", "Meta Llama 3.1 70B Instruct", "Llama 3.1", "chat-completions", "llama3.1",
     70553706496, 131072, 2680, 3540},
    {"Meta-Llama-3.1-405B-Instruct", "Meta Llama 3.1 405B Instruct", "Llama 3.1", "chat-completions", "llama3.1",
     405853388800, 131072, 5330, 16000},
    {"Llama-3.2-1B-Instruct", "Llama 3.2 1B Instruct", "Llama 3.2", "chat-completions", "llama3.2", 1235814400, 131072,
     100, 100},
    {"Llama-3.2-3B-Instruct", "Llama 3.2 3B Instruct", "Llama 3.2", "chat-completions", "llama3.2", 3212749824, 131072,
     150, 150},
};

std::string license_title(const std::string& license) {
  if (license == "llama2") return "Llama 2 Community License Agreement";
  if (license == "llama3") return "Meta Llama 3 Community License Agreement";
  if (license == "llama3.1") return "Llama 3.1 Community License Agreement";
  if (license == "llama3.2") return "Llama 3.2 Community License Agreement";
  return license;
}

std::string terms_for(const Model& m) {
  return "Use of " + m.display_name + " is subject to the " + license_title(m.license) + " and " + m.publisher +
         "'s Acceptable Use Policy. Pay-as-you-go: billed per 1,000 input tokens and per 1,000 output tokens at the "
         "offering's prices; fine-tuning is a separate meter. Subscribing accepts these terms for the workspace.";
}

std::string description_for(const Entry& e) {
  const std::string kind = std::string(e.task) == "chat-completions" ? "instruction-tuned chat model"
                                                                      : "pretrained text-generation model";
  return std::string(e.display) + ": " + e.family + " " + kind + " from Meta, " +
         std::to_string(e.context) + "-token context.";
}

}  // namespace

std::string offering_slug(const std::string& model_name) {
  std::string out;
  for (char c : model_name) {
    if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::vector<Model> builtin_models() {
  std::vector<Model> out;
  for (const Entry& e : kEntries) {
    Model m;
    m.name = e.name;
    m.display_name = e.display;
    m.publisher = "Meta";
    m.family = e.family;
    m.task = e.task;
    m.license = e.license;
    m.parameters = e.parameters;
    m.context_length = e.context;
    m.description = description_for(e);
    out.push_back(m);
  }
  return out;
}

Offering custom_offering(const Model& m, int64_t price_in, int64_t price_out) {
  Offering o;
  const std::string slug = offering_slug(m.name);
  o.id = slug + "-offer";
  o.model_name = m.name;
  o.publisher = m.publisher;
  o.offer_id = slug + "-offer";
  o.plan_id = slug + "-plan";
  o.terms = terms_for(m);
  o.price_input_micro = price_in;
  o.price_output_micro = price_out;
  return o;
}

std::vector<Offering> builtin_offerings() {
  std::vector<Offering> out;
  const std::vector<Model> models = builtin_models();
  for (size_t i = 0; i < models.size(); ++i) {
    out.push_back(custom_offering(models[i], kEntries[i].price_in, kEntries[i].price_out));
  }
  return out;
}

Model default_model_entry(int32_t context_length, int64_t parameters) {
  Model m;
  m.name = kDefaultModelName;
  m.display_name = "maas tiny Llama 3 (random weights)";
  m.publisher = "maas";
  m.family = "Llama 3";
  m.task = "chat-completions";
  m.license = "maas-demo";
  m.parameters = parameters;
  m.context_length = context_length;
  m.description = "The embedded default: a small Llama-3-architecture model generated by maas with random weights "
                  "and the real Llama 3 tokenizer and chat template. Its text is meaningless; every path is real.";
  m.custom = true;
  return m;
}

}  // namespace maas
