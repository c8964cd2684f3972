#!/usr/bin/env python3
"""Turns one Google Benchmark JSON run (medians when repeated) of metaadamw_optim_bench into the ratio table of
BENCHMARKS.md (stdout). Standard library only."""
import json
import sys

TARGETS = {
    "ours_vs_torch": ("our AdamW / torch::optim::AdamW", 1.0, "<="),
    "meta_vs_ours": ("MetaAdamW step / our AdamW", 1.5, "<="),
}


def main(path):
    data = json.load(open(path))
    t = {}
    for b in data["benchmarks"]:
        # With repetitions, only the medians count.
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name, arg = b["name"].split("/")[0], b["name"].split("/")[1]
        t[(name, arg)] = b["real_time"]  # ms (Unit(kMillisecond))
        t[("label", arg)] = b.get("label", arg)
    ctx = data["context"]
    print(f"Machine: {ctx.get('num_cpus')} × {ctx.get('mhz_per_cpu')} MHz, "
          f"date {ctx.get('date')}, library build {ctx.get('library_build_type')}.\n")
    print("| shapes | torch AdamW ms | our AdamW ms | MetaAdamW step ms | step + meta-update ms "
          "| ours/torch (≤ 1) | Meta/ours (≤ 1.5) | meta-update in our-AdamW steps |")
    print("|---|---|---|---|---|---|---|---|")
    ok = True
    for arg in sorted({a for (_, a) in t if _ != "label"}):
        torch_ms = t[("BM_TorchAdamW", arg)]
        ours = t[("BM_OurAdamW", arg)]
        meta = t[("BM_MetaAdamWStep", arg)]
        withmeta = t[("BM_MetaAdamWStepWithMetaUpdate", arg)]
        r1, r2 = ours / torch_ms, meta / ours
        mu = (withmeta - meta) / ours
        ok &= r1 <= 1.0 and r2 <= 1.5
        print(f"| {t[('label', arg)]} | {torch_ms:.2f} | {ours:.2f} | {meta:.2f} | {withmeta:.2f} "
              f"| {r1:.2f} {'✓' if r1 <= 1.0 else '✗'} | {r2:.2f} {'✓' if r2 <= 1.5 else '✗'} "
              f"| {mu:.1f} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
