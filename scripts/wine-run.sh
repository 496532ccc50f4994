#!/usr/bin/env bash
# wine-run.sh — runs one Windows program under wine for ctest and the test
# scripts (the CMAKE_CROSSCOMPILING_EMULATOR of scripts/test-windows.sh).
# Its output goes to a file, never to a pipe: with a persistent wineserver,
# wine's helper processes would inherit a pipe and keep it open forever.
# Then the file is printed and the program's exit status returned.
out=$(mktemp "${TMPDIR:-/tmp}/wine-run.XXXXXX")
WINEDEBUG=${WINEDEBUG:--all} wine "$@" </dev/null >"$out" 2>&1
rc=$?
cat "$out"
rm -f "$out"
exit "$rc"
