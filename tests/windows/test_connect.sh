#!/usr/bin/env bash
# test_connect.sh — `uniws.exe connect` under wine against the native
# `uniws serve` on 127.0.0.1: stdin lines (read by connect_win32.c's reader
# thread) come back as the same lines in the same order, a binary message
# comes back byte for byte with --binary, end of input closes cleanly (exit
# 0), and a refused connection exits 2. Once per Windows backend given.
# Usage: test_connect.sh NATIVE_UNIWS WINDOWS_UNIWS_EXE BACKEND...
# (wine must be on PATH; scripts/test-windows.sh keeps its server alive.)
set -u
native=$1
exe=$2
shift 2
tmp=$(mktemp -d)
failed=0
fail() { echo "  FAIL  $*"; failed=1; }
ok() { echo "  ok    $*"; }

"$native" serve --port 0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
srv=$!
cleanup() { kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^listening on \(ws:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/serve.out")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "  FAIL  uniws serve did not start"; cat "$tmp/serve.err"; exit 1; }

# A port nobody listens on any more: one a second server had.
"$native" serve --port 0 >"$tmp/dead.out" 2>/dev/null &
d=$!
dead=""
for _ in $(seq 1 100); do
  dead=$(sed -n 's/^listening on \(ws:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/dead.out")
  [ -n "$dead" ] && break
  sleep 0.1
done
kill "$d"; wait "$d" 2>/dev/null
[ -n "$dead" ] || { echo "  FAIL  the second uniws serve did not start"; exit 1; }

# Lines with UTF-8, an empty line and a last line without a newline.
printf 'hello from wine\n\n\xc3\xa9t\xc3\xa9 \xe2\x9c\x93\nline %s\nlast' 4 >"$tmp/in.txt"
printf 'hello from wine\n\n\xc3\xa9t\xc3\xa9 \xe2\x9c\x93\nline 4\nlast\n' >"$tmp/want.txt"
head -c 3000 /dev/urandom >"$tmp/bin.dat"

for b in "$@"; do
  wine "$exe" connect "$url/echo" --backend "$b" --wait 500 <"$tmp/in.txt" \
    >"$tmp/out.txt" 2>"$tmp/err.txt"
  rc=$?
  if [ "$rc" = 0 ] && cmp -s "$tmp/out.txt" "$tmp/want.txt"; then
    ok "$b: 5 lines echoed in order, clean close (exit 0)"
  else
    fail "$b: text round trip: exit $rc"
    diff "$tmp/want.txt" "$tmp/out.txt" | head -10
    head -5 "$tmp/err.txt"
  fi
  # --binary: stdin as one message per line, raw bytes out. Newline-free
  # random data (newlines turned into spaces) is one message.
  tr '\n' ' ' <"$tmp/bin.dat" >"$tmp/bin1.dat"
  wine "$exe" connect "$url/echo" --backend "$b" --binary --wait 500 <"$tmp/bin1.dat" \
    >"$tmp/bout.dat" 2>"$tmp/err.txt"
  rc=$?
  { cat "$tmp/bin1.dat"; printf '\n'; } >"$tmp/bwant.dat"
  if [ "$rc" = 0 ] && cmp -s "$tmp/bout.dat" "$tmp/bwant.dat"; then
    ok "$b: 3000-byte binary message echoed byte for byte"
  else
    fail "$b: binary round trip: exit $rc, $(wc -c <"$tmp/bout.dat") bytes back"
    head -5 "$tmp/err.txt"
  fi
  # A port nobody listens on: the connection fails before it opens.
  wine "$exe" connect "$dead/" --backend "$b" </dev/null >"$tmp/out.txt" 2>"$tmp/err.txt"
  rc=$?
  if [ "$rc" = 2 ] && grep -q "connection failed" "$tmp/err.txt"; then
    ok "$b: refused connection exits 2"
  else
    fail "$b: refused connection: exit $rc"
    head -5 "$tmp/err.txt"
  fi
done
exit $failed
