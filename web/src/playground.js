// playground.js — the Test tab: a chat with the endpoint through the gateway, with the
// endpoint's own key, streaming tokens as they arrive; the API's parameters (max_tokens,
// temperature, top_p, stop) beside it; the raw request and response one click away.
import { useEffect, useRef, useState } from "preact/hooks";
import { chat, chatPath } from "./gateway.js";
import { fetchKeys } from "./keys.js";
import { html, ErrorBanner, Field } from "./ui.js";

function Params({ p, set }) {
  const on = (k) => (e) => set({ ...p, [k]: e.target.value });
  const number = (k, min, max, step) => html`<${Field} label=${k} name=${k}>
    <input type="number" name=${k} min=${min} max=${max} step=${step} value=${p[k]} onInput=${on(k)} /><//>`;
  return html`<div class="params" aria-label="Parameters">
    <h3>Parameters</h3>
    ${number("max_tokens", 1, undefined, 1)}
    ${number("temperature", 0, 2, 0.1)}
    ${number("top_p", 0, 1, 0.05)}
    <${Field} label="stop" name="stop" hint="Up to 4 sequences, separated by commas">
      <input name="stop" value=${p.stop} onInput=${on("stop")} placeholder="e.g. ###" /><//>
    <label class="check"><input type="checkbox" name="stream" checked=${p.stream}
                                onChange=${(e) => set({ ...p, stream: e.target.checked })} /> stream</label>
    <${Field} label="System message" name="system">
      <textarea name="system" rows="3" value=${p.system} onInput=${on("system")}></textarea><//>
  </div>`;
}

function requestBody(e, p, messages) {
  const body = { messages: p.system.trim() ? [{ role: "system", content: p.system }, ...messages] : messages };
  if (e.model) body.model = e.model;
  const n = (v) => (v === "" || v === undefined ? undefined : Number(v));
  if (n(p.max_tokens) !== undefined) body.max_tokens = n(p.max_tokens);
  if (n(p.temperature) !== undefined) body.temperature = n(p.temperature);
  if (n(p.top_p) !== undefined) body.top_p = n(p.top_p);
  const stop = p.stop.split(",").map((s) => s.trim()).filter(Boolean);
  if (stop.length) body.stop = stop;
  if (p.stream) { body.stream = true; body.stream_options = { include_usage: true }; }
  return body;
}

function Raw({ exchange }) {
  if (!exchange) return html`<p class="muted">No request yet.</p>`;
  const { request, response } = exchange;
  const sent = `POST ${request.url}\nAuthorization: Bearer <key>\nContent-Type: application/json\n\n` +
               JSON.stringify(request.body, null, 2);
  const got = response ? `HTTP ${response.status}\n` + Object.entries(response.headers).map(([k, v]) => `${k}: ${v}\n`).join("") +
                         `\n${response.raw}` : "(no response)";
  return html`<div class="raw">
    <h4>Request</h4>
    <pre class="raw-request">${sent}</pre>
    <h4>Response</h4>
    <pre class="raw-response">${got}</pre>
  </div>`;
}

function Message({ m }) {
  const usage = m.usage ? ` · ${m.usage.prompt_tokens} prompt + ${m.usage.completion_tokens} completion tokens` : "";
  return html`<div class=${"msg " + m.role}>
    <span class="role">${m.role}</span><div class="content">${m.content}</div>
    ${m.finish ? html`<span class="meta">finish_reason: ${m.finish}${usage}</span>` : null}
  </div>`;
}

export function Playground({ e, workspace, kind }) {
  const [key, setKey] = useState("");
  const [keyError, setKeyError] = useState(null);
  const [p, setP] = useState({ max_tokens: 64, temperature: 0.7, top_p: 1, stop: "", stream: true, system: "" });
  const [messages, setMessages] = useState([]);
  const [input, setInput] = useState("");
  const [reply, setReply] = useState(null);  // the assistant message being streamed
  const [error, setError] = useState(null);
  const [exchange, setExchange] = useState(null);
  const [showRaw, setShowRaw] = useState(false);
  const abort = useRef(null);
  useEffect(() => {
    fetchKeys(workspace, kind, e.name).then((k) => setKey(k.primaryKey), setKeyError);
    return () => abort.current?.abort();
  }, [workspace, kind, e.name]);
  const send = async (ev) => {
    ev.preventDefault();
    if (!input.trim() || reply !== null) return;
    const history = [...messages, { role: "user", content: input }];
    const body = requestBody(e, p, history);
    setMessages(history);
    setInput("");
    setError(null);
    setReply("");
    const request = { url: location.origin + chatPath(e.name), body };
    setExchange({ request, response: null });
    abort.current = new AbortController();
    let text = "";
    try {
      const out = await chat(e.name, key, body, { signal: abort.current.signal, onDelta: (d) => { text += d; setReply(text); } });
      setExchange({ request, response: out });
      setMessages([...history, { role: "assistant", content: out.content, finish: out.finish_reason, usage: out.usage }]);
    } catch (err) {
      setExchange({ request, response: err.raw ?? null });
      if (text) setMessages([...history, { role: "assistant", content: text, finish: "cancelled" }]);
      setError(err.name === "AbortError" ? "Stopped." : err.message);
    } finally {
      setReply(null);
      abort.current = null;
    }
  };
  return html`<div class="playground">
    <div class="chat">
      <${ErrorBanner} error=${keyError && `The playground needs one of the endpoint's keys: ${keyError.message}`} />
      ${e.state !== "Succeeded"
        ? html`<p class="hint">The endpoint is ${e.state}; requests may fail until it is Succeeded.</p>` : null}
      <div class="transcript" aria-live="polite">
        ${messages.length === 0 && reply === null ? html`<p class="muted">Send a message to try the endpoint.</p>` : null}
        ${messages.map((m) => html`<${Message} m=${m} />`)}
        ${reply !== null ? html`<div class="msg assistant streaming">
          <span class="role">assistant</span><div class="content">${reply}</div></div>` : null}
      </div>
      <${ErrorBanner} error=${error} />
      <form class="composer" onSubmit=${send}>
        <textarea name="message" rows="2" placeholder="Type a message" value=${input}
                  onInput=${(x) => setInput(x.target.value)}></textarea>
        ${reply !== null ? html`<button type="button" name="stop" onClick=${() => abort.current?.abort()}>Stop</button>`
                         : html`<button type="submit" class="primary" name="send"
                                        disabled=${!key || !input.trim()}>Send</button>`}
        <button type="button" name="clear" onClick=${() => { setMessages([]); setError(null); }}>Clear</button>
      </form>
      <button type="button" class="link" name="raw" onClick=${() => setShowRaw(!showRaw)}>
        ${showRaw ? "Hide the raw request and response" : "Show the raw request and response"}</button>
      ${showRaw ? html`<${Raw} exchange=${exchange} />` : null}
    </div>
    <${Params} p=${p} set=${setP} />
  </div>`;
}
