// session.test.mjs — the studio's sessions through the management API of a real `maas serve`
// (no browser): sign-in sets an HttpOnly SameSite=Strict cookie and returns a CSRF token; the
// cookie authenticates reads, and writes only with the CSRF token; the same Authorizer judges
// session callers; sign-out, a revoked token, idle time and the absolute lifetime end a
// session; sign-in from another origin is refused. Also the page's own headers.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { api, startServe } from "../platform/harness.mjs";

let s;
before(async () => { s = await startServe({ args: ["--test-clock"] }); });
after(async () => { await s?.stop(); });

async function call(method, path, { cookie, csrf, body, headers = {} } = {}) {
  const r = await fetch(s.url + path, {
    method,
    headers: { ...(cookie ? { cookie } : {}), ...(csrf ? { "x-csrf-token": csrf } : {}),
               ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* empty or not JSON */ }
  return { status: r.status, headers: r.headers, text, json };
}

// Signs in; returns { cookie: "maas_session=...", csrf, r }.
async function signIn(token, headers = {}) {
  const r = await call("POST", "/api/session", { body: { token }, headers });
  const set = r.headers.get("set-cookie");
  return { r, cookie: set ? set.split(";")[0] : null, csrf: r.json?.csrf_token };
}

test("sign-in: an HttpOnly, SameSite=Strict cookie and a CSRF token; the token is not echoed", async () => {
  const { r, csrf } = await signIn(s.token);
  assert.equal(r.status, 201, r.text);
  assert.match(r.headers.get("set-cookie"),
               /^maas_session=maas_s_[0-9a-f]{64}; Path=\/api; HttpOnly; SameSite=Strict; Max-Age=43200$/);
  assert.match(csrf, /^[0-9a-f]{48}$/);
  assert.equal(r.json.principal.name, "admin");
  assert.ok(!r.text.includes(s.token));
  assert.equal(r.headers.get("cache-control"), "no-store");
});

test("a wrong token: 401 invalid_token on the token field, no cookie", async () => {
  const { r } = await signIn("maas_" + "0".repeat(48));
  assert.equal(r.status, 401);
  assert.equal(r.json.error.code, "invalid_token");
  assert.equal(r.json.error.param, "token");
  assert.equal(r.json.error.message, "The token is invalid, expired or revoked.");
  assert.equal(r.headers.get("set-cookie"), null);
  assert.equal((await signIn("")).r.json.error.param, "token");
});

test("the cookie authenticates reads; every write needs the session's CSRF token", async () => {
  const { cookie, csrf } = await signIn(s.token);
  assert.equal((await call("GET", "/api/workspaces", { cookie })).status, 200);
  const session = await call("GET", "/api/session", { cookie });
  assert.equal(session.status, 200);
  assert.equal(session.json.csrf_token, csrf);
  for (const bad of [undefined, "0".repeat(48), csrf.slice(1)]) {
    const r = await call("POST", "/api/workspaces", { cookie, csrf: bad, body: { name: "csrf-a" } });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.error.code, "csrf_token_invalid");
  }
  assert.equal((await api(s, "GET", "/api/workspaces/csrf-a")).status, 404);  // nothing happened
  assert.equal((await call("DELETE", "/api/session", { cookie })).status, 403);
  assert.equal((await call("PATCH", "/api/models/maas-tiny-llama3", { cookie, body: { serverless_instances: 1 } })).status, 403);
  const ok = await call("POST", "/api/workspaces", { cookie, csrf, body: { name: "csrf-a" } });
  assert.equal(ok.status, 201, ok.text);
  // The audit log names the principal behind the session.
  const audit = await api(s, "GET", "/api/audit?principal=admin");
  assert.ok(audit.json.data.some((a) => a.path === "/api/workspaces" && a.status === 201));
  assert.ok(audit.json.data.some((a) => a.action === "studio/session/signIn"));
});

test("a session caller meets the same Authorizer: a Reader may read, not deploy", async () => {
  const bob = await api(s, "POST", "/api/principals", { name: "bob" });
  assert.equal(bob.status, 201, bob.text);
  assert.equal((await api(s, "POST", "/api/role-assignments",
                          { principal: "bob", role: "Reader", scope: "/workspaces/default" })).status, 201);
  const { cookie, csrf } = await signIn(bob.json.token.token);
  assert.equal((await call("GET", "/api/workspaces/default/serverless-endpoints", { cookie })).status, 200);
  const r = await call("POST", "/api/workspaces/default/serverless-endpoints",
                       { cookie, csrf, body: { name: "bob-ep", model: "maas-tiny-llama3" } });
  assert.equal(r.status, 403, r.text);
  assert.match(r.json.error.message, /workspaces\/serverlessEndpoints\/write/);
  assert.equal((await call("GET", "/api/workspaces/csrf-a", { cookie })).status, 404);  // a workspace bob has no role in
  const keys = await call("POST", "/api/workspaces/default/serverless-endpoints/default/list-keys", { cookie, csrf });
  assert.equal(keys.status, 403);  // Reader: keys are an action, not a read
});

test("sign-in from a page of another origin is refused", async () => {
  const { r } = await signIn(s.token, { origin: "http://evil.example" });
  assert.equal(r.status, 403);
  assert.equal(r.json.error.code, "cross_origin");
  assert.equal(r.headers.get("set-cookie"), null);
  const same = await signIn(s.token, { origin: s.url });
  assert.equal(same.r.status, 201);
});

test("sign-out deletes the session; the old cookie is refused and cleared", async () => {
  const { cookie, csrf } = await signIn(s.token);
  const out = await call("DELETE", "/api/session", { cookie, csrf });
  assert.equal(out.status, 204);
  assert.match(out.headers.get("set-cookie"), /^maas_session=; .*Max-Age=0/);
  const after = await call("GET", "/api/workspaces", { cookie });
  assert.equal(after.status, 401);
  assert.equal(after.json.error.message, "The studio session has ended: sign in again.");
  assert.match(after.headers.get("set-cookie"), /Max-Age=0/);
});

test("revoking the token a session was opened with ends the session", async () => {
  const t = await api(s, "POST", "/api/principals/bob/tokens", { name: "studio" });
  const { cookie } = await signIn(t.json.token);
  assert.equal((await call("GET", "/api/whoami", { cookie })).json.name, "bob");
  assert.equal((await api(s, "DELETE", `/api/tokens/${t.json.id}`)).status, 200);
  assert.equal((await call("GET", "/api/whoami", { cookie })).status, 401);
});

test("bearer callers are unchanged and have no session", async () => {
  assert.equal((await api(s, "GET", "/api/session")).status, 404);
  assert.equal((await api(s, "GET", "/api/whoami")).json.name, "admin");
  assert.equal((await call("GET", "/api/whoami")).status, 401);
  const doc = await (await fetch(s.url + "/api/openapi.json")).json();
  assert.deepEqual(doc.paths["/api/session"].post.security, []);
  assert.equal(doc.components.securitySchemes.session.in, "cookie");
});

test("sessions end after 2 idle hours, and 12 hours after sign-in however busy (test clock)", async () => {
  const clock = (ms) => api(s, "POST", "/api/debug/clock", { advance_ms: ms });
  const idle = await signIn(s.token);
  await clock(2 * 3600 * 1000 + 1000);
  assert.equal((await call("GET", "/api/whoami", { cookie: idle.cookie })).status, 401);
  const busy = await signIn(s.token);
  for (let h = 0; h < 7; ++h) {
    await clock(1.5 * 3600 * 1000);  // 10.5 hours, used every 1.5 hours
    assert.equal((await call("GET", "/api/whoami", { cookie: busy.cookie })).status, 200, `after ${(h + 1) * 1.5} h`);
  }
  await clock(1.5 * 3600 * 1000);  // 12 hours
  assert.equal((await call("GET", "/api/whoami", { cookie: busy.cookie })).status, 401);
});

test("the studio's page: same-origin CSP without inline scripts, no framing; the APIs keep their prefixes", async () => {
  const page = await fetch(s.url + "/");
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type"), /^text\/html/);
  const csp = page.headers.get("content-security-policy");
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(page.headers.get("x-content-type-options"), "nosniff");
  assert.equal(page.headers.get("x-frame-options"), "DENY");
  assert.equal(page.headers.get("referrer-policy"), "no-referrer");
  const html = await page.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/);  // every script is a file
  assert.doesNotMatch(html, /https?:\/\//);                    // nothing from another origin
  const js = await fetch(s.url + "/assets/app.js");
  assert.equal(js.status, 200);
  assert.match(js.headers.get("content-type"), /^text\/javascript/);
  const again = await fetch(s.url + "/assets/app.js", { headers: { "if-none-match": js.headers.get("etag") } });
  assert.equal(again.status, 304);
  assert.equal((await fetch(s.url + "/assets/app.css")).status, 200);
  assert.equal((await fetch(s.url + "/no/such/page")).status, 404);
  assert.equal((await fetch(s.url + "/api/models")).status, 401);
  assert.equal((await fetch(s.url + "/endpoints/default/v1/models")).status, 401);
});
