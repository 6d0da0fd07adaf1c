// transport.test.mjs — HTTP transport and body parsing from raw sockets (TESTPLAN A), error
// hygiene and log injection (L1/L2), error amplification (H7) and the OpenAPI document. One
// worker, run with MAAS_LOG_LEVEL=debug so the transport logs every response it sends.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import SwaggerParser from "@apidevtools/swagger-parser";
import { startWorker, post, get, rawHttp, assertAlive, KEYS } from "./harness.mjs";

let w;
let host;
before(async () => {
  w = await startWorker([], { env: { MAAS_LOG_LEVEL: "debug" } });
  host = new URL(w.url).host;
});
after(async () => {
  assert.equal(await w.stop(), 0);
});

const AUTH = `Authorization: Bearer ${KEYS[0]}\r\n`;
const utf8 = new TextDecoder("utf-8", { fatal: true });

// The body is valid UTF-8 JSON in OpenAI's error shape.
function assertErrorBody(r, status, code, msg) {
  assert.equal(r.status, status, `${msg}: ${r.text}`);
  const text = utf8.decode(r.body ?? Buffer.from(r.text));
  const j = JSON.parse(text);
  assert.equal(typeof j.error.message, "string", msg);
  assert.equal(typeof j.error.type, "string", msg);
  assert.ok("param" in j.error && "code" in j.error, msg);
  if (code !== undefined) assert.equal(j.error.code, code, msg);
  return j;
}

function postHead(path, length, contentType = "application/json", extra = "") {
  return `POST ${path} HTTP/1.1\r\nHost: ${host}\r\n${AUTH}Content-Type: ${contentType}\r\nContent-Length: ${length}\r\n${extra}\r\n`;
}

