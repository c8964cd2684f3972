#!/usr/bin/env python3
"""Turns one run of scripts/bench.sh into the tables of BENCHMARKS.md (stdout): the
Google Benchmark JSON of metaadamw_optim_bench (medians when repeated), optionally the
same benchmark with other kernel variants forced (METAADAMW_CPU_ISA), built against
LibTorch >= 2.4 (ours beside at::_fused_adamw_), and Python's torch.optim.AdamW on the
same shapes (torch_adamw.py: foreach and for-loop on the host's torch, `fused=True` where
torch >= 2.4). Exit status 1 when a target of step 8 is missed on the default variant, 3
when the PyTorch fused peer was not measured. Standard library only.

Usage: report.py optim_bench.json [--variant JSON]... [--libtorch2 JSON]
                 [--python JSON] [--peer JSON]
"""
import argparse
import json
import sys

ADAMW_OVER_COPY = 1.5  # our AdamW ≤ 1.5× the 4-buffer copy
META_OVER_ADAMW = 1.5  # MetaAdamW step ≤ 1.5× our AdamW (aim 1.3)
META_AIM = 1.3


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


def fmt(x, digits=2):
    return "—" if x is None else f"{x:.{digits}f}"


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("bench")
    ap.add_argument("--variant", action="append", default=[])
    ap.add_argument("--libtorch2")
    ap.add_argument("--python")
    ap.add_argument("--peer")
    a = ap.parse_args(argv[1:])

    ctx, t, labels = medians(a.bench)
    args = sorted(x for (name, x) in t if name == "BM_OurAdamW")
    print(f"CPU: {ctx.get('cpu_model', '?')} — {ctx.get('num_cpus')} × "
          f"{ctx.get('mhz_per_cpu')} MHz; SIMD flags: {ctx.get('cpu_flags', '?')}.")
    print(f"Kernels: {ctx.get('cpu_isa', '?')} (best this CPU runs: "
          f"{ctx.get('cpu_isa_best', '?')}); LibTorch {ctx.get('libtorch', '?')}, "
          f"{ctx.get('threads', '?')} threads; {ctx.get('date')}, "
          f"library build {ctx.get('library_build_type')}.")

    py = peer = None
    if a.python:
        pctx, py, _ = medians(a.python)
        print(f"Python (host): torch {pctx.get('python_torch')}, {pctx.get('threads')} threads, "
              f"ATen capability {pctx.get('aten_cpu_capability', '?')}.")
    if a.peer:
        pctx, peer, _ = medians(a.peer)
        print(f"Peer: PyTorch {pctx.get('python_torch')} (`fused=True`), {pctx.get('threads')} "
              f"threads, ATen capability {pctx.get('aten_cpu_capability', '?')}.")
    fused_peer = peer if peer and any(k[0] == "BM_PythonAdamWFused" for k in peer) else \
        (py if py and any(k[0] == "BM_PythonAdamWFused" for k in py) else None)
    print()

    ok = True
    print(f"| shapes | params | copy ms | our AdamW ms | PyTorch fused AdamW ms "
          f"| ours / copy (≤ {ADAMW_OVER_COPY}) | ours / PyTorch fused (≤ 1) "
          f"| MetaAdamW step ms | Meta / ours (≤ {META_OVER_ADAMW}; aim {META_AIM}) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for x in args:
        n = t.get(("params", x), 0)
        copy, ours, meta = t[("BM_Copy", x)], t[("BM_OurAdamW", x)], t[("BM_MetaAdamWStep", x)]
        r_copy, r_meta = ours / copy, meta / ours
        ok &= r_copy <= ADAMW_OVER_COPY and r_meta <= META_OVER_ADAMW
        pf = fused_peer.get(("BM_PythonAdamWFused", x)) if fused_peer else None
        r_pf = f"{ours / pf:.2f} {mark(ours <= pf)}" if pf else "not measured"
        if pf:
            ok &= ours <= pf
        aim = "" if r_meta <= META_AIM else " (aim missed)"
        print(f"| {labels[x]} | {n / 1e6:.2f} M | {copy:.2f} | {ours:.2f} | {fmt(pf)} "
              f"| {r_copy:.2f} {mark(r_copy <= ADAMW_OVER_COPY)} | {r_pf} | {meta:.2f} "
              f"| {r_meta:.2f} {mark(r_meta <= META_OVER_ADAMW)}{aim} |")

    if a.variant:
        print("\nEvery other kernel variant this CPU runs, forced (METAADAMW_CPU_ISA), same "
              "minutes (informational: a CPU whose best is that variant has its own memory "
              "system):\n")
        print("| variant | shapes | copy ms | our AdamW ms | ours / copy | MetaAdamW step ms "
              "| Meta / ours |")
        print("|---|---|---|---|---|---|---|")
        for path in a.variant:
            vctx, vt, vlabels = medians(path)
            for x in sorted(y for (name, y) in vt if name == "BM_OurAdamW"):
                copy, ours = vt[("BM_Copy", x)], vt[("BM_OurAdamW", x)]
                meta = vt.get(("BM_MetaAdamWStep", x))
                print(f"| {vctx.get('cpu_isa')} | {vlabels[x]} | {copy:.2f} | {ours:.2f} "
                      f"| {ours / copy:.2f} | {fmt(meta)} "
                      f"| {fmt(meta / ours if meta else None)} |")

    if a.libtorch2:
        lctx, lt, llabels = medians(a.libtorch2)
        print(f"\nBuilt against LibTorch {lctx.get('libtorch')} (Debian 13), same minutes: our "
              f"kernel ({lctx.get('cpu_isa')}) beside ATen's at::_fused_adamw_ "
              "(`adamw_kernel=aten`):\n")
        print("| shapes | our AdamW ms | at::_fused_adamw_ ms | composite ms | ATen / ours |")
        print("|---|---|---|---|---|")
        for x in sorted(y for (name, y) in lt if name == "BM_OurAdamW"):
            ours, aten = lt[("BM_OurAdamW", x)], lt.get(("BM_AtenFusedAdamW", x))
            print(f"| {llabels[x]} | {ours:.2f} | {fmt(aten)} "
                  f"| {fmt(lt.get(('BM_OurAdamWComposite', x)))} "
                  f"| {fmt(aten / ours if aten else None)} |")

    print("\nEarlier comparisons (informational; issues of steps 2 and 6):\n")
    print("| shapes | torch::optim::AdamW ms | Python foreach AdamW ms | our AdamW composite ms "
          "| torch / ours | our GB/s (28 B/param) | copy GB/s | MetaAdamW composite ms "
          "| meta-update in our-AdamW steps |")
    print("|---|---|---|---|---|---|---|---|---|")
    for x in args:
        n = t.get(("params", x), 0)
        ours, copy = t[("BM_OurAdamW", x)], t[("BM_Copy", x)]
        pyf = py.get(("BM_PythonAdamW", x)) if py else None
        withmeta = t.get(("BM_MetaAdamWStepWithMetaUpdate", x))
        mu = (withmeta - t[("BM_MetaAdamWStep", x)]) / ours if withmeta else None
        print(f"| {labels[x]} | {t[('BM_TorchAdamW', x)]:.2f} | {fmt(pyf)} "
              f"| {t[('BM_OurAdamWComposite', x)]:.2f} | {t[('BM_TorchAdamW', x)] / ours:.1f} "
              f"| {n * 28 / (ours / 1e3) / 1e9:.1f} | {4 * n * 8 / (copy / 1e3) / 1e9:.1f} "
              f"| {t[('BM_MetaAdamWStepComposite', x)]:.2f} | {fmt(mu, 1)} |")

    comp = [f"{labels[x]}: moments pass {t[('BM_MetaMomentsPass', x)]:.2f} ms, parameter pass "
            f"{t[('BM_MetaParamPass', x)]:.2f} ms, statistics {t[('BM_FeatureStatistics', x)]:.2f}"
            f" ms, modulator forward {t[('BM_ModulatorForward', x)]:.3f} ms" for x in args
            if ("BM_MetaMomentsPass", x) in t and ("BM_FeatureStatistics", x) in t]
    if comp:
        print("\nComponents: " + "; ".join(comp))
    if not ok:
        print("\nA target is missed (✗ above).")
        return 1
    if fused_peer is None:
        print("\nPyTorch's fused AdamW was not measured (no torch >= 2.4 here): the target "
              "'ours ≤ PyTorch fused' is unchecked.")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
