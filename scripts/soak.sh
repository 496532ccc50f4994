#!/usr/bin/env bash
# Soak: load against the scripted peer on 127.0.0.1 that checks RSS stays
# flat, no descriptor leaks, and no message is lost or reordered
# (tests/soak/soak.c says how). Both native network backends.
# Usage: scripts/soak.sh [--short|--long] [BUILD_DIR] [extra uniws-soak flags]
#   --short (default, what test.sh runs, about a minute): 50 connections x 10 s,
#           500 connect/close cycles, a 10,000-ping flood, per backend
#   --long  (docs/hardening.md): 1,000 connections x 60 s, 10,000 cycles,
#           a 100,000-ping flood, per backend
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=short
build="$root/build"
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --short) mode=short; shift ;;
    --long) mode=long; shift ;;
    --*) extra+=("$1" "$2"); shift 2 ;;
    *) build=$1; shift ;;
  esac
done
case "$build" in /*) ;; *) build="$root/$build" ;; esac
bin="$build/tests/soak/uniws-soak"
[ -x "$bin" ] || { echo "soak.sh: build $build first (scripts/build.sh)" >&2; exit 1; }
if [ "$mode" = long ]; then
  args=(--connections 1000 --seconds 60 --cycles 10000 --pings 100000)
else
  args=(--connections 50 --seconds 10 --cycles 500 --pings 10000)
fi
echo "soak ($mode): $bin ${args[*]} ${extra[*]}"
UNIWS_BACKEND= "$bin" "${args[@]}" "${extra[@]}"
