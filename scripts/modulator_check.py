#!/usr/bin/python3
"""Does the modulator learn? Reads MetaAdamW run logs (HDF5) and prints, per log, what
ISSUE step 7's bar asks: after step FROM, the fraction of α/β values within 1e-3 of a bound,
the spread of α across groups, how far α moves over the run, and the meta-gradient norms.
Usage: scripts/modulator_check.py [--from 50] [--json] LOG.h5 ...  (Debian's /usr/bin/python3
with h5py)."""
import argparse
import json
import math
import sys

import h5py
import numpy as np


def attr(f, name, default=None):
    v = f.attrs.get(name, default)
    if isinstance(v, bytes):
        v = v.decode()
    return v


def check(path, start):
    with h5py.File(path, "r", swmr=True) as f:
        steps = f["snapshots/step"][:]
        fac = f["snapshots/factors"][:].astype(np.float64)  # [S, G, 4]
        ra = float(attr(f, "alpha_range", 1.0))
        rb = float(attr(f, "beta_range", 1.0))
        keep = steps > start
        a = fac[keep, :, 0]
        b = fac[keep, :, 1]
        near = lambda x, lo, hi: (np.abs(x - lo) < 1e-3) | (np.abs(x - hi) < 1e-3)
        at_a = near(a, 1 - ra / 2, 1 + ra / 2).mean() if a.size else math.nan
        at_b = near(b, 1 - rb / 2, 1 + rb / 2).mean() if b.size else math.nan
        out = {
            "log": path,
            "task": attr(f, "task"),
            "design": attr(f, "modulator_design", "paper (schema v1)"),
            "snapshots_after": int(keep.sum()),
            "at_bound_alpha_beta": float((at_a + at_b) / 2),
            "at_bound_alpha": float(at_a),
            "at_bound_beta": float(at_b),
            # spread across groups, averaged over the snapshots after FROM
            "alpha_std_groups": float(a.std(axis=1).mean()) if a.size else math.nan,
            # how far α moves over the whole run: the largest per-group range
            "alpha_move": float((fac[:, :, 0].max(0) - fac[:, :, 0].min(0)).max()),
            "alpha_min": float(fac[:, :, 0].min()),
            "alpha_max": float(fac[:, :, 0].max()),
            "beta_min": float(fac[:, :, 1].min()),
            "beta_max": float(fac[:, :, 1].max()),
            "meta_updates": int(f["meta/step"].shape[0]),
            "final_loss": float(f["steps/loss"][-1]),
        }
        if "meta/grad_norm" in f:
            g = f["meta/grad_norm"][:]
            names = ["encoder", "head_alpha", "head_beta", "head_lambda1", "head_lambda2",
                     "gates", "group", "huw_s"]
            out["grad_norm_median"] = {n: float(np.nanmedian(g[:, i])) if np.isfinite(g[:, i]).any()
                                       else None for i, n in enumerate(names)}
            rc = f["meta/rel_change"][:]
            out["rel_change_median"] = float(np.nanmedian(rc[1:, 0])) if len(rc) > 1 else math.nan
        if f["evals/metric"].shape[0]:
            out["eval_metric"] = float(f["evals/metric"][-1])
        out["pass"] = bool(out["at_bound_alpha_beta"] <= 0.10 and out["alpha_std_groups"] > 0.005
                           and out["alpha_move"] > 0.005)
        return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--from", dest="start", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.add_argument("logs", nargs="+")
    a = p.parse_args()
    rows = [check(x, a.start) for x in a.logs]
    if a.json:
        json.dump(rows, sys.stdout, indent=1)
        return
    print("| log | design | at bound α/β | α std groups | α moves | α range | β range | "
          "|∇| enc / head α / head β / λ1 | rel change | loss | bar |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        g = r.get("grad_norm_median") or {}
        fmt = lambda v: "—" if v is None else f"{v:.1e}"
        print(f"| {r['log'].split('/')[-1]} | {r['design']} | {r['at_bound_alpha_beta']:.2f} | "
              f"{r['alpha_std_groups']:.4f} | {r['alpha_move']:.4f} | "
              f"{r['alpha_min']:.4f}–{r['alpha_max']:.4f} | {r['beta_min']:.4f}–{r['beta_max']:.4f} | "
              f"{fmt(g.get('encoder'))} / {fmt(g.get('head_alpha'))} / {fmt(g.get('head_beta'))} / "
              f"{fmt(g.get('head_lambda1'))} | {r.get('rel_change_median', math.nan):.1e} | "
              f"{r['final_loss']:.4f} | {'met' if r['pass'] else 'missed'} |")


if __name__ == "__main__":
    main()
