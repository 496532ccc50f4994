#!/usr/bin/env bash
# The conformance suite under Valgrind's memcheck (opt-in: scripts/test.sh
# --valgrind runs it). Every case process (the runner forks one per case) is
# checked; the run fails on any memcheck error or definite leak that
# tests/valgrind/uniws.supp does not suppress. Suppressions cover third-party
# code only, each with its reason. Needs a build without sanitizers.
# Usage: scripts/valgrind.sh [BUILD_DIR] [--backend B]... [--only CASES]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"
backends=()
only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backends+=("$2"); shift 2 ;;
    --only) only=(--only "$2"); shift 2 ;;
    -*) echo "valgrind.sh: unknown option $1" >&2; exit 2 ;;
    *) build=$1; shift ;;
  esac
done
case "$build" in /*) ;; *) build="$root/$build" ;; esac
[ ${#backends[@]} -gt 0 ] || backends=(loopback lws curl)
command -v valgrind >/dev/null || bash "$root/scripts/bootstrap.sh" --valgrind
runner="$build/tests/conformance/uniws-conformance"
[ -x "$runner" ] || { echo "valgrind.sh: build $build first (scripts/build.sh)" >&2; exit 1; }
if grep -q 'UNIWS_SANITIZE:STRING=.\+' "$build/CMakeCache.txt"; then
  echo "valgrind.sh: $build is a sanitizer build; valgrind needs a plain one" >&2
  exit 1
fi

out="$build/valgrind"
failed=0
for b in "${backends[@]}"; do
  rm -rf "$out/$b"
  mkdir -p "$out/$b"
  start=$(date +%s)
  rc=0
  UNIWS_BACKEND= valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
    --errors-for-leak-kinds=definite --num-callers=30 --track-origins=no \
    --suppressions="$root/tests/valgrind/uniws.supp" --log-file="$out/$b/vg.%p.log" \
    "$runner" --backend "$b" --certs "$build/tests/conformance/certs" --case-timeout 120000 \
    --json "$out/conformance-$b.json" "${only[@]}" >"$out/$b/runner.log" 2>&1 || rc=$?
  procs=$(ls "$out/$b"/vg.*.log | wc -l)
  errors=0
  bad=()
  for f in "$out/$b"/vg.*.log; do
    n=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f" | tail -1)
    if [ -n "$n" ] && [ "$n" != 0 ]; then
      errors=$((errors + n))
      bad+=("$f")
    fi
  done
  cases=$(grep -o '"status": *"[a-z]*"' "$out/conformance-$b.json" | sort | uniq -c |
          awk '{printf "%s%s %s", (NR>1?", ":""), $3, $1}' | tr -d '"')
  status=ok
  if [ "$errors" != 0 ] || [ "$rc" != 0 ]; then
    status=FAILED
    failed=1
  fi
  echo "valgrind $b: $procs processes, $errors memcheck errors, cases: $cases, runner exit $rc, $(( $(date +%s) - start )) s: $status"
  for f in "${bad[@]}"; do echo "  see $f"; done
done
exit $failed
