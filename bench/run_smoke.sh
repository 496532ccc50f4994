#!/usr/bin/env bash
# run_smoke.sh — ctest bench.run_sh: runs bench/run.sh on a tiny workload
# (--quick, five workloads, ws and wss) against an existing build and checks
# that each transport's table came out with a column for every expected
# client (on wss, tls, TLS over TCP, stands in for tcp), the 1 MiB row's
# drift-controlled ratios against the ceiling in each, and no failed run.
# The plumbing of the side-by-side script, not a measurement.
#
#   run_smoke.sh BUILD_DIR OUT_DIR CLIENT...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1
out=$2
shift 2
mkdir -p "$out"
if ! bash "$here/run.sh" --quick --no-build --build "$build" --out "$out" \
    --only small,rtt,1m,conn,pmd-4k --transport ws,wss > "$out/run.log" 2>&1; then
  cat "$out/run.log"
  echo "run_smoke: bench/run.sh failed" >&2
  exit 1
fi
table=$out/latest.md
cat "$table"
status=0
for t in ws wss; do
  # The first table header after "### $t".
  head=$(awk -v t="### $t" 'index($0, t) == 1 {s = 1; next} s && /^\| workload \|/ {print; exit}' "$table")
  for c in "$@"; do
    [ $t = wss ] && [ "$c" = tcp ] && c=tls
    [ $t = wss ] && [ "$c" = raw-ws ] && continue # ws:// only
    if [[ $head != *"| $c |"* ]]; then
      echo "run_smoke: no $t column for $c" >&2
      status=1
    fi
  done
done
# The 1m row also gets its drift-controlled rounds against the ceiling.
for c in tcp tls; do
  if ! grep -A4 "^Against the ceiling, drift-controlled ($c " "$table" | grep -q '^| 1 MiB, 4 in flight | 1 |'; then
    echo "run_smoke: no drift-controlled 1 MiB row against $c" >&2
    status=1
  fi
done
if grep -q "run(s) failed" "$table"; then
  echo "run_smoke: a client failed (see above)" >&2
  status=1
fi
exit $status
