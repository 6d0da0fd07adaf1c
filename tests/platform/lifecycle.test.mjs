// lifecycle.test.mjs — the serverless path end to end on a running `maas serve` with real
// workers (ISSUE 9 "Tests"): bootstrap, the openai and @azure-rest/ai-inference clients on the
// endpoint URL, usage and cost recorded exactly, CLI subscribe → create → call → regenerate
// keys, the subscription and one-per-model rules, deleting a subscription and an endpoint,
// and a second start that reuses everything.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import OpenAI from "openai";
import ModelClient from "@azure-rest/ai-inference";
import { AzureKeyCredential } from "@azure/core-auth";
import { startServe, cli, api, infer, records, waitFor, chat, MODEL } from "./harness.mjs";

let s;
let secondModel;
before(async () => {
  s = await startServe();
  secondModel = path.join(s.dataDir, "models", "tiny-two.gguf");
  fs.copyFileSync(MODEL, secondModel);
});
after(async () => {
  if (s) assert.equal(await s.stop(), 0, "SIGTERM drains and exits 0");
});

test("bootstrap prints the URL, a key and a curl line; the token is stored hashed", async () => {
  assert.match(s.stdout(), /administrator token \(shown once/);
  assert.match(s.stdout(), /curl http:\/\/127\.0\.0\.1:\d+\/endpoints\/default\/v1\/chat\/completions/);
  assert.match(s.key, /^[0-9a-f]{48}$/);
  const who = await api(s, "GET", "/api/whoami");
  assert.equal(who.status, 200);
  assert.deepEqual(who.json.role_assignments, [{ role: "Owner", scope: "/" }], "the administrator holds Owner on everything");
  // The database holds digests and prefixes only (TESTPLAN B9): neither the admin token nor the
  // endpoint keys appear in its files.
  const raw = Buffer.concat(["maas.db", "maas.db-wal"].map((f) => {
    try { return fs.readFileSync(path.join(s.dataDir, f)); } catch { return Buffer.alloc(0); }
  }));
  assert.equal(raw.includes(Buffer.from(s.token)), false, "admin token not in the database");
  assert.equal(raw.includes(Buffer.from(s.key)), false, "endpoint key not in the database");
});

test("openai client: chat and streamed completions; usage and cost recorded exactly", async () => {
  const before = (await records(s)).length;
  const openai = new OpenAI({ apiKey: s.key, baseURL: s.endpointUrl() + "/v1", maxRetries: 0 });
  const r = await openai.chat.completions.create({ model: "default", ...chat("Hi there", { max_tokens: 6 }) });
  assert.equal(r.object, "chat.completion");
  assert.equal(r.model, "maas-tiny-llama3");
  assert.ok(r.usage.completion_tokens > 0);
  const stream = await openai.completions.create({ model: "maas-tiny-llama3", prompt: "Once upon", max_tokens: 5, temperature: 0,
                                                   stream: true, stream_options: { include_usage: true } });
  let text = "", usage = null, chunks = 0;
  for await (const c of stream) {
    ++chunks;
    if (c.usage) usage = c.usage;
    else assert.equal(c.usage, null, "include_usage without continuous: usage null on content chunks");
    for (const ch of c.choices) text += ch.text;
  }
  assert.ok(chunks > 2);
  assert.ok(usage && usage.completion_tokens > 0);
  const recs = await waitFor(async () => { const x = await records(s); return x.length >= before + 2 ? x : null; }, 5000);
  const mine = recs.slice(-2);
  assert.equal(mine[0].status, 200);
  assert.equal(mine[0].prompt_tokens, r.usage.prompt_tokens);
  assert.equal(mine[0].completion_tokens, r.usage.completion_tokens);
  assert.equal(mine[0].route, "/v1/chat/completions");
  assert.equal(mine[0].key, "primary");
  assert.equal(mine[1].prompt_tokens, usage.prompt_tokens);
  assert.equal(mine[1].completion_tokens, usage.completion_tokens);
  // Cost: the offering's prices (micro-USD per 1K tokens) times the tokens, exactly.
  const offering = (await api(s, "GET", "/api/models/maas-tiny-llama3")).json.offering;
  const inMicro = Math.round(offering.price_input_per_1k * 1e6), outMicro = Math.round(offering.price_output_per_1k * 1e6);
  assert.equal(mine[0].cost_nano_usd, mine[0].prompt_tokens * inMicro + mine[0].completion_tokens * outMicro);
  const meters = (await api(s, "GET", "/api/workspaces/default/usage?by=meter")).json;
  const all = await records(s);
  const input = meters.data.find((m) => m.meter === "input_tokens");
  assert.equal(input.quantity, all.reduce((a, x) => a + x.prompt_tokens, 0));
  assert.equal(meters.totals.cost_nano_usd, all.reduce((a, x) => a + x.cost_nano_usd, 0));
  assert.equal(meters.data.find((m) => m.meter === "fine_tuning").quantity, 0);
});

test("structured output and function calling through the gateway: the answers follow the schemas, and are metered", async () => {
  const before = (await records(s)).length;
  const openai = new OpenAI({ apiKey: s.key, baseURL: s.endpointUrl() + "/v1", maxRetries: 0 });
  const schema = { type: "object", properties: { city: { type: "string", maxLength: 10 }, rainy: { type: "boolean" } },
                   required: ["city", "rainy"] };
  const r = await openai.chat.completions.create({
    model: "default", ...chat("Weather as JSON", { max_tokens: 200, temperature: 0.7, seed: 11 }),
    response_format: { type: "json_schema", json_schema: { name: "weather", schema } },
  });
  assert.equal(r.choices[0].finish_reason, "stop", r.choices[0].message.content);
  const v = JSON.parse(r.choices[0].message.content);
  assert.deepEqual(Object.keys(v).sort(), ["city", "rainy"]);
  assert.ok(typeof v.city === "string" && [...v.city].length <= 10 && typeof v.rainy === "boolean", r.choices[0].message.content);
  const recs = await waitFor(async () => { const x = await records(s); return x.length >= before + 1 ? x : null; }, 5000);
  assert.equal(recs.at(-1).completion_tokens, r.usage.completion_tokens);
  // Function calling through the gateway: a forced call comes back as tool_calls, metered too.
  const call = await openai.chat.completions.create({
    model: "default", ...chat("Weather in Oslo?", { max_tokens: 200, temperature: 0 }), tool_choice: "required",
    tools: [{ type: "function", function: { name: "get_weather", parameters: schema } }],
  });
  assert.equal(call.choices[0].finish_reason, "tool_calls");
  assert.equal(call.choices[0].message.tool_calls[0].function.name, "get_weather");
  assert.deepEqual(Object.keys(JSON.parse(call.choices[0].message.tool_calls[0].function.arguments)).sort(), ["city", "rainy"]);
  const after = await waitFor(async () => { const x = await records(s); return x.length >= before + 2 ? x : null; }, 5000);
  assert.equal(after.at(-1).completion_tokens, call.usage.completion_tokens);
  // A schema the server cannot enforce is the worker's 400, passed through the gateway.
  await assert.rejects(openai.chat.completions.create({ model: "default", ...chat("x", { max_tokens: 4 }),
    response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "string", pattern: "a+" } } } }),
    (e) => e.status === 400 && /'pattern' is not supported/.test(e.error.message));
});

