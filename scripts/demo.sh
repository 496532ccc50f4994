#!/usr/bin/env bash
# The README's "run" command: installs dependencies (idempotent), builds, and
# runs `uniws demo` — every compiled backend against an embedded local server.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/bootstrap.sh"
bash "$root/scripts/build.sh" build >/dev/null
exec "$root/build/tools/cli/uniws" demo "$@"
