// deploy_serverless.js — deploy a model as a serverless API: the offering's terms and prices,
// the workspace's marketplace subscription (subscribe here when there is none, or learn who
// may), and the endpoint's name, checked as it is typed. The API's refusals appear beside the
// field they concern.
import { useState } from "preact/hooks";
import { api, ws } from "./api.js";
import { nameProblem } from "./names.js";
import { html, ErrorBanner, Field, Loading, fmtPrice, useAction, useLoad } from "./ui.js";

const SIGN_ACTION = "marketplaceOrdering/agreements/offers/plans/sign/action";

export function suggestName(model) {
  const base = model.replace(/[^A-Za-z0-9-]+/g, "-").replace(/^[^A-Za-z]+/, "").slice(0, 26).replace(/-+$/, "");
  return `${base || "endpoint"}-${Math.random().toString(36).slice(2, 6)}`;
}

function Subscription({ model, workspace, subs }) {
  const o = model.offering;
  const [accepted, setAccepted] = useState(false);
  const [error, setError] = useState(null);
  const [busy, run] = useAction();
  const mine = (subs.data?.data ?? []).find((s) => s.offering === o.id);
  if (subs.loading && !subs.data) return html`<${Loading} what="Checking the subscription" />`;
  if (mine) {
    return html`<p class="ok-line" data-subscription=${mine.name}>Subscribed: this workspace accepted the terms of${" "}
      <span class="mono">${o.id}</span> on ${new Date(mine.terms_accepted_at).toLocaleDateString()} (subscription${" "}
      <span class="mono">${mine.name}</span>).</p>`;
  }
  const subscribe = () => run(async () => {
    setError(null);
    await api.post(`${ws(workspace)}/marketplace-subscriptions`, { model: model.name });
    await subs.reload();
  }, setError);
  return html`<div class="subscribe" data-subscription="">
    <p>Workspace <strong>${workspace}</strong> has no subscription to the offering <span class="mono">${o.id}</span>.
       Subscribing accepts its terms for the whole workspace; later deployments reuse it.</p>
    <p class="terms">${o.terms}</p>
    <label class="check"><input type="checkbox" name="accept-terms" checked=${accepted}
                                onChange=${(e) => setAccepted(e.target.checked)} /> I accept the terms and prices</label>
    <button type="button" name="subscribe" disabled=${!accepted || busy} onClick=${subscribe}>
      ${busy ? "Subscribing…" : "Subscribe"}</button>
    ${error ? html`<p class="field-error" role="alert">${error.message}</p>
      ${error.status === 403 ? html`<p class="hint">Subscribing signs the marketplace agreement: it needs${" "}
        <span class="mono">${SIGN_ACTION}</span> in this workspace (Owner or Contributor, or a custom role with it;
        a Data Scientist may deploy but not subscribe). Ask one of them to subscribe the workspace.</p>` : null}` : null}
  </div>`;
}

export function DeployServerless({ model, workspace, onCancel }) {
  const subs = useLoad(() => api.get(`${ws(workspace)}/marketplace-subscriptions`), [workspace]);
  const [name, setName] = useState(() => suggestName(model.name));
  const [errors, setErrors] = useState({});
  const [busy, run] = useAction();
  const o = model.offering;
  const live = nameProblem(name, "serverless endpoint name");
  const subscribed = (subs.data?.data ?? []).some((s) => s.offering === o?.id);
  const deploy = (e) => {
    e.preventDefault();
    setErrors({});
    run(async () => {
      await api.post(`${ws(workspace)}/serverless-endpoints`, { name, model: model.name });
      location.hash = `#/endpoints/serverless/${encodeURIComponent(name)}`;
    }, (err) => setErrors(err.param === "name" || /endpoint named/.test(err.message) ? { name: err.message }
                                                                                      : { form: err }));
  };
  if (!o) return html`<div class="card"><p class="banner-error">This model has no marketplace offering.</p></div>`;
  return html`<form class="card deploy" aria-label="Deploy as a serverless API" onSubmit=${deploy}>
    <h2>Serverless API</h2>
    <dl class="facts wide">
      <dt>Offering</dt><dd class="mono">${o.id} (${o.publisher} / ${o.offer_id} / ${o.plan_id})</dd>
      <dt>Price</dt><dd>input ${fmtPrice(o.price_input_per_1k)}, output ${fmtPrice(o.price_output_per_1k)} (USD)</dd>
      <dt>Content safety</dt><dd>always on (hate, sexual, violence, self-harm)</dd>
      <dt>Limits</dt><dd>1,000 requests and 200,000 tokens per minute (an administrator can raise them)</dd>
    </dl>
    <${Subscription} model=${model} workspace=${workspace} subs=${subs} />
    <${Field} label="Endpoint name" name="name" error=${errors.name || live}
              hint="3–32 characters: a letter first, then letters, digits and '-'. It becomes part of the URL.">
      <input name="endpoint-name" value=${name} spellcheck="false" autocomplete="off" aria-invalid=${!!(errors.name || live)}
             onInput=${(e) => { setName(e.target.value); setErrors({}); }} />
    <//>
    ${!model.weights ? html`<p class="hint">This model has no local weights yet; the platform will refuse to deploy it.</p>` : null}
    <${ErrorBanner} error=${errors.form} />
    <div class="actions">
      <button type="submit" class="primary" name="create" disabled=${busy || !!live || !subscribed}>
        ${busy ? "Deploying…" : "Deploy"}</button>
      <button type="button" onClick=${onCancel}>Cancel</button>
      ${!subscribed && subs.data ? html`<span class="hint">Subscribe first.</span>` : null}
    </div>
  </form>`;
}