test("azure client on the same endpoint: chat completions with api-key", async () => {
  const client = ModelClient(s.endpointUrl(), new AzureKeyCredential(s.key), { allowInsecureConnection: true });
  const r = await client.path("/chat/completions").post({
    body: { messages: [{ role: "user", content: "Hello" }], max_tokens: 4, temperature: 0 },
  });
  assert.equal(r.status, "200");
  assert.equal(r.body.choices[0].message.role, "assistant");
  const bad = await client.path("/chat/completions").post({
    body: { messages: [{ role: "user", content: "x" }], max_tokens: 4, not_a_field: 1 },
  });
  assert.equal(bad.status, "422", "unknown fields on Azure routes: the worker's error passes through");
  assert.equal(bad.headers["x-ms-error-code"], "parameter_not_supported");
});

test("CLI: register a model, subscribe, create, call, regenerate keys; the rules hold", async () => {
  const reg = cli(s.dataDir, ["model", "register", "tiny-two", "--path", secondModel, "--custom", "--price-input", "0.001",
                              "--price-output", "0.002", "--output", "json"]);
  assert.equal(reg.code, 0, reg.stderr);
  assert.equal(reg.json.weights.sha256.length, 64);
  // No subscription: a clear error naming it, and nothing created.
  const nosub = cli(s.dataDir, ["serverless-endpoint", "create", "second", "--model", "tiny-two"]);
  assert.equal(nosub.code, 1);
  assert.match(nosub.stderr, /^error: .*no marketplace subscription to offering 'tiny-two-offer'/);
  assert.equal(nosub.stderr.trim().split("\n").length, 1, "one line");
  assert.equal(cli(s.dataDir, ["serverless-endpoint", "show", "second"]).code, 1);
  const sub = cli(s.dataDir, ["marketplace-subscription", "create", "--model", "tiny-two"]);
  assert.equal(sub.code, 0, sub.stderr);
  assert.match(sub.stdout, /terms accepted/);
  const again = cli(s.dataDir, ["marketplace-subscription", "create", "other-name", "--model", "tiny-two"]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already has marketplace subscription 'tiny-two'/);
  const created = cli(s.dataDir, ["serverless-endpoint", "create", "second", "--model", "tiny-two", "--output", "json"]);
  assert.equal(created.code, 0, created.stderr);
  assert.ok(["Creating", "Succeeded"].includes(created.json.state));
  const shown = await waitFor(() => {
    const r = cli(s.dataDir, ["serverless-endpoint", "show", "second", "--output", "json"]);
    return r.json?.state === "Succeeded" ? r.json : null;
  }, 60000, 200);
  assert.ok(shown, "the endpoint becomes Succeeded once its pool is ready");
  assert.equal(shown.url, s.endpointUrl("second"));
  // One serverless deployment per model per workspace.
  const dup = cli(s.dataDir, ["serverless-endpoint", "create", "third", "--model", "tiny-two"]);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /already has serverless endpoint 'second'/);
  // Name rules: 3-32 characters, a letter first, letters, digits and '-'.
  for (const bad of ["ab", "1abc", "a_b", "a".repeat(33)]) {
    const r = await api(s, "POST", "/api/workspaces/default/serverless-endpoints", { name: bad, model: "tiny-two" });
    assert.equal(r.status, 400, bad);
    assert.equal(r.json.error.param, "name");
  }
  // Unique per region, across workspaces.
  assert.equal((await api(s, "POST", "/api/workspaces", { name: "team-b" })).status, 201);
  assert.equal((await api(s, "POST", "/api/workspaces/team-b/marketplace-subscriptions", { model: "maas-tiny-llama3" })).status, 201);
  const taken = await api(s, "POST", "/api/workspaces/team-b/serverless-endpoints", { name: "second", model: "maas-tiny-llama3" });
  assert.equal(taken.status, 409);
  assert.match(taken.json.error.message, /already exists in region 'local'/);

  const creds = cli(s.dataDir, ["serverless-endpoint", "get-credentials", "second", "--output", "json"]).json;
  assert.equal((await infer(s, "/v1/chat/completions", chat(), creds.primaryKey, {}, "second")).status, 200);
  assert.equal((await infer(s, "/v1/chat/completions", chat(), creds.secondaryKey, {}, "second")).status, 200);
  // A key of another endpoint: 403, no inference.
  const other = await infer(s, "/v1/chat/completions", chat(), creds.primaryKey, {}, "default");
  assert.equal(other.status, 403);
  assert.equal(other.json.error.type, "permission_error");
  // Regenerate the primary: the old value is refused at once, the secondary keeps working.
  const regen = cli(s.dataDir, ["serverless-endpoint", "regenerate-keys", "second", "--key-type", "primary", "--output", "json"]);
  assert.equal(regen.code, 0, regen.stderr);
  assert.notEqual(regen.json.primaryKey, creds.primaryKey);
  assert.equal(regen.json.secondaryKey, creds.secondaryKey);
  const old = await infer(s, "/v1/chat/completions", chat(), creds.primaryKey, {}, "second");
  assert.equal(old.status, 401);
  assert.equal(old.json.error.code, "invalid_api_key");
  assert.equal((await infer(s, "/v1/chat/completions", chat(), creds.secondaryKey, {}, "second")).status, 200);
  assert.equal((await infer(s, "/v1/chat/completions", chat(), regen.json.primaryKey, {}, "second")).status, 200);
  const recs = (await records(s)).filter((r) => r.endpoint === "second");
  assert.deepEqual(recs.map((r) => r.key), ["primary", "secondary", "secondary", "primary"], "key ids, never keys");

  // Deleting the subscription: the endpoint answers 403 naming it, until it is created again.
  assert.equal(cli(s.dataDir, ["marketplace-subscription", "delete", "tiny-two"]).code, 0);
  const unsub = await infer(s, "/v1/chat/completions", chat(), regen.json.primaryKey, {}, "second");
  assert.equal(unsub.status, 403);
  assert.equal(unsub.json.error.code, "marketplace_subscription_required");
  assert.match(unsub.json.error.message, /tiny-two-offer/);
  assert.equal(cli(s.dataDir, ["marketplace-subscription", "create", "--model", "tiny-two"]).code, 0);
  assert.equal((await infer(s, "/v1/chat/completions", chat(), regen.json.primaryKey, {}, "second")).status, 200);

  // Deleting the endpoint: 404 afterwards, its pool stops, the name is free again.
  const del = cli(s.dataDir, ["serverless-endpoint", "delete", "second"]);
  assert.equal(del.code, 0, del.stderr);
  const gone = await infer(s, "/v1/chat/completions", chat(), regen.json.primaryKey, {}, "second");
  assert.equal(gone.status, 404);
  assert.equal((await api(s, "GET", "/api/workspaces/default/serverless-endpoints/second")).status, 404);
  const pools = (await api(s, "GET", "/api/instances")).json.data.map((i) => i.deployment);
  assert.ok(!pools.includes("serverless/tiny-two"), "the model's pool stopped: " + pools);
  // A custom model is removed once nothing uses it.
  const busy = cli(s.dataDir, ["model", "rm", "tiny-two"]);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /marketplace subscription 'tiny-two'/);
  assert.equal(cli(s.dataDir, ["marketplace-subscription", "delete", "tiny-two"]).code, 0);
  assert.equal(cli(s.dataDir, ["model", "rm", "tiny-two"]).code, 0);
  assert.equal(cli(s.dataDir, ["model", "show", "tiny-two"]).code, 1);
  assert.ok(!cli(s.dataDir, ["model", "list", "--output", "json"]).json.data.some((m) => m.name === "tiny-two"));
});

