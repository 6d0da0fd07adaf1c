#!/usr/bin/env python3
"""serve_client.py - bench/bench_serve.mjs's serving benchmark, for machines without node.

The GPU machine's image has Python but no node, so bench/gpu-check.sh's serving step runs this.
Same workload and measures as bench_serve.mjs (read its header): N requests to /v1/completions,
each a prompt of random common English words (the word list is read from bench_serve.mjs, one
Llama 3 token each with its leading space; the BOS makes the count), streamed, "max_tokens" =
--output-len, "ignore_eos": true, temperature 0, stream_options.include_usage; at most
--concurrency in flight. Per request, from just before it is sent: TTFT (first chunk with text),
ITL (gaps between later chunks with text), E2EL; output tokens from the usage chunk.
--prompt TEXT sends that prompt for every request instead (the speculation step's repetitive one).

  python3 bench/serve_client.py --base-url http://127.0.0.1:8080 --num-prompts 256
      --concurrency 64 --input-len 128 --output-len 128 [--seed 0] [--warmup 1] [--model NAME]
      [--prompt TEXT] [--label TEXT] [--json FILE] [--tag serve]

Prints a table and `RESULT <tag>.<name> <value>` lines for bench/gpu-check.sh's summary. Python
3.8+, standard library only (asyncio streams, one connection per request). Exit status 1 when any
request failed.
"""
import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import time
from urllib.parse import urlparse


def load_words():
    mjs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_serve.mjs")
    with open(mjs, encoding="utf-8") as f:
        m = re.search(r"const WORDS = `([^`]*)`", f.read())
    if not m:
        sys.exit("serve_client: no WORDS list in bench_serve.mjs")
    return m.group(1).split()


