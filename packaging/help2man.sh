#!/usr/bin/env bash
# A man page from a program's --help (what help2man does, kept small and dependency-free).
# Usage: help2man.sh PROGRAM NAME SUMMARY OUT.1
set -euo pipefail
prog=$1 name=$2 summary=$3 out=$4
export QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
help=$("$prog" --help 2>/dev/null)
version=$("$prog" --version 2>/dev/null)
version=${version%%$'\n'*}
{
  printf '.TH %s 1 "%s" "%s" "User Commands"\n' "$(echo "$name" | tr a-z A-Z)" "$(date -u +%Y-%m-%d)" "$version"
  printf '.SH NAME\n%s \\- %s\n' "$name" "$summary"
  printf '.SH DESCRIPTION\n.nf\n'
  # Roff: escape backslashes, and lines that begin with a dot or an apostrophe.
  printf '%s\n' "$help" | sed -e "s#$prog#$name#g" -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
  printf '.fi\n.SH SEE ALSO\nmetaadamw(1), metaadamw-studio(1); docs/CLI.md and docs/LOG_FORMAT.md in the sources.\n'
} > "$out"
