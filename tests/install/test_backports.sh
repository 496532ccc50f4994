#!/usr/bin/env bash
# Checks that scripts/bootstrap.sh took from bookworm-backports exactly the
# packages docs/platforms.md lists, and nothing else.
#
# What bootstrap installed is read from apt's own record (/var/log/apt/
# history.log*): the transactions whose command line is bootstrap's (tagged
# -o Uniws::Bootstrap=1, or naming libcurl4-openssl-dev as older bootstraps
# did). Every package those transactions installed or upgraded to a ~bpo
# version must be documented, and every documented package must be installed
# from backports. Backports that other tools put on the machine (this is not
# a fresh machine everywhere) do not count; on a fresh machine (CI) every
# backport there is came from bootstrap.
# Usage: test_backports.sh REPO_ROOT        exit 77: not a Debian machine
set -euo pipefail
root=${1:?usage: test_backports.sh REPO_ROOT}
doc="$root/docs/platforms.md"

if ! command -v dpkg-query >/dev/null || [ ! -d /var/log/apt ]; then
  echo "skipped: not a Debian machine (no dpkg / apt history)"
  exit 77
fi

# The documented list: the `code` names inside the first **bold** span of the
# "Debian packages and backports" section.
documented=$(awk '/^## Debian packages and backports/ { s = 1; next } /^## / { s = 0 } s' "$doc" |
  tr '\n' ' ' | sed -n 's/^[^*]*\*\*\([^*]*\)\*\*.*/\1/p' | grep -o '`[^`]*`' | tr -d '`' | sort -u)
if [ -z "$documented" ]; then
  echo "FAIL: no **\`package\`** list found under '## Debian packages and backports' in $doc"
  exit 1
fi
echo "documented: $(echo $documented)"

fail=0
# Installed from backports, all of them (for the log).
all_bpo=$(dpkg-query -W -f='${Package} ${Version}\n' | awk '$2 ~ /~bpo/ { print $1 }' | sort -u)
echo "installed from backports on this machine: $(echo ${all_bpo:-none})"

for p in $documented; do
  v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)
  if [[ "$v" != *~bpo* ]]; then
    echo "FAIL: $p is documented as taken from backports but its installed version is '${v:-none}'"
    fail=1
  fi
done

# UNIWS_APT_HISTORY: other history files (to check the check itself).
logs=${UNIWS_APT_HISTORY:-$(ls /var/log/apt/history.log* 2>/dev/null || true)}
if [ -z "$logs" ]; then
  echo "no apt history: only checked that the documented packages come from backports"
  exit $fail
fi
# One apt transaction per paragraph; print the packages a bootstrap
# transaction installed or upgraded to a backports version.
taken=$(for f in $logs; do zcat -f "$f"; printf '\n\n'; done | awk '
  BEGIN { RS = ""; FS = "\n" }
  {
    ours = 0
    for (i = 1; i <= NF; i++)
      if ($i ~ /^Commandline: / && $i ~ / install / &&
          ($i ~ /Uniws::Bootstrap/ || $i ~ /libcurl4-openssl-dev/)) ours = 1
    if (!ours) next
    for (i = 1; i <= NF; i++) {
      if ($i !~ /^(Install|Upgrade): /) continue
      line = $i; sub(/^[A-Za-z]+: /, "", line)
      n = split(line, ent, /\), /)
      for (j = 1; j <= n; j++) {
        e = ent[j]; sub(/\)$/, "", e)
        name = e; sub(/ .*/, "", name); sub(/:.*/, "", name)
        vers = e; sub(/^[^(]*\(/, "", vers)
        m = split(vers, v, /, /)
        ver = v[m]; if (ver == "automatic") ver = v[m - 1]
        if (ver ~ /~bpo/) print name
      }
    }
  }' | sort -u)
echo "taken from backports by bootstrap (apt history): $(echo ${taken:-none})"
if [ -z "$taken" ]; then
  # The packages were there before bootstrap ever ran (e.g. a prepared image).
  echo "no bootstrap transaction took a backport: only checked the installed versions"
  exit $fail
fi
extra=$(comm -23 <(printf '%s\n' $taken) <(printf '%s\n' $documented))
if [ -n "$extra" ]; then
  echo "FAIL: bootstrap took from backports what docs/platforms.md does not list: $(echo $extra)"
  fail=1
fi
if [ "$fail" = 0 ]; then echo "ok: bootstrap took exactly the documented backports"; fi
exit $fail
