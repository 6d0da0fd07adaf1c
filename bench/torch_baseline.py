#!/usr/bin/env python3
"""torch_baseline.py - issue 13's same-card peer: a plain PyTorch Llama 3 8B-shape engine.

Random BF16 weights (separate q, k, v, o, gate, up, down, output matrices; products through
torch.matmul, i.e. cuBLAS), a static KV cache per batch size holding --ctx positions of every
sequence (filled with random values), decode steps written without host round trips (position,
tokens and the greedy argmax stay on the device) and captured once as a CUDA graph that is then
replayed; attention as two batched matmuls over the whole static cache with a mask (one KV read
per GQA group), softmax in float32. This is the kind of engine issue 13's anchors were measured
with, run on the same card in the same run as maas, so the ratio is same-run.

  python3 bench/torch_baseline.py [--preset 8b|tiny] [--device cuda|cpu] [--batches 1,16,64,256]
      [--ctx 1024] [--steps 32] [--runs 3] [--prefill 512] [--copy-gib 1] [--gemm 8192]
      [--json FILE]

Prints what it measures, with a line `RESULT torch.<name> <value>` per number (read by
bench/gpu-check.sh's summary): copy_gbps (device-to-device copy of --copy-gib GiB, bytes read +
written), gemm_tflops (an n x n x n BF16 matmul on random data), decode_B<B> (output tokens/s, the
median of --runs replays of --steps steps), pp<P> (prefill tokens/s of one P-token prompt) and
pp<P>_flop (the FLOPs counted for it). On the CPU (the dry run) there are no graphs and no copy or
GEMM measurement; every shape still runs.
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch

PRESETS = {
    "8b": dict(n_embd=4096, n_layer=32, n_head=32, n_head_kv=8, n_ff=14336, n_vocab=128256),
    "tiny": dict(n_embd=256, n_layer=4, n_head=8, n_head_kv=4, n_ff=768, n_vocab=128256),
}
RESULTS = {}


def result(name, value):
    RESULTS[name] = value
    print(f"RESULT torch.{name} {value:.3f}", flush=True)


class Timer:
    """Wall time of a region of device work: CUDA events on a GPU, the host clock on the CPU."""

    def __init__(self, device):
        self.cuda = device.type == "cuda"

    def __enter__(self):
        if self.cuda:
            self.start, self.end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            self.start.record()
        else:
            self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        if self.cuda:
            self.end.record()
            self.end.synchronize()
            self.seconds = self.start.elapsed_time(self.end) / 1e3
        else:
            self.seconds = time.perf_counter() - self.t0


class Llama:
    """Llama 3 architecture, random weights; weights stored [out, in] and used as x @ W.T."""

    def __init__(self, cfg, device, dtype, seed=0):
        self.c = cfg
        self.device, self.dtype = device, dtype
        self.hd = cfg["n_embd"] // cfg["n_head"]
        g = torch.Generator(device=device)
        g.manual_seed(seed)
        E, F, V, hd = cfg["n_embd"], cfg["n_ff"], cfg["n_vocab"], self.hd

        def mat(rows, cols):  # N(0, 1/cols): activations stay O(1)
            w = torch.empty(rows, cols, device=device, dtype=dtype)
            return w.normal_(0.0, 1.0 / math.sqrt(cols), generator=g)

        self.embed = mat(V, E)
        self.layers = []
        for _ in range(cfg["n_layer"]):
            self.layers.append(dict(
                attn_norm=torch.ones(E, device=device, dtype=dtype),
                wq=mat(cfg["n_head"] * hd, E), wk=mat(cfg["n_head_kv"] * hd, E), wv=mat(cfg["n_head_kv"] * hd, E),
                wo=mat(E, cfg["n_head"] * hd),
                ffn_norm=torch.ones(E, device=device, dtype=dtype),
                wg=mat(F, E), wu=mat(F, E), wd=mat(E, F)))
        self.out_norm = torch.ones(E, device=device, dtype=dtype)
        self.output = mat(V, E)
        inv_freq = 1.0 / (500000.0 ** (torch.arange(0, hd, 2, device=device, dtype=torch.float32) / hd))
        pos = torch.arange(0, 131072, device=device, dtype=torch.float32)
        ang = torch.outer(pos, inv_freq)
        self.cos, self.sin = ang.cos().to(dtype), ang.sin().to(dtype)

    def weight_bytes(self):
        n = self.embed.numel() + self.output.numel() + self.out_norm.numel()
        for L in self.layers:
            n += sum(t.numel() for t in L.values())
        return n * self.embed.element_size()

    def layer_matmul_params(self):
        return sum(L[k].numel() for L in self.layers for k in ("wq", "wk", "wv", "wo", "wg", "wu", "wd"))

    @staticmethod
    def rms_norm(x, w, eps=1e-5):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype) * w

    @staticmethod
    def rope(x, cos, sin):  # x [..., T, heads, hd]; cos/sin [T, hd/2] (rotate-half pairing)
        x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
        c, s = cos.unsqueeze(-2), sin.unsqueeze(-2)
        return torch.cat((x1 * c - x2 * s, x2 * c + x1 * s), dim=-1)

    def mlp(self, L, x):
        h = self.rms_norm(x, L["ffn_norm"])
        return x + torch.matmul(torch.nn.functional.silu(torch.matmul(h, L["wg"].t())) * torch.matmul(h, L["wu"].t()),
                                L["wd"].t())

    def decode_step(self, tokens, pos, cache_k, cache_v, mask_range):
        """One token for each of B sequences at position `pos` (a device scalar), greedy argmax
        written back into `tokens`, pos += 1: no host round trip. cache_* [n_layer, B, n_kv, S, hd]."""
        c, hd = self.c, self.hd
        B = tokens.shape[0]
        G = c["n_head"] // c["n_head_kv"]
        x = self.embed[tokens]                                     # [B, E]
        idx = pos.view(1)                                          # tensor indexing: no host sync
        cos, sin = self.cos.index_select(0, idx), self.sin.index_select(0, idx)  # [1, hd/2]
        mask = mask_range > pos                                    # [S]: positions not yet written
        for il, L in enumerate(self.layers):
            h = self.rms_norm(x, L["attn_norm"])
            q = self.rope(torch.matmul(h, L["wq"].t()).view(B, c["n_head"], hd), cos, sin)
            k = self.rope(torch.matmul(h, L["wk"].t()).view(B, c["n_head_kv"], hd), cos, sin)
            v = torch.matmul(h, L["wv"].t()).view(B, c["n_head_kv"], hd)
            cache_k[il].index_copy_(2, idx, k.unsqueeze(2))
            cache_v[il].index_copy_(2, idx, v.unsqueeze(2))
            qg = q.view(B, c["n_head_kv"], G, hd)
            scores = torch.matmul(qg, cache_k[il].transpose(-1, -2)).float() * (1.0 / math.sqrt(hd))  # [B, kv, G, S]
            p = torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1).to(self.dtype)
            o = torch.matmul(p, cache_v[il]).reshape(B, c["n_head"] * hd)
            x = x + torch.matmul(o, L["wo"].t())
            x = self.mlp(L, x)
        logits = torch.matmul(self.rms_norm(x, self.out_norm), self.output.t())  # [B, V]
        tokens.copy_(logits.argmax(-1))
        pos.add_(1)
        return logits

    def prefill(self, tokens, cache_k, cache_v):
        """One sequence of T tokens from position 0: causal attention, K/V written to the cache,
        logits of the last row only. cache_* [n_layer, n_kv, S >= T, hd]."""
        c, hd = self.c, self.hd
        T = tokens.shape[0]
        G = c["n_head"] // c["n_head_kv"]
        x = self.embed[tokens]
        cos, sin = self.cos[:T], self.sin[:T]
        causal = torch.ones(T, T, device=self.device, dtype=torch.bool).triu(1)
        for il, L in enumerate(self.layers):
            h = self.rms_norm(x, L["attn_norm"])
            q = self.rope(torch.matmul(h, L["wq"].t()).view(T, c["n_head"], hd), cos, sin)
            k = self.rope(torch.matmul(h, L["wk"].t()).view(T, c["n_head_kv"], hd), cos, sin)
            v = torch.matmul(h, L["wv"].t()).view(T, c["n_head_kv"], hd)
            kt, vt = k.transpose(0, 1), v.transpose(0, 1)              # [kv, T, hd]
            cache_k[il, :, :T].copy_(kt)
            cache_v[il, :, :T].copy_(vt)
            qg = q.view(T, c["n_head_kv"], G, hd).permute(1, 2, 0, 3)   # [kv, G, T, hd]
            scores = torch.matmul(qg, kt.unsqueeze(1).transpose(-1, -2)).float() * (1.0 / math.sqrt(hd))
            p = torch.softmax(scores.masked_fill(causal, float("-inf")), dim=-1).to(self.dtype)
            o = torch.matmul(p, vt.unsqueeze(1)).permute(2, 0, 1, 3).reshape(T, c["n_head"] * hd)
            x = x + torch.matmul(o, L["wo"].t())
            x = self.mlp(L, x)
        return torch.matmul(self.rms_norm(x[-1:], self.out_norm), self.output.t())


def measure_copy(device, gib, runs=20):
    n = int(gib * (1 << 30))
    src = torch.empty(n, dtype=torch.uint8, device=device).random_(0, 255)
    dst = torch.empty_like(src)
    dst.copy_(src)
    secs = []
    for _ in range(runs):
        with Timer(device) as t:
            dst.copy_(src)
        secs.append(t.seconds)
    gbps = 2 * n / statistics.median(secs) / 1e9
    print(f"copy: {gib} GiB device to device, {runs} runs: median {gbps:.0f} GB/s (bytes read + written; "
          f"min {2 * n / max(secs) / 1e9:.0f}, max {2 * n / min(secs) / 1e9:.0f})", flush=True)
    result("copy_gbps", gbps)
    del src, dst


def measure_gemm(device, dtype, n, runs=10):
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        torch.matmul(a, b)
    secs = []
    for _ in range(runs):
        with Timer(device) as t:
            torch.matmul(a, b)
        secs.append(t.seconds)
    tflops = 2 * n ** 3 / statistics.median(secs) / 1e12
    print(f"gemm: {n}x{n}x{n} {dtype} on random data, {runs} runs: median {tflops:.0f} TFLOP/s", flush=True)
    result("gemm_tflops", tflops)
    del a, b


def measure_decode(model, B, ctx, steps, runs, use_graph):
    c, dev = model.c, model.device
    S = ctx + steps + 4
    shape = (c["n_layer"], B, c["n_head_kv"], S, model.hd)
    cache_k = torch.empty(shape, device=dev, dtype=model.dtype).normal_()
    cache_v = torch.empty(shape, device=dev, dtype=model.dtype).normal_()
    tokens = torch.randint(0, c["n_vocab"], (B,), device=dev)
    pos = torch.tensor(ctx, device=dev, dtype=torch.long)
    mask_range = torch.arange(S, device=dev)
    step = lambda: model.decode_step(tokens, pos, cache_k, cache_v, mask_range)  # noqa: E731
    graph, run_step = None, step
    if use_graph:
        try:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(2):
                    step()
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                step()
            run_step = graph.replay
        except RuntimeError as e:  # timed eagerly then, and said so on the result line
            print(f"CUDA graph capture failed at B={B} ({e}); timing eager steps", flush=True)
            graph = None
            torch.cuda.synchronize()
    pos.fill_(ctx)
    for _ in range(2):
        run_step()
    rates = []
    for _ in range(runs):
        pos.fill_(ctx)
        with Timer(dev) as t:
            for _ in range(steps):
                run_step()
        rates.append(B * steps / t.seconds)
    med = statistics.median(rates)
    print(f"| torch {model.dtype} | decode B={B} ctx {ctx} | median {med:.1f} output tok/s, "
          f"{1e3 * B / med:.2f} ms per step | runs: {' '.join(f'{r:.1f}' for r in rates)} | "
          f"{'CUDA graph' if graph is not None else 'eager'}", flush=True)
    result(f"decode_B{B}", med)
    del graph, cache_k, cache_v
    if dev.type == "cuda":
        torch.cuda.empty_cache()
    return med


def measure_prefill(model, P, runs):
    c, dev = model.c, model.device
    shape = (c["n_layer"], c["n_head_kv"], P, model.hd)
    cache_k = torch.empty(shape, device=dev, dtype=model.dtype)
    cache_v = torch.empty(shape, device=dev, dtype=model.dtype)
    tokens = torch.randint(0, c["n_vocab"], (P,), device=dev)
    model.prefill(tokens[: min(P, 32)], cache_k, cache_v)
    model.prefill(tokens, cache_k, cache_v)
    rates = []
    for _ in range(runs):
        with Timer(dev) as t:
            model.prefill(tokens, cache_k, cache_v)
        rates.append(P / t.seconds)
    med = statistics.median(rates)
    flop = (2 * P * model.layer_matmul_params() + 2 * model.output.numel()
            + c["n_layer"] * c["n_head"] * 4 * model.hd * P * (P + 1) / 2)
    print(f"| torch {model.dtype} | pp{P} | median {med:.1f} tok/s = {flop * med / P / 1e12:.1f} TFLOP/s "
          f"| runs: {' '.join(f'{r:.1f}' for r in rates)} | FLOPs counted: {flop:.4g} "
          f"(2 x {P} x layer matmul params + 2 x output params + causal attention)", flush=True)
    result(f"pp{P}", med)
    result(f"pp{P}_flop", flop)


def self_check(device):
    """The decode step and the prefill compute the same function: the last row of a T-token
    prefill equals a decode step at position T-1 over the cache the first T-1 tokens left
    (tiny shape, float32). Exits non-zero when they differ."""
    c = dict(PRESETS["tiny"], n_vocab=1000)
    model = Llama(c, device, torch.float32, seed=1)
    T, S = 24, 32
    tokens = torch.randint(0, c["n_vocab"], (T,), device=device)
    pk = torch.zeros(c["n_layer"], c["n_head_kv"], S, model.hd, device=device)
    pv = torch.zeros_like(pk)
    want = model.prefill(tokens, pk, pv)[0]
    model.prefill(tokens[:-1], pk, pv)
    dk, dv = pk.unsqueeze(1).clone(), pv.unsqueeze(1).clone()      # [n_layer, B=1, kv, S, hd]
    dk[:, :, :, T - 1:].fill_(1e4)                                # garbage past the prefix: must stay masked
    dv[:, :, :, T - 1:].fill_(1e4)
    got = model.decode_step(tokens[-1:].clone(), torch.tensor(T - 1, device=device), dk, dv, torch.arange(S, device=device))[0]
    err = ((got - want).norm() / want.norm()).item()
    print(f"self-check: decode step vs prefill, relative error {err:.2e}", flush=True)
    if not err < 1e-4:
        sys.exit("torch_baseline: self-check failed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="8b", choices=sorted(PRESETS))
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--batches", default="1,16,64,256")
    ap.add_argument("--ctx", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--prefill", type=int, default=512)
    ap.add_argument("--copy-gib", type=float, default=1.0)
    ap.add_argument("--gemm", type=int, default=8192, help="n of an n x n x n BF16 matmul timed (0: none)")
    ap.add_argument("--json")
    ap.add_argument("--check", action="store_true", help="only the decode-vs-prefill self-check")
    a = ap.parse_args()
    dev = torch.device(a.device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_baseline: no CUDA device visible to PyTorch")
    torch.manual_seed(0)
    with torch.inference_mode():
        self_check(dev)
    if a.check:
        return
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(f"torch {torch.__version__} on {name}; preset {a.preset}: {PRESETS[a.preset]}", flush=True)
    if dev.type == "cuda":
        if a.copy_gib > 0:
            measure_copy(dev, a.copy_gib)
        if a.gemm > 0:
            measure_gemm(dev, torch.bfloat16, a.gemm)
    dtype = torch.bfloat16
    t0 = time.perf_counter()
    model = Llama(PRESETS[a.preset], dev, dtype)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    print(f"weights: {model.weight_bytes() / 1e9:.3f} GB of random {dtype} in {time.perf_counter() - t0:.1f} s",
          flush=True)
    result("all_weight_bytes", model.weight_bytes())
    with torch.inference_mode():
        if a.prefill > 0:
            measure_prefill(model, a.prefill, a.runs + 2)
        for B in [int(b) for b in a.batches.split(",") if b]:
            measure_decode(model, B, a.ctx, a.steps, a.runs, dev.type == "cuda")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(device=name, torch=torch.__version__, preset=a.preset, results=RESULTS), f, indent=1)


if __name__ == "__main__":
    main()
