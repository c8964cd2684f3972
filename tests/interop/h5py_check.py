#!/usr/bin/python3
"""Interop: a run log opens in h5py (Debian's python3-h5py), and its series equal what
the C++ reader returns (through `metaadamw export`, which reads with RunLogReader).

Usage: h5py_check.py METAADAMW_CLI WORKDIR. Exit 77 (ctest: skipped) without h5py."""
import csv
import os
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
                "--set", "meta_update_freq=10", "--log", log], check=True)
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
    check(int(a["schema_version"]) == 1, "schema_version")
    status = a["status"]
    status = status.decode() if isinstance(status, bytes) else status
    check(status.rstrip("\0") == "completed", f"status {status!r}")

    steps = rows("steps.csv")
    loss = f["steps/loss"][:]
    check(len(steps) == len(loss) == 30, f"steps: csv {len(steps)}, h5py {len(loss)}")
    # 17 significant digits: the C++ reader's values, bit for bit.
    check(all(float(r["loss"]) == l for r, l in zip(steps, loss)), "steps/loss values differ")
    check([int(r["step"]) for r in steps] == list(f["steps/step"][:]), "steps/step differ")

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

if failures:
    print("FAILED:\n  " + "\n  ".join(failures[:20]))
    sys.exit(1)
print(f"h5py {h5py.version.version} (HDF5 {h5py.version.hdf5_version}) reads the log; "
      f"steps/loss and snapshots/features equal the C++ reader's export")