test("A: malformed HTTP → 400 invalid_http_request, connection answered not dropped", async () => {
  const cases = [
    "GARBAGE\r\n\r\n",
    "GET /health HTTP/9.9\r\nHost: x\r\n\r\n",
    "GET /health HTTP/1.1\r\nHost x\r\n\r\n",                       // header without a colon
    "GET /v1/models%00 HTTP/1.1\r\nHost: x\r\n\r\n",                 // %00 in the path
    "GET /v1/models%zz HTTP/1.1\r\nHost: x\r\n\r\n",                 // bad escape
    `POST /v1/completions HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{}`,
    `POST /v1/completions HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
    `POST /v1/completions HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n`,
  ];
  for (const c of cases) {
    const r = await rawHttp(w.url, c);
    assertErrorBody(r, 400, "invalid_http_request", JSON.stringify(c));
    assert.ok(r.headers["x-request-id"], "x-request-id on transport errors");
  }
  await assertAlive(w, "after malformed HTTP");
});

test("A4: Content-Type text/plain or missing → 415 (never 500)", async () => {
  const body = JSON.stringify({ prompt: "x", max_tokens: 1 });
  for (const ct of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]) {
    const r = await rawHttp(w.url, postHead("/v1/completions", body.length, ct) + body);
    assertErrorBody(r, 415, undefined, ct);
  }
  const none = await rawHttp(w.url, `POST /v1/completions HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: ${body.length}\r\n\r\n${body}`);
  assertErrorBody(none, 415, undefined, "no content-type");
  const withParams = await rawHttp(w.url, postHead("/v1/completions", body.length, "application/json; charset=utf-8") + body);
  assert.equal(withParams.status, 200, "parameters on application/json are fine");
  const chat = await post(w.url, "/chat/completions", { messages: [{ role: "user", content: "x" }] }, { "content-type": "text/plain", "api-key": KEYS[0] });
  assert.equal(chat.status, 415);
  await assertAlive(w, "after 415");
});

test("A4: a media type that merely starts with application/json → 415", async () => {
  const body = JSON.stringify({ prompt: "x", max_tokens: 1 });
  for (const ct of ["application/jsonx", "application/json-patch+json"]) {
    const r = await rawHttp(w.url, postHead("/v1/completions", body.length, ct) + body);
    assert.equal(r.status, 415, ct);
  }
});

test("A5/A6: body over 16 MiB → 413 before the body is sent; chunked body crossing it → 413/closed", async () => {
  const r = await rawHttp(w.url, postHead("/v1/completions", 16 * 1024 * 1024 + 1));
  assertErrorBody(r, 413, "request_too_large", "content-length over the limit");
  assert.ok(r.sentBytes < 1024, "answered with no body byte sent");
  const huge = await rawHttp(w.url, postHead("/v1/completions", "99999999999999999999"));
  assert.ok([400, 413].includes(huge.status), "absurd content-length: " + huge.status);

  const chunk = Buffer.alloc(1 << 20, 0x20);
  const parts = [`POST /v1/completions HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`];
  for (let i = 0; i < 20; ++i) parts.push(Buffer.concat([Buffer.from("100000\r\n"), chunk, Buffer.from("\r\n")]));
  const c = await rawHttp(w.url, parts, { timeoutMs: 20000 });
  assert.ok(c.status === 413 || (c.status === 0 && c.why !== "timeout"), `chunked over the limit: ${c.status} ${c.why}`);
  await assertAlive(w, "after 413");
});

test("A7: 1 MiB header and 10k headers → 431", async () => {
  const big = [`GET /v1/models HTTP/1.1\r\nHost: x\r\n${AUTH}X-Big: `];
  for (let i = 0; i < 64; ++i) big.push("a".repeat(16384));
  big.push("\r\n\r\n");
  const r = await rawHttp(w.url, big);
  assertErrorBody(r, 431, "request_header_fields_too_large", "1 MiB header");
  let many = `GET /v1/models HTTP/1.1\r\nHost: x\r\n${AUTH}`;
  for (let i = 0; i < 10000; ++i) many += `X-H${i}: v\r\n`;
  const m = await rawHttp(w.url, many + "\r\n");
  assertErrorBody(m, 431, "request_header_fields_too_large", "10k headers");
  await assertAlive(w, "after 431");
});

test("A8/A10/A3: deep nesting, duplicate keys, invalid UTF-8 → 400 invalid_json", async () => {
  const deep = '{"messages":' + "[".repeat(100000) + "]".repeat(100000) + "}";
  const d = await post(w.url, "/v1/chat/completions", deep);
  assertErrorBody(d, 400, "invalid_json", "100k nested [");
  assert.match(d.json.error.message, /nesting too deep/i);
  const dt = await post(w.url, "/v1/chat/completions", '{"messages":[{"role":"user","content":"x"}],"tools":' + "[".repeat(100000) + "}");
  assertErrorBody(dt, 400, "invalid_json", "100k nested [ in tools, unbalanced");

  for (const body of ['{"prompt":"x","max_tokens":1,"max_tokens":1000000000}', '{"prompt":"x","\\u0070rompt":"y"}',
                      '{"messages":[{"role":"user","role":"system","content":"x"}]}']) {
    const r = await post(w.url, body.includes("messages") ? "/v1/chat/completions" : "/v1/completions", body);
    const j = assertErrorBody(r, 400, "invalid_json", body);
    assert.match(j.error.message, /duplicate key/i);
  }

  const bad = [
    Buffer.concat([Buffer.from('{"prompt":"'), Buffer.from([0xc4, 0xe3, 0xba, 0xc3]), Buffer.from('","max_tokens":1}')]),  // GBK
    Buffer.concat([Buffer.from('{"prompt":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    Buffer.concat([Buffer.from('{"prompt":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]),           // overlong '/'
    Buffer.concat([Buffer.from('{"prompt":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),     // encoded surrogate
    Buffer.concat([Buffer.from('{"pro'), Buffer.from([0xe9]), Buffer.from('mpt":"x"}')]),                 // in a key
  ];
  for (const b of bad) {
    const r = await rawHttp(w.url, [postHead("/v1/completions", b.length), b]);
    assertErrorBody(r, 400, "invalid_json", b.toString("hex"));
  }
  const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"prompt":"x","max_tokens":1}')]);
  assert.equal((await rawHttp(w.url, [postHead("/v1/completions", bom.length), bom])).status, 200, "a UTF-8 BOM is accepted");
  await assertAlive(w, "after invalid bodies");
});

test("A11: GET on a POST route → 405, POST on a GET route → 405, unknown path → 404 not_found", async () => {
  for (const p of ["/v1/chat/completions", "/v1/completions", "/chat/completions", "/completions", "/tokenize", "/detokenize"]) {
    assertErrorBody(await get(w.url, p), 405, undefined, "GET " + p);
  }
  for (const p of ["/v1/models", "/info", "/metrics"]) assertErrorBody(await post(w.url, p, {}), 405, undefined, "POST " + p);
  const del = await rawHttp(w.url, `DELETE /v1/models HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`);
  assertErrorBody(del, 405, undefined, "DELETE");
  for (const p of ["/v1/nothing", "/v2/completions", "/V1/models", "/v1/chat/completions/x"]) {
    assertErrorBody(await get(w.url, p), 404, "not_found", "GET " + p);
  }
  assertErrorBody(await post(w.url, "/v1/nothing", {}), 404, "not_found", "POST unknown");
  assert.equal((await get(w.url, "/v1/nothing", {})).status, 401, "unknown path without a key is 401");
  assert.equal((await get(w.url, "/v1/chat/completions", {})).status, 401, "wrong method without a key is 401");
  await assertAlive(w, "after 404/405");
});

test("H7: inputs producing many errors get one small error body", async () => {
  const bodies = [
    ["/v1/chat/completions", { messages: Array.from({ length: 10000 }, () => ({ role: "root", content: 1 })) }, {}],
    ["/v1/completions", { prompt: "x", logit_bias: Object.fromEntries(Array.from({ length: 10000 }, (_, i) => ["k" + i, 1e9])) }, {}],
    ["/v1/completions", { prompt: "x", stop: Array.from({ length: 10000 }, () => "") }, {}],
    ["/v1/completions", { prompt: Array.from({ length: 10000 }, () => [-1]) }, {}],
    ["/v1/completions", { prompt: "x", model: "m".repeat(100000) }, {}],
    ["/chat/completions", { messages: [{ role: "user", content: "x" }],
      ...Object.fromEntries(Array.from({ length: 10000 }, (_, i) => ["unknown_field_with_a_long_name_" + "z".repeat(100) + i, 1])) },
     { "api-key": KEYS[0] }],
  ];
  for (const [path, body, headers] of bodies) {
    const r = await post(w.url, path, body, headers);
    assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status}`);
    assert.ok(r.json?.error, path);
    assert.ok(Buffer.byteLength(r.text) <= 2048, `${path}: error body is ${Buffer.byteLength(r.text)} bytes (docs/api.md: < 2 KiB)`);
  }
  await assertAlive(w, "after H7");
});

