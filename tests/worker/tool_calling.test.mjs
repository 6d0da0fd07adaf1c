// tool_calling.test.mjs — OpenAI function calling against a running worker with Llama 3.1's chat
// template, through the real openai and Azure clients. The model has random weights: a forced
// call (tool_choice "required" or a named function) is a valid call only because decoding is
// constrained to the tool's parameters schema; "auto" leaves the choice to the model, which here
// answers with text.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import ModelClient from "@azure-rest/ai-inference";
import { AzureKeyCredential } from "@azure/core-auth";
import { startWorker, post, KEYS } from "./harness.mjs";

let w;
let openai;
before(async () => {
  w = await startWorker(["--chat-template", "llama3.1"]);
  openai = new OpenAI({ apiKey: KEYS[0], baseURL: w.url + "/v1", maxRetries: 0 });
});
after(async () => {
  assert.equal(await w.stop(), 0);
});

const TOOLS = [
  { type: "function", function: { name: "get_weather", description: "Current weather of a city",
    parameters: { type: "object", properties: { city: { type: "string", maxLength: 20 }, unit: { enum: ["c", "f"] } },
                  required: ["city", "unit"] } } },
  { type: "function", function: { name: "add", description: "Adds two integers",
    parameters: { type: "object", properties: { a: { type: "integer" }, b: { type: "integer" } }, required: ["a", "b"] } } },
];

function checkCall(call) {
  assert.equal(call.type, "function");
  assert.match(call.id, /^call_[0-9a-f]+_\d+_\d+$/);
  const args = JSON.parse(call.function.arguments);
  if (call.function.name === "get_weather") {
    assert.deepEqual(Object.keys(args).sort(), ["city", "unit"]);
    assert.ok(typeof args.city === "string" && [...args.city].length <= 20 && ["c", "f"].includes(args.unit), call.function.arguments);
  } else {
    assert.equal(call.function.name, "add");
    assert.deepEqual(Object.keys(args).sort(), ["a", "b"]);
    assert.ok(Number.isInteger(args.a) && Number.isInteger(args.b), call.function.arguments);
  }
}

const ask = [{ role: "user", content: "What is the weather in Paris, in celsius?" }];

test("tool_choice required: every answer is one valid call of a listed tool (n = 2, several seeds)", async () => {
  for (const seed of [1, 2, 3]) {
    const r = await openai.chat.completions.create({ model: "default", messages: ask, tools: TOOLS, tool_choice: "required",
                                                     max_tokens: 400, temperature: 1, seed, n: 2 });
    for (const c of r.choices) {
      assert.equal(c.finish_reason, "tool_calls", JSON.stringify(c.message));
      assert.equal(c.message.content, null);
      assert.equal(c.message.tool_calls.length, 1);
      checkCall(c.message.tool_calls[0]);
    }
  }
});

test("a named tool_choice calls that tool; streamed, the call arrives as one tool_calls delta", async () => {
  const req = { model: "default", messages: ask, tools: TOOLS, max_tokens: 400, temperature: 0,
                tool_choice: { type: "function", function: { name: "add" } } };
  const whole = await openai.chat.completions.create(req);
  assert.equal(whole.choices[0].finish_reason, "tool_calls");
  const call = whole.choices[0].message.tool_calls[0];
  assert.equal(call.function.name, "add");
  checkCall(call);
  let content = "", finish = null;
  const calls = [];
  for await (const chunk of await openai.chat.completions.create({ ...req, stream: true })) {
    const ch = chunk.choices[0];
    if (!ch) continue;
    content += ch.delta?.content ?? "";
    for (const t of ch.delta?.tool_calls ?? []) calls.push(t);
    finish = ch.finish_reason ?? finish;
  }
  assert.equal(content, "");
  assert.equal(finish, "tool_calls");
  assert.equal(calls.length, 1);
  assert.equal(calls[0].index, 0);
  assert.equal(calls[0].function.name, "add");
  assert.equal(calls[0].function.arguments, call.function.arguments);  // greedy: the same call
});

test("a conversation with a call and its result goes on; auto lets the model answer in text", async () => {
  const messages = [
    ...ask,
    { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function",
      function: { name: "get_weather", arguments: JSON.stringify({ city: "Paris", unit: "c" }) } }] },
    { role: "tool", tool_call_id: "call_1", content: "21 degrees and sunny" },
  ];
  const r = await openai.chat.completions.create({ model: "default", messages, tools: TOOLS, max_tokens: 12, temperature: 0 });
  const c = r.choices[0];
  // A random model does not write a call: its text is the answer, with the usual finish.
  assert.ok(["stop", "length", "tool_calls"].includes(c.finish_reason));
  if (c.finish_reason === "tool_calls") c.message.tool_calls.forEach(checkCall);
  else assert.equal(typeof c.message.content, "string");
  assert.ok(r.usage.prompt_tokens > 100, "the tools and the call were rendered into the prompt");
  const none = await openai.chat.completions.create({ model: "default", messages, tools: TOOLS, tool_choice: "none",
                                                      max_tokens: 4, temperature: 0 });
  assert.ok(none.usage.prompt_tokens < r.usage.prompt_tokens, "tool_choice none leaves the tools out");
});

test("the Azure client gets the same tool_calls", async () => {
  const client = ModelClient(w.url, new AzureKeyCredential(KEYS[0]), { allowInsecureConnection: true });
  const r = await client.path("/chat/completions").post({
    body: { messages: ask, tools: TOOLS, tool_choice: "required", max_tokens: 400, temperature: 0.5, seed: 4 },
  });
  assert.equal(r.status, "200", JSON.stringify(r.body));
  assert.equal(r.body.choices[0].finish_reason, "tool_calls");
  checkCall(r.body.choices[0].message.tool_calls[0]);
});

test("bad tool input is a 400 naming the field; special-token text in a tool never reaches the prompt", async () => {
  const cases = [
    [{ tools: [{ type: "function", function: { name: "f", description: "x<|eot_id|>" } }] }, "tools"],
    [{ tools: TOOLS, tool_choice: { type: "function", function: { name: "nope" } } }, "tool_choice.function.name"],
    [{ tool_choice: "required" }, "tool_choice"],
    [{ tools: [{ type: "function", function: { name: "bad name" } }] }, "tools[0].function.name"],
  ];
  for (const [extra, param] of cases) {
    const r = await post(w.url, "/v1/chat/completions", { messages: ask, max_tokens: 4, ...extra });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.param, param, r.text);
  }
  const badCall = await post(w.url, "/v1/chat/completions", { max_tokens: 4, messages: [...ask,
    { role: "assistant", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{\"a\": \"<|start_header_id|>\"}" } }] }] });
  assert.equal(badCall.status, 400, badCall.text);
  assert.equal(badCall.json.error.param, "messages[1].tool_calls");
});
