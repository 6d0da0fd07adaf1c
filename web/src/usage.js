// usage.js — Usage and cost of the workspace: tokens and cost per day stacked by endpoint, the
// meters (input tokens, output tokens, fine-tuning; instance-hours) and totals that are the
// API's own (GET .../usage, the numbers `maas usage show` prints), and the quotas.
import { useState } from "preact/hooks";
import { api, ws } from "./api.js";
import { StackedBars, dayRange } from "./charts.js";
import { html, ErrorBanner, Loading, fmtInt, useLoad } from "./ui.js";

const usd = (x) => `$${(x ?? 0).toFixed(6)}`;
const count = (v) => fmtInt(Math.round(v));
const today = () => new Date().toISOString().slice(0, 10);

async function loadUsage(workspace, since) {
  const q = (by, extra = "") => api.get(`${ws(workspace)}/usage?by=${by}${since ? `&since=${since}` : ""}${extra}`);
  const [day, endpoint, meter, quota] = await Promise.all([q("day"), q("endpoint"), q("meter"),
                                                  api.get(`${ws(workspace)}/quota`).catch((error) => ({ error }))]);
  const names = [...new Set([...endpoint.data.map((r) => r.key), ...endpoint.instance_hours.map((r) => r.key)])];
  const perEndpoint = await Promise.all(names.map((n) => q("day", `&endpoint=${encodeURIComponent(n)}`)));
  return { day, endpoint, meter, quota, names, perEndpoint };
}

function chartData(u) {
  const keys = [...u.day.data.map((r) => r.key), ...u.day.instance_hours.map((r) => r.key)].sort();
  if (keys.length === 0) return { days: [], tokens: [], cost: [], meters: [] };
  const days = dayRange(keys[0], keys[keys.length - 1] > today() ? keys[keys.length - 1] : today());
  const at = (rows, field) => days.map((t) => {
    const day = new Date(t * 1000).toISOString().slice(0, 10);
    return rows.filter((r) => r.key === day).reduce((a, r) => a + (typeof field === "function" ? field(r) : r[field] ?? 0), 0);
  });
  const tokens = u.names.map((n, i) => ({ label: n, values: at(u.perEndpoint[i].data, (r) => r.prompt_tokens + r.completion_tokens) }));
  const cost = u.names.map((n, i) => ({ label: n, values: days.map((_, d) =>
    at(u.perEndpoint[i].data, "cost_usd")[d] + at(u.perEndpoint[i].instance_hours, "cost_usd")[d]) }));
  const meters = [{ label: "input_tokens", values: at(u.day.data, "prompt_tokens") },
                  { label: "output_tokens", values: at(u.day.data, "completion_tokens") }];
  return { days, tokens, cost, meters };
}

function Totals({ t }) {
  return html`<div class="totals" data-totals>
    <div><span>Requests</span><strong data-total="requests">${fmtInt(t.requests)}</strong></div>
    <div><span>Prompt tokens</span><strong data-total="prompt_tokens">${fmtInt(t.prompt_tokens)}</strong></div>
    <div><span>Completion tokens</span><strong data-total="completion_tokens">${fmtInt(t.completion_tokens)}</strong></div>
    <div><span>Cost (USD)</span><strong data-total="cost_usd">${usd(t.cost_usd)}</strong></div>
  </div>`;
}

function Quotas({ q }) {
  const cap = q.region_capacity;
  return html`<table class="list quotas">
    <thead><tr><th>Resource</th><th>Limit</th><th>Used</th><th>Free</th><th></th></tr></thead>
    <tbody>${q.quotas.map((x) => html`<tr data-quota=${x.resource}><td>${x.resource}</td><td>${x.limit}</td><td>${x.used}</td>
      <td>${x.free}</td><td><progress max=${Math.max(1, x.limit)} value=${x.used}></progress></td></tr>`)}</tbody>
  </table>
  <p class="muted">Region capacity: ${cap.cores} cores (${cap.allocated_cores} allocated), ${fmtInt(cap.memory_mib)} MiB
    (${fmtInt(cap.allocated_memory_mib)} allocated), ${cap.gpus} GPUs; over-commit
    ${cap.allow_overcommit ? " allowed" : " not allowed"}.</p>`;
}

export function Usage({ workspace }) {
  const [since, setSince] = useState("");
  const u = useLoad(() => loadUsage(workspace, since), [workspace, since]);
  const d = u.data;
  const c = d ? chartData(d) : null;
  return html`<section>
    <div class="page-head"><h1>Usage and cost</h1>
      <select name="since" value=${since} onChange=${(e) => setSince(e.target.value)}>
        <option value="">All time</option><option value="30d">Last 30 days</option>
        <option value="7d">Last 7 days</option><option value="24h">Last 24 hours</option>
      </select>
      <button type="button" class="small" onClick=${u.reload}>Refresh</button></div>
    <p class="muted">Workspace <strong>${workspace}</strong>. The same numbers
      as <code>maas usage show${since ? ` --since ${since}` : ""}</code>.</p>
    <${ErrorBanner} error=${u.error} />
    ${!d ? (u.error ? null : html`<${Loading} />`) : html`
      <${Totals} t=${d.day.totals} />
      <div class="charts">
        <${StackedBars} title="Tokens per day, by endpoint" days=${c.days} series=${c.tokens} format=${count} />
        <${StackedBars} title="Tokens per day, by meter" days=${c.days} series=${c.meters} format=${count} />
        <${StackedBars} title="Cost per day (USD), by endpoint" days=${c.cost.length ? c.days : []} series=${c.cost}
                        format=${(v) => (v === 0 ? "$0" : `$${Number(v.toPrecision(3))}`)} />
      </div>
      <h2>By endpoint</h2>
      <table class="list" data-table="endpoint">
        <thead><tr><th>Endpoint</th><th>Requests</th><th>Prompt tokens</th><th>Completion tokens</th><th>Cost (USD)</th></tr></thead>
        <tbody>${d.endpoint.data.map((r) => html`<tr data-row=${r.key}><td>${r.key}</td><td>${fmtInt(r.requests)}</td>
          <td>${fmtInt(r.prompt_tokens)}</td><td>${fmtInt(r.completion_tokens)}</td><td>${usd(r.cost_usd)}</td></tr>`)}</tbody>
      </table>
      <h2>By meter</h2>
      <table class="list" data-table="meter">
        <thead><tr><th>Offering</th><th>Meter</th><th>Quantity</th><th>Cost (USD)</th></tr></thead>
        <tbody>${d.meter.data.map((r) => html`<tr><td class="mono">${r.offering}</td><td>${r.meter}</td>
                                                  <td>${fmtInt(r.quantity)}</td><td>${usd(r.cost_usd)}</td></tr>`)}
          ${d.meter.instance_hours.map((r) => html`<tr><td>—</td><td>${r.key}</td><td>${r.hours.toFixed(4)} h</td>
                                                      <td>${usd(r.cost_usd)}</td></tr>`)}</tbody>
      </table>
      <h2>Quotas</h2>
      ${d.quota.error ? html`<${ErrorBanner} error=${d.quota.error} />` : html`<${Quotas} q=${d.quota} />`}`}
  </section>`;
}
