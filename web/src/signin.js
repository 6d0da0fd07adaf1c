// signin.js — sign in with a principal's management token. The token goes once to
// POST /api/session, which answers with an HttpOnly session cookie; the page keeps no token.
import { useState } from "preact/hooks";
import { api } from "./api.js";
import { html, Field, useAction } from "./ui.js";

export function SignIn({ notice, onSignedIn }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState("");
  const [busy, run] = useAction();
  const submit = (e) => {
    e.preventDefault();
    setError("");
    run(async () => {
      const s = await api.post("/session", { token: token.trim() }, { signIn: true });
      setToken("");
      onSignedIn(s);
      if (!location.hash || location.hash === "#/") location.hash = "#/catalog";
    }, (err) => setError(err.message));
  };
  return html`<div class="signin">
    <form class="card" onSubmit=${submit}>
      <h1>maas <span>studio</span></h1>
      <p class="muted">Sign in with a management token (<code>maas_…</code>). The first start
        of <code>maas serve</code> prints the administrator's; <code>maas token create</code> makes more.</p>
      ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
      <${Field} label="Token" name="token" error=${error}>
        <input type="password" name="token" autocomplete="off" spellcheck="false" value=${token}
               onInput=${(e) => setToken(e.target.value)} placeholder="maas_…" />
      <//>
      <button type="submit" class="primary" disabled=${busy || !token.trim()}>${busy ? "Signing in…" : "Sign in"}</button>
    </form>
  </div>`;
}