def percentile(xs, p):
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = (len(s) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


async def read_body(reader, headers):
    """Yields the body's bytes as they arrive: chunked, Content-Length, or until close."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                return
            yield await reader.readexactly(size)
            await reader.readline()
    elif "content-length" in headers:
        yield await reader.readexactly(int(headers["content-length"]))
    else:
        while True:
            data = await reader.read(65536)
            if not data:
                return
            yield data


async def one_request(url, api_key, body):
    """Sends one streamed completion; returns a dict of its timings or its error."""
    u = urlparse(url)
    payload = json.dumps(body).encode()
    head = (f"POST {u.path or '/'} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nContent-Type: application/json\r\n"
            f"Accept: text/event-stream\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n")
    if api_key:
        head += f"Authorization: Bearer {api_key}\r\n"
    out = dict(ttft=None, itl=[], e2el=None, output_tokens=None, chunks=0, error=None, prompt_tokens=None)
    t0 = time.perf_counter()
    writer = None
    try:
        reader, writer = await asyncio.open_connection(u.hostname, u.port, limit=1 << 24)
        writer.write(head.encode() + b"\r\n" + payload)
        await writer.drain()
        status = (await reader.readline()).decode(errors="replace").split()
        headers = {}
        while True:
            line = (await reader.readline()).decode(errors="replace")
            if line in ("\r\n", "\n", ""):
                break
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if len(status) < 2 or status[1] != "200":
            text = b"".join([c async for c in read_body(reader, headers)]).decode(errors="replace")
            out["error"] = f"HTTP {' '.join(status[1:])}: {text[:200]}"
            return out
        buf, last = b"", None
        async for data in read_body(reader, headers):
            buf += data
            while b"\n\n" in buf:
                event, buf = buf.split(b"\n\n", 1)
                for line in event.decode(errors="replace").splitlines():
                    if not line.startswith("data:"):
                        continue
                    item = line[5:].strip()
                    if item == "[DONE]":
                        continue
                    msg = json.loads(item)
                    if "error" in msg:
                        out["error"] = json.dumps(msg["error"])[:200]
                        continue
                    if msg.get("usage"):
                        out["output_tokens"] = msg["usage"].get("completion_tokens")
                        out["prompt_tokens"] = msg["usage"].get("prompt_tokens")
                    choices = msg.get("choices") or []
                    if choices and choices[0].get("text"):
                        now = time.perf_counter()
                        out["chunks"] += 1
                        if out["ttft"] is None:
                            out["ttft"] = now - t0
                        else:
                            out["itl"].append(now - last)
                        last = now
        out["e2el"] = time.perf_counter() - t0
        if out["output_tokens"] is None:
            out["output_tokens"] = out["chunks"]
        if out["ttft"] is None and out["error"] is None:
            out["error"] = "no text in the stream"
    except (OSError, asyncio.IncompleteReadError, ValueError) as e:
        out["error"] = f"{type(e).__name__}: {e}"
    finally:
        if writer is not None:
            writer.close()
    return out


async def run(a):
    words = load_words()
    rnd = random.Random(a.seed * 2654435761 + 12345)
    url = a.base_url.rstrip("/") + "/v1/completions"

    def body(i):
        prompt = a.prompt if a.prompt is not None else "".join(" " + rnd.choice(words) for _ in range(a.input_len - 1))
        b = dict(prompt=prompt, max_tokens=a.output_len, stream=True, ignore_eos=True, temperature=0.0,
                 stream_options=dict(include_usage=True))
        if a.model:
            b["model"] = a.model
        return b

    for _ in range(a.warmup):
        w = await one_request(url, a.api_key, dict(body(-1), max_tokens=min(a.output_len, 8)))
        if w["error"]:
            print(f"warm-up request failed: {w['error']}", flush=True)
    bodies = [body(i) for i in range(a.num_prompts)]
    sem = asyncio.Semaphore(a.concurrency)

    async def limited(b):
        async with sem:
            return await one_request(url, a.api_key, b)

    t0 = time.perf_counter()
    res = await asyncio.gather(*(limited(b) for b in bodies))
    duration = time.perf_counter() - t0
    return res, duration


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--api-key")
    ap.add_argument("--num-prompts", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--input-len", type=int, default=128)
    ap.add_argument("--output-len", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--model")
    ap.add_argument("--prompt")
    ap.add_argument("--label", default="")
    ap.add_argument("--tag", default="serve")
    ap.add_argument("--json")
    a = ap.parse_args()
    res, duration = asyncio.run(run(a))
    ok = [r for r in res if r["error"] is None]
    bad = [r for r in res if r["error"] is not None]
    out_tok = sum(r["output_tokens"] or 0 for r in ok)
    in_tok = sum(r["prompt_tokens"] or 0 for r in ok)
    ttft = [1e3 * r["ttft"] for r in ok]
    itl = [1e3 * x for r in ok for x in r["itl"]]
    tpot = [1e3 * (r["e2el"] - r["ttft"]) / (r["output_tokens"] - 1) for r in ok if (r["output_tokens"] or 0) > 1]
    m = dict(completed=len(ok), failed=len(bad), duration_s=duration, output_tokens=out_tok, input_tokens=in_tok,
             output_tps=out_tok / duration, total_tps=(out_tok + in_tok) / duration, request_rate=len(ok) / duration,
             ttft_mean_ms=statistics.fmean(ttft) if ttft else float("nan"), ttft_median_ms=percentile(ttft, 50),
             ttft_p99_ms=percentile(ttft, 99), itl_mean_ms=statistics.fmean(itl) if itl else float("nan"),
             itl_median_ms=percentile(itl, 50), itl_p99_ms=percentile(itl, 99),
             tpot_median_ms=percentile(tpot, 50))
    print(f"{'=' * 16} Serving benchmark {a.label} {'=' * 16}")
    print(f"concurrency {a.concurrency}, {a.num_prompts} prompts, input {a.input_len}, output {a.output_len}"
          f"{', fixed prompt' if a.prompt is not None else ''}")
    for k, v in m.items():
        print(f"{k:<28}{v:.2f}" if isinstance(v, float) else f"{k:<28}{v}")
    for r in bad[:5]:
        print(f"error: {r['error']}")
    for k in ("output_tps", "total_tps", "ttft_median_ms", "ttft_p99_ms", "itl_median_ms", "itl_p99_ms",
              "tpot_median_ms", "completed", "failed"):
        print(f"RESULT {a.tag}.{k} {float(m[k]):.3f}")
    sys.stdout.flush()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(args=vars(a), metrics=m), f, indent=1)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
