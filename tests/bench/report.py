#!/usr/bin/env python3
"""Turns one Google Benchmark JSON run (medians when repeated) of metaadamw_optim_bench, and
optionally the JSON of torch_adamw.py (Python's torch.optim.AdamW on the same shapes), into
the ratio tables of BENCHMARKS.md (stdout). Exit status 1 when a target is missed.
Standard library only.

Usage: report.py optim_bench.json [python.json]
"""
import json
import sys


def medians(path):
    data = json.load(open(path))
    t, labels = {}, {}
    for b in data["benchmarks"]:
        # With repetitions, only the medians count.
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name, arg = b["name"].split("/")[0], b["name"].split("/")[1]
        t[(name, arg)] = b["real_time"]  # ms
        labels[arg] = b.get("label", arg)
        if "params" in b:
            t[("params", arg)] = b["params"]
    return data.get("context", {}), t, labels


def mark(ok):
    return "✓" if ok else "✗"


def main(argv):
    ctx, t, labels = medians(argv[1])
    if len(argv) > 2:
        pctx, pt, _ = medians(argv[2])
        t.update(pt)
        print(f"Python: torch {pctx.get('python_torch')}, {pctx.get('threads')} threads.")
    print(f"Machine: {ctx.get('num_cpus')} × {ctx.get('mhz_per_cpu')} MHz, "
          f"date {ctx.get('date')}, library build {ctx.get('library_build_type')}.\n")
    args = sorted(a for (name, a) in t if name == "BM_OurAdamW")  # the optimizer shapes
    ok = True

    print("| shapes | torch::optim::AdamW ms | Python foreach AdamW ms | our AdamW (fused) ms "
          "| our AdamW (composite) ms | torch / ours (≥ 5) | ours / Python (≤ 1) |")
    print("|---|---|---|---|---|---|---|")
    for a in args:
        torch_ms, ours, comp = (t[("BM_TorchAdamW", a)], t[("BM_OurAdamW", a)],
                                t[("BM_OurAdamWComposite", a)])
        py = t.get(("BM_PythonAdamW", a))
        r_torch = torch_ms / ours
        ok &= r_torch >= 5
        py_cell, r_py_cell = "—", "not measured"
        if py is not None:
            r_py = ours / py
            ok &= r_py <= 1
            py_cell, r_py_cell = f"{py:.2f}", f"{r_py:.2f} {mark(r_py <= 1)}"
        print(f"| {labels[a]} | {torch_ms:.2f} | {py_cell} | {ours:.2f} | {comp:.2f} "
              f"| {r_torch:.1f} {mark(r_torch >= 5)} | {r_py_cell} |")

    print("\n| shapes | params | copy GB/s | our AdamW GB/s (28 B/param) | of copy (≥ 50%) "
          "| Python GB/s | MetaAdamW step ms (fused / composite) | Meta / ours (≤ 1.3) "
          "| meta-update in our-AdamW steps |")
    print("|---|---|---|---|---|---|---|---|---|")
    for a in args:
        n = t.get(("params", a), 0)
        copy_ms = t[("BM_Copy", a)]
        ours = t[("BM_OurAdamW", a)]
        copy_gbs = 4 * n * 8 / (copy_ms / 1e3) / 1e9
        ours_gbs = n * 28 / (ours / 1e3) / 1e9
        frac = ours_gbs / copy_gbs
        py = t.get(("BM_PythonAdamW", a))
        py_gbs = f"{n * 28 / (py / 1e3) / 1e9:.1f}" if py else "—"
        meta, meta_c = t[("BM_MetaAdamWStep", a)], t[("BM_MetaAdamWStepComposite", a)]
        withmeta = t[("BM_MetaAdamWStepWithMetaUpdate", a)]
        r_meta = meta / ours
        mu = (withmeta - meta) / ours
        ok &= frac >= 0.5 and r_meta <= 1.3
        print(f"| {labels[a]} | {n / 1e6:.2f} M | {copy_gbs:.1f} | {ours_gbs:.1f} "
              f"| {100 * frac:.0f}% {mark(frac >= 0.5)} | {py_gbs} | {meta:.2f} / {meta_c:.2f} "
              f"| {r_meta:.2f} {mark(r_meta <= 1.3)} | {mu:.1f} |")

    comp = [f"{labels[a]}: statistics {t[('BM_FeatureStatistics', a)]:.2f} ms, modulator "
            f"forward {t[('BM_ModulatorForward', a)]:.2f} ms" for a in args
            if ("BM_FeatureStatistics", a) in t]
    if comp:
        print("\nComponents (full statistics pass; modulator forward, no graph): " + "; ".join(comp))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
