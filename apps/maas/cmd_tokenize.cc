// cmd_tokenize.cc — `maas tokenize --model PATH --text T [--no-special]`: ids as a JSON array.
#include <cstdio>

#include "args.h"
#include "commands.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace maas {

int cmd_tokenize(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {"--model", "--text"}, {"--no-special", "--parse-special"});
  if (!args.ok()) return report_error(args.status().message(), 2);
  if (!args->has("--model") || !args->has("--text")) return report_error("usage: maas tokenize --model PATH --text T [--no-special]", 2);
  auto file = GgufFile::open(args->get("--model"));
  if (!file.ok()) return report_error(file.status().message());
  auto tok = Tokenizer::from_gguf(**file);
  if (!tok.ok()) return report_error(tok.status().message());
  // --no-special omits BOS; --parse-special turns special-token strings in the text into their ids.
  std::vector<int32_t> ids = (*tok)->encode(args->get("--text"), !args->has("--no-special"), args->has("--parse-special"));
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? ", " : "") + std::to_string(ids[i]);
  out += "]\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace maas
