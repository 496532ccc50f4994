#!/bin/sh
# docs/contract.md lists, under each rule, the conformance cases that prove
# it. Fails when it names a case that tests/conformance/cases.c does not have
# (renamed or removed), or when the rules a listed case claims in cases.c do
# not include the rule it is listed under. Cases newer than the lists are
# reported, not failed (their rows name their rules).
root=${1:-.}
doc="$root/docs/contract.md"
cases="$root/tests/conformance/cases.c"
status=0
rule=""
while IFS= read -r line; do
  case "$line" in
    "## "[0-9]*) rule=$(printf '%s' "$line" | sed 's/^## \([0-9]*\)\..*/\1/') ;;
    "Proved by"*)
      for name in $(printf '%s' "$line" | grep -o '`[a-z0-9_]*`' | tr -d '`'); do
        items=$(sed -n "s/^ *{\"$name\", *\"\([0-9,]*\)\".*/\1/p" "$cases")
        if [ -z "$items" ]; then
          echo "contract.md rule $rule lists '$name', which cases.c does not have"
          status=1
        elif ! printf ',%s,' "$items" | grep -q ",$rule,"; then
          echo "contract.md rule $rule lists '$name', whose row in cases.c names rules $items"
          status=1
        fi
      done ;;
  esac
done <"$doc"
listed=$(grep '^Proved by' "$doc" | grep -o '`[a-z0-9_]*`' | tr -d '`' | sort -u)
all=$(sed -n 's/^ *{"\([a-z0-9_]*\)", *"[0-9,]*".*/\1/p' "$cases" | sort -u)
new=$(printf '%s\n' "$all" | while read -r n; do
  printf '%s\n' "$listed" | grep -qx "$n" || printf '%s ' "$n"; done)
echo "contract: $(printf '%s\n' "$listed" | wc -l) cases listed, $(printf '%s\n' "$all" | wc -l) in cases.c${new:+; not listed yet: $new}"
exit $status
