// catalog.js — the model catalog: a card per model (parameters, context length, license, task,
// price per 1K input and output tokens, whether local weights are present), with search and
// filters by task, family and weights.
import { useState } from "preact/hooks";
import { api } from "./api.js";
import { html, ErrorBanner, Loading, fmtInt, fmtParams, fmtPrice, useLoad } from "./ui.js";

function matches(m, q, task, family, weightsOnly) {
  if (task && m.task !== task) return false;
  if (family && m.family !== family) return false;
  if (weightsOnly && !m.weights) return false;
  if (!q) return true;
  const hay = `${m.name} ${m.display_name} ${m.family} ${m.publisher} ${m.description} ${m.license}`.toLowerCase();
  return q.toLowerCase().split(/\s+/).every((w) => hay.includes(w));
}

export function ModelCard({ m }) {
  const o = m.offering;
  return html`<a class="card model-card" href=${"#/models/" + encodeURIComponent(m.name)} data-model=${m.name}>
    <div class="card-head">
      <h3>${m.display_name}</h3>
      ${m.weights ? html`<span class="badge ok">Weights present</span>` : html`<span class="badge muted">No local weights</span>`}
    </div>
    <p class="muted mono">${m.name}</p>
    <dl class="facts">
      <dt>Parameters</dt><dd>${fmtParams(m.parameters)}</dd>
      <dt>Context</dt><dd>${fmtInt(m.context_length)} tokens</dd>
      <dt>License</dt><dd>${m.license}</dd>
      <dt>Task</dt><dd>${m.task}</dd>
      <dt>Input</dt><dd>${o ? fmtPrice(o.price_input_per_1k) : "—"}</dd>
      <dt>Output</dt><dd>${o ? fmtPrice(o.price_output_per_1k) : "—"}</dd>
    </dl>
    <p class="publisher">${m.publisher}${m.custom ? " · custom" : ""} · ${m.family}</p>
  </a>`;
}

export function Catalog() {
  const models = useLoad(() => api.get("/models"), []);
  const [q, setQ] = useState("");
  const [task, setTask] = useState("");
  const [family, setFamily] = useState("");
  const [weightsOnly, setWeightsOnly] = useState(false);
  const all = models.data?.data ?? [];
  const families = [...new Set(all.map((m) => m.family))].sort();
  const shown = all.filter((m) => matches(m, q, task, family, weightsOnly));
  return html`<section>
    <h1>Model catalog</h1>
    <div class="toolbar">
      <input type="search" name="search" placeholder="Search models" value=${q} onInput=${(e) => setQ(e.target.value)} />
      <select name="task" value=${task} onChange=${(e) => setTask(e.target.value)}>
        <option value="">Every task</option>
        <option value="chat-completions">chat-completions</option>
        <option value="text-generation">text-generation</option>
      </select>
      <select name="family" value=${family} onChange=${(e) => setFamily(e.target.value)}>
        <option value="">Every family</option>
        ${families.map((f) => html`<option value=${f}>${f}</option>`)}
      </select>
      <label class="check"><input type="checkbox" name="weights" checked=${weightsOnly}
                                  onChange=${(e) => setWeightsOnly(e.target.checked)} /> Weights present</label>
      <span class="muted">${shown.length} of ${all.length} models</span>
    </div>
    <${ErrorBanner} error=${models.error} />
    ${models.loading && !models.data ? html`<${Loading} />` : null}
    <div class="grid">${shown.map((m) => html`<${ModelCard} key=${m.name} m=${m} />`)}</div>
    ${models.data && shown.length === 0 ? html`<p class="muted">No model matches.</p>` : null}
  </section>`;
}
