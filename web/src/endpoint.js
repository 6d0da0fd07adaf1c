// endpoint.js — one endpoint: its details and keys, the Test tab (chat playground), the Consume
// tab (code samples) and, for managed compute, its deployments. The state is polled every
// second while the endpoint is Creating, Updating or Deleting.
import { useState } from "preact/hooks";
import { api } from "./api.js";
import { Consume } from "./consume.js";
import { Deployments } from "./deployments.js";
import { Keys, endpointBase } from "./keys.js";
import { Playground } from "./playground.js";
import { html, CopyButton, ErrorBanner, Loading, StateBadge, Tabs, fmtInt, fmtTime, useAction, usePoll, useLoad } from "./ui.js";

const BUSY = new Set(["Creating", "Updating", "Deleting"]);

function Details({ e, workspace, kind }) {
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState(null);
  const [busy, run] = useAction();
  const remove = () => run(async () => {
    await api.del(endpointBase(workspace, kind, e.name));
    location.hash = "#/endpoints";
  }, setError);
  return html`<div>
    <dl class="facts wide">
      <dt>State</dt>
      <dd><${StateBadge} state=${e.state} />${e.failure_reason ? html` <span class="field-error">${e.failure_reason}</span>` : null}</dd>
      ${kind === "serverless" ? html`<dt>Model</dt><dd><a href=${"#/models/" + encodeURIComponent(e.model)}>${e.model}</a></dd>
                                     <dt>Offering</dt><dd class="mono">${e.offering}</dd>` : null}
      <dt>URL</dt><dd><code>${e.url}</code> <${CopyButton} text=${e.url} title="Copy the URL" /></dd>
      <dt>OpenAI base URL</dt><dd><code>${e.openai_base_url}</code> <${CopyButton} text=${e.openai_base_url} /></dd>
      ${e.host ? html`<dt>Host</dt><dd><code>${e.host}</code></dd>` : null}
      <dt>Authentication</dt><dd>keys (<code>Authorization: Bearer</code> or <code>api-key</code>)</dd>
      ${e.limits ? html`<dt>Limits</dt>
        <dd>${fmtInt(e.limits.requests_per_minute)} requests and ${fmtInt(e.limits.tokens_per_minute)} tokens per minute</dd>` : null}
      ${e.content_safety ? html`<dt>Content safety</dt><dd>on: ${e.content_safety.categories.join(", ")}</dd>` : null}
      ${e.shared_quota ? html`<dt>Shared quota</dt><dd>deleted automatically at ${fmtTime(e.expires_at)}</dd>` : null}
      <dt>Requests in flight</dt><dd>${e.requests_in_flight}</dd>
      <dt>Created</dt><dd>${fmtTime(e.created_at)}</dd>
    </dl>
    <h2>Keys</h2>
    <${Keys} workspace=${workspace} kind=${kind} name=${e.name} prefixes=${e.keys} />
    <h2>Delete</h2>
    ${confirm ? html`<p>Delete <strong>${e.name}</strong>? Its URL and keys stop working; requests in flight finish first.${" "}
        <button type="button" class="danger" name="confirm-delete" disabled=${busy} onClick=${remove}>Delete ${e.name}</button>${" "}
        <button type="button" onClick=${() => setConfirm(false)}>Cancel</button></p>`
      : html`<button type="button" class="danger" name="delete" onClick=${() => setConfirm(true)}>Delete endpoint</button>`}
    <${ErrorBanner} error=${error} />
  </div>`;
}

export function EndpointPage({ kind, name, tab, workspace }) {
  const ep = useLoad(() => api.get(endpointBase(workspace, kind, name)), [workspace, kind, name]);
  usePoll(ep.reload, 1000, BUSY.has(ep.data?.state));
  const e = ep.data;
  if (!e) {
    return html`<section><p><a href="#/endpoints">← Endpoints</a></p>
      ${ep.error ? html`<${ErrorBanner} error=${ep.error} />` : html`<${Loading} />`}</section>`;
  }
  const tabs = [{ id: "details", label: "Details" }, { id: "test", label: "Test" }, { id: "consume", label: "Consume" }];
  if (kind === "online") tabs.push({ id: "deployments", label: "Deployments" });
  const current = tabs.some((t) => t.id === tab) ? tab : "details";
  const href = (id) => `#/endpoints/${kind}/${encodeURIComponent(name)}/${id}`;
  return html`<section>
    <p><a href="#/endpoints">← Endpoints</a></p>
    <div class="page-head">
      <h1>${e.name}</h1>
      <${StateBadge} state=${e.state} />
      <span class="muted">${kind === "serverless" ? `Serverless API · ${e.model}` : "Managed compute (online endpoint)"}</span>
    </div>
    <${ErrorBanner} error=${ep.error} />
    <${Tabs} tabs=${tabs} current=${current} href=${href} />
    ${current === "details" ? html`<${Details} e=${e} workspace=${workspace} kind=${kind} />` : null}
    ${current === "test" ? html`<${Playground} e=${e} workspace=${workspace} kind=${kind} />` : null}
    ${current === "consume" ? html`<${Consume} e=${e} kind=${kind} />` : null}
    ${current === "deployments" ? html`<${Deployments} e=${e} workspace=${workspace} onChanged=${ep.reload} />` : null}
  </section>`;
}
