#!/usr/bin/env bash
# test_serve.sh — `uniws.exe serve` (tools/server on Winsock, srv_os_win32.c)
# under wine answering the Linux-native `uniws connect` on 127.0.0.1: the
# round trip the other way round from test_connect.sh. Per native backend:
# lines come back in order and the close is clean (exit 0), a binary message
# comes back byte for byte, a scripted path sends fragments and closes with
# its own code. Then
# a static file over plain HTTP (--static, read through srv_os_file_size),
# --tls-cert refused with a usage error saying why (no OpenSSL for mingw), and
# Ctrl-C (SIGINT, which wine turns into a console control event) stops the
# server with exit 0.
# Usage: test_serve.sh NATIVE_UNIWS WINDOWS_UNIWS_EXE BACKEND...
# (wine must be on PATH; scripts/test-windows.sh keeps its server alive, and
# every wine call writes to files, never to a pipe.)
set -u
native=$1
exe=$2
shift 2
. "$(dirname "$0")/lib.sh"

mkdir -p "$tmp/www"
printf '<p>static from wine</p>\n' >"$tmp/www/index.html"
head -c 70000 /dev/urandom >"$tmp/www/blob.bin"
www=$(winepath -w "$tmp/www" 2>/dev/null)

start_server serve 300 wine "$exe" serve --port 0 --static "$www"
srv=$server_pid
url=$server_url

echo_inputs 'hello to wine'

for b in "$@"; do
  "$native" connect "$url/echo" --backend "$b" --wait 500 <"$tmp/in.txt" >"$tmp/out.txt" 2>"$tmp/err.txt"
  check_text "$b -> uniws.exe serve" $?
  "$native" connect "$url/echo" --backend "$b" --binary --wait 500 <"$tmp/bin1.dat" \
    >"$tmp/bout.dat" 2>"$tmp/err.txt"
  check_binary "$b -> uniws.exe serve" $?
  # A scripted path: the peer engine's fragments and its own close code.
  "$native" connect "$url/script/frag:3:hello-in-parts/close:4000:bye" --backend "$b" -n --jsonl \
    </dev/null >"$tmp/out.jsonl" 2>"$tmp/err.txt"
  if grep -q '"type":"text","length":14,"data":"hello-in-parts"' "$tmp/out.jsonl" &&
    grep -q '"type":"close","code":4000,"reason":"bye","clean":true' "$tmp/out.jsonl"; then
    ok "$b -> uniws.exe serve: /script/frag:3/close:4000: one message from 3 fragments, clean close 4000"
  else
    fail "$b -> uniws.exe serve: scripted path"
    head -5 "$tmp/out.jsonl" "$tmp/err.txt"
  fi
done

# Plain GETs: files from --static (a Windows path), 404 otherwise.
port=${url##*:}
if command -v wget >/dev/null; then
  if wget -q -O "$tmp/got.bin" "http://127.0.0.1:$port/blob.bin" && cmp -s "$tmp/got.bin" "$tmp/www/blob.bin" &&
    wget -q -O "$tmp/got.html" "http://127.0.0.1:$port/" && cmp -s "$tmp/got.html" "$tmp/www/index.html"; then
    ok "uniws.exe serve --static: a 70000-byte file and index.html byte for byte"
  else
    fail "uniws.exe serve --static: GET failed or differs"
  fi
  if wget -q -O /dev/null "http://127.0.0.1:$port/missing.txt"; then
    fail "uniws.exe serve --static: a missing file was not 404"
  else
    ok "uniws.exe serve --static: a missing file is 404"
  fi
fi

# No TLS in this build: a usage error (exit 1) that says why, not a server
# that quietly serves ws:// instead.
wine "$exe" serve --port 0 --tls-cert a.pem --tls-key a.key </dev/null >"$tmp/tls.out" 2>"$tmp/tls.err"
rc=$?
if [ "$rc" = 1 ] && grep -q "no TLS" "$tmp/tls.err"; then
  ok "uniws.exe serve --tls-cert: refused (exit 1): $(tr -d '\r' <"$tmp/tls.err" | head -1)"
else
  fail "uniws.exe serve --tls-cert: exit $rc"
  cat "$tmp/tls.err"
fi

# Ctrl-C: wine delivers SIGINT to the console program as CTRL_C_EVENT.
kill -INT "$srv"
wait "$srv"
rc=$?
if [ "$rc" = 0 ]; then
  ok "uniws.exe serve: Ctrl-C (SIGINT) stops it, exit 0"
else
  fail "uniws.exe serve: exit $rc after SIGINT"
fi
exit $failed
