#!/usr/bin/python3
"""Python's torch.optim.AdamW on the shapes of optim_bench.cpp: the references the issues
set our AdamW against — foreach (any torch), the per-tensor loop, and, with torch >= 2.4,
the fused CPU kernel (`fused=True`, ATen's _fused_adamw_). Run with a python3 that has
torch (Debian 12's python3-torch is 1.13: no fused CPU AdamW; Debian 13's is 2.6 —
scripts/bench.sh finds one, see scripts/peer-env.sh); prints
Google-Benchmark-like JSON with the same fields report.py reads:
  {"context": {...}, "benchmarks": [{"name": "BM_PythonAdamW/0", "real_time": ms,
   "run_type": "aggregate", "aggregate_name": "median", "label": "resnet18"}, ...]}

Usage: torch_adamw.py [--threads N] [--repetitions R] [--min-time S] > python.json
"""
import argparse
import json
import statistics
import time

import torch


def resnet18():
    shapes = [(64, 3, 3, 3), (64,), (64,)]
    cin = 64
    for w in (64, 128, 256, 512):
        for b in range(2):
            shapes += [(w, cin, 3, 3), (w,), (w,), (w, w, 3, 3), (w,), (w,)]
            if b == 0 and cin != w:
                shapes += [(w, cin, 1, 1), (w,), (w,)]
            cin = w
    return shapes + [(10, 512), (10,)]


def transformer():
    d, f, vocab, layers = 96, 384, 1000, 8
    shapes = [(vocab, d), (128, d)]
    for _ in range(layers):
        shapes += [(d,), (d,)]
        for _proj in range(4):
            shapes += [(d, d), (d,)]
        shapes += [(d,), (d,), (f, d), (f,), (d, f), (d,)]
    return shapes + [(d,), (d,), (vocab, d), (vocab,)]


def has_fused_cpu():
    major, minor = (int(x) for x in torch.__version__.split(".")[:2])
    return (major, minor) >= (2, 4)


def bench(shapes, kind, min_time, repetitions):
    gen = torch.Generator().manual_seed(1)
    params = []
    for s in shapes:
        p = (torch.randn(s, generator=gen) * 0.05).requires_grad_()
        p.grad = torch.randn(s, generator=gen) * 1e-3
        params.append(p)
    if kind == "fused":
        opt = torch.optim.AdamW(params, lr=5e-4, weight_decay=1e-2, fused=True)
    else:
        opt = torch.optim.AdamW(params, lr=5e-4, weight_decay=1e-2, foreach=kind == "foreach")
    for _ in range(3):
        opt.step()
    medians = []
    for _ in range(repetitions):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < min_time:
            opt.step()
            n += 1
        medians.append((time.perf_counter() - t0) / n * 1e3)
    numel = sum(p.numel() for p in params)
    return statistics.median(medians), len(params), numel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=1.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cap = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", lambda: "?")()
    out = {"context": {"python_torch": torch.__version__, "threads": torch.get_num_threads(),
                       "aten_cpu_capability": cap},
           "benchmarks": []}
    kinds = [("BM_PythonAdamW", "foreach"), ("BM_PythonAdamWForLoop", "for-loop")]
    if has_fused_cpu():
        kinds.append(("BM_PythonAdamWFused", "fused"))
    for arg, (label, shapes) in enumerate([("resnet18", resnet18()),
                                           ("transformer", transformer())]):
        for name, kind in kinds:
            ms, tensors, numel = bench(shapes, kind, a.min_time, a.repetitions)
            out["benchmarks"].append({
                "name": f"{name}/{arg}", "real_time": ms, "time_unit": "ms",
                "run_type": "aggregate", "aggregate_name": "median", "label": label,
                "tensors": tensors, "params": numel,
                "bytes_per_second": numel * 28 / (ms / 1e3)})
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
