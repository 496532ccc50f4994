#!/usr/bin/env bash
# Writes docs/cli.md from the built tool's own help: `uniws --help`, then the
# --help of every command that lists (so a new flag or command lands in the
# page by running this again). The test docs.cli_md runs it with --check.
# Usage: scripts/gen-cli-doc.sh [BUILD_DIR]           rewrite docs/cli.md (default: build)
#        scripts/gen-cli-doc.sh --check BUILD_DIR     exit 1 if docs/cli.md is out of date
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
dir=${1:-build}
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
bin="$dir/tools/cli/uniws"
if [ ! -x "$bin" ]; then
  echo "gen-cli-doc: $bin not found (build first: bash scripts/build.sh build)" >&2
  exit 2
fi

generate() {
  local cmd
  cat <<'HEAD'
# The `uniws` command line

<!-- Generated from the tool's --help by scripts/gen-cli-doc.sh; do not edit by hand.
     After changing a help text: bash scripts/gen-cli-doc.sh build -->

Every command prints this text with `--help` (or `uniws help COMMAND`). The README has a
shorter table; [peer.md](peer.md) is the path language of `uniws serve`.

HEAD
  echo '## uniws'
  echo
  echo '```text'
  "$bin" --help
  echo '```'
  # The command names: the indented first words of the "Commands:" section.
  for cmd in $("$bin" --help | awk '/^Commands:/ { s = 1; next } s && /^$/ { exit } s { print $1 }'); do
    [ "$cmd" = help ] && continue
    echo
    echo "## uniws $cmd"
    echo
    echo '```text'
    "$bin" "$cmd" --help
    echo '```'
  done
}

if [ "$check" = 1 ]; then
  if ! diff -u "$root/docs/cli.md" <(generate) >&2; then
    echo "docs/cli.md is out of date with the tool's --help. Regenerate it with:" >&2
    echo "  bash scripts/gen-cli-doc.sh $dir" >&2
    exit 1
  fi
  echo "docs/cli.md matches the --help of every command"
else
  generate >"$root/docs/cli.md"
  echo "wrote $root/docs/cli.md"
fi
