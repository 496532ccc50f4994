#!/usr/bin/env bash
# test_demo.sh — `uniws.exe demo` under wine: the scripted server runs inside
# the Windows program (tools/server on Winsock) and every Windows backend goes
# through the same exchange, side by side. Passes when the demo exits 0, its
# table has one column per expected backend, every step row reads "ok" in
# every column, and it prints its all-passed line.
# Usage: test_demo.sh WINDOWS_UNIWS_EXE BACKEND...   (the backends expected)
# (wine must be on PATH; its output goes to a file, never to a pipe.)
set -u
exe=$1
shift
. "$(dirname "$0")/lib.sh"

wine "$exe" demo </dev/null >"$tmp/demo.raw" 2>"$tmp/demo.err"
rc=$?
tr -d '\r' <"$tmp/demo.raw" >"$tmp/demo.out"
sed 's/^/        /' "$tmp/demo.out"
[ "$rc" = 0 ] || fail "uniws.exe demo exited $rc"
header=$(grep '^step ' "$tmp/demo.out")
for b in "$@"; do
  case " $header " in
  *" $b "*) ;;
  *) fail "uniws.exe demo: no '$b' column in: $header" ;;
  esac
done
n=$#
for step in "connect" "fragmented (peer)" "text" "binary 256 B" "binary 1 MiB" "close 4000"; do
  line=$(grep -F "$step  " "$tmp/demo.out" | head -1)
  oks=$(printf '%s\n' "$line" | grep -o ' ok [0-9]' | wc -l)
  [ "$oks" = "$n" ] || fail "uniws.exe demo: '$step' is ok on $oks of $n backends: $line"
done
grep -q "^All $n backends passed every step\.$" "$tmp/demo.out" ||
  fail "uniws.exe demo: no 'All $n backends passed every step.' line"
[ -s "$tmp/demo.err" ] && sed 's/^/  stderr: /' "$tmp/demo.err"
[ "$failed" = 0 ] && ok "uniws.exe demo: $* side by side, every step ok (exit 0)"
exit $failed
