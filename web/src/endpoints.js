// endpoints.js — the workspace's serverless and online endpoints: state (polled every second
// while any is Creating, Updating or Deleting), URL with a copy button, and the keys (hidden
// until shown) in a row that opens below each endpoint.
import { useState } from "preact/hooks";
import { api, ws } from "./api.js";
import { Keys } from "./keys.js";
import { html, CopyButton, ErrorBanner, Loading, StateBadge, usePoll, useLoad } from "./ui.js";

const BUSY = new Set(["Creating", "Updating", "Deleting"]);

export async function loadEndpoints(workspace) {
  const [s, o] = await Promise.all([api.get(`${ws(workspace)}/serverless-endpoints`),
                                    api.get(`${ws(workspace)}/online-endpoints`)]);
  return [...s.data.map((e) => ({ ...e, kind: "serverless" })), ...o.data.map((e) => ({ ...e, kind: "online" }))];
}

function Row({ e, workspace }) {
  const [open, setOpen] = useState(false);
  const href = `#/endpoints/${e.kind}/${encodeURIComponent(e.name)}`;
  const what = e.kind === "serverless" ? e.model : Object.entries(e.traffic).map(([d, p]) => `${d} ${p}%`).join(", ") || "no traffic";
  return html`
    <tr data-endpoint=${e.name}>
      <td><a href=${href}>${e.name}</a></td>
      <td>${e.kind === "serverless" ? "Serverless API" : "Managed compute"}</td>
      <td>${what}</td>
      <td><${StateBadge} state=${e.state} />${e.failure_reason ? html`<div class="field-error">${e.failure_reason}</div>` : null}</td>
      <td class="url"><code>${e.url}</code> <${CopyButton} text=${e.url} title="Copy the URL" /></td>
      <td><button type="button" class="small" name="keys" onClick=${() => setOpen(!open)}>${open ? "Hide keys" : "Keys"}</button></td>
    </tr>
    ${open ? html`<tr class="keys-row"><td colspan="6">
      <${Keys} workspace=${workspace} kind=${e.kind} name=${e.name} prefixes=${e.keys} /></td></tr>` : null}`;
}

export function Endpoints({ workspace }) {
  const list = useLoad(() => loadEndpoints(workspace), [workspace]);
  const items = list.data ?? [];
  usePoll(list.reload, 1000, items.some((e) => BUSY.has(e.state)));
  return html`<section>
    <div class="page-head"><h1>Endpoints</h1><a class="button" href="#/catalog">Deploy a model</a></div>
    <p class="muted">Workspace <strong>${workspace}</strong>: serverless APIs and managed-compute (online) endpoints.</p>
    <${ErrorBanner} error=${list.error} />
    ${list.loading && !list.data ? html`<${Loading} />` : null}
    ${list.data && items.length === 0
      ? html`<p>No endpoints yet: pick a model in the <a href="#/catalog">catalog</a> and deploy it.</p>` : null}
    ${items.length ? html`<table class="list">
      <thead><tr><th>Name</th><th>Kind</th><th>Model / traffic</th><th>State</th><th>URL</th><th></th></tr></thead>
      <tbody>${items.map((e) => html`<${Row} key=${e.kind + e.name} e=${e} workspace=${workspace} />`)}</tbody>
    </table>` : null}
  </section>`;
}
