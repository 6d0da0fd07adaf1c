// speculative.test.mjs — `maas worker --num-speculative-tokens K` (n-gram / prompt-lookup
// speculative decoding): greedy completions, plain and streamed, are the same text as a worker
// without it, the /metrics counters of draft and accepted tokens move (and stay 0 without it),
// and bad values are refused at startup with exit code 2.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { startWorker, post, sse, metric } from "./harness.mjs";

const C = "/v1/completions";
const PROMPT = "one two three four five six seven eight one two three four five six seven eight " +
  "one two three four five six seven eight one two three four";
// The test model's weights are random: a strong bias on a few tokens makes its greedy output
// repeat (which token still depends on the model), so lookup finds drafts that hit and miss.
const LOOPY = { "1500": 40, "2500": 40, "3500": 40 };
const BODIES = [
  { prompt: PROMPT, max_tokens: 40, temperature: 0, ignore_eos: true },
  { prompt: PROMPT, max_tokens: 40, temperature: 0, ignore_eos: true, logit_bias: LOOPY },
  { prompt: "The quick brown fox", max_tokens: 17, temperature: 0, logit_bias: LOOPY, logprobs: 1 },
];

function refused(args, pattern) {
  const r = spawnSync(process.env.MAAS_BIN, ["worker", "--model", process.env.MAAS_MODEL, "--port", "0", ...args],
                      { encoding: "utf8", timeout: 30000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stdout, /listening on/);
}

test("bad speculative flags exit 2 with a clear message, before loading anything", () => {
  refused(["--num-speculative-tokens", "-1"], /--num-speculative-tokens must be an integer in \[0, 64\]/);
  refused(["--num-speculative-tokens", "4", "--ngram-prompt-lookup-max", "2", "--ngram-prompt-lookup-min", "3"],
          /ngram_prompt_lookup_max must be in \[ngram_prompt_lookup_min, 64\]/);
  refused(["--ngram-prompt-lookup-min", "0"], /--ngram-prompt-lookup-min must be an integer in \[1, 64\]/);
});

async function complete(w, body) {
  const r = await post(w.url, C, body);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

async function streamed(w, body) {
  const r = await sse(w.url, C, { ...body, stream: true });
  assert.equal(r.status, 200, r.text);
  return r.events.filter((e) => e !== "[DONE]").map((e) => JSON.parse(e).choices[0]?.text ?? "").join("");
}

test("--num-speculative-tokens 5: greedy text equals plain decoding; metrics count drafts", async () => {
  const plain = await startWorker([]);
  const spec = await startWorker(["--num-speculative-tokens", "5"]);
  try {
    for (const body of BODIES) {
      const a = await complete(plain, body), b = await complete(spec, body);
      assert.equal(b.choices[0].text, a.choices[0].text, JSON.stringify(body));
      assert.equal(b.usage.completion_tokens, a.usage.completion_tokens);
      assert.equal(b.choices[0].finish_reason, a.choices[0].finish_reason);
      if (body.logprobs) assert.deepEqual(b.choices[0].logprobs.tokens, a.choices[0].logprobs.tokens);
      assert.equal(await streamed(spec, body), a.choices[0].text);
    }
    const drafts = await metric(spec.url, "maas:spec_decode_num_draft_tokens_total");
    const accepted = await metric(spec.url, "maas:spec_decode_num_accepted_tokens_total");
    // How much of a draft runs depends on the step cost model (timing); that some are kept does
    // not. (Drafts both kept and rejected: engine_spec_test, with whole drafts.)
    assert.ok(accepted > 0, `accepted ${accepted}`);
    assert.ok(drafts >= accepted, `drafts ${drafts} accepted ${accepted}`);
    assert.equal(await metric(plain.url, "maas:spec_decode_num_draft_tokens_total"), 0);
    assert.equal(await metric(plain.url, "maas:spec_decode_num_accepted_tokens_total"), 0);
  } finally {
    assert.equal(await plain.stop(), 0);
    assert.equal(await spec.stop(), 0);
  }
});
