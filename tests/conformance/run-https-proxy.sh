#!/usr/bin/env bash
# The curl-https-proxy conformance column: the cases run on the curl backend
# with every connection going through an HTTPS proxy (TLS to the proxy) —
# tinyproxy (plain HTTP CONNECT) behind tests/curl/tls_front.mjs, which
# terminates TLS with the test CA's server certificate; the runner trusts it
# through proxy_ca_file. tinyproxy's log must show a CONNECT per case, so a
# run that bypassed the proxy fails.
# Every case runs except those EXCEPT matches (comma-separated regular
# expressions, each matched against the whole name): the ones
# whose outcome a proxy changes by design (docs/matrix.md says which and why).
# Usage: run-https-proxy.sh RUNNER CERTS_DIR NODE JSON_OUT COLUMN EXCEPT
set -euo pipefail
runner=$1 certs=$2 node=$3 json=$4 column=$5 except=$6
here=$(cd "$(dirname "$0")/../.." && pwd)
tp=""
for d in /usr/bin /usr/sbin /usr/local/bin /usr/local/sbin; do
  [ -x "$d/tinyproxy" ] && tp="$d/tinyproxy" && break
done
[ -n "$tp" ] || { echo "tinyproxy is not installed: run scripts/bootstrap.sh (tinyproxy-bin)"; exit 1; }
command -v "$node" >/dev/null || { echo "node not found ($node): run scripts/bootstrap.sh"; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$("$node" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cat >"$work/tinyproxy.conf" <<CONF
Port $port
Listen 127.0.0.1
Timeout 60
LogFile "$work/tinyproxy.log"
LogLevel Info
PidFile "$work/tinyproxy.pid"
MaxClients 200
Allow 127.0.0.1
CONF
"$tp" -d -c "$work/tinyproxy.conf" >/dev/null 2>&1 &
pids+=($!)
"$node" "$here/tests/curl/tls_front.mjs" "$certs/server.pem" "$certs/server.key" "$port" \
  >"$work/front.out" 2>&1 &
pids+=($!)
front=""
for _ in $(seq 100); do
  front=$(head -1 "$work/front.out" 2>/dev/null | grep -E '^[0-9]+$' || true)
  [ -n "$front" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
[ -n "$front" ] || { echo "the TLS front did not start: $(cat "$work/front.out")"; exit 1; }

only=$("$runner" --list | awk '{ print $1 }' | grep -v -E -x -e "(${except//,/|})" | paste -sd, -)
set +e
"$runner" --backend curl --column "$column" --certs "$certs" --json "$json" --only "$only" \
  --proxy "https://127.0.0.1:$front" --proxy-ca "$certs/ca.pem"
rc=$?
set -e
connects=$(grep -c 'CONNECT 127.0.0.1:' "$work/tinyproxy.log" || true)
handshakes=$(grep -c '^tls ' "$work/front.out" || true)
echo "through the proxy: $handshakes TLS handshakes with the front, $connects CONNECTs in tinyproxy's log"
if [ "$connects" -lt 10 ] || [ "$handshakes" -lt "$connects" ]; then
  echo "FAIL: the connections did not go through the HTTPS proxy"
  exit 1
fi
exit $rc
