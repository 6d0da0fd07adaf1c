// api.js — the management API (/api/...) from the page. The session cookie (HttpOnly) travels by
// itself on these same-origin calls; the page only holds the session's CSRF token, in memory,
// and sends it as X-CSRF-Token on every call that changes something. Every call times out, so
// nothing waits forever; a 401 means the session ended and sends the page back to sign-in.
// Errors are thrown as ApiError with the API's own message, param and code.

const TIMEOUT_MS = 30000;
let csrfToken = "";
let sessionEnded = () => {};
let ended = false;  // the first 401 of a session speaks; calls still in flight say nothing more

export class ApiError extends Error {
  constructor(status, body, fallback) {
    const e = body && typeof body === "object" && body.error ? body.error : {};
    super(e.message || fallback || `The platform answered ${status}.`);
    this.status = status;
    this.param = e.param || null;
    this.code = e.code || null;
    this.type = e.type || null;
  }
}

// A new session (sign-in, or the one found at load) or none (sign-out).
export function setCsrfToken(token) {
  csrfToken = token || "";
  ended = !token;
}

// fn(message) runs when a call finds the session gone (401).
export function onSessionEnded(fn) { sessionEnded = fn; }

// One call. opts.signIn: a 401 is a wrong token, not an ended session. opts.timeoutMs.
export async function call(method, path, body, opts = {}) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), opts.timeoutMs ?? TIMEOUT_MS);
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET") headers["x-csrf-token"] = csrfToken;
  let status = 0;
  let text = "";
  try {
    const r = await fetch("/api" + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin", cache: "no-store", signal: ctl.signal,
    });
    status = r.status;
    text = await r.text();
  } catch (err) {
    throw new ApiError(0, null, err.name === "AbortError" ? "The platform did not answer in time; try again."
                                                          : "The platform cannot be reached; is maas serve running?");
  } finally {
    clearTimeout(timer);
  }
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (status >= 200 && status < 300) return json;
  const error = new ApiError(status, json);
  if (status === 401 && !opts.signIn && !opts.quiet && !ended) {
    ended = true;
    sessionEnded(error.message);
  }
  throw error;
}

export const api = {
  get: (path, opts) => call("GET", path, undefined, opts),
  post: (path, body, opts) => call("POST", path, body ?? {}, opts),
  patch: (path, body, opts) => call("PATCH", path, body, opts),
  del: (path, opts) => call("DELETE", path, undefined, opts),
};

// Path segments, escaped.
export const seg = (s) => encodeURIComponent(s);
export const ws = (workspace) => `/workspaces/${seg(workspace)}`;
