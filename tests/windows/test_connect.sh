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
. "$(dirname "$0")/lib.sh"

start_server serve 100 "$native" serve --port 0
url=$server_url
# A port nobody listens on any more: one a second server had.
start_server dead 100 "$native" serve --port 0
dead=$server_url
kill "$server_pid"
wait "$server_pid" 2>/dev/null

echo_inputs 'hello from wine'

for b in "$@"; do
  wine "$exe" connect "$url/echo" --backend "$b" --wait 500 <"$tmp/in.txt" \
    >"$tmp/out.txt" 2>"$tmp/err.txt"
  check_text "$b" $?
  # --binary: stdin as one message per line, raw bytes out. Newline-free
  # random data (newlines turned into spaces) is one message.
  wine "$exe" connect "$url/echo" --backend "$b" --binary --wait 500 <"$tmp/bin1.dat" \
    >"$tmp/bout.dat" 2>"$tmp/err.txt"
  check_binary "$b" $?
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
