#!/usr/bin/env sh
# Fails when a tracked C file differs from what clang-format (the repo's
# .clang-format) would make of it. Skips (77) without clang-format or git.
root=$1
command -v clang-format >/dev/null 2>&1 || { echo "skipped: no clang-format"; exit 77; }
git -C "$root" rev-parse >/dev/null 2>&1 || { echo "skipped: not a git checkout"; exit 77; }
bad=0
for f in $(git -C "$root" ls-files '*.c' '*.h'); do
  if ! clang-format --dry-run -Werror "$root/$f" >/dev/null 2>&1; then
    echo "not clang-formatted: $f (run: clang-format -i $f)"
    bad=$((bad + 1))
  fi
done
echo "style: $bad file(s) need clang-format"
[ "$bad" = 0 ]
