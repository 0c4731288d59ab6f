#!/usr/bin/env bash
# Screenshot every page of a built tables folder with headless Chromium (Debian package `chromium`).
# Usage: scripts/screenshot_tables.sh [TABLES_DIR] [SHOTS_DIR]
#   With no TABLES_DIR, builds the outputs from the demo ADaM into a temporary folder first.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
py="${PYTHON:-/work/venv/bin/python}"
tables="${1:-}"
shots="${2:-${TMPDIR:-/tmp}/trialforge-table-shots}"
if [[ -z "$tables" ]]; then
  tables="$(mktemp -d)/tables"
  (cd "$here/.." && "$py" -c "
import sys
from trialforge.tables.demo_adam import make_adam
from trialforge.tables.build import build_tables
build_tables(make_adam(), sys.argv[1])" "$tables")
fi
browser="$(command -v chromium || command -v chromium-browser || true)"
[[ -n "$browser" ]] || { echo "chromium not found (apt-get install -y chromium)" >&2; exit 2; }
mkdir -p "$shots"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
shopt -s nullglob
pages=("$tables"/*.html)
[[ ${#pages[@]} -gt 0 ]] || { echo "no HTML pages in $tables" >&2; exit 2; }
for page in "${pages[@]}"; do
  name="$(basename "$page" .html)"
  "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
    --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$profile" \
    --screenshot="$shots/$name.png" --window-size=1280,2000 "file://$page" >/dev/null 2>&1 \
    || echo "failed: $page" >&2
done
echo "screenshots in $shots ($(ls "$shots" | wc -l) files) from $tables"
