// structured_output.test.mjs — `response_format` (json_object, json_schema) and vLLM's
// `guided_json` against a running worker, through the real openai and Azure clients. The model
// has random weights, so nothing but the constraint makes its output JSON: every answer that
// ends with finish_reason "stop" must parse and follow the schema. The schema bounds every
// string and array, so every answer must end ("stop") well inside max_tokens.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import ModelClient from "@azure-rest/ai-inference";
import { AzureKeyCredential } from "@azure/core-auth";
import { startWorker, post, KEYS } from "./harness.mjs";

let w;
let openai;
before(async () => {
  w = await startWorker();
  openai = new OpenAI({ apiKey: KEYS[0], baseURL: w.url + "/v1", maxRetries: 0 });
});
after(async () => {
  assert.equal(await w.stop(), 0);
});

const SCHEMA = {
  type: "object",
  properties: {
    name: { type: "string", minLength: 1, maxLength: 12, description: "annotations are ignored" },
    age: { type: "integer" },
    tags: { type: "array", items: { enum: ["red", "green", "blue"] }, maxItems: 3 },
    address: { $ref: "#/$defs/Address" },
    active: { type: "boolean" },
  },
  required: ["name", "age", "address"],
  additionalProperties: false,
  $defs: {
    Address: {
      type: "object",
      properties: { street: { type: "string", maxLength: 16 }, zip: { anyOf: [{ type: "string", maxLength: 5 }, { type: "null" }] } },
      required: ["street", "zip"],
    },
  },
};

// The schema above, checked by hand (no validator library in the test dependencies).
function followsSchema(v) {
  const isObj = (x) => x !== null && typeof x === "object" && !Array.isArray(x);
  if (!isObj(v)) return "not an object";
  for (const k of Object.keys(v)) if (!(k in SCHEMA.properties)) return `unexpected key ${k}`;
  for (const k of SCHEMA.required) if (!(k in v)) return `missing ${k}`;
  const chars = (s) => [...s].length;
  if (typeof v.name !== "string" || chars(v.name) < 1 || chars(v.name) > 12) return "name";
  if (!Number.isInteger(v.age)) return "age";
  if ("tags" in v && (!Array.isArray(v.tags) || v.tags.length > 3 || !v.tags.every((t) => ["red", "green", "blue"].includes(t)))) return "tags";
  if ("active" in v && typeof v.active !== "boolean") return "active";
  const a = v.address;
  if (!isObj(a) || Object.keys(a).some((k) => k !== "street" && k !== "zip")) return "address keys";
  if (typeof a.street !== "string" || chars(a.street) > 16) return "street";
  if (!(a.zip === null || (typeof a.zip === "string" && chars(a.zip) <= 5))) return "zip";
  return "";
}

const schemaFormat = { type: "json_schema", json_schema: { name: "person", strict: true, schema: SCHEMA } };

test("json_schema: every sampled answer is JSON that follows the schema (openai chat, n = 2, several seeds)", async () => {
  let answers = 0;
  for (const seed of [1, 2, 3]) {
    const r = await openai.chat.completions.create({
      model: "default", messages: [{ role: "user", content: "Describe a person as JSON." }],
      max_tokens: 1200, temperature: 1, seed, n: 2, response_format: schemaFormat,
    });
    for (const c of r.choices) {
      assert.equal(c.finish_reason, "stop", c.message.content);
      const v = JSON.parse(c.message.content);
      assert.equal(followsSchema(v), "", c.message.content);
      ++answers;
    }
  }
  assert.equal(answers, 6);
});

