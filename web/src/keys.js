// keys.js — an endpoint's two keys: hidden by default (only their first characters), with show,
// copy and regenerate (after a confirmation: the old value stops working at once). Keys are
// fetched only when asked for (POST .../list-keys, an action a role may lack).
import { useState } from "preact/hooks";
import { api, seg, ws } from "./api.js";
import { html, CopyButton, useAction } from "./ui.js";

export function endpointBase(workspace, kind, name) {
  return `${ws(workspace)}/${kind === "online" ? "online-endpoints" : "serverless-endpoints"}/${seg(name)}`;
}

export function fetchKeys(workspace, kind, name) {
  return api.post(`${endpointBase(workspace, kind, name)}/list-keys`);
}

export function Keys({ workspace, kind, name, prefixes }) {
  const [keys, setKeys] = useState(null);
  const [shown, setShown] = useState({});
  const [confirm, setConfirm] = useState("");
  const [note, setNote] = useState("");
  const [error, setError] = useState(null);
  const [busy, run] = useAction();
  const load = async () => {
    const k = await fetchKeys(workspace, kind, name);
    setKeys(k);
    return k;
  };
  const show = (slot) => run(async () => {
    setError(null);
    if (!keys) await load();
    setShown({ ...shown, [slot]: !shown[slot] });
  }, setError);
  const regenerate = (slot) => run(async () => {
    setError(null);
    const k = await api.post(`${endpointBase(workspace, kind, name)}/regenerate-keys`, { key_type: slot });
    setKeys(k);
    setShown({ ...shown, [slot]: true });
    setConfirm("");
    setNote(`The ${slot} key was regenerated: the old value no longer works.`);
  }, (e) => { setConfirm(""); setError(e); });
  const row = (slot, label) => {
    const value = keys?.[slot + "Key"];
    const prefix = prefixes?.[slot + "_prefix"] ?? "";
    return html`<div class="key-row" data-key=${slot}>
      <span class="key-label">${label}</span>
      <code class="key-value">${shown[slot] && value ? value : `${prefix}${"•".repeat(Math.max(8, 24 - prefix.length))}`}</code>
      <button type="button" class="small" name=${"show-" + slot} disabled=${busy} onClick=${() => show(slot)}>
        ${shown[slot] ? "Hide" : "Show"}</button>
      <${CopyButton} text=${async () => (keys ?? (await load()))[slot + "Key"]} title=${"Copy the " + slot + " key"} />
      ${confirm === slot
        ? html`<span class="confirm">Regenerate the ${slot} key? The old one stops working at once.${" "}
            <button type="button" class="small danger" name=${"confirm-regenerate-" + slot} disabled=${busy}
                    onClick=${() => regenerate(slot)}>Regenerate ${slot}</button>
            <button type="button" class="small" onClick=${() => setConfirm("")}>Cancel</button></span>`
        : html`<button type="button" class="small" name=${"regenerate-" + slot} onClick=${() => setConfirm(slot)}>Regenerate</button>`}
    </div>`;
  };
  return html`<div class="keys">
    ${row("primary", "Primary key")}
    ${row("secondary", "Secondary key")}
    ${note ? html`<p class="notice" role="status">${note}</p>` : null}
    ${error ? html`<p class="field-error" role="alert">${error.message}</p>` : null}
  </div>`;
}
