#!/usr/bin/env python3
"""gpu_check_summary.py LOG [--peak-tflops 989] [--tg 128] [--pp 512] [--batches 1,16,64,256]
- bench/gpu-check.sh's closing table (the sizes: what the check ran; the dry run's are smaller).

Reads the `RESULT <name> <value>` lines that maas-gpu-bench, torch_baseline.py and
serve_client.py print into the check's log (the bf16 / q4_0 tags are the maas model files,
torch.* the PyTorch peer, serve.* / spec.* the serving steps) and prints issue 13's measures:
each with maas's number, the PyTorch peer's on the same card where there is one, their ratio,
and the issue's target. A measure that did not run shows '-'. Standard library only.
"""
import argparse
import re
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--peak-tflops", type=float, default=989.0)
    ap.add_argument("--tg", type=int, default=128)
    ap.add_argument("--pp", type=int, default=512)
    ap.add_argument("--batches", default="1,16,64,256")
    a = ap.parse_args()
    r = {}
    with open(a.log, errors="replace") as f:
        for line in f:
            m = re.match(r"^RESULT (\S+) (\S+)\s*$", line)
            if m:
                r[m.group(1)] = float(m.group(2))
    g = r.get

    def fmt(v, spec="{:,.1f}"):
        return "-" if v is None else spec.format(v)

    def ratio(x, y):
        return None if x is None or not y else x / y

    bw = g("copy_gbps") or g("torch.copy_gbps")
    rows = [("copy bandwidth, GB/s (read + written)", fmt(g("copy_gbps"), "{:,.0f}"), fmt(g("torch.copy_gbps"), "{:,.0f}"),
             "-", "H200 anchor 4,213")]
    if g("torch.gemm_tflops"):
        rows.append(("BF16 GEMM 8192^3, TFLOP/s (cuBLAS via torch)", "-", fmt(g("torch.gemm_tflops"), "{:,.0f}"), "-",
                     f"datasheet {a.peak_tflops:,.0f}"))
    for tag in ("bf16", "q4_0"):
        tg = g(f"{tag}.tg{a.tg}")
        read, allb = g(f"{tag}.read_weight_bytes"), g(f"{tag}.all_weight_bytes")
        lim = bw * 1e9 / read if bw and read else None
        lim_all = bw * 1e9 / allb if bw and allb else None
        rows.append((f"{tag.upper()} single stream tg{a.tg}, tok/s", fmt(tg), "-", "-",
                     "≥ 85% of the limit" if tag == "bf16" else "-"))
        rows.append((f"  {tag.upper()} fraction of the limit (bytes read / step)",
                     "-" if tg is None or lim is None else f"{100 * tg / lim:.1f}% of {lim:,.1f}", "-", "-", "-"))
        rows.append((f"  {tag.upper()} fraction, every weight byte (issue's count)",
                     "-" if tg is None or lim_all is None else f"{100 * tg / lim_all:.1f}% of {lim_all:,.1f}", "-", "-",
                     "H200: 225 tok/s" if tag == "bf16" else "-"))
    anchors = {1: "138", 16: "1,825", 64: "5,574", 256: "11,211"}
    for B in [int(b) for b in a.batches.split(",") if b]:
        m, t = g(f"bf16.decode_B{B}"), g(f"torch.decode_B{B}")
        anchor = f"H200 torch anchor {anchors[B]}" if B in anchors else "-"
        target = f"≥ 1.5x torch ({anchor})" if B > 1 else anchor
        rows.append((f"BF16 decode B={B}, output tok/s", fmt(m), fmt(t), fmt(ratio(m, t), "{:.2f}x"), target))
    def tflops(tag):
        pp, flop = g(f"{tag}.pp{a.pp}"), g(f"{tag}.pp{a.pp}_flop")
        return None if pp is None or not flop else flop * pp / a.pp / 1e12

    def pct(tf):
        return "-" if tf is None else f"{tf:,.1f} ({100 * tf / a.peak_tflops:.1f}%)"

    for tag, name in (("bf16", "BF16"), ("q4_0", "Q4_0")):
        mp = g(f"{tag}.pp{a.pp}")
        tp = g(f"torch.pp{a.pp}") if tag == "bf16" else None
        rows.append((f"{name} prefill {a.pp}, tok/s", fmt(mp), fmt(tp), fmt(ratio(mp, tp), "{:.2f}x"),
                     "H100 torch anchor 21,200" if tag == "bf16" else "-"))
        rows.append((f"  {name} prefill TFLOP/s (% of {a.peak_tflops:,.0f})", pct(tflops(tag)),
                     pct(tflops("torch")) if tag == "bf16" else "-", "-", "-"))
    rows.append(("serving (c64 on the device): output tok/s", fmt(g("serve.output_tps")), "-", "-", "-"))
    rows.append(("  TTFT median / p99, ms", f"{fmt(g('serve.ttft_median_ms'), '{:,.0f}')} / {fmt(g('serve.ttft_p99_ms'), '{:,.0f}')}",
                 "-", "-", "-"))
    rows.append(("  ITL median / p99, ms", f"{fmt(g('serve.itl_median_ms'), '{:,.1f}')} / {fmt(g('serve.itl_p99_ms'), '{:,.1f}')}",
                 "-", "-", "-"))
    rows.append(("  requests completed / failed", f"{fmt(g('serve.completed'), '{:.0f}')} / {fmt(g('serve.failed'), '{:.0f}')}",
                 "-", "-", "-"))
    lim = bw * 1e9 / g("bf16.read_weight_bytes") if bw and g("bf16.read_weight_bytes") else None
    for tag, name in (("plain1", "repetitive prompt, 1 stream, no speculation"), ("spec", "same, with speculation")):
        tps = g(f"{tag}.output_tps")
        extra = "" if tps is None or lim is None else f" ({100 * tps / lim:.0f}% of the limit {lim:,.1f})"
        rows.append((f"BF16 {name}, tok/s", fmt(tps) + extra, "-", "-", "> the limit" if tag == "spec" else "-"))
    head = ("measure", "maas", "torch (same card)", "maas/torch", "issue 13 target")
    w = [max(len(str(x[i])) for x in rows + [head]) for i in range(5)]
    line = lambda x: "| " + " | ".join(str(x[i]).ljust(w[i]) for i in range(5)) + " |"  # noqa: E731
    print(line(head))
    print("|" + "|".join("-" * (n + 2) for n in w) + "|")
    for x in rows:
        print(line(x))


if __name__ == "__main__":
    sys.exit(main())
