// model.js — one model: its facts, its marketplace offering, and the Deploy button that asks
// how: a serverless API (pay per token) or managed compute (instances of an instance type).
import { useState } from "preact/hooks";
import { api, seg } from "./api.js";
import { DeployManaged } from "./deploy_managed.js";
import { DeployServerless } from "./deploy_serverless.js";
import { html, ErrorBanner, Loading, fmtInt, fmtParams, fmtPrice, useLoad } from "./ui.js";

function Facts({ m }) {
  const o = m.offering;
  return html`<dl class="facts wide">
    <dt>Name</dt><dd class="mono">${m.name}</dd>
    <dt>Publisher</dt><dd>${m.publisher}</dd>
    <dt>Family</dt><dd>${m.family}</dd>
    <dt>Task</dt><dd>${m.task}</dd>
    <dt>Parameters</dt><dd>${fmtParams(m.parameters)} (${fmtInt(m.parameters)})</dd>
    <dt>Context length</dt><dd>${fmtInt(m.context_length)} tokens</dd>
    <dt>License</dt><dd>${m.license}</dd>
    <dt>Price</dt><dd>${o ? html`input ${fmtPrice(o.price_input_per_1k)}, output ${fmtPrice(o.price_output_per_1k)}` : "—"}</dd>
    <dt>Weights</dt>
    <dd>${m.weights ? html`present: <span class="mono">${m.weights.path}</span>`
                    : html`not on this platform: an administrator adds them with <code>maas model pull</code> or${" "}
                           <code>maas model register ${m.name} --path FILE.gguf</code>`}</dd>
  </dl>`;
}

export function ModelPage({ name, workspace }) {
  const model = useLoad(() => api.get(`/models/${seg(name)}`), [name]);
  const [how, setHow] = useState("");
  const m = model.data;
  if (model.error && !m) {
    return html`<section><p><a href="#/catalog">← Model catalog</a></p><${ErrorBanner} error=${model.error} /></section>`;
  }
  if (!m) return html`<${Loading} />`;
  return html`<section>
    <p><a href="#/catalog">← Model catalog</a></p>
    <div class="page-head">
      <h1>${m.display_name}</h1>
      <button type="button" class="primary" name="deploy" onClick=${() => setHow(how ? "" : "choose")}>Deploy</button>
    </div>
    <p>${m.description}</p>
    ${how === "choose" ? html`<div class="card choose" role="dialog" aria-label="How to deploy">
        <h2>Deploy ${m.display_name}</h2>
        <button type="button" class="option" name="serverless" onClick=${() => setHow("serverless")}>
          <strong>Serverless API</strong><span>Pay per token; the platform runs it. A URL and two keys.</span></button>
        <button type="button" class="option" name="managed" onClick=${() => setHow("managed")}>
          <strong>Managed compute</strong>
          <span>Your instances of an instance type, from your workspace's quota; billed per instance-hour.</span></button>
      </div>` : null}
    ${how === "serverless" ? html`<${DeployServerless} model=${m} workspace=${workspace} onCancel=${() => setHow("")} />` : null}
    ${how === "managed" ? html`<${DeployManaged} model=${m} workspace=${workspace} onCancel=${() => setHow("")} />` : null}
    <h2>Details</h2>
    <${Facts} m=${m} />
    ${m.offering ? html`<h2>Marketplace offering</h2>
      <dl class="facts wide">
        <dt>Offering</dt><dd class="mono">${m.offering.id}</dd>
        <dt>Publisher / offer / plan</dt><dd>${m.offering.publisher} / ${m.offering.offer_id} / ${m.offering.plan_id}</dd>
        <dt>Meters</dt><dd>${m.offering.meters.join(", ")}</dd>
      </dl>
      <p class="terms">${m.offering.terms}</p>` : null}
  </section>`;
}
