#!/usr/bin/env bash
# Builds the Debian package from a build folder, installs it with apt (which resolves the
# dependencies dpkg-shlibdeps found), runs what it installed — the CLI's version, a tiny
# training run, the studio's --help on the offscreen platform — and removes it again.
# Needs root; meant for a throwaway system (scripts/check-debian13.sh runs it in its
# Debian 13 chroot).   Usage: scripts/check-deb.sh BUILD_DIR
set -euo pipefail
build="$(cd "${1:?usage: check-deb.sh BUILD_DIR}" && pwd)"
[ "$(id -u)" = 0 ] || { echo "check-deb.sh: needs root (apt-get install)" >&2; exit 1; }
rm -f "$build"/metaadamw-studio_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/metaadamw-studio_*.deb)
echo "check-deb: built $(basename "$deb") ($(du -h "$deb" | cut -f1))"
dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/^ */check-deb:   depends /'
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
trap 'DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq metaadamw-studio >/dev/null' EXIT
work=$(mktemp -d)
/usr/bin/metaadamw --version | head -1
/usr/bin/metaadamw train --task synthetic --preset tiny --log "$work/run.h5" --quiet
/usr/bin/metaadamw inspect "$work/run.h5" | grep -q completed ||
  { echo "check-deb: the installed CLI's run did not complete" >&2; exit 1; }
QT_QPA_PLATFORM=offscreen /usr/bin/metaadamw-studio --help | grep -q -- --screenshots ||
  { echo "check-deb: the installed studio does not start" >&2; exit 1; }
rm -rf "$work"
echo "check-deb: the package installs, runs a training run and starts the studio"
