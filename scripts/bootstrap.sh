#!/usr/bin/env bash
# Installs everything uniws needs to build and test on Debian 12, idempotently.
# Usage: scripts/bootstrap.sh [--web] [--valgrind] [--windows]
#   --web adds emscripten and chromium; --valgrind adds valgrind (scripts/valgrind.sh);
#   --windows adds the mingw-w64 cross toolchain, wine (to run the Windows
#   programs) and zlib for mingw.
# clang with its runtime (libFuzzer, sanitizers) is always installed: test.sh
# runs every fuzz target under libFuzzer (scripts/fuzz.sh).
set -euo pipefail

want_web=0
want_valgrind=0
want_windows=0
for a in "$@"; do
  case "$a" in
    --web) want_web=1 ;;
    --valgrind) want_valgrind=1 ;;
    --windows) want_windows=1 ;;
    *) echo "bootstrap: unknown option $a" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# bookworm-backports carries libcurl >= 8.14 (WebSocket API). Reuse the
# machine's own mirror: copy the URIs line of the main Debian sources entry.
add_backports() {
  local dst=/etc/apt/sources.list.d/uniws-backports.sources
  [ -f "$dst" ] && return 0
  local src=/etc/apt/sources.list.d/debian.sources uris=""
  if [ -f "$src" ]; then
    uris=$(awk '/^URIs:/ && $2 !~ /security/ { print; exit }' "$src")
  fi
  if [ -z "$uris" ] && [ -f /etc/apt/sources.list ]; then
    uris="URIs: $(awk '$1=="deb" && $3=="bookworm" { print $2; exit }' /etc/apt/sources.list)"
  fi
  if [ -z "$uris" ] || [ "$uris" = "URIs: " ]; then
    echo "bootstrap: cannot find the Debian mirror in $src" >&2
    return 1
  fi
  printf 'Types: deb\n%s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uris" | $SUDO tee "$dst" >/dev/null
  NEED_UPDATE=1
}

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# Installed packages whose version is a backport, sorted.
from_backports() { dpkg-query -W -f='${Package} ${Version}\n' | awk '$2 ~ /~bpo/ { print $1 }' | sort; }
bpo_before=$(from_backports)

NEED_UPDATE=0
add_backports
base=(build-essential cmake pkg-config git openssl libssl-dev libwebsockets-dev libwebsockets-evlib-uv libuv1-dev libcmocka-dev zlib1g-dev tinyproxy-bin microsocks iperf3 clang libclang-rt-14-dev)
[ "$want_web" = 1 ] && base+=(emscripten chromium fonts-liberation)
[ "$want_valgrind" = 1 ] && base+=(valgrind)
[ "$want_windows" = 1 ] && base+=(mingw-w64 wine64 wine libz-mingw-w64-dev)
command -v node >/dev/null || base+=(nodejs npm)
missing=()
for p in "${base[@]}"; do have_pkg "$p" || missing+=("$p"); done

curl_ok=0
if have_pkg libcurl4-openssl-dev; then
  v=$(dpkg-query -W -f='${Version}' libcurl4-openssl-dev)
  dpkg --compare-versions "$v" ge 8.14.1 && curl_ok=1
fi

if [ "${#missing[@]}" -gt 0 ] || [ "$curl_ok" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the lists if we added a suite or they have never been fetched.
  if [ "$NEED_UPDATE" = 1 ] || ! ls /var/lib/apt/lists/*backports* >/dev/null 2>&1; then
    $SUDO apt-get update -q
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    $SUDO apt-get -o Uniws::Bootstrap=1 -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}"
  fi
  if [ "$curl_ok" = 0 ]; then
    # pkg/suite pins only this package (and the dependencies that must follow
    # it, libcurl4) to backports; "-t bookworm-backports" would prefer
    # backports for every package in the transaction and upgrade unrelated ones.
    # The -o tag marks bootstrap's transactions in apt's history log, which
    # tests/install/test_backports.sh reads.
    $SUDO apt-get -o Uniws::Bootstrap=1 install -y -q --no-install-recommends \
      libcurl4-openssl-dev/bookworm-backports
  fi
fi
# Say which packages this run took from backports (docs/platforms.md lists
# the expected ones: libcurl4 and libcurl4-openssl-dev, on a fresh machine).
bpo_after=$(from_backports)
added=$(comm -13 <(printf '%s\n' $bpo_before) <(printf '%s\n' $bpo_after) | tr '\n' ' ')
echo "bootstrap: packages installed from bookworm-backports by this run: ${added:-none}"

# npm test peers (an independent server implementation): installed into the
# repo's untracked tests/node folder.
here=$(cd "$(dirname "$0")/.." && pwd)
if command -v npm >/dev/null && { [ ! -d "$here/tests/node/node_modules/ws" ] ||
     [ ! -d "$here/tests/node/node_modules/playwright-core" ]; }; then
  (cd "$here/tests/node" && npm install --no-audit --no-fund --silent)
fi
echo "bootstrap: ok"
