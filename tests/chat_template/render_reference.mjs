// render_reference.mjs — renders chat templates with @huggingface/jinja, the reference the C++
// renderer is compared against (src/tokenizer/chat_template_reference_test.cc).
// Usage: node render_reference.mjs <node_modules dir> <input.json> <output.json>
//   input:  {"cases": [{"template": "...", "vars": {...}}, ...]}
//   output: [{"ok": true, "output": "..."} | {"ok": false, "error": "..."}, ...]
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [nodeModules, inputPath, outputPath] = process.argv.slice(2);
const { Template } = await import(pathToFileURL(join(nodeModules, "@huggingface/jinja/dist/index.js")).href);
const input = JSON.parse(readFileSync(inputPath, "utf8"));
const results = input.cases.map(({ template, vars }) => {
  try {
    return { ok: true, output: new Template(template).render(vars) };
  } catch (e) {
    return { ok: false, error: String(e && e.message ? e.message : e) };
  }
});
writeFileSync(outputPath, JSON.stringify(results));
