#!/usr/bin/env bash
# test-windows.sh — the Windows part of scripts/test.sh: cross-builds uniws
# for 64-bit Windows with mingw-w64 into build-win/, runs its unit tests and
# the conformance suite as Windows programs under wine against the native
# Linux scripted peer (from the native build folder, default build/), and
# copies conformance-win-<backend>.json into the native build folder for the
# matrix. UNIWS_SKIP_WINDOWS=1 skips it all.
#
#   scripts/test-windows.sh [NATIVE_BUILD_DIR]
#
# Extending it: a Windows dependency builds into $DEPS/prefix (the cache
# folder, kept across runs) and its backend joins WIN_BACKENDS below.
set -euo pipefail

if [ "${UNIWS_SKIP_WINDOWS:-0}" = 1 ]; then
  echo "test-windows: skipped (UNIWS_SKIP_WINDOWS=1)"
  exit 0
fi

here=$(cd "$(dirname "$0")/.." && pwd)
native=$(cd "$here" && mkdir -p "${1:-build}" && cd "${1:-build}" && pwd)
win="$here/build-win"
DEPS="$win/deps"
mkdir -p "$DEPS/src" "$DEPS/prefix"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

bash "$here/scripts/bootstrap.sh" --windows

# The scripted peer and the CLI come from the native build.
if [ ! -x "$native/tools/cli/uniws" ]; then
  bash "$here/scripts/build.sh" "$native"
fi

# ---- cmocka for mingw (Debian has none): Debian's source, built once ----------
# deb-src entries on the machine's own mirror (the URIs line of the main
# Debian sources entry, as bootstrap.sh's backports entry; scripts/windows-deps.sh
# writes the same file).
ensure_deb_src() {
  local dst=/etc/apt/sources.list.d/uniws-deb-src.sources
  if [ ! -f "$dst" ]; then
    local list=/etc/apt/sources.list.d/debian.sources uris=""
    [ -f "$list" ] && uris=$(awk '/^URIs:/ && $2 !~ /security/ { print; exit }' "$list")
    if [ -z "$uris" ] && [ -f /etc/apt/sources.list ]; then
      uris="URIs: $(awk '$1=="deb" && $3=="bookworm" { print $2; exit }' /etc/apt/sources.list)"
    fi
    if [ -z "$uris" ] || [ "$uris" = "URIs: " ]; then
      echo "test-windows: cannot find the Debian mirror" >&2
      exit 1
    fi
    printf 'Types: deb-src\n%s\nSuites: bookworm bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$uris" | $SUDO tee "$dst" >/dev/null
    $SUDO apt-get update -q -o DPkg::Lock::Timeout=900
  elif ! apt-cache showsrc cmocka >/dev/null 2>&1; then
    $SUDO apt-get update -q -o DPkg::Lock::Timeout=900
  fi
}

if [ ! -f "$DEPS/prefix/lib/libcmocka.a" ]; then
  ensure_deb_src
  rm -rf "$DEPS/src/cmocka"
  mkdir -p "$DEPS/src/cmocka"
  (cd "$DEPS/src/cmocka" && apt-get source --download-only -q cmocka >/dev/null)
  tarball=$(ls "$DEPS"/src/cmocka/cmocka_*.orig.tar.* | head -1)
  tar -xf "$tarball" -C "$DEPS/src/cmocka"
  srcdir=$(find "$DEPS/src/cmocka" -maxdepth 1 -type d -name 'cmocka-*' | head -1)
  cmake -S "$srcdir" -B "$DEPS/src/cmocka/build" -DCMAKE_TOOLCHAIN_FILE="$here/cmake/mingw-w64.cmake" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$DEPS/prefix" -DWITH_STATIC_LIB=ON \
    -DUNIT_TESTING=OFF -DWITH_EXAMPLES=OFF -DCMAKE_C_FLAGS=-D__USE_MINGW_ANSI_STDIO=1 >/dev/null
  nice -n 10 cmake --build "$DEPS/src/cmocka/build" -j2 --target install >/dev/null
  # Link it statically (no cmocka.dll and libgcc DLL to carry around).
  rm -f "$DEPS/prefix/lib/libcmocka.dll.a" "$DEPS/prefix/bin/cmocka.dll"
  mv "$DEPS/prefix/lib/libcmocka-static.a" "$DEPS/prefix/lib/libcmocka.a"
fi

