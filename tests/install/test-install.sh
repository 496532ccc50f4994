#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds and runs a consumer
# with find_package(uniws) (shared and static) and with pkg-config.
# Usage: test-install.sh BUILD_DIR SOURCE_DIR [EXTRA_CFLAGS]
set -euo pipefail
build=$1
src=$2
san=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
test -f "$tmp/prefix/include/uniws/uniws.h"
lib=$(ls -d "$tmp"/prefix/lib* | head -1)
test -f "$lib/libuniws.a"
ls "$lib"/libuniws.so* >/dev/null
test -f "$lib/pkgconfig/uniws.pc"
test -f "$lib/cmake/uniws/uniwsConfig.cmake"

cmake -S "$src/consumer" -B "$tmp/cbuild" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" >/dev/null
cmake --build "$tmp/cbuild" >/dev/null
LD_LIBRARY_PATH="$lib" "$tmp/cbuild/consumer_shared"
"$tmp/cbuild/consumer_static"
# The shared one must really use the installed shared library.
# (No "| grep -q" under pipefail: ldd would die of SIGPIPE when grep exits first.)
deps_of=$(LD_LIBRARY_PATH="$lib" ldd "$tmp/cbuild/consumer_shared")
case "$deps_of" in
  *"$lib/libuniws.so"*) ;;
  *) echo "consumer_shared does not load $lib/libuniws.so:" >&2; echo "$deps_of" >&2; exit 1 ;;
esac

export PKG_CONFIG_PATH="$lib/pkgconfig"
cc $san -o "$tmp/pc_consumer" "$src/consumer/consumer.c" $(pkg-config --cflags --libs uniws)
LD_LIBRARY_PATH="$lib" "$tmp/pc_consumer"
# Static: the archive plus the direct dependencies the .pc names privately.
deps=$(pkg-config --print-requires-private uniws | awk '{print $1}' | tr '\n' ' ')
cc $san -o "$tmp/pc_static" "$src/consumer/consumer.c" $(pkg-config --cflags uniws) "$lib/libuniws.a" \
   $(pkg-config --libs $deps) -lpthread
"$tmp/pc_static"
echo "install: find_package (shared, static) and pkg-config (shared, static) consumers all passed"
