#!/usr/bin/env bash
# run-web.sh — the browser benchmark (issue 13): builds uniws-bench-server
# natively (Release, build-release/) and `uniws bench` with Emscripten
# (build-release/wasm/bench/web/uniws-bench.js), then runs
# bench/web/run-web.mjs: uniws (wasm) next to the runtime's own WebSocket
# from plain JavaScript, in Node.js and in headless Chromium, interleaved,
# and prints the markdown table (also bench/results/latest-web.md; every
# run's JSON line in bench/results/runs-web.jsonl).
#
#   bench/run-web.sh [--build DIR] [--no-build] [run-web.mjs options:
#                    --quick --reps N --only small,rtt,4k,1m,16m --engines node,chromium
#                    --out DIR --no-pin --ab OLD_uniws-bench.js ...]
#
# Needs emscripten, node (20+) and chromium (scripts/bootstrap.sh --web).
# Chromium is started directly, without a DevTools driver (see run-web.mjs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-release
do_build=1
pass=()
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$(realpath -m "$2"); shift ;;
    --no-build) do_build=0 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) pass+=("$1") ;;
  esac
  shift
done
wasm=$build/wasm

# Debian's emcc finds its acorn only through NODE_PATH when node is not Debian's.
if [ -d /usr/share/nodejs/acorn ]; then
  export NODE_PATH="${NODE_PATH:+$NODE_PATH:}/usr/share/nodejs"
fi
if [ $do_build = 1 ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DUNIWS_BUILD_TESTS=OFF \
    -DUNIWS_WERROR=OFF >/dev/null
  cmake --build "$build" -j2 --target uniws-bench-server >/dev/null
  emcmake cmake -S "$root" -B "$wasm" -DCMAKE_BUILD_TYPE=Release -DUNIWS_BUILD_TESTS=OFF \
    -DUNIWS_WERROR=OFF >/dev/null
  cmake --build "$wasm" -j2 --target uniws-bench-web >/dev/null
fi
export RUN_WEB_ARGS="${pass[*]:-}"
exec node "$root/bench/web/run-web.mjs" --server "$build/bench/uniws-bench-server" \
  --wasm "$wasm/bench/web/uniws-bench.js" "${pass[@]}"