test("prices are the administrator's: a changed price applies to the next requests", async () => {
  const r = cli(s.dataDir, ["offering", "update", "maas-tiny-llama3-offer", "--price-input", "0.5", "--price-output", "1.25",
                            "--output", "json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.price_input_per_1k, 0.5);
  const before = (await records(s)).length;
  const call = await infer(s, "/v1/chat/completions", chat(), s.key);
  assert.equal(call.status, 200);
  const rec = (await waitFor(async () => { const x = await records(s); return x.length > before ? x : null; }, 3000)).at(-1);
  assert.equal(rec.cost_nano_usd, rec.prompt_tokens * 500000 + rec.completion_tokens * 1250000);
  assert.equal(cli(s.dataDir, ["offering", "update", "maas-tiny-llama3-offer", "--price-input", "0.0001", "--price-output",
                               "0.0002"]).code, 0);
});

test("management API: bad input gets a clear 4xx and changes nothing", async () => {
  const list = async () => (await api(s, "GET", "/api/workspaces")).json.data.length;
  const n = await list();
  const cases = [
    ["POST", "/api/workspaces", "{\"name\":", 400, "invalid_json"],
    ["POST", "/api/workspaces", "[]", 400, null],
    ["POST", "/api/workspaces", { name: "ok-name", extra: 1 }, 400, "invalid_value"],
    ["POST", "/api/workspaces", { name: 42 }, 400, "invalid_value"],
    ["POST", "/api/workspaces", { name: "default" }, 409, "conflict"],
    ["POST", "/api/workspaces", { name: "elsewhere", region: "mars" }, 400, "invalid_value"],
    ["GET", "/api/workspaces/nope", undefined, 404, "not_found"],
    ["GET", "/api/workspaces/nope/serverless-endpoints", undefined, 404, "not_found"],
    ["PUT", "/api/workspaces", {}, 405, "method_not_allowed"],
    ["GET", "/api/no-such-thing", undefined, 404, "not_found"],
    ["POST", "/api/workspaces/default/serverless-endpoints", { name: "abc", model: "no-such-model" }, 404, "not_found"],
    ["POST", "/api/workspaces/default/serverless-endpoints", { name: "abc", model: "Meta-Llama-3-8B-Instruct" }, 400, "marketplace_subscription_required"],
    ["PATCH", "/api/workspaces/default/serverless-endpoints/default", { requests_per_minute: -5 }, 400, "invalid_value"],
    ["POST", "/api/workspaces/default/serverless-endpoints/default/regenerate-keys", { key_type: "tertiary" }, 400, "invalid_value"],
    ["POST", "/api/models", { name: "bad", path: "/nonexistent.gguf", custom: true }, 400, "invalid_value"],
  ];
  for (const [m, p, body, status, code] of cases) {
    const r = await api(s, m, p, body);
    assert.equal(r.status, status, `${m} ${p} ${JSON.stringify(body)}: ${r.text}`);
    assert.equal(typeof r.json.error.message, "string");
    if (code) assert.equal(r.json.error.code, code, `${m} ${p}`);
  }
  // Weights missing: a catalog model can be subscribed but not deployed, and the error says how.
  assert.equal((await api(s, "POST", "/api/workspaces/default/marketplace-subscriptions", { model: "Llama-3.2-1B-Instruct" })).status, 201);
  const noWeights = await api(s, "POST", "/api/workspaces/default/serverless-endpoints", { name: "llama32", model: "Llama-3.2-1B-Instruct" });
  assert.equal(noWeights.status, 400);
  assert.equal(noWeights.json.error.code, "model_weights_missing");
  assert.match(noWeights.json.error.message, /maas model pull/);
  // Wrong or missing management tokens.
  for (const auth of [undefined, "Bearer maas_wrong", "Basic YWRtaW46eA=="]) {
    const r = await fetch(s.url + "/api/workspaces", { headers: auth ? { authorization: auth } : {} });
    assert.equal(r.status, 401);
    assert.equal((await r.json()).error.code, "invalid_token");
  }
  assert.equal(await list(), n, "no workspace was created by any failed call");
  // A hostile model file is refused at registration with the loader's error.
  const bad = path.join(s.dataDir, "garbage.gguf");
  fs.writeFileSync(bad, Buffer.concat([Buffer.from("GGUF"), Buffer.alloc(64, 0xff)]));
  const r = cli(s.dataDir, ["model", "register", "garbage", "--path", bad, "--custom"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: not a usable Llama GGUF model: /);
  assert.equal((await api(s, "GET", "/api/models/garbage")).status, 404);
});

test("Idempotency-Key: replayed once, refused with other parameters (TESTPLAN K5)", async () => {
  const h = { "idempotency-key": "create-ws-42" };
  const a = await api(s, "POST", "/api/workspaces", { name: "idem-ws" }, h);
  assert.equal(a.status, 201);
  const b = await api(s, "POST", "/api/workspaces", { name: "idem-ws" }, h);
  assert.equal(b.status, 201);
  assert.equal(b.headers.get("idempotent-replayed"), "true");
  assert.equal(b.json.id, a.json.id);
  const c = await api(s, "POST", "/api/workspaces", { name: "idem-other" }, h);
  assert.equal(c.status, 422);
  assert.equal(c.json.error.code, "idempotency_key_reused");
  assert.equal((await api(s, "GET", "/api/workspaces/idem-other")).status, 404);
});

test("the management API documents itself (OpenAPI 3, valid)", async () => {
  const { default: SwaggerParser } = await import("@apidevtools/swagger-parser");
  const r = await fetch(s.url + "/api/openapi.json");
  assert.equal(r.status, 200);
  const doc = await r.json();
  await SwaggerParser.validate(structuredClone(doc));
  assert.ok(doc.paths["/api/workspaces/{workspace}/serverless-endpoints"].post);
  assert.equal(doc.paths["/api/workspaces/{workspace}/serverless-endpoints"].post["x-maas-action"],
               "workspaces/serverlessEndpoints/write");
});

test("a second start reuses everything: no new token, same keys, records kept", async () => {
  const n = (await records(s)).length;
  const dir = s.dataDir;
  assert.equal(await s.stop(), 0);
  s = await startServe({ dataDir: dir });
  assert.doesNotMatch(s.stdout(), /administrator token/);
  const r = await infer(s, "/v1/chat/completions", chat(), s.key);
  assert.equal(r.status, 200, r.text);
  assert.equal((await api(s, "GET", "/api/workspaces/team-b")).status, 200);
  assert.equal((await records(s)).length, n + 1);
  assert.equal(cli(dir, ["workspace", "list"]).code, 0);
});