test("json_schema: greedy, streamed and whole give the same JSON; the stream's pieces join to it", async () => {
  const req = { model: "default", prompt: "JSON:", max_tokens: 1200, temperature: 0, response_format: schemaFormat };
  const whole = await openai.completions.create(req);
  assert.equal(whole.choices[0].finish_reason, "stop");
  assert.equal(followsSchema(JSON.parse(whole.choices[0].text)), "", whole.choices[0].text);
  let streamed = "";
  let finish = null;
  for await (const chunk of await openai.completions.create({ ...req, stream: true })) {
    streamed += chunk.choices[0]?.text ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(streamed, whole.choices[0].text);
  assert.equal(finish, "stop");
});

test("json_object through the Azure client: a JSON object, and logprobs list only allowed tokens", async () => {
  const client = ModelClient(w.url, new AzureKeyCredential(KEYS[0]), { allowInsecureConnection: true });
  let stops = 0;
  for (const seed of [4, 5, 6]) {
    const r = await client.path("/chat/completions").post({
      body: { messages: [{ role: "user", content: "Answer in JSON." }], max_tokens: 800, temperature: 1, seed,
              response_format: { type: "json_object" } },
    });
    assert.equal(r.status, "200", JSON.stringify(r.body));
    const c = r.body.choices[0];
    if (c.finish_reason !== "stop") continue;  // an unbounded string may run to max_tokens
    ++stops;
    const v = JSON.parse(c.message.content);
    assert.ok(v !== null && typeof v === "object" && !Array.isArray(v), c.message.content);
  }
  assert.ok(stops >= 1, "at least one answer closed its object");
  // The first token of a json_object answer is whitespace or "{": so are all its alternatives.
  const lp = await openai.completions.create({ model: "default", prompt: "x", max_tokens: 1, logprobs: 5,
                                               temperature: 0, response_format: { type: "json_object" } });
  const top = lp.choices[0].logprobs.top_logprobs[0];
  assert.equal(Object.keys(top).length, 5);
  for (const t of Object.keys(top)) assert.match(t, /^\s*\{?\s*("|$)/, JSON.stringify(top));
});

test("guided_json (vLLM) takes the schema itself, as an object or a string", async () => {
  for (const guided of [{ type: "array", items: { type: "integer" }, minItems: 2, maxItems: 4 },
                        JSON.stringify({ type: "array", items: { type: "integer" }, minItems: 2, maxItems: 4 })]) {
    const r = await post(w.url, "/v1/completions", { prompt: "numbers:", max_tokens: 300, temperature: 0.8, seed: 9, guided_json: guided });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices[0].finish_reason, "stop", r.json.choices[0].text);
    const v = JSON.parse(r.json.choices[0].text);
    assert.ok(Array.isArray(v) && v.length >= 2 && v.length <= 4 && v.every(Number.isInteger), r.json.choices[0].text);
  }
});

test("schemas the server cannot enforce are refused with a 400 naming the field, not ignored", async () => {
  const cases = [
    [{ type: "json_schema", json_schema: { name: "x", schema: { type: "string", pattern: "^a+$" } } }, /'pattern' is not supported/],
    [{ type: "json_schema", json_schema: { name: "x", schema: { type: "number", minimum: 0 } } }, /'minimum' is not supported/],
    [{ type: "json_schema", json_schema: { name: "x", schema: { anyOf: [{ type: "string" }, { enum: ["a"] }] } } }, /begin differently/],
    [{ type: "json_schema", json_schema: { name: "x", schema: { $ref: "https://example.com/s.json" } } }, /only local '\$ref'/],
    [{ type: "yaml" }, /must be "text", "json_object" or "json_schema"/],
  ];
  for (const [format, message] of cases) {
    await assert.rejects(
      openai.chat.completions.create({ model: "default", messages: [{ role: "user", content: "x" }], max_tokens: 4, response_format: format }),
      (e) => {
        assert.equal(e.status, 400);
        assert.match(e.error.message, message);
        assert.match(e.error.param, /^response_format/);
        return true;
      });
  }
  const beam = await post(w.url, "/v1/completions", { prompt: "x", max_tokens: 4, temperature: 0, n: 2, use_beam_search: true,
                                                      response_format: { type: "json_object" } });
  assert.equal(beam.status, 400, beam.text);
  assert.equal(beam.json.error.param, "use_beam_search");
});
