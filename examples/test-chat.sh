#!/bin/sh
# test-chat.sh — the native chat_client survives its server restarting: it
# chats once, the server is stopped, the client reconnects with backoff until
# the server is back on the same port, chats again and closes cleanly.
# Usage: test-chat.sh UNIWS_CLI CHAT_CLIENT
set -u
uniws=$1
client=$2
tmp=$(mktemp -d)
srv=""
cli=""
trap 'kill $srv $cli 2>/dev/null; rm -rf "$tmp"' EXIT

serve() { # serve PORT: starts `uniws serve`, sets srv and port
  "$uniws" serve --host 127.0.0.1 --port "$1" >"$tmp/serve.out" 2>"$tmp/serve.err" &
  srv=$!
  port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/^listening on ws:\/\/[^:]*:\([0-9]*\).*/\1/p' "$tmp/serve.out")
    [ -n "$port" ] && return 0
    sleep 0.05
  done
  echo "uniws serve did not start"; cat "$tmp/serve.err"; exit 1
}
wait_for() { # wait_for LINE: until the client printed it (10 s)
  for _ in $(seq 200); do
    grep -qF -- "$1" "$tmp/out" && return 0
    sleep 0.05
  done
  echo "FAIL: no line \"$1\""; cat "$tmp/out"; exit 1
}

serve 0
"$client" --rounds 2 "ws://127.0.0.1:$port/echo" alice >"$tmp/out" 2>&1 &
cli=$!
wait_for '< alice: hello #1'
kill "$srv"; wait "$srv" 2>/dev/null
wait_for 'reconnecting in'
sleep 0.5 # a few refused attempts while the server is down
serve "$port"
wait "$cli"
rc=$?
cli=""
cat "$tmp/out"
fail=0
[ "$rc" = 0 ] || { echo "FAIL: exit status $rc, expected 0"; fail=1; }
for want in 'open #2 (backend' '< alice: hello #2' 'closed 1000 "bye" clean (cause none)' \
            'result: 2/2 rounds answered'; do
  grep -qF -- "$want" "$tmp/out" || { echo "FAIL: no line \"$want\""; fail=1; }
done
n=$(grep -c '^reconnecting in' "$tmp/out")
[ "$n" -ge 2 ] || { echo "FAIL: $n reconnecting lines, expected several while the server was down"; fail=1; }
[ "$(grep -c '^closed' "$tmp/out")" = 1 ] || { echo "FAIL: not exactly one close"; fail=1; }
[ "$fail" = 0 ] && echo "ok"
exit "$fail"