test("L1/L2: invalid UTF-8, control chars and ANSI escapes: valid JSON errors, no forged log lines", async () => {
  const evil = "\u001b[31mEVIL\u001b[0m\r\nFORGED E 00:00:00.000 injected\u0007\u0000";
  const model = await post(w.url, "/v1/completions", { prompt: "x", model: evil });
  assertErrorBody(model, 404, "model_not_found", "evil model");
  const role = await post(w.url, "/v1/chat/completions", { messages: [{ role: evil, content: "x" }] });
  assertErrorBody(role, 400, undefined, "evil role");
  const field = await post(w.url, "/chat/completions", { messages: [{ role: "user", content: "x" }], [evil]: 1 }, { "api-key": KEYS[0] });
  assertErrorBody(field, 422, "parameter_not_supported", "evil field on the Azure route");
  const path = await get(w.url, "/v1/%1B%5B31m%0D%0AFORGED%20line%07");
  assertErrorBody(path, 404, "not_found", "evil path");
  // Raw bytes in headers (fetch refuses to send these): ESC / BEL in x-request-id and user-agent,
  // invalid UTF-8 in a header value.
  const body = JSON.stringify({ prompt: evil, max_tokens: 1 });
  const raw = await rawHttp(w.url, [postHead("/v1/completions", Buffer.byteLength(body), "application/json",
    "X-Request-Id: \x1b[31mFORGED\x07\r\nUser-Agent: \x1b[2J\xff\xfe\r\n"), Buffer.from(body)]);
  assert.ok([200, 400].includes(raw.status), "control bytes in headers: " + raw.status);
  utf8.decode(raw.body);
  if (raw.headers["x-request-id"]) assert.match(raw.headers["x-request-id"], /^[\x21-\x7e]{1,128}$/, "x-request-id printable");
  const invalid = Buffer.concat([Buffer.from('{"prompt":"x","model":"a\\u001b'), Buffer.from([0xff, 0x0a]), Buffer.from('"}')]);
  const inv = await rawHttp(w.url, [postHead("/v1/completions", invalid.length), invalid]);
  assertErrorBody(inv, 400, "invalid_json", "invalid UTF-8 plus raw newline");
  assert.ok(!inv.text.includes("\u001b") && !inv.text.includes("\n"), "parser diagnostics do not echo user bytes");
  // A request that runs, with the evil text in the prompt and as x-request-id of a stream.
  const ok = await post(w.url, "/v1/completions", { prompt: evil, max_tokens: 2 }, { "x-request-id": "FORGED-id" });
  assert.equal(ok.status, 200);

  await assertAlive(w, "after L");
  const log = w.stderr();
  assert.ok(log.length > 0, "the worker logged something");
  assert.ok(!log.includes("\u001b"), "no raw ESC in the log");
  assert.ok(!log.includes("\u0007") && !log.includes("\r"), "no raw BEL/CR in the log");
  for (const line of log.split("\n").filter((l) => l.length > 0)) {
    assert.match(line, /^[DIWE] \d\d:\d\d:\d\d\.\d{3} /, "every log line is a real record: " + JSON.stringify(line));
  }
});

