// deployments.js — the Deployments tab of an online endpoint: the traffic split (editable; it
// must sum to 100, or 0 to stop all traffic), each deployment's instances with their states,
// scaling, and the last lines of each instance's log.
import { useState } from "preact/hooks";
import { api, seg, ws } from "./api.js";
import { html, ErrorBanner, Field, Loading, StateBadge, useAction, usePoll, useLoad } from "./ui.js";

function Traffic({ e, deployments, workspace, onChanged }) {
  const [split, setSplit] = useState(() => Object.fromEntries(deployments.map((d) => [d.name, e.traffic[d.name] ?? 0])));
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  const [busy, run] = useAction();
  const sum = Object.values(split).reduce((a, b) => a + (parseInt(b, 10) || 0), 0);
  const live = sum === 100 || sum === 0 ? "" : `Traffic must sum to 100 (it sums to ${sum}).`;
  const save = () => run(async () => {
    setError(null);
    const traffic = Object.fromEntries(Object.entries(split).map(([k, v]) => [k, parseInt(v, 10) || 0]));
    await api.patch(`${ws(workspace)}/online-endpoints/${seg(e.name)}`, { traffic });
    setSaved(true);
    onChanged();
  }, setError);
  return html`<div class="traffic card">
    <h3>Traffic</h3>
    <div class="row">
      ${deployments.map((d) => html`<${Field} label=${d.name + " %"} name=${"traffic-" + d.name}>
        <input type="number" min="0" max="100" name=${"traffic-" + d.name} value=${split[d.name]}
               onInput=${(x) => { setSaved(false); setSplit({ ...split, [d.name]: x.target.value }); }} /><//>`)}
    </div>
    ${live || error ? html`<p class="field-error" role="alert">${error ? error.message : live}</p>` : null}
    <button type="button" name="save-traffic" disabled=${busy || !!live} onClick=${save}>Save traffic</button>
    ${saved ? html` <span class="ok-line">Saved.</span>` : null}
  </div>`;
}

function Logs({ base, d, index }) {
  const log = useLoad(() => api.get(`${base}/${seg(d.name)}/logs?instance=${index}&lines=40`), [base, d.name, index]);
  return html`<div class="log">
    <${ErrorBanner} error=${log.error} />
    <pre class="log-text" data-instance=${index}>${log.data ? log.data.log || "(empty)" : "…"}</pre>
    <button type="button" class="small" onClick=${log.reload}>Refresh</button>
  </div>`;
}

function Deployment({ d, base, onChanged }) {
  const [count, setCount] = useState(d.instance_count);
  const [error, setError] = useState(null);
  const [logs, setLogs] = useState(null);
  const [busy, run] = useAction();
  const scale = () => run(async () => {
    setError(null);
    await api.patch(`${base}/${seg(d.name)}`, { instance_count: parseInt(count, 10) });
    onChanged();
  }, setError);
  return html`<div class="card deployment" data-deployment=${d.name}>
    <div class="page-head"><h3>${d.name}</h3><${StateBadge} state=${d.state} />
      <span class="muted">${d.model} · ${d.instance_type} × ${d.instance_count}</span></div>
    ${d.failure_reason ? html`<p class="field-error">${d.failure_reason}</p>` : null}
    <p class="muted">Content safety ${d.content_safety ? "on" : "off"} · data collection ${d.data_collection ? "on" : "off"} ·
      timeout ${d.request_timeout_ms / 1000} s · ${d.max_concurrent_requests} concurrent requests per instance</p>
    <table class="list">
      <thead><tr><th>Instance</th><th>State</th><th>PID</th><th>CPUs</th><th>Restarts</th><th>In flight</th>
                 <th>Last error</th><th></th></tr></thead>
      <tbody>${d.instances.map((i) => html`<tr data-instance=${i.index}>
        <td>${i.index}${i.outgoing ? " (outgoing)" : ""}</td><td><${StateBadge} state=${i.state} /></td><td>${i.pid || "—"}</td>
        <td>${(i.cpus ?? []).join(",") || "—"}</td><td>${i.restarts}</td><td>${i.outstanding_requests}</td>
        <td class="field-error">${i.last_error}</td>
        <td><button type="button" class="small" name=${"logs-" + i.index} onClick=${() => setLogs(logs === i.index ? null : i.index)}>
          ${logs === i.index ? "Hide log" : "Log"}</button></td></tr>`)}</tbody>
    </table>
    ${logs !== null ? html`<${Logs} base=${base} d=${d} index=${logs} />` : null}
    <div class="row">
      <${Field} label="Instance count" name="scale" error=${error?.message}>
        <input type="number" min="1" max="64" name="instance-count" value=${count} onInput=${(x) => setCount(x.target.value)} /><//>
      <button type="button" name="scale" disabled=${busy || String(count) === String(d.instance_count)} onClick=${scale}>Scale</button>
    </div>
  </div>`;
}

export function Deployments({ e, workspace, onChanged }) {
  const base = `${ws(workspace)}/online-endpoints/${seg(e.name)}/deployments`;
  const list = useLoad(() => api.get(base), [base]);
  const ds = list.data?.data ?? [];
  const settling = ds.some((d) => (d.state !== "Succeeded" && d.state !== "Failed") ||
                                  (d.state === "Succeeded" && d.instances.some((i) => i.state !== "Ready")));
  usePoll(list.reload, 2000, settling);
  const changed = () => { list.reload(); onChanged(); };
  if (!list.data) return list.error ? html`<${ErrorBanner} error=${list.error} />` : html`<${Loading} />`;
  return html`<div class="deployments">
    <${ErrorBanner} error=${list.error} />
    ${ds.length === 0 ? html`<p>No deployments yet: <code>maas online-deployment create NAME --endpoint ${e.name} --model M
                                --instance-type T</code>, or deploy a model from the catalog on managed compute.</p>` : null}
    ${ds.length ? html`<${Traffic} key=${ds.map((d) => d.name).join()} e=${e} deployments=${ds} workspace=${workspace}
                                   onChanged=${changed} />` : null}
    ${ds.map((d) => html`<${Deployment} key=${d.name} d=${d} base=${base} onChanged=${changed} />`)}
  </div>`;
}
