#!/bin/sh
# test_serve_mtls.sh — `uniws serve --tls-client-ca` (mutual TLS): a client
# without a certificate is refused with a TLS error, one with a certificate
# the CA signed gets its echo; the option alone (no --tls-cert) is a usage
# error. Usage: test_serve_mtls.sh UNIWS CERTS_DIR (ca.pem, server.*,
# client.*; exit 77 when they are missing).
set -eu
uniws=$1
c=$2
for f in ca.pem server.pem server.key client.pem client.key; do
    [ -f "$c/$f" ] || { echo "no $c/$f (openssl CLI?)" >&2; exit 77; }
done
. "$(dirname "$0")/serve.sh"
if "$uniws" serve --tls-client-ca "$c/ca.pem" >/dev/null 2>&1; then
    echo "--tls-client-ca without --tls-cert was accepted" >&2
    exit 1
fi
start_serve "$uniws" serve --port 0 --tls-cert "$c/server.pem" --tls-key "$c/server.key" \
    --tls-client-ca "$c/ca.pem"
url="wss://127.0.0.1:$port/echo"
if echo hi | "$uniws" connect --ca "$c/ca.pem" "$url" >"$dir/none.out" 2>&1; then
    echo "a client without a certificate was let in:" >&2
    cat "$dir/none.out" >&2
    exit 1
fi
grep -q UNIWS_ETLS "$dir/none.out" || { cat "$dir/none.out" >&2; exit 1; }
echo hi | "$uniws" connect --ca "$c/ca.pem" --cert "$c/client.pem" --key "$c/client.key" \
    "$url" >"$dir/given.out" 2>&1 || { cat "$dir/given.out" >&2; exit 1; }
grep -qx hi "$dir/given.out" || { cat "$dir/given.out" >&2; exit 1; }
echo "serve --tls-client-ca: refused without a certificate, echoed with one"
