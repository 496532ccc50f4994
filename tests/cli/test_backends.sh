#!/bin/sh
# test_backends.sh — cli.backends: `uniws backends` prints one row per
# compiled backend with yes/no capability cells that agree with --json, and
# marks exactly the backend UNIWS_BACKEND names as the default.
# Usage: sh test_backends.sh PATH/TO/uniws
set -u
U=$1
failed=0
fail() { echo "  FAIL  $*"; failed=1; }
ok() { echo "  ok    $*"; }

table=$("$U" backends) || { echo "uniws backends exited with $?"; exit 1; }
json=$("$U" backends --json) || { echo "uniws backends --json exited with $?"; exit 1; }
printf '%s\n' "$table"
names=$(printf '%s\n' "$json" | grep -o '"name": "[^"]*"' | sed 's/^"name": "//; s/"$//')
[ -n "$names" ] || { echo "  FAIL  no backend in the --json output"; exit 1; }

# The platform layer: the table's last line and the JSON agree.
plat=$(printf '%s\n' "$table" | sed -n 's/^platform: //p')
case "$plat" in
  linux-epoll|posix-poll|win32-wsapoll|web) ok "platform $plat" ;;
  *) fail "no known 'platform:' line (got '$plat')" ;;
esac
printf '%s\n' "$json" | grep -q "\"platform\": \"$plat\"" || fail "--json does not say platform $plat"

header=$(printf '%s\n' "$table" | head -n 1)
for col in name version auto ws wss hdr proxy net; do
  printf '%s\n' "$header" | grep -qw -- "$col" || fail "column '$col' missing from: $header"
done
ncols=$(printf '%s\n' "$header" | wc -w)

for n in $names; do
  row=$(printf '%s\n' "$table" | grep -E "^$n\*? ")
  if [ -z "$row" ]; then fail "no row for backend $n"; continue; fi
  # name + version + one yes/no cell per remaining column
  cells=$(printf '%s\n' "$row" | wc -w)
  [ "$cells" -eq "$ncols" ] || fail "$n: $cells cells for $ncols columns"
  # Every 'yes' is the auto column or a capability the JSON lists.
  line=$(printf '%s\n' "$json" | grep "\"name\": \"$n\"")
  ncaps=$(printf '%s\n' "$line" | sed 's/.*"caps": \[//; s/\].*//' | grep -o '"[^"]*"' | wc -l)
  auto=0
  printf '%s\n' "$line" | grep -q '"auto_select": true' && auto=1
  yes=$(printf '%s\n' "$row" | tr -s ' ' '\n' | grep -c '^yes$')
  if [ "$yes" -eq $((ncaps + auto)) ]; then ok "$n: $ncaps capabilities, auto=$auto"
  else fail "$n: $yes 'yes' cells, JSON says $ncaps caps + auto $auto"; fi
done

nrows=$(printf '%s\n' "$table" | grep -cE "^($(printf '%s' "$names" | tr '\n' '|'))\*? ")
[ "$nrows" -eq "$(printf '%s\n' "$names" | wc -l)" ] || fail "$nrows rows for backends: $names"

for n in $names; do
  starred=$(UNIWS_BACKEND=$n "$U" backends | grep -E '^[A-Za-z0-9_-]+\* ' | cut -d'*' -f1)
  if [ "$starred" = "$n" ]; then ok "UNIWS_BACKEND=$n marks $n"
  else fail "UNIWS_BACKEND=$n: marked row is '$starred'"; fi
  UNIWS_BACKEND=$n "$U" backends --json | grep -q "\"default\": \"$n\"" ||
    fail "UNIWS_BACKEND=$n: --json default is not $n"
done

err=$(UNIWS_BACKEND=no-such-backend "$U" backends 2>&1 >/dev/null)
status=$?
if [ $status -eq 0 ] && printf '%s' "$err" | grep -q 'UNIWS_BACKEND=no-such-backend: UNIWS_ENO_BACKEND'; then
  ok "an unknown UNIWS_BACKEND is reported on stderr"
else fail "unknown UNIWS_BACKEND: status $status, stderr: $err"; fi
UNIWS_BACKEND=no-such-backend "$U" backends | grep -qE '^[A-Za-z0-9_-]+\* ' &&
  fail "unknown UNIWS_BACKEND: a row is still marked default"

"$U" backends --bogus >/dev/null 2>&1
[ $? -eq 1 ] || fail "an unknown option does not exit 1"

[ $failed -eq 0 ] && echo "cli.backends: ok" || echo "cli.backends: FAILED"
exit $failed