test("OpenAPI: /openapi.json validates, /swagger.json is the same, every served route is documented", async () => {
  const doc = await get(w.url, "/openapi.json");
  assert.equal(doc.status, 200);
  assert.match(doc.headers.get("content-type"), /application\/json/);
  const api = await SwaggerParser.validate(structuredClone(doc.json));
  assert.match(api.openapi, /^3\./);
  const swagger = await get(w.url, "/swagger.json");
  assert.deepEqual(swagger.json, doc.json);

  // The routes the server answers (probe a candidate list: a route exists when the path is not a
  // 404). /openapi.json is documented too (its /swagger.json alias is not).
  const candidates = ["/v1/completions", "/v1/chat/completions", "/completions", "/chat/completions", "/info", "/v1/models",
    "/tokenize", "/detokenize", "/health", "/health/live", "/health/ready", "/metrics", "/v1/embeddings", "/embeddings",
    "/v1/responses", "/invocations", "/ping", "/version", "/v1/tokenize", "/v1/detokenize", "/load", "/start_profile",
    "/v1/audio/transcriptions", "/pooling", "/score", "/rerank", "/v1/rerank", "/docs", "/redoc", "/slots", "/props",
    "/api/generate", "/api/chat", "/api/tags", "/models", "/v1/health", "/admin"];
  const served = [];
  for (const p of candidates) {
    const g = await get(w.url, p);
    const po = await post(w.url, p, {});
    if (g.status !== 404 || po.status !== 404) served.push([p, g.status === 405 ? "post" : "get"]);
  }
  assert.ok(served.length >= 12, "probe found the routes: " + JSON.stringify(served));
  assert.ok(api.paths["/openapi.json"]?.get, "the document lists itself");
  for (const [p, method] of served) {
    assert.ok(api.paths[p], `served route ${p} is in the OpenAPI document`);
    assert.ok(api.paths[p][method], `${method.toUpperCase()} ${p} is documented`);
  }
  // And every documented operation is served with that method.
  for (const [p, ops] of Object.entries(api.paths)) {
    for (const m of Object.keys(ops).filter((k) => ["get", "post"].includes(k))) {
      const r = m === "get" ? await get(w.url, p) : await post(w.url, p, {});
      assert.ok(r.status !== 404 && r.status !== 405, `${m} ${p} documented but answered ${r.status}`);
    }
  }
  await assertAlive(w, "after OpenAPI");
});
