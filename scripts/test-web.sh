#!/usr/bin/env bash
# The WebAssembly part of the test command: builds uniws, the conformance
# runner and the example with emcmake into NATIVE_BUILD/wasm, runs the wasm
# tests (loop mapping in Node.js, the conformance suite under Node.js 20 and
# in headless Chromium, the example page end to end) against the native
# build's scripted peer, then regenerates the native build's conformance
# matrix so it shows the wasm-node and wasm-chromium columns.
# Needs: scripts/bootstrap.sh --web (emscripten, chromium) and a native build.
# Usage: scripts/test-web.sh [NATIVE_BUILD_DIR]   (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
native=${1:-build}
case "$native" in /*) ;; *) native="$root/$native" ;; esac
wasm="$native/wasm"
start=$(date +%s)

die() { echo "test-web: $*" >&2; exit 2; }
[ -x "$native/tools/cli/uniws" ] || die "no native build in $native (run scripts/build.sh first)"
command -v emcmake >/dev/null || die "emcmake not found (scripts/bootstrap.sh --web)"
command -v node >/dev/null || die "node not found (scripts/bootstrap.sh)"

# Debian's emcc runs its JavaScript optimizer with the `node` on PATH, which
# only finds Debian's acorn through NODE_PATH when it is not Debian's node.
if [ -d /usr/share/nodejs/acorn ]; then
  export NODE_PATH="${NODE_PATH:+$NODE_PATH:}/usr/share/nodejs"
fi

# playwright-core drives the system Chromium; it never downloads a browser.
if [ ! -d "$root/tests/node/node_modules/playwright-core" ]; then
  (cd "$root/tests/node" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
     npm install --no-audit --no-fund --silent)
fi

echo "test-web: configuring $wasm"
emcmake cmake -S "$root" -B "$wasm" -DCMAKE_BUILD_TYPE=Release -DUNIWS_WERROR=ON \
  -DUNIWS_NATIVE_BUILD_DIR="$native" >/dev/null
# Only the web targets: the native-only test folders have nothing to build here.
targets=(uniws_static test_web_loop_plain test_web_loop_asyncify uniws-conformance-web echo_client chat_client
         uniws-bench-web)
echo "test-web: building ${targets[*]} ($(( $(date +%s) - start ))s)"
cmake --build "$wasm" -j"$(nproc)" --target "${targets[@]}"

echo "test-web: running the wasm tests ($(( $(date +%s) - start ))s)"
status=0
(cd "$wasm" && ctest --output-on-failure --timeout 900 -j2 -L 'wasm|example') || status=$?

# The native matrix picks up conformance-wasm-*.json from its build folder.
if [ -f "$native/CTestTestfile.cmake" ]; then
  (cd "$native" && ctest -R '^conformance\.matrix$' --output-on-failure) || status=$?
fi
echo "test-web: done in $(( $(date +%s) - start ))s (status $status)"
exit "$status"
