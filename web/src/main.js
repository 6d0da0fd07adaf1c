// main.js — the studio's shell: the session (signed in or not), the workspace picker, the
// navigation and the hash routes of the pages:
//   #/catalog   #/models/<model>   #/endpoints   #/endpoints/<serverless|online>/<name>[/<tab>]   #/usage
import "uplot/dist/uPlot.min.css";
import "./studio.css";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, onSessionEnded, setCsrfToken } from "./api.js";
import { Catalog } from "./catalog.js";
import { EndpointPage } from "./endpoint.js";
import { Endpoints } from "./endpoints.js";
import { ModelPage } from "./model.js";
import { SignIn } from "./signin.js";
import { html, ErrorBanner, Loading, useLoad } from "./ui.js";
import { Usage } from "./usage.js";

function useHashRoute() {
  const read = () => (location.hash.replace(/^#\/?/, "") || "catalog").split("/").map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

function Page({ route, workspace }) {
  const [top, a, b, c] = route;
  if (top === "models" && a) return html`<${ModelPage} key=${a} name=${a} workspace=${workspace} />`;
  if (top === "endpoints" && a && b) {
    return html`<${EndpointPage} key=${a + "/" + b + "/" + workspace} kind=${a} name=${b} tab=${c}
                                 workspace=${workspace} />`;
  }
  if (top === "endpoints") return html`<${Endpoints} key=${workspace} workspace=${workspace} />`;
  if (top === "usage") return html`<${Usage} key=${workspace} workspace=${workspace} />`;
  return html`<${Catalog} />`;
}

function Shell({ session, onSignOut }) {
  const route = useHashRoute();
  const spaces = useLoad(() => api.get("/workspaces"), []);
  const [workspace, setWorkspace] = useState(sessionStorage.getItem("maas.workspace") || "");
  const names = (spaces.data?.data ?? []).map((w) => w.name);
  useEffect(() => {
    if (names.length && !names.includes(workspace)) setWorkspace(names.includes("default") ? "default" : names[0]);
  }, [names.join(",")]);
  useEffect(() => { if (workspace) sessionStorage.setItem("maas.workspace", workspace); }, [workspace]);
  const nav = (id, label) => html`<a href=${"#/" + id} class=${route[0] === id || (id === "catalog" && route[0] === "models")
                                                                  ? "nav active" : "nav"}>${label}</a>`;
  return html`<div class="shell">
    <header class="top">
      <a class="brand" href="#/catalog">maas <span>studio</span></a>
      <nav>${nav("catalog", "Model catalog")}${nav("endpoints", "Endpoints")}${nav("usage", "Usage and cost")}</nav>
      <span class="spacer"></span>
      <label class="workspace">Workspace
        <select name="workspace" value=${workspace} onChange=${(e) => setWorkspace(e.target.value)}>
          ${names.map((n) => html`<option value=${n}>${n}</option>`)}
        </select>
      </label>
      <span class="who" title=${session.principal.id}>${session.principal.name}</span>
      <button type="button" class="small" onClick=${onSignOut}>Sign out</button>
    </header>
    <main>
      <${ErrorBanner} error=${spaces.error} />
      ${spaces.data && names.length === 0
        ? html`<p class="banner-error">You hold no role in any workspace; an administrator can assign one
                 (maas role-assignment create).</p>` : null}
      ${workspace || route[0] === "catalog" || route[0] === "models" ? html`<${Page} route=${route} workspace=${workspace} />`
                                                                      : html`<${Loading} />`}
    </main>
  </div>`;
}

function App() {
  const [session, setSession] = useState(undefined);  // undefined: asking; null: signed out
  const [notice, setNotice] = useState("");
  useEffect(() => {
    onSessionEnded((message) => { setCsrfToken(""); setSession(null); setNotice(message); });
    api.get("/session", { quiet: true })
      .then((s) => { setCsrfToken(s.csrf_token); setSession(s); })
      .catch((e) => { setSession(null); if (e.status !== 401) setNotice(e.message); });
  }, []);
  if (session === undefined) return html`<${Loading} what="Opening the studio" />`;
  if (session === null) {
    return html`<${SignIn} notice=${notice} onSignedIn=${(s) => { setCsrfToken(s.csrf_token); setNotice(""); setSession(s); }} />`;
  }
  const signOut = async () => {
    try { await api.del("/session", { quiet: true }); } catch { /* gone already */ }
    setCsrfToken("");
    setNotice("You are signed out.");
    setSession(null);
  };
  return html`<${Shell} session=${session} onSignOut=${signOut} />`;
}

render(html`<${App} />`, document.getElementById("app"));
