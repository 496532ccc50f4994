#!/usr/bin/env bash
# Fetches the sources of uniws's Windows dependencies from Debian's archive
# (never from anywhere else) and cross-builds them with mingw-w64 into a cache
# folder inside the build tree, once: later runs find the stamps and return.
#
#   libcurl 8.14.1 (bookworm-backports source): static, Schannel TLS, zlib
#   libwebsockets 4.1.6 (bookworm source): static, no TLS, LWS_WITH_EXTERNAL_POLL
#
# zlib for mingw comes from Debian's libz-mingw-w64-dev package. libuv is not
# built: on Windows the lws backend drives lws through lws's external-poll
# callbacks on the uniws loop itself (backends/lws/drive_poll.c says why).
#
# Usage: scripts/windows-deps.sh [DEPS_DIR]     (default: build-win/deps)
# Prints the install prefix (DEPS_DIR/prefix) on its last line.
# Needs: mingw-w64, libz-mingw-w64-dev, cmake, dpkg-dev (scripts/bootstrap.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
deps=${1:-$root/build-win/deps}
case "$deps" in /*) ;; *) deps="$root/$deps" ;; esac
prefix=$deps/prefix
src=$deps/src
mkdir -p "$prefix" "$src"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

CURL_VERSION=8.14.1
LWS_VERSION=4.1.6
curl_stamp=$prefix/.curl-$CURL_VERSION
lws_stamp=$prefix/.lws-$LWS_VERSION

lws_pc=$prefix/lib/pkgconfig/libwebsockets.pc
if [ -f "$curl_stamp" ] && [ -f "$lws_stamp" ] && [ -f "$lws_pc" ]; then
  echo "windows-deps: cached (curl $CURL_VERSION, libwebsockets $LWS_VERSION)"
  echo "$prefix"
  exit 0
fi

for tool in x86_64-w64-mingw32-gcc cmake dpkg-source; do
  command -v "$tool" >/dev/null || {
    echo "windows-deps: $tool is missing (bash scripts/bootstrap.sh --windows)" >&2
    exit 1
  }
done

# deb-src entries for bookworm and bookworm-backports, on the machine's own
# mirror: the URIs line of the main Debian sources entry (as bootstrap.sh's
# add_backports does), so no host name is written here.
add_deb_src() {
  local dst=/etc/apt/sources.list.d/uniws-deb-src.sources
  [ -f "$dst" ] && return 1
  local list=/etc/apt/sources.list.d/debian.sources uris=""
  if [ -f "$list" ]; then
    uris=$(awk '/^URIs:/ && $2 !~ /security/ { print; exit }' "$list")
  fi
  if [ -z "$uris" ] && [ -f /etc/apt/sources.list ]; then
    uris="URIs: $(awk '$1=="deb" && $3=="bookworm" { print $2; exit }' /etc/apt/sources.list)"
  fi
  if [ -z "$uris" ] || [ "$uris" = "URIs: " ]; then
    echo "windows-deps: cannot find the Debian mirror in $list" >&2
    exit 1
  fi
  printf 'Types: deb-src\n%s\nSuites: bookworm bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uris" | $SUDO tee "$dst" >/dev/null
  return 0
}
if add_deb_src || ! apt-cache showsrc libwebsockets >/dev/null 2>&1; then
  $SUDO apt-get update -q -o DPkg::Lock::Timeout=900
fi

# The upstream tarball of a source package, checked against the SHA-256 in
# the Sources index (which apt verified against the archive's signed
# InRelease). apt-get source also fetches the .dsc and the Debian diff; a
# missing .dsc (seen for backports on snapshot mirrors) is tolerated as long
# as the tarball arrived and its checksum matches the signed index.
fetch_orig() { # package version-regex -> prints the tarball's path
  local pkg=$1 want=$2 dir=$src/$1
  mkdir -p "$dir"
  local ver
  ver=$(apt-cache showsrc "$pkg" | awk '/^Version:/ { print $2 }' | grep -E "$want" | sort -V | tail -1)
  [ -n "$ver" ] || { echo "windows-deps: no $pkg source matching $want" >&2; exit 1; }
  local upstream=${ver#*:}
  upstream=${upstream%-*}
  # The stanza of that version: "SHA-256 size name" lines of its files.
  local files
  files=$(apt-cache showsrc "$pkg" | awk -v v="$ver" 'BEGIN { RS = "" }
    { ok = 0; n = split($0, l, "\n"); on = 0
      for (i = 1; i <= n; i++) { if (l[i] == "Version: " v) ok = 1 }
      if (!ok) next
      for (i = 1; i <= n; i++) {
        if (l[i] ~ /^Checksums-Sha256:/) { on = 1; continue }
        if (l[i] ~ /^[^ ]/) on = 0
        if (on) print l[i]
      }
      exit }')
  local tarball sum
  tarball=$(echo "$files" | awk '$3 ~ /\.orig\.tar\.[a-z0-9]+$/ { print $3; exit }')
  sum=$(echo "$files" | awk -v f="$tarball" '$3 == f { print $1; exit }')
  [ -n "$tarball" ] && [ -n "$sum" ] || { echo "windows-deps: $pkg $ver has no .orig tarball" >&2; exit 1; }
  if [ ! -f "$dir/$tarball" ] || ! echo "$sum  $dir/$tarball" | sha256sum -c --quiet - >/dev/null 2>&1; then
    (cd "$dir" && apt-get source -q --download-only "$pkg=$ver" >"$dir/fetch.log" 2>&1) ||
      echo "windows-deps: apt-get source $pkg=$ver reported an error (see $dir/fetch.log); checking the tarball" >&2
  fi
  [ -f "$dir/$tarball" ] || { echo "windows-deps: $tarball was not fetched" >&2; exit 1; }
  echo "$sum  $dir/$tarball" | sha256sum -c --quiet - || {
    echo "windows-deps: $tarball does not match the signed index" >&2
    exit 1
  }
  echo "$dir/$tarball"
}

# Unpacks a tarball into a fresh folder and prints its top directory.
unpack() { # tarball dest
  rm -rf "$2"
  mkdir -p "$2"
  tar -xf "$1" -C "$2"
  local top
  top=$(find "$2" -mindepth 1 -maxdepth 1 -type d | head -1)
  echo "$top"
}

xcmake=(-DCMAKE_SYSTEM_NAME=Windows -DCMAKE_SYSTEM_PROCESSOR=x86_64
  -DCMAKE_C_COMPILER=x86_64-w64-mingw32-gcc -DCMAKE_RC_COMPILER=x86_64-w64-mingw32-windres
  "-DCMAKE_FIND_ROOT_PATH=/usr/x86_64-w64-mingw32;$prefix"
  -DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER -DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY
  -DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY -DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY
  -DCMAKE_BUILD_TYPE=Release "-DCMAKE_INSTALL_PREFIX=$prefix" -DBUILD_SHARED_LIBS=OFF)
jobs=${UNIWS_JOBS:-2}

if [ ! -f "$curl_stamp" ]; then
  t0=$(date +%s)
  tb=$(fetch_orig curl "^[0-9:]*${CURL_VERSION//./\\.}-")
  top=$(unpack "$tb" "$src/curl/tree")
  # Schannel (the system's TLS), zlib; nothing the Windows build cannot
  # provide from here (no libpsl, idn2, ssh, http2, brotli, zstd, ldap).
  nice -n 10 cmake -S "$top" -B "$src/curl/build" "${xcmake[@]}" \
    -DCURL_USE_SCHANNEL=ON -DCURL_USE_OPENSSL=OFF -DCURL_ZLIB=ON -DCURL_BROTLI=OFF \
    -DCURL_ZSTD=OFF -DUSE_NGHTTP2=OFF -DUSE_LIBIDN2=OFF -DUSE_WIN32_IDN=OFF \
    -DCURL_USE_LIBPSL=OFF -DCURL_USE_LIBSSH2=OFF -DCURL_USE_LIBSSH=OFF \
    -DCURL_DISABLE_LDAP=ON -DBUILD_CURL_EXE=OFF -DBUILD_TESTING=OFF -DBUILD_EXAMPLES=OFF \
    -DBUILD_LIBCURL_DOCS=OFF -DBUILD_MISC_DOCS=OFF -DENABLE_CURL_MANUAL=OFF \
    -DCURL_DISABLE_WEBSOCKETS=OFF >"$src/curl/configure.log" 2>&1 ||
    { tail -30 "$src/curl/configure.log" >&2; exit 1; }
  nice -n 10 cmake --build "$src/curl/build" -j"$jobs" >"$src/curl/build.log" 2>&1 ||
    { tail -30 "$src/curl/build.log" >&2; exit 1; }
  cmake --install "$src/curl/build" >/dev/null
  touch "$curl_stamp"
  echo "windows-deps: libcurl $CURL_VERSION built in $(( $(date +%s) - t0 ))s" >&2
fi

if [ ! -f "$lws_stamp" ]; then
  t0=$(date +%s)
  tb=$(fetch_orig libwebsockets "^[0-9:]*${LWS_VERSION//./\\.}-")
  top=$(unpack "$tb" "$src/libwebsockets/tree")
  # No TLS (the backend would run OpenSSL itself, and no OpenSSL for mingw
  # comes from Debian's archive ready-built), no libuv: lws's external poll
  # callbacks let the uniws loop watch lws's sockets directly.
  nice -n 10 cmake -S "$top" -B "$src/libwebsockets/build" "${xcmake[@]}" \
    -DLWS_WITH_SSL=OFF -DLWS_WITH_EXTERNAL_POLL=ON -DLWS_WITH_LIBUV=OFF \
    -DLWS_WITH_SHARED=OFF -DLWS_WITH_STATIC=ON -DLWS_WITHOUT_TESTAPPS=ON \
    -DLWS_WITHOUT_TEST_SERVER=ON -DLWS_WITHOUT_TEST_SERVER_EXTPOLL=ON \
    -DLWS_WITHOUT_TEST_PING=ON -DLWS_WITHOUT_TEST_CLIENT=ON -DLWS_WITH_MINIMAL_EXAMPLES=OFF \
    -DLWS_WITHOUT_EXTENSIONS=ON -DLWS_WITH_ZLIB=OFF -DLWS_WITH_ZIP_FOPS=OFF \
    -DLWS_WITH_BUNDLED_ZLIB=OFF -DLWS_IPV6=ON -DLWS_WITHOUT_DAEMONIZE=ON \
    -DLWS_WITH_LWSWS=OFF -DLWS_WITH_HTTP2=OFF -DLWS_WITH_SYS_STATE=OFF \
    -DCMAKE_C_FLAGS="-Wno-error" >"$src/libwebsockets/configure.log" 2>&1 ||
    { tail -30 "$src/libwebsockets/configure.log" >&2; exit 1; }
  nice -n 10 cmake --build "$src/libwebsockets/build" -j"$jobs" >"$src/libwebsockets/build.log" 2>&1 ||
    { tail -30 "$src/libwebsockets/build.log" >&2; exit 1; }
  cmake --install "$src/libwebsockets/build" >/dev/null
  touch "$lws_stamp"
  echo "windows-deps: libwebsockets $LWS_VERSION built in $(( $(date +%s) - t0 ))s" >&2
fi
# lws installs no .pc file for Windows: one for the static library and the
# system libraries it needs (its CMakeLists' LIB_LIST_AT_END for WIN32).
if [ ! -f "$lws_pc" ]; then
  mkdir -p "$(dirname "$lws_pc")"
  printf '%s\n' "prefix=$prefix" 'libdir=${prefix}/lib' 'includedir=${prefix}/include' '' \
    'Name: libwebsockets' 'Description: libwebsockets (static, mingw-w64, no TLS, external poll)' \
    "Version: $LWS_VERSION" \
    'Libs: -L${libdir} -lwebsockets_static -lws2_32 -luserenv -lpsapi -liphlpapi -lcrypt32' \
    'Cflags: -I${includedir}' >"$lws_pc"
fi
echo "$prefix"
