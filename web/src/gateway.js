// gateway.js — chat completions through the inference gateway, as any client would call it: the
// endpoint's path on this origin (/endpoints/<name>/v1/chat/completions) with its key in
// `Authorization: Bearer`. Streams are read as server-sent events and handed over chunk by
// chunk as they arrive; the raw exchange is kept for the playground's "raw" view.

export function chatPath(name) {
  return `/endpoints/${encodeURIComponent(name)}/v1/chat/completions`;
}

function errorMessage(status, text) {
  try {
    const e = JSON.parse(text).error;
    if (e && e.message) return e.message;
  } catch { /* not JSON */ }
  return `The gateway answered ${status}.`;
}

// Sends `body`; calls onDelta(text) for every streamed piece of content. Resolves to
// {status, headers, raw, content, finish_reason, usage}; rejects with an Error whose message is
// the gateway's (and whose .raw holds the exchange) when the answer is not 200.
export async function chat(name, key, body, { onDelta = () => {}, signal } = {}) {
  const r = await fetch(chatPath(name), {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
    signal,
  });
  const headers = Object.fromEntries(r.headers.entries());
  const out = { status: r.status, headers, raw: "", content: "", finish_reason: null, usage: null };
  if (!body.stream || r.status !== 200 || !r.body) {
    out.raw = await r.text();
    if (r.status !== 200) throw Object.assign(new Error(errorMessage(r.status, out.raw)), { raw: out });
    const j = JSON.parse(out.raw);
    out.content = j.choices?.[0]?.message?.content ?? "";
    out.finish_reason = j.choices?.[0]?.finish_reason ?? null;
    out.usage = j.usage ?? null;
    onDelta(out.content);
    return out;
  }
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let pending = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const text = decoder.decode(value, { stream: true });
    out.raw += text;
    pending += text;
    let cut;
    while ((cut = pending.indexOf("\n\n")) >= 0) {
      const event = pending.slice(0, cut);
      pending = pending.slice(cut + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") continue;
        let chunk;
        try { chunk = JSON.parse(data); } catch { continue; }
        if (chunk.error) throw Object.assign(new Error(chunk.error.message || "The stream ended with an error."), { raw: out });
        const choice = chunk.choices?.[0];
        if (choice?.delta?.content) {
          out.content += choice.delta.content;
          onDelta(choice.delta.content);
        }
        if (choice?.finish_reason) out.finish_reason = choice.finish_reason;
        if (chunk.usage) out.usage = chunk.usage;
      }
    }
  }
  return out;
}
