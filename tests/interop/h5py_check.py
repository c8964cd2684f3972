#!/usr/bin/python3
"""Interop: a run log opens in h5py (Debian's python3-h5py), and its series equal what
the C++ reader returns (through `metaadamw export`, which reads with RunLogReader); the
same log rewritten by h5py as schema v1 wrote it (no meta diagnostics, no design
attributes) still inspects and exports.

Usage: h5py_check.py METAADAMW_CLI WORKDIR. Exit 77 (ctest: skipped) without h5py."""
import csv
import json
import os
import shutil
import subprocess
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:
    print(f"SKIPPED: {e} (apt-get install python3-h5py)")
    sys.exit(77)

cli, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
log = os.path.join(work, "interop.h5")
out = os.path.join(work, "interop_csv")
subprocess.run([cli, "train", "--task", "synthetic", "--preset", "tiny", "--device", "cpu",
                "--threads", "1", "--optimizer", "metaadamw", "--steps", "30", "--quiet",
                "--set", "snapshot_every=3", "--set", "attention_every=15",
                "--set", "meta_update_freq=10", "--log", log, "--overwrite"], check=True)
subprocess.run([cli, "export", log, "--csv", out], check=True, stderr=subprocess.DEVNULL)


def rows(name):
    with open(os.path.join(out, name), newline="") as f:
        return list(csv.DictReader(f))


failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


