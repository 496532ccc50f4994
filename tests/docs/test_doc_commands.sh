#!/usr/bin/env bash
# Runs every command block of the documentation that is marked runnable, so a
# renamed flag or command breaks a test instead of a reader.
#
# The marker: a fenced block whose info string is `sh runnable`:
#     ```sh runnable
#     echo hello | uniws connect ws://127.0.0.1:8080/echo
#     ```
# Each block runs on its own with `bash -e -o pipefail`, in a scratch folder
# that holds the repository's top-level entries (symlinked) and `build` (the
# build under test), with that build's tools (`uniws`, `uniws-bench`) first in
# PATH and a limit of 120 s. `127.0.0.1:8080` in a block is rewritten to a
# `uniws serve` this test started on a free port (docs/peer.md's paths work).
# A block that shows a failing exit status says so: `... || test $? = 3`.
# Background jobs a block starts are killed when it ends.
# Usage: test_doc_commands.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=${1:?usage: test_doc_commands.sh SOURCE_DIR BUILD_DIR}
build=${2:?usage: test_doc_commands.sh SOURCE_DIR BUILD_DIR}
uniws="$build/tools/cli/uniws"
[ -x "$uniws" ] || { echo "FAIL: $uniws not built"; exit 1; }

work=$(mktemp -d)
serve_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/bin" "$work/run" "$work/blocks"
for f in "$src"/* "$src"/.[!.]*; do
  name=$(basename "$f")
  case "$name" in build | build-* | .git) continue ;; esac
  [ -e "$f" ] && ln -s "$f" "$work/run/$name"
done
ln -s "$build" "$work/run/build"
ln -s "$uniws" "$work/bin/uniws"
[ -x "$build/bench/uniws-bench" ] && ln -s "$build/bench/uniws-bench" "$work/bin/uniws-bench"

"$uniws" serve --port 0 >"$work/serve.log" 2>&1 &
serve_pid=$!
addr=""
for _ in $(seq 100); do
  addr=$(grep -o '127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -1 || true)
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { echo "FAIL: uniws serve did not start: $(cat "$work/serve.log")"; exit 1; }

# Every markdown file of the repository (not fetched or built ones).
files=$(cd "$src" && find . -name '*.md' -not -path '*/node_modules/*' -not -path './build*' \
  -not -path './.git/*' | sed 's|^\./||' | sort)
n=0
for f in $files; do
  # One file per block: blocks/N.sh, with "FILE:LINE" in blocks/N.where.
  awk -v dir="$work/blocks" -v file="$f" -v start="$n" '
    /^```sh runnable[ \t]*$/ { inb = 1; start++; out = dir "/" start ".sh";
                               print file ":" NR > (dir "/" start ".where"); printf "" > out; next }
    inb && /^```/ { inb = 0; close(out); next }
    inb { print >> out }
    END { print start > (dir "/count") }' "$src/$f"
  n=$(cat "$work/blocks/count")
done
if [ "$n" = 0 ]; then
  echo "FAIL: no \`\`\`sh runnable block found in any .md file"
  exit 1
fi

fail=0
for i in $(seq "$n"); do
  where=$(cat "$work/blocks/$i.where")
  script="$work/blocks/$i.run.sh"
  {
    echo 'trap '\''kill $(jobs -p) 2>/dev/null || true'\'' EXIT'
    sed "s/127\.0\.0\.1:8080/$addr/g" "$work/blocks/$i.sh"
  } >"$script"
  echo "---- $where"
  sed 's/^/    /' "$work/blocks/$i.sh"
  set +e
  (cd "$work/run" && PATH="$work/bin:$PATH" timeout 120 bash -e -o pipefail "$script") \
    >"$work/out" 2>&1 </dev/null
  rc=$?
  set -e
  head -n 40 "$work/out" | sed 's/^/  | /'
  if [ "$rc" = 0 ]; then
    echo "  ok"
  else
    echo "  FAIL: $where exited with $rc"
    fail=$((fail + 1))
  fi
done
echo "docs.commands: $n block(s), $fail failed"
[ "$fail" = 0 ]
