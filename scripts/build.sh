#!/usr/bin/env bash
# Configures and builds uniws natively into a build folder (default: build).
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}
shift || true
case "$dir" in /*) ;; *) dir="$root/$dir" ;; esac
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUNIWS_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
