#!/usr/bin/env bash
# The README's "test" command (and CI's): installs dependencies (idempotent),
# then runs every test: the native suite (unit, conformance matrix, CLI,
# curl), the same suite under AddressSanitizer + UndefinedBehaviorSanitizer,
# the WebAssembly suite in Node.js and headless Chromium,
# the native suite on the portable POSIX (poll) platform layer, the
# allocation fault sweep, every fuzz target under clang + libFuzzer, a short
# soak (docs/hardening.md), and the Windows build under wine
# (scripts/test-windows.sh).
# Set UNIWS_SKIP_WEB=1, UNIWS_SKIP_SANITIZERS=1, UNIWS_SKIP_POLL=1,
# UNIWS_SKIP_FUZZ=1, UNIWS_SKIP_SOAK=1 or UNIWS_SKIP_WINDOWS=1 to leave a part
# out locally; UNIWS_FUZZ_SECONDS sets the time per fuzz target (default 20).
# --valgrind adds the conformance suite under Valgrind's memcheck (slow).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)
valgrind=0
for a in "$@"; do
  case "$a" in
    --valgrind) valgrind=1 ;;
    *) echo "test.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
boot=()
[ "${UNIWS_SKIP_WEB:-0}" = 1 ] || boot+=(--web)
[ "$valgrind" = 0 ] || boot+=(--valgrind)
bash "$root/scripts/bootstrap.sh" "${boot[@]}"

step() { printf '\n==== %s (%ss)\n' "$1" "$(( $(date +%s) - start ))"; }

step "native build (-Wall -Wextra -Werror)"
bash "$root/scripts/build.sh" build
step "native tests"
(cd "$root/build" && ctest --output-on-failure -j2 --timeout 600)

if [ "${UNIWS_SKIP_SANITIZERS:-0}" != 1 ]; then
  step "AddressSanitizer + UndefinedBehaviorSanitizer build"
  bash "$root/scripts/build.sh" build-asan -DCMAKE_BUILD_TYPE=Debug -DUNIWS_SANITIZE=address,undefined
  step "tests under ASan + UBSan"
  (cd "$root/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j2 --timeout 900)
  step "allocation fault injection under ASan + LeakSanitizer"
  # Also a ctest (fault.*); run here again for its summary lines.
  for m in once persist; do
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$root/build-asan/tests/fault/uniws-fault" --mode "$m"
  done
fi

if [ "${UNIWS_SKIP_POLL:-0}" != 1 ]; then
  # The portable POSIX platform layer (poll + self-pipe, what macOS and the
  # BSDs build): the complete native suite again, under the sanitizers. Its
  # conformance columns (posix-poll-*) join the matrix.
  step "portable POSIX platform (poll) build, ASan + UBSan"
  bash "$root/scripts/build.sh" build-poll -DCMAKE_BUILD_TYPE=Debug -DUNIWS_PLATFORM=posix \
    -DUNIWS_SANITIZE=address,undefined
  step "tests on the poll platform under ASan + UBSan"
  (cd "$root/build-poll" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j2 --timeout 900)
  cp "$root"/build-poll/conformance-posix-poll-*.json "$root/build/"
fi

if [ "${UNIWS_SKIP_WEB:-0}" != 1 ] && [ -f "$root/scripts/test-web.sh" ]; then
  step "WebAssembly build and tests (Node.js, headless Chromium)"
  bash "$root/scripts/test-web.sh" "$root/build"
fi

if [ "${UNIWS_SKIP_WINDOWS:-0}" != 1 ]; then
  # mingw-w64 cross build; unit tests and the conformance columns (win-*)
  # as Windows programs under wine against the native peer.
  step "Windows (mingw-w64) build and tests under wine"
  bash "$root/scripts/test-windows.sh" "$root/build"
fi

if [ "${UNIWS_SKIP_FUZZ:-0}" != 1 ]; then
  step "fuzz targets under clang + libFuzzer + ASan + UBSan (${UNIWS_FUZZ_SECONDS:-20} s each)"
  bash "$root/scripts/fuzz.sh" --seconds "${UNIWS_FUZZ_SECONDS:-20}"
fi

if [ "${UNIWS_SKIP_SOAK:-0}" != 1 ]; then
  step "soak, short mode"
  bash "$root/scripts/soak.sh" --short "$root/build"
fi

if [ "$valgrind" = 1 ]; then
  step "conformance suite under Valgrind memcheck"
  bash "$root/scripts/valgrind.sh" "$root/build"
fi

step "conformance matrix"
(cd "$root/build" && ctest -R '^conformance\.matrix$' >/dev/null)
if [ -f "$root/build/conformance-matrix.md" ]; then
  cat "$root/build/conformance-matrix.md"
fi
step "all tests passed"
