// consume.js — the Consume tab: the endpoint's URL and code samples to copy (samples.js).
import { useState } from "preact/hooks";
import { samples } from "./samples.js";
import { html, CopyButton } from "./ui.js";

export function Consume({ e }) {
  const all = samples(e);
  const [current, setCurrent] = useState("curl");
  const s = all.find((x) => x.id === current) ?? all[0];
  return html`<div class="consume">
    <dl class="facts wide">
      <dt>Endpoint URL</dt><dd><code>${e.url}</code> <${CopyButton} text=${e.url} title="Copy the URL" /></dd>
      <dt>OpenAI base URL</dt><dd><code>${e.openai_base_url}</code> <${CopyButton} text=${e.openai_base_url} /></dd>
      <dt>Key</dt><dd>either of the endpoint's two keys (Details tab), as <code>Authorization: Bearer</code> or <code>api-key</code></dd>
    </dl>
    <nav class="tabs small" role="tablist">
      ${all.map((x) => html`<button type="button" role="tab" name=${"sample-" + x.id} aria-selected=${x.id === s.id}
                                    class=${x.id === s.id ? "tab active" : "tab"} onClick=${() => setCurrent(x.id)}>${x.label}</button>`)}
    </nav>
    <p class="hint">${s.note}</p>
    <div class="sample">
      <pre class="code" data-sample=${s.id}>${s.code}</pre>
      <${CopyButton} text=${s.code} title="Copy the sample" />
    </div>
  </div>`;
}
