// deploy_managed.js — deploy a model on managed compute: an online endpoint with one deployment
// of N instances of an instance type, the cores it needs against the workspace's free quota,
// content safety and data collection. The deployment then takes all of the endpoint's traffic.
// A refused deployment (quota, capacity) leaves no endpoint behind.
import { useState } from "preact/hooks";
import { api, seg, ws } from "./api.js";
import { suggestName } from "./deploy_serverless.js";
import { nameProblem } from "./names.js";
import { html, ErrorBanner, Field, fmtInt, useAction, useLoad } from "./ui.js";

function QuotaLine({ quota, type, count }) {
  if (!quota || !type) return null;
  const cores = quota.quotas.find((q) => q.resource === "cores");
  const need = type.cores * count;
  const over = cores && need > cores.free;
  const cap = quota.region_capacity;
  return html`<p class=${over ? "quota over" : "quota"} data-quota>
    Needs <strong>${need} cores</strong> and ${fmtInt(type.memory_mib * count)} MiB;
    the workspace has <strong>${cores ? cores.free : "?"} cores free</strong> (limit ${cores?.limit}, used ${cores?.used}).
    The region has ${cap.cores} cores, ${cap.allocated_cores} allocated${cap.allow_overcommit ? " (over-commit allowed)" : ""}.
    ${over ? " This is more than the free quota: the platform will refuse it unless an administrator raises it." : ""}
  </p>`;
}

function fieldOf(err) {
  if (/quota|capacity/i.test(err.message)) return "count";
  if (err.param === "instance_type" || /instance_type/.test(err.message)) return "type";
  if (/instance_count/.test(err.message)) return "count";
  if (/deployment/i.test(err.message) && err.param === "name") return "deployment";
  return err.param === "name" ? "name" : "form";
}

export function DeployManaged({ model, workspace, onCancel }) {
  const types = useLoad(() => api.get("/instance-types"), []);
  const quota = useLoad(() => api.get(`${ws(workspace)}/quota`), [workspace]);
  const [f, setF] = useState({ name: suggestName(model.name), deployment: "blue", type: "cpu-1c-2g", count: 1,
                               safety: true, collect: false });
  const [errors, setErrors] = useState({});
  const [busy, run] = useAction();
  const set = (k) => (e) => { setErrors({}); setF({ ...f, [k]: e.target.type === "checkbox" ? e.target.checked : e.target.value }); };
  const type = (types.data?.data ?? []).find((t) => t.name === f.type);
  const count = Math.max(0, parseInt(f.count, 10) || 0);
  const live = { name: nameProblem(f.name, "online endpoint name"), deployment: nameProblem(f.deployment, "deployment name"),
                 count: count >= 1 ? "" : "instance_count must be at least 1" };
  const deploy = (e) => {
    e.preventDefault();
    setErrors({});
    run(async () => {
      const base = `${ws(workspace)}/online-endpoints`;
      try {
        await api.post(base, { name: f.name });
      } catch (err) {
        throw Object.assign(err, { field: err.param === "name" || /endpoint named/.test(err.message) ? "name" : "form" });
      }
      try {
        await api.post(`${base}/${seg(f.name)}/deployments`, {
          name: f.deployment, model: model.name, instance_type: f.type, instance_count: count,
          content_safety: f.safety, data_collection: f.collect });
        await api.patch(`${base}/${seg(f.name)}`, { traffic: { [f.deployment]: 100 } });
      } catch (err) {
        await api.del(`${base}/${seg(f.name)}`).catch(() => {});
        throw Object.assign(err, { field: fieldOf(err) });
      }
      location.hash = `#/endpoints/online/${encodeURIComponent(f.name)}/deployments`;
    }, (err) => { setErrors({ [err.field || "form"]: err }); quota.reload(); });
  };
  const msg = (k) => errors[k]?.message || live[k];
  return html`<form class="card deploy" aria-label="Deploy on managed compute" onSubmit=${deploy}>
    <h2>Managed compute</h2>
    <${ErrorBanner} error=${types.error || quota.error} />
    <div class="row">
      <${Field} label="Endpoint name" name="name" error=${msg("name")}
                hint="3–32 characters: a letter first, then letters, digits and '-'.">
        <input name="endpoint-name" value=${f.name} onInput=${set("name")} spellcheck="false" autocomplete="off" />
      <//>
      <${Field} label="Deployment name" name="deployment" error=${msg("deployment")}>
        <input name="deployment-name" value=${f.deployment} onInput=${set("deployment")} spellcheck="false" />
      <//>
    </div>
    <div class="row">
      <${Field} label="Instance type" name="type" error=${errors.type?.message}>
        <select name="instance-type" value=${f.type} onChange=${set("type")}>
          ${(types.data?.data ?? []).map((t) => html`<option value=${t.name} disabled=${!t.available}>
            ${t.name}: ${t.cores} cores, ${fmtInt(t.memory_mib)} MiB${t.gpus ? `, ${t.gpus}× ${t.gpu_model}` : ""},
            $${t.price_per_hour}/h${t.available ? "" : ` (${t.note})`}</option>`)}
        </select>
      <//>
      <${Field} label="Instance count" name="count" error=${msg("count")}>
        <input name="instance-count" type="number" min="1" max="64" value=${f.count} onInput=${set("count")} />
      <//>
    </div>
    <${QuotaLine} quota=${quota.data} type=${type} count=${count} />
    <label class="check"><input type="checkbox" name="content-safety" checked=${f.safety} onChange=${set("safety")} />
      Content safety (prompts and completions are checked)</label>
    <label class="check"><input type="checkbox" name="data-collection" checked=${f.collect} onChange=${set("collect")} />
      Inference data collection (each request and answer stored as JSON Lines in the data directory)</label>
    <${ErrorBanner} error=${errors.form} />
    <div class="actions">
      <button type="submit" class="primary" name="create" disabled=${busy || !!(live.name || live.deployment || live.count)}>
        ${busy ? "Deploying…" : "Deploy"}</button>
      <button type="button" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}