with h5py.File(log, "r", swmr=True) as f:  # swmr=True also opens a log still being written
    a = f.attrs
    check(a["schema"] in ("metaadamw-runlog", b"metaadamw-runlog"), "schema attribute")
    check(int(a["schema_version"]) == 5, "schema_version")
    status = a["status"]
    status = status.decode() if isinstance(status, bytes) else status
    check(status.rstrip("\0") == "completed", f"status {status!r}")

    steps = rows("steps.csv")
    loss = f["steps/loss"][:]
    check(len(steps) == len(loss) == 30, f"steps: csv {len(steps)}, h5py {len(loss)}")
    # 17 significant digits: the C++ reader's values, bit for bit.
    check(all(float(r["loss"]) == l for r, l in zip(steps, loss)), "steps/loss values differ")
    check([int(r["step"]) for r in steps] == list(f["steps/step"][:]), "steps/step differ")
    grad_norm = f["steps/grad_norm"][:]  # schema 3
    check(all(float(r["grad_norm"]) == g for r, g in zip(steps, grad_norm)) and
          bool(np.all(grad_norm > 0)), "steps/grad_norm values differ")

    feats = f["snapshots/features"][:]  # [S, G, F] float32
    names = [n.decode() if isinstance(n, bytes) else n for n in f["groups/name"][:]]
    fnames = [n.decode() if isinstance(n, bytes) else n for n in f["snapshots/feature_names"][:]]
    S, G, F = feats.shape
    check(S == 10 and G == len(names) and F == len(fnames), f"features shape {feats.shape}")
    long = rows("snapshots_features.csv")
    check(len(long) == S * G * F, "long features rows")
    snap_steps = list(f["snapshots/step"][:])
    for r in long[:: max(1, len(long) // 200)]:
        s = snap_steps.index(int(r["step"]))
        g = names.index(r["group"])
        k = fnames.index(r["feature"])
        check(np.float32(r["value"]) == feats[s, g, k], f"feature {r}")
    att = f["attention/probs"]
    check(att.shape[0] == 2 and att.shape[3] == att.shape[4] == G, f"attention {att.shape}")
    # Attention rows are probability distributions over keys.
    check(np.allclose(att[:].sum(axis=-1), 1.0, atol=1e-5), "attention rows sum to 1")
    kinds = [k.decode().rstrip("\0") for k in f["events/kind"][:]]
    check(kinds[0] == "started" and kinds[-1] == "completed", f"events {kinds}")

    # Schema v2: the modulator's design and ranges, the meta diagnostics with their axes.
    design = a.get("modulator_design", b"")
    design = (design.decode() if isinstance(design, bytes) else design).rstrip("\0")
    check(design in ("learning", "paper"), f"modulator_design {design!r}")
    for name in ("alpha_range", "beta_range"):
        check(name in a and np.isfinite(float(a[name])) and float(a[name]) > 0, name)
    M = f["meta/step"].shape[0]
    check(M >= 2, f"meta-updates {M}")
    meta_steps = list(f["meta/step"][:])
    blocks = ["encoder", "head_alpha", "head_beta", "head_lambda1", "head_lambda2", "gates",
              "group", "huw_s"]
    for name, axis, labels in (("grad_norm", "block", blocks),
                               ("rel_change", "part", ["modulator", "encoder", "head"]),
                               ("at_bound", "factor", ["alpha", "beta", "lambda1", "lambda2"])):
        d = f["meta/" + name]
        check(d.shape == (M, len(labels)) and d.dtype == np.float64, f"{name} {d.shape} {d.dtype}")
        axes = d.attrs.get("axes", b"")
        axes = axes.decode() if isinstance(axes, bytes) else axes
        check(axes.rstrip("\0") == "meta," + axis, f"{name} axes {axes!r}")
        values = d[:]
        long = rows(f"meta_{name}.csv")
        check(len(long) == M * len(labels), f"meta_{name}.csv rows {len(long)}")
        check(all(r[axis] in labels for r in long), f"meta_{name}.csv {axis} labels")
        for r in long:
            v, want = float(r["value"]), values[meta_steps.index(int(r["step"])), labels.index(r[axis])]
            check(v == want or (np.isnan(v) and np.isnan(want)), f"{name} {r} vs {want}")
    bound = f["meta/at_bound"][:]
    check(np.all((bound >= 0) & (bound <= 1)), "at_bound fractions in [0, 1]")
    # Schema 4: the trajectory, from the origin at step 0 then every snapshot_every steps.
    coords = f["trajectory/coords"][:]  # [P, K] float32
    tsteps = list(f["trajectory/step"][:])
    check(tsteps == list(range(0, 31, 3)) and coords.shape == (11, 2),
          f"trajectory steps {tsteps}, coords {coords.shape}")
    check(bool(np.all(coords[0] == 0)) and f["trajectory/distance"][0] == 0, "trajectory origin")
    check(f["trajectory/group_distance"].shape == (11, G) and
          bool(np.all(f["trajectory/distance"][1:] > 0)), "trajectory distances")
    check(int(a["trajectory_directions"]) == 2, "trajectory_directions attribute")
    # Schema 5: the model the run ends with (parameters, then buffers: none in this MLP).
    final = f["final/parameters"]
    check(final.shape == (1, int(a["num_parameters"])) and final.dtype == np.float32,
          f"final/parameters {final.shape} {final.dtype}")
    check(int(f["final/step"][0]) == 30 and bool(np.all(np.isfinite(final[:]))), "final/step")

# A probe writes its landscape into the finished log; h5py reads the amended file.
subprocess.run([cli, "landscape", "--grid", "3", log], check=True, capture_output=True)
with h5py.File(log, "r") as f:
    check(f["landscape/loss"].shape == (1, 9) and int(f.attrs["landscape_grid"]) == 3 and
          bool(np.all(np.isfinite(f["landscape/loss"][:]))), "probed landscape via h5py")
    check(f["landscape/anchor_x"][0] == f["landscape/center_x"][0], "landscape anchor")

# A v1 log: h5py deletes what v2 to v5 added and sets schema_version 1; the CLI still
# reads it.
v1 = os.path.join(work, "interop_v1.h5")
shutil.copyfile(log, v1)
with h5py.File(v1, "r+") as f:
    del f["steps/grad_norm"]
    del f["trajectory"]
    for name in ("final", "landscape"):
        if name in f:
            del f[name]
    for name in ("trajectory_directions", "trajectory_checksum", "landscape_grid"):
        del f.attrs[name]
    for name in ("grad_norm", "rel_change", "at_bound"):
        del f["meta/" + name]
    for name in ("modulator_design", "alpha_range", "beta_range"):
        if name in f.attrs:
            del f.attrs[name]
    f.attrs.modify("schema_version", np.int32(1))
text = subprocess.run([cli, "inspect", v1], check=True, capture_output=True, text=True).stdout
check("schema v1" in text and "design not recorded" in text and "not in this log" in text,
      f"inspect of a v1 log:\n{text}")
info = json.loads(subprocess.run([cli, "inspect", "--json", v1], check=True, capture_output=True,
                                 text=True).stdout)
diag = info["meta_diagnostics"]
check(info["schema_version"] == 1 and diag["modulator_design"] is None
      and diag["grad_norm"] is None and diag["meta_updates"] == M, f"inspect --json v1: {diag}")
out_v1 = os.path.join(work, "interop_v1_csv")
subprocess.run([cli, "export", v1, "--csv", out_v1], check=True, stderr=subprocess.DEVNULL)
check(not os.path.exists(os.path.join(out_v1, "meta_grad_norm.csv"))
      and os.path.exists(os.path.join(out_v1, "meta.csv")), "export of a v1 log")

if failures:
    print("FAILED:\n  " + "\n  ".join(failures[:20]))
    sys.exit(1)
print(f"h5py {h5py.version.version} (HDF5 {h5py.version.hdf5_version}) reads the log; "
      f"steps/loss, snapshots/features and the meta diagnostics equal the C++ reader's "
      f"export; a v1 log still inspects and exports")