# ---- win-deps: libcurl (Schannel) and libwebsockets for mingw, built once ---------
# from Debian's sources (scripts/windows-deps.sh; docs/platforms.md).
bash "$here/scripts/windows-deps.sh" "$DEPS" >/dev/null

# ---- the cross build -----------------------------------------------------------
# With the tools: uniws.exe (connect, backends, autobahn). WIN_CMAKE_ARGS: extra
# configure arguments (e.g. -DUNIWS_WITH_LWS=OFF).
WIN_CMAKE_ARGS=(${UNIWS_WIN_CMAKE_ARGS:-})
cmake -S "$here" -B "$win" -DCMAKE_TOOLCHAIN_FILE="$here/cmake/mingw-w64.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$DEPS/prefix" "${WIN_CMAKE_ARGS[@]}" >/dev/null
nice -n 10 cmake --build "$win" -j2

# The library and uniws.exe (CLI and scripted server) once more as plain ISO
# C (-std=c11 -pedantic -Wvla, warnings are errors): what MSVC and other
# compilers get must not rely on GNU extensions (docs/platforms.md). The CLI's
# help texts exceed C99's 4095-byte minimum for a string literal, well within
# MSVC's limit (65535 bytes after concatenation): -Wno-overlength-strings.
cmake -S "$here" -B "$win/pedantic" -DCMAKE_TOOLCHAIN_FILE="$here/cmake/mingw-w64.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$DEPS/prefix" -DUNIWS_BUILD_TESTS=OFF \
  "${WIN_CMAKE_ARGS[@]}" "-DCMAKE_C_FLAGS=-pedantic -Wvla -Wno-overlength-strings" >/dev/null
nice -n 10 cmake --build "$win/pedantic" -j2 --target uniws_static uniws_shared uniws
echo "test-windows: the library and uniws.exe build with -std=c11 -pedantic -Wvla -Werror"

# ---- wine ----------------------------------------------------------------------
export WINEPREFIX="$win/wineprefix" WINEDEBUG=-all
# DLLs: uniws.dll beside the build, mingw's zlib1.dll and libwinpthread-1.dll.
export WINEPATH="$win;$DEPS/prefix/bin;/usr/x86_64-w64-mingw32/lib"
# A persistent wineserver: ~0.2 s per program instead of ~1-6 s. Its helper
# processes keep any pipe open, so every wine call writes to files.
mkdir -p "$WINEPREFIX" # wineserver starts inside it; wine fills it on first use
wineserver -p 2>/dev/null || true # (one may be running already for this prefix)
trap 'wineserver -k >/dev/null 2>&1 || true' EXIT
wine cmd /c exit </dev/null >"$win/wineboot.log" 2>&1 || true

status=0
(cd "$win" && ctest -j2 --output-on-failure --timeout 120) || status=1

# ---- conformance columns ---------------------------------------------------------
# One column per backend the Windows runner has: win-<backend>.
WIN_BACKENDS=${UNIWS_WIN_BACKENDS:-"winhttp curl lws loopback"}
for b in $WIN_BACKENDS; do
  json="$native/conformance-win-$b.json"
  node "$here/tests/wasm/run-conformance.mjs" --engine wine --backend "$b" \
    --runner "$win/tests/windows/uniws-conformance-win.exe" --uniws "$native/tools/cli/uniws" \
    --certs "$native/tests/conformance/certs" --json "$json" || status=1
done

# ---- win-deps: uniws.exe connect against the native uniws serve -------------------
echo "test-windows: uniws.exe connect round trip"
bash "$here/tests/windows/test_connect.sh" "$native/tools/cli/uniws" "$win/tools/cli/uniws.exe" \
  $(for b in $WIN_BACKENDS; do [ "$b" != loopback ] && printf '%s ' "$b"; done) || status=1

# ---- win-demo: uniws.exe serve and demo (tools/server on Winsock) ------------------
# The other way round: the native uniws connect (lws and curl) against
# uniws.exe serve under wine; then uniws.exe demo, its own server and every
# Windows backend side by side.
echo "test-windows: native uniws connect against uniws.exe serve"
bash "$here/tests/windows/test_serve.sh" "$native/tools/cli/uniws" "$win/tools/cli/uniws.exe" \
  ${UNIWS_NATIVE_NET_BACKENDS:-lws curl} || status=1
echo "test-windows: uniws.exe demo"
bash "$here/tests/windows/test_demo.sh" "$win/tools/cli/uniws.exe" $WIN_BACKENDS || status=1
exit $status
