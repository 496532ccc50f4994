#!/bin/sh
# test_demo.sh — cli.demo: `uniws demo` exits 0 and its table shows every
# compiled backend passing every step; a named backend runs alone; an unknown
# one is a usage error.
# Usage: sh test_demo.sh PATH/TO/uniws
set -u
U=$1
failed=0
fail() { echo "  FAIL  $*"; failed=1; }
ok() { echo "  ok    $*"; }

names=$("$U" backends --json | grep -o '"name": "[^"]*"' | sed 's/^"name": "//; s/"$//')
count=$(printf '%s\n' "$names" | wc -l)

out=$("$U" demo 2>&1)
status=$?
printf '%s\n' "$out"
[ $status -eq 0 ] && ok "uniws demo exits 0" || fail "uniws demo exited with $status"

header=$(printf '%s\n' "$out" | grep '^step ')
for n in $names; do
  printf '%s\n' "$header" | grep -qw -- "$n" || fail "no column for backend $n"
done
# Each step row has one 'ok N ms' cell per backend.
for step in 'connect' 'fragmented (peer)' 'text' 'binary 256 B' 'binary 1 MiB' 'close 4000'; do
  row=$(printf '%s\n' "$out" | awk -v s="$step  " 'index($0, s) == 1' | head -n 1)
  oks=$(printf '%s\n' "$row" | grep -oE 'ok [0-9.]+ ms' | wc -l)
  [ "$oks" -eq "$count" ] && ok "$step: $oks/$count ok" || fail "$step: $oks/$count ok: $row"
done
for fact in 'protocol  .*uniws-demo' 'close code  .*4000' 'close reason  .*demo done' 'was_clean  .*yes'; do
  row=$(printf '%s\n' "$out" | grep -E "^$fact")
  [ -n "$row" ] || fail "no row matching '$fact'"
done
printf '%s\n' "$out" | grep -q FAIL && fail "the output contains FAIL"
printf '%s\n' "$out" | grep -q "passed every step" || fail "no 'passed every step' summary"

first=$(printf '%s\n' "$names" | head -n 1)
one=$("$U" demo --backend "$first" 2>&1)
status=$?
cols=$(printf '%s\n' "$one" | grep '^step ' | wc -w)
[ $status -eq 0 ] && [ "$cols" -le 3 ] && ok "demo --backend $first runs one backend" ||
  fail "demo --backend $first: status $status, header: $(printf '%s\n' "$one" | grep '^step ')"

"$U" demo --backend no-such-backend >/dev/null 2>&1
[ $? -eq 1 ] && ok "demo --backend no-such-backend exits 1" || fail "unknown backend is not a usage error"

[ $failed -eq 0 ] && echo "cli.demo: ok" || echo "cli.demo: FAILED"
exit $failed
