#!/usr/bin/env bash
# Builds and tests this checkout on Debian 13 (trixie: LibTorch 2.6, Qt 6.8, HDF5 1.14,
# GoogleTest 1.16, GCC 14) beside the Debian 12 host: a debootstrap chroot, made once and
# cached outside the source tree ($METAADAMW_DEBIAN13_ROOT, default /srv/trixie; see
# scripts/debian13-env.sh), with the project's own dependency list installed inside
# (packaging/install-deps.sh, through the README's test command), then the README's test
# command itself — install, build into build-debian13/, fetch data, the whole ctest suite —
# then builds the .deb there, installs it and runs it (scripts/check-deb.sh). Prints
# ctest's summary; exits non-zero when either failed. Needs root (debootstrap, chroot,
# mount).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
start=$(date +%s)
# The bind mounts (/proc, /sys, /dev, the checkout) last only as long as this check.
trap '"$repo/scripts/debian13-env.sh" unmount || true' EXIT
"$repo/scripts/debian13-env.sh" setup --build-deps
echo "check-debian13: environment ready after $(( $(date +%s) - start )) s" >&2
status=0
"$repo/scripts/debian13-env.sh" run env METAADAMW_BUILD_DIR="$repo/build-debian13" \
  scripts/test.sh || status=$?
# The .deb built there installs there and runs (scripts/check-deb.sh).
"$repo/scripts/debian13-env.sh" run scripts/check-deb.sh build-debian13 || status=1
echo "check-debian13: done in $(( $(date +%s) - start )) s (exit $status)" >&2
exit "$status"
