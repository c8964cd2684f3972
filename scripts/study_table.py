#!/usr/bin/python3
"""Tables of the modulator study (scripts/study-modulator.sh): per task, the best and final
evaluation metric of AdamW, MetaAdamW (learning design) and MetaAdamW (paper design) over
the seeds, the paired differences to AdamW with the two-sided paired t-test (exact for
df = 2: p = 1 − |t|/√(t² + 2)), and what the modulator did (α's range and spread across
groups at the end, the at-bound fraction over the run, meta-updates). Debian's python3."""
import glob
import json
import math
import os
import sys

import h5py
import numpy as np


def run(path_json):
    s = json.load(open(path_json))
    log = path_json[:-5] + ".h5"
    out = {"summary": s}
    with h5py.File(log, "r", swmr=True) as f:
        m = f["evals/metric"][:]
        higher = bool(f.attrs["metric_higher_is_better"])
        out["best"] = float(m.max() if higher else m.min())
        out["final"] = float(m[-1])
        out["higher"] = higher
        out["metric"] = f.attrs["metric_name"]
        out["metric"] = out["metric"].decode() if isinstance(out["metric"], bytes) else out["metric"]
        if "snapshots/factors" in f and f["snapshots/factors"].shape[0]:
            fac = f["snapshots/factors"][:].astype(np.float64)
            a = fac[:, :, 0]
            ra = float(f.attrs.get("alpha_range", 1.0))
            near = (np.abs(a - (1 - ra / 2)) < 1e-3) | (np.abs(a - (1 + ra / 2)) < 1e-3)
            out["alpha_end"] = (float(a[-1].min()), float(a[-1].max()))
            out["alpha_spread_end"] = float(a[-1].std())
            out["alpha_at_bound"] = float(near.mean())
            out["meta_updates"] = int(f["meta/step"].shape[0])
    return out


def paired(xs, ys):
    d = np.array(ys) - np.array(xs)
    n = len(d)
    if n < 2:
        return float(d.mean()) if n else math.nan, math.nan
    sd = d.std(ddof=1)
    if sd == 0:
        return float(d.mean()), (1.0 if d.mean() == 0 else 0.0)
    t = d.mean() / (sd / math.sqrt(n))
    if n == 3:
        p = 1 - abs(t) / math.sqrt(t * t + 2)
    else:  # normal approximation beyond df = 2 (not used by the study's three seeds)
        p = math.erfc(abs(t) / math.sqrt(2))
    return float(d.mean()), float(p)


def main(folder):
    runs = {}
    for j in sorted(glob.glob(os.path.join(folder, "*.json"))):
        name = os.path.basename(j)[:-5]
        task, variant, seed = name.rsplit("-", 2)
        runs.setdefault(task, {}).setdefault(variant, {})[seed] = run(j)
    print("| task (metric) | seeds | AdamW best | learning best | Δ, p | paper best | Δ, p | "
          "learning: α at the end (range, spread), at bound | paper: α at the end, at bound |")
    print("|---|---|---|---|---|---|---|---|---|")
    for task, v in runs.items():
        seeds = sorted(set(v.get("adamw", {})) & set(v.get("learning", {})) & set(v.get("paper", {})))
        if not seeds:
            continue
        first = v["adamw"][seeds[0]]
        arrow = "↑" if first["higher"] else "↓"
        col = lambda var: [v[var][s]["best"] for s in seeds]
        ms = lambda xs: f"{np.mean(xs):.4f} ± {np.std(xs, ddof=1) if len(xs) > 1 else 0:.4f}"
        cells = [f"{task} ({first['metric']} {arrow})", str(len(seeds)), ms(col("adamw"))]
        for var in ("learning", "paper"):
            d, p = paired(col("adamw"), col(var))
            cells += [ms(col(var)), f"{d:+.4f}, {p:.2f}"]
        for var in ("learning", "paper"):
            rs = [v[var][s] for s in seeds]
            lo = min(r["alpha_end"][0] for r in rs)
            hi = max(r["alpha_end"][1] for r in rs)
            spread = np.mean([r["alpha_spread_end"] for r in rs])
            bound = np.mean([r["alpha_at_bound"] for r in rs])
            cells.append(f"{lo:.3f}–{hi:.3f}, {spread:.3f}; {bound:.0%} "
                         f"({rs[0]['meta_updates']} meta-updates)")
        print("| " + " | ".join(cells) + " |")
    print()
    print("Per seed (best; final):")
    for task, v in runs.items():
        for var in ("adamw", "learning", "paper"):
            row = ", ".join(f"seed {s[4:]}: {r['best']:.4f}; {r['final']:.4f}"
                            for s, r in sorted(v.get(var, {}).items()))
            print(f"- {task} {var}: {row}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/modulator")
