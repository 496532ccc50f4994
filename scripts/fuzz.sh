#!/usr/bin/env bash
# Builds every fuzz target with clang + libFuzzer (-fsanitize=fuzzer plus
# ASan + UBSan) and runs each for a fixed time, printing one summary line per
# target (executions, coverage, peak RSS). test.sh runs the short mode; the
# long campaign of fuzz/README.md is the same script with more seconds.
# Usage: scripts/fuzz.sh [--seconds N] [--build DIR] [--corpus DIR] [TARGET...]
#   --seconds N  time per target (default 20)
#   --build DIR  build folder (default build-libfuzzer)
#   --corpus DIR keep what libFuzzer finds in DIR/<target> (default: a
#                scratch folder in the build tree, emptied each run)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=20
build="$root/build-libfuzzer"
corpus=""
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
case "$build" in /*) ;; *) build="$root/$build" ;; esac
if ! command -v clang >/dev/null; then
  echo "fuzz.sh: clang is not installed (scripts/bootstrap.sh installs it)" >&2
  exit 1
fi
if [ ${#targets[@]} -eq 0 ]; then
  targets=($(sed -n 's/^set(UNIWS_FUZZ_TARGETS \(.*\))$/\1/p' "$root/fuzz/CMakeLists.txt"))
fi

CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUNIWS_WERROR=ON \
  -DUNIWS_FUZZ_LIBFUZZER=ON -DUNIWS_SANITIZE=address,undefined >/dev/null
nice -n 10 cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export UNIWS_BACKEND=
failed=0
total_runs=0
for t in "${targets[@]}"; do
  work="$build/fuzz/corpus-$t"
  if [ -n "$corpus" ]; then
    work="$corpus/$t"
  else
    rm -rf "$work"
  fi
  mkdir -p "$work" "$build/fuzz/artifacts"
  args=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1
        -artifact_prefix="$build/fuzz/artifacts/$t-")
  [ -f "$root/fuzz/dict/$t.dict" ] && args+=(-dict="$root/fuzz/dict/$t.dict")
  case "$t" in
    utf8) args+=(-max_len=1024) ;;
    url) args+=(-max_len=512) ;;
    *) args+=(-max_len=4096) ;;
  esac
  log="$build/fuzz/$t.log"
  rc=0
  "$build/fuzz/fuzz_$t" "${args[@]}" "$work" "$root/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(ls "$work" | wc -l)
  total_runs=$((total_runs + ${runs:-0}))
  status=ok
  if [ "$rc" != 0 ]; then
    status="FAILED (exit $rc; $log)"
    failed=1
    grep -E 'ERROR|SUMMARY|fuzz property|runtime error' "$log" | head -5 >&2 || true
  fi
  printf 'fuzz %-10s %ss: %s executions, cov %s, ft %s, %s new corpus entries, peak RSS %s MB: %s\n' \
    "$t" "$seconds" "${runs:-?}" "${cov:-?}" "${ft:-?}" "$corp" "${rss:-?}" "$status"
done
echo "fuzz summary: ${#targets[@]} targets x ${seconds}s, $total_runs executions, $([ $failed = 0 ] && echo 'no failures' || echo FAILED)"
exit $failed
