#!/usr/bin/env bash
# `cmake --install` into a staging folder: every file the package ships is there, the
# man pages are valid roff, the desktop entry and metadata parse.
set -euo pipefail
build=$1
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cmake --install "$build" --prefix "$stage/usr" > /dev/null
fail=0
for f in bin/metaadamw bin/metaadamw-studio share/man/man1/metaadamw.1 \
         share/man/man1/metaadamw-studio.1 share/applications/metaadamw-studio.desktop \
         share/icons/hicolor/scalable/apps/metaadamw-studio.svg \
         share/metainfo/io.github.metaadamw.Studio.metainfo.xml; do
  if [ ! -s "$stage/usr/$f" ]; then echo "missing: $f"; fail=1; fi
done
[ -x "$stage/usr/bin/metaadamw" ] || { echo "bin/metaadamw is not executable"; fail=1; }
"$stage/usr/bin/metaadamw" --version | grep -q '^metaadamw ' || { echo "installed CLI does not run"; fail=1; }
grep -q '^\.TH METAADAMW 1' "$stage/usr/share/man/man1/metaadamw.1" || { echo "metaadamw.1: no .TH"; fail=1; }
grep -q 'metaadamw inspect' "$stage/usr/share/man/man1/metaadamw.1" || { echo "metaadamw.1: no commands"; fail=1; }
if command -v man >/dev/null; then
  MANWIDTH=80 man -l "$stage/usr/share/man/man1/metaadamw-studio.1" 2>&1 | grep -q -- '--screenshots' \
    || { echo "metaadamw-studio.1 does not render"; fail=1; }
fi
grep -q '^Exec=metaadamw-studio' "$stage/usr/share/applications/metaadamw-studio.desktop" || fail=1
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$stage/usr/share/applications/metaadamw-studio.desktop" || fail=1
fi
/usr/bin/python3 -c "import sys, xml.dom.minidom as m; m.parse(sys.argv[1]); m.parse(sys.argv[2])" \
  "$stage/usr/share/metainfo/io.github.metaadamw.Studio.metainfo.xml" \
  "$stage/usr/share/icons/hicolor/scalable/apps/metaadamw-studio.svg" || { echo "XML does not parse"; fail=1; }
[ $fail -eq 0 ] && echo "install: every file in place"
exit $fail
