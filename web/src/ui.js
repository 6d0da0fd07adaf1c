// ui.js — small pieces every page uses: a field with its message beside it, error banners,
// copy buttons, state badges, tabs, number formats, and hooks for loading and polling.
import { html } from "htm/preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export { html };

// A labelled control with the message that concerns it: the API's error, else a hint.
export function Field({ label, error, hint, children, name }) {
  return html`<label class="field" data-field=${name}>
    <span class="label">${label}</span>
    ${children}
    ${error ? html`<span class="field-error" role="alert">${error}</span>`
            : hint ? html`<span class="hint">${hint}</span>` : null}
  </label>`;
}

// An error that concerns no single field, worded as the API words it.
export function ErrorBanner({ error }) {
  if (!error) return null;
  return html`<p class="banner-error" role="alert">${typeof error === "string" ? error : error.message}</p>`;
}

export function CopyButton({ text, label = "Copy", title }) {
  const [done, setDone] = useState("");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(typeof text === "function" ? await text() : text);
      setDone("Copied");
    } catch (e) {
      setDone(e && e.message ? e.message : "Copy failed");
    }
    setTimeout(() => setDone(""), 1500);
  };
  return html`<button type="button" class="small" title=${title ?? label} onClick=${copy}>${done || label}</button>`;
}

export function StateBadge({ state }) {
  const s = state || "Unknown";
  return html`<span class=${"badge state-" + s.toLowerCase()} data-state=${s}>${s}</span>`;
}

// Tabs as links: [{id, label}], the current id, href(id).
export function Tabs({ tabs, current, href }) {
  return html`<nav class="tabs" role="tablist">
    ${tabs.map((t) => html`<a role="tab" aria-selected=${t.id === current} class=${t.id === current ? "tab active" : "tab"}
                              href=${href(t.id)}>${t.label}</a>`)}
  </nav>`;
}

export function Loading({ what = "Loading" }) {
  return html`<p class="loading">${what}…</p>`;
}

// ---- formats -----------------------------------------------------------------------------

export function fmtParams(n) {
  if (!n) return "—";
  if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 1e10 ? 0 : 1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  return `${Math.round(n / 1e3)}K`;
}
export const fmtInt = (n) => (n ?? 0).toLocaleString("en-US");
export const fmtUsd = (x, digits = 6) => `$${(x ?? 0).toFixed(digits).replace(/0+$/, "").replace(/\.$/, ".00")}`;
export const fmtPrice = (x) => `${fmtUsd(x)} / 1K`;
export const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : "—");

// ---- hooks -------------------------------------------------------------------------------

// Runs fn() now and whenever deps change: {data, error, loading, reload}.
export function useLoad(fn, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const alive = useRef(true);
  const seq = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++seq.current;
    try {
      const data = await fn();
      if (alive.current && mine === seq.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (alive.current && mine === seq.current) setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, deps);
  useEffect(() => { alive.current = true; setState((s) => ({ ...s, loading: true })); reload(); }, [reload]);
  useEffect(() => () => { alive.current = false; }, []);
  return { ...state, reload };
}

// Calls fn every ms while active (and once more when it turns active).
export function usePoll(fn, ms, active) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!active) return undefined;
    const id = setInterval(() => saved.current(), ms);
    return () => clearInterval(id);
  }, [active, ms]);
}

// A button's busy state around an async action; errors go to onError.
export function useAction() {
  const [busy, setBusy] = useState(false);
  const run = async (fn, onError) => {
    if (busy) return;
    setBusy(true);
    try {
      await fn();
    } catch (e) {
      if (onError) onError(e);
    } finally {
      setBusy(false);
    }
  };
  return [busy, run];
}
