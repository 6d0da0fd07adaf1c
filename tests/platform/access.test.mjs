// access.test.mjs — access control on a running `maas serve` (ISSUE 11 "Tests", TESTPLAN B):
// the seed's scenario (a Data Scientist deploys but may not sign a marketplace agreement; an
// Owner signs), a custom role with exactly the seed's action list doing the whole serverless
// flow and nothing else, a Reader who reads but never writes, revoked tokens refused at once,
// workspaces as tenants (404 across them, keys of one refused on the other), an audit log
// holding exactly the writes made, and a store with no raw key or token.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startServe, cli, infer, waitFor, MODEL } from "./harness.mjs";

let s;
const made = [];      // [method, path] of every call expected to succeed and change something
const secrets = [];   // every token and key seen, none may be in the database files

before(async () => {
  s = await startServe();
  secrets.push(s.token, s.key);
});
after(async () => { if (s) assert.equal(await s.stop(), 0); });

async function as(token, method, p, body) {
  const r = await fetch(s.url + p, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await r.json().catch(() => null);
  if (r.status < 300 && method !== "GET" && !p.endsWith("/list-keys")) made.push([method, p]);
  return { status: r.status, json };
}
const admin = (m, p, b) => as(s.token, m, p, b);

async function principal(name, role, scope) {
  const p = await admin("POST", "/api/principals", { name });
  assert.equal(p.status, 201, JSON.stringify(p.json));
  secrets.push(p.json.token.token);
  if (role) assert.equal((await admin("POST", "/api/role-assignments", { principal: name, role, scope })).status, 201);
  return p.json.token.token;
}

function denied(r, action) {
  assert.equal(r.status, 403, JSON.stringify(r.json));
  assert.equal(r.json.error.type, "permission_error");
  if (action) assert.match(r.json.error.message, new RegExp(action.replace(/[/.*]/g, "\\$&")));
}

let dana, olga, rita, cust;

test("setup: workspaces, a second model, principals with roles", async () => {
  for (const name of ["team-a", "team-b"]) assert.equal((await admin("POST", "/api/workspaces", { name })).status, 201);
  const copy = path.join(s.dataDir, "models", "tiny-a.gguf");
  fs.copyFileSync(MODEL, copy);
  assert.equal((await admin("POST", "/api/models", { name: "tiny-a", path: copy, custom: true })).status, 201);
  dana = await principal("dana", "Data Scientist", "/workspaces/team-a");
  olga = await principal("olga", "Owner", "/workspaces/team-a");
  rita = await principal("rita", "Reader", "/workspaces/team-a");
  // A custom role with exactly the seed's permission list (provider names as written there).
  const role = await admin("POST", "/api/roles", {
    name: "seed-serverless",
    actions: ["Microsoft.MarketplaceOrdering/agreements/offers/plans/read",
              "Microsoft.MarketplaceOrdering/agreements/offers/plans/sign/action",
              "Microsoft.MarketplaceOrdering/offerTypes/publishers/offers/plans/agreements/read",
              "Microsoft.Marketplace/offerTypes/publishers/offers/plans/agreements/read",
              "Microsoft.SaaS/register/action", "Microsoft.SaaS/resources/read", "Microsoft.SaaS/resources/write",
              "Microsoft.MachineLearningServices/workspaces/marketplaceModelSubscriptions/*",
              "Microsoft.MachineLearningServices/workspaces/serverlessEndpoints/*"],
  });
  assert.equal(role.status, 201);
  cust = await principal("cust", "seed-serverless", "/workspaces/team-a");
  const roles = (await admin("GET", "/api/roles")).json.data.map((r) => r.name);
  assert.deepEqual(roles.slice(0, 4).sort(), ["Contributor", "Data Scientist", "Owner", "Reader"]);
});

test("the seed's scenario: a Data Scientist deploys, may not sign; an Owner signs", async () => {
  const sign = await as(dana, "POST", "/api/workspaces/team-a/marketplace-subscriptions", { model: "tiny-a" });
  denied(sign, "marketplaceOrdering/agreements/offers/plans/sign/action");
  assert.match(sign.json.error.message, /scope '\/workspaces\/team-a'/);
  assert.equal((await as(olga, "POST", "/api/workspaces/team-a/marketplace-subscriptions", { model: "tiny-a" })).status, 201);
  const ep = await as(dana, "POST", "/api/workspaces/team-a/serverless-endpoints", { name: "dana-ep", model: "tiny-a" });
  assert.equal(ep.status, 201, JSON.stringify(ep.json));
  const keys = await as(dana, "POST", "/api/workspaces/team-a/serverless-endpoints/dana-ep/list-keys", {});
  assert.equal(keys.status, 200);
  secrets.push(keys.json.primaryKey, keys.json.secondaryKey);
  assert.ok(await waitFor(async () => (await infer(s, "/v1/completions", { prompt: "x", max_tokens: 2 }, keys.json.primaryKey, {}, "dana-ep")).status === 200, 60000, 200));
  denied(await as(dana, "PATCH", "/api/workspaces/team-a/serverless-endpoints/dana-ep", { requests_per_minute: 5 }),
         "platform/endpointLimits/write");
  denied(await as(dana, "POST", "/api/role-assignments", { principal: "dana", role: "Owner", scope: "/workspaces/team-a" }),
         "authorization/roleAssignments/write");
  denied(await as(dana, "PATCH", "/api/offerings/tiny-a-offer", { price_input_per_1k: 0 }), "platform/offerings/write");
  const ws = await as(dana, "GET", "/api/workspaces");
  assert.deepEqual(ws.json.data.map((w) => w.name), ["team-a"], "only the workspaces it has a role in");
});

test("a custom role with the seed's actions does the serverless flow and nothing else", async () => {
  const base = "/api/workspaces/team-a";
  // The catalog and its offerings are open to every principal, as a cloud catalog is.
  assert.equal((await as(cust, "GET", "/api/offerings")).status, 200);
  assert.equal((await as(cust, "GET", "/api/models")).status, 200);
  assert.equal((await as(cust, "POST", `${base}/marketplace-subscriptions`, { model: "maas-tiny-llama3" })).status, 201);
  assert.equal((await as(cust, "GET", `${base}/marketplace-subscriptions`)).status, 200);
  assert.equal((await as(cust, "POST", `${base}/serverless-endpoints`, { name: "cust-ep", model: "maas-tiny-llama3" })).status, 201);
  const keys = await as(cust, "POST", `${base}/serverless-endpoints/cust-ep/list-keys`, {});
  assert.equal(keys.status, 200);
  secrets.push(keys.json.primaryKey, keys.json.secondaryKey);
  assert.ok(await waitFor(async () => (await infer(s, "/v1/completions", { prompt: "x", max_tokens: 2 }, keys.json.primaryKey, {}, "cust-ep")).status === 200, 60000, 200));
  const regen = await as(cust, "POST", `${base}/serverless-endpoints/cust-ep/regenerate-keys`, { key_type: "secondary" });
  assert.equal(regen.status, 200);
  secrets.push(regen.json.secondaryKey);
  assert.equal((await as(cust, "GET", `${base}/serverless-endpoints/cust-ep`)).status, 200);
  // Every other action is refused.
  denied(await as(cust, "POST", "/api/models", { name: "x", path: "/nonexistent", custom: true }), "models/write");
  denied(await as(cust, "POST", "/api/workspaces", { name: "cust-ws" }), "workspaces/write");
  denied(await as(cust, "GET", `${base}/usage`), "workspaces/usage/read");
  denied(await as(cust, "GET", "/api/principals"), "authorization/principals/read");
  denied(await as(cust, "PATCH", `${base}/serverless-endpoints/cust-ep`, { tokens_per_minute: 10 }), "platform/endpointLimits/write");
  denied(await as(cust, "GET", "/api/instances"), "platform/instances/read");
  denied(await as(cust, "GET", "/api/audit"), "authorization/audit/read");
  denied(await as(cust, "GET", `${base}`), "workspaces/read");
  assert.equal((await as(cust, "DELETE", `${base}/serverless-endpoints/cust-ep`)).status, 200);
  assert.equal((await as(cust, "DELETE", `${base}/marketplace-subscriptions/maas-tiny-llama3`)).status, 200);
});

test("a Reader lists and shows; every write is refused; keys are not readable", async () => {
  const base = "/api/workspaces/team-a";
  assert.equal((await as(rita, "GET", `${base}/serverless-endpoints`)).status, 200);
  assert.equal((await as(rita, "GET", `${base}/serverless-endpoints/dana-ep`)).status, 200);
  assert.equal((await as(rita, "GET", `${base}/usage`)).status, 200);
  denied(await as(rita, "POST", `${base}/serverless-endpoints/dana-ep/list-keys`, {}), "listKeys/action");
  denied(await as(rita, "POST", `${base}/serverless-endpoints`, { name: "rita-ep", model: "tiny-a" }), "serverlessEndpoints/write");
  denied(await as(rita, "DELETE", `${base}/serverless-endpoints/dana-ep`), "serverlessEndpoints/delete");
  denied(await as(rita, "DELETE", `${base}/marketplace-subscriptions/tiny-a`), "marketplaceModelSubscriptions/delete");
  // The CLI says the same, on one line.
  const r = cli(s.dataDir, ["serverless-endpoint", "delete", "dana-ep", "--workspace", "team-a", "--token", rita]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: principal 'rita' may not perform 'workspaces\/serverlessEndpoints\/delete'/);
});

test("tokens: created shown once, listed by prefix, revoked at once", async () => {
  const t = await as(rita, "POST", "/api/principals/rita/tokens", { name: "laptop", expires_in_days: 30 });
  assert.equal(t.status, 201, "a principal manages its own tokens");
  secrets.push(t.json.token);
  assert.equal((await as(t.json.token, "GET", "/api/whoami")).json.name, "rita");
  const list = await as(rita, "GET", "/api/principals/rita/tokens");
  assert.ok(list.json.data.every((x) => !("token" in x) && x.prefix.startsWith("maas_")));
  denied(await as(rita, "GET", "/api/principals/dana/tokens"), "authorization/tokens/read");
  assert.equal((await admin("DELETE", `/api/tokens/${t.json.id}`)).status, 200);
  const after = await fetch(s.url + "/api/whoami", { headers: { authorization: `Bearer ${t.json.token}` } });
  assert.equal(after.status, 401, "a revoked token is refused at once");
  assert.equal((await as(rita, "GET", "/api/whoami")).status, 200, "other tokens are unaffected");
});

test("workspaces are tenants: 404 across them, keys refused across them", async () => {
  assert.equal((await admin("POST", "/api/workspaces/team-b/marketplace-subscriptions", { model: "tiny-a" })).status, 201);
  assert.equal((await admin("POST", "/api/workspaces/team-b/serverless-endpoints", { name: "b-ep", model: "tiny-a" })).status, 201);
  for (const p of ["/api/workspaces/team-b", "/api/workspaces/team-b/serverless-endpoints",
                   "/api/workspaces/team-b/serverless-endpoints/b-ep", "/api/workspaces/team-b/usage",
                   "/api/workspaces/team-b/marketplace-subscriptions"]) {
    const r = await as(olga, "GET", p);
    assert.equal(r.status, 404, p);
    assert.match(r.json.error.message, /workspace 'team-b' not found/);
  }
  assert.equal((await as(olga, "DELETE", "/api/workspaces/team-b/serverless-endpoints/b-ep")).status, 404);
  const nope = await as(olga, "GET", "/api/workspaces/does-not-exist");
  assert.equal(nope.status, 404, "an absent workspace looks the same");
  const keyA = (await as(dana, "POST", "/api/workspaces/team-a/serverless-endpoints/dana-ep/list-keys", {})).json.primaryKey;
  const bKeys = (await admin("POST", "/api/workspaces/team-b/serverless-endpoints/b-ep/list-keys", {})).json;
  secrets.push(bKeys.primaryKey, bKeys.secondaryKey);
  const cross = await infer(s, "/v1/completions", { prompt: "x", max_tokens: 1 }, keyA, {}, "b-ep");
  assert.equal(cross.status, 401, "a key of workspace A on an endpoint of workspace B");
  assert.equal((await infer(s, "/v1/completions", { prompt: "x", max_tokens: 1 }, keyA, {}, "no-such-endpoint")).status, 401);
});

test("the audit log holds exactly the writes made, refusals only as denied", async () => {
  const log = (await admin("GET", "/api/audit")).json.data;
  const ok = log.filter((a) => a.outcome === "succeeded").map((a) => [a.method, a.path]);
  // Writes made before the harness tracked them: the bootstrap made none through the API.
  assert.deepEqual(ok, made);
  const denials = log.filter((a) => a.outcome === "denied");
  assert.ok(denials.length >= 10);
  assert.ok(denials.some((a) => a.principal === "dana" && a.path.endsWith("/marketplace-subscriptions")));
  assert.ok(log.every((a) => a.principal && a.time && a.request_id && a.scope));
  for (const a of log) for (const x of secrets) assert.ok(!JSON.stringify(a).includes(x), "no secret in the audit log");
  denied(await as(dana, "GET", "/api/audit"), "authorization/audit/read");
  const cliShow = cli(s.dataDir, ["audit", "show", "--principal", "dana"]);
  assert.equal(cliShow.code, 0, cliShow.stderr);
  assert.match(cliShow.stdout, /dana +POST \/api\/workspaces\/team-a\/serverless-endpoints/);
});

test("the store holds no raw key or token (B9)", async () => {
  const raw = Buffer.concat(["maas.db", "maas.db-wal"].map((f) => {
    try { return fs.readFileSync(path.join(s.dataDir, f)); } catch { return Buffer.alloc(0); }
  }));
  assert.ok(secrets.length >= 12);
  for (const x of secrets) assert.equal(raw.includes(Buffer.from(x)), false, "a secret in the database");
  const logs = fs.readdirSync(path.join(s.dataDir, "logs")).map((f) => fs.readFileSync(path.join(s.dataDir, "logs", f), "utf8")).join("");
  for (const x of secrets) assert.equal(logs.includes(x), false, "a secret in a worker log");
  for (const x of secrets) assert.equal(s.stderr().includes(x), false, "a secret in the platform log");
});
