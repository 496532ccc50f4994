#!/bin/sh
# test-native.sh — runs the native echo_client against `uniws serve` and
# checks what it printed and its exit status.
# Usage: test-native.sh UNIWS_CLI ECHO_CLIENT
set -u
uniws=$1
client=$2
tmp=$(mktemp -d)
trap 'kill "$srv" 2>/dev/null; rm -rf "$tmp"' EXIT

"$uniws" serve --host 127.0.0.1 --port 0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
srv=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/^listening on ws:\/\/[^:]*:\([0-9]*\).*/\1/p' "$tmp/serve.out")
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "uniws serve did not start"; cat "$tmp/serve.err"; exit 1; }

fail=0
"$client" "ws://127.0.0.1:$port/echo" "hello" "ünïcødé ✓" >"$tmp/out" 2>&1
rc=$?
cat "$tmp/out"
[ "$rc" = 0 ] || { echo "FAIL: exit status $rc, expected 0"; fail=1; }
for want in '< hello' '< ünïcødé ✓' 'closed 1000 "bye" clean' 'result: 2/2 messages echoed'; do
  grep -qxF -- "$want" "$tmp/out" || { echo "FAIL: no line \"$want\""; fail=1; }
done

# A server that answers something else: the client must say so and fail.
"$client" "ws://127.0.0.1:$port/script/text:other/close:4000" "hello" >"$tmp/out2" 2>&1
rc=$?
[ "$rc" = 1 ] || { echo "FAIL: exit status $rc for a wrong echo, expected 1"; fail=1; }
grep -qxF 'result: 0/1 messages echoed' "$tmp/out2" || { echo "FAIL: wrong echo not reported"; cat "$tmp/out2"; fail=1; }

"$client" >/dev/null 2>&1
[ $? = 2 ] || { echo "FAIL: usage error must exit 2"; fail=1; }
[ "$fail" = 0 ] && echo "ok"
exit "$fail"
