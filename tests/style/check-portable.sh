#!/bin/sh
# The sources a Windows build compiles must stay plain C that MSVC compiles
# (docs/platforms.md). -std=c11 -pedantic (scripts/test-windows.sh) catches
# GNU syntax; this catches what it cannot: POSIX-only headers and functions
# and GCC builtins, which mingw-w64 happens to provide and MSVC does not.
# Guarded helpers are the allowed places: core/atomic.h (the __atomic
# builtins beside MSVC's Interlocked ones) and the per-OS files, which are not
# scanned (platforms/posix, platforms/linux, connect_posix.c,
# srv_os_posix.c, srv_tls_openssl.c). The lws backend is not scanned: it uses
# pthreads (winpthreads under mingw, a pthreads port under MSVC).
root=${1:-.}
cd "$root" || exit 1
files=$(ls core/*.c core/*.h include/uniws/*.h platforms/win32/*.c backends/curl/*.c \
  backends/curl/*.h backends/winhttp/*.c backends/loopback/*.c backends/loopback/*.h \
  tools/cli/*.c tools/cli/*.h tools/server/*.c tools/server/*.h 2>/dev/null |
  grep -v -e '^core/atomic\.h$' -e '^tools/cli/connect_posix\.c$' \
    -e '^tools/server/srv_os_posix\.c$' -e '^tools/server/srv_tls_openssl\.c$')
status=0
# Known gaps, reported but not failed, each with who fixes it: file, then an
# extended regex of the lines allowed there (none today).
known=''
# (word boundaries: uniws__strdup and srv_os_* wrappers are fine)
pattern='#include <(strings|unistd|pthread|poll|dlfcn|netdb|sys/(socket|select|time|wait|mman|un|uio|ioctl|epoll|eventfd)|netinet/[a-z]+|arpa/[a-z]+)\.h>|(^|[^_a-zA-Z0-9])(strn?casecmp|strn?dup|clock_gettime|ssize_t|__atomic_[a-z_]+|__sync_[a-z_]+|__builtin_[a-z_]+|typeof|__typeof__)([^_a-zA-Z0-9]|$)'
for f in $files; do
  # #ifndef _WIN32 blocks, the #else of #ifdef _WIN32 and comments are
  # POSIX-only by intent: skip them.
  hits=$(awk '
    function skipping(  i) { for (i = 1; i <= n; i++) if (st[i] == "skip") return 1; return 0 }
    /^[ \t]*#[ \t]*ifdef[ \t]+_WIN32/ { st[++n] = "win"; next }
    /^[ \t]*#[ \t]*if(ndef[ \t]+_WIN32|[ \t]+!defined\(_WIN32\))/ { st[++n] = "skip"; next }
    /^[ \t]*#[ \t]*if/ { st[++n] = "other"; next }
    /^[ \t]*#[ \t]*(else|elif)/ { if (st[n] == "win") st[n] = "skip"; else if (st[n] == "skip") st[n] = "win"; next }
    /^[ \t]*#[ \t]*endif/ { n--; next }
    skipping() { next }
    { sub(/\/\*.*\*\//, ""); sub(/\/\/.*/, ""); if ($0 ~ /^[ \t]*\*/) next; print FNR ": " $0 }
  ' "$f" | grep -E "$pattern")
  allow=$(printf '%s\n' "$known" | awk -v f="$f" '$1 == f { print $2 }')
  if [ -n "$hits" ] && [ -n "$allow" ]; then
    printf '%s\n' "$hits" | grep -E "$allow" | sed "s|^|known gap: $f:|"
    hits=$(printf '%s\n' "$hits" | grep -v -E "$allow")
  fi
  if [ -n "$hits" ]; then
    printf '%s\n' "$hits" | sed "s|^|$f:|"
    status=1
  fi
done
[ "$status" = 0 ] && echo "portable: $(echo "$files" | wc -w) files use no POSIX-only or GCC-only names"
exit $status
