#!/usr/bin/env bash
# Screenshot every page of a built tables folder with headless Chromium (Debian package `chromium`).
# Usage: scripts/screenshot_tables.sh [TABLES_DIR] [SHOTS_DIR]
#   TABLES_DIR: a built tables folder (e.g. out/tables of `trialforge run`). Without it, the outputs of the
#   cd70-cart example are built first (SDTM + ADaM in memory, as `trialforge tables examples/cd70-cart`).
#   Every *.html page (index.html included) is saved as SHOTS_DIR/<page>.png (1280 px wide).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
py="${PYTHON:-/work/venv/bin/python}"
tables="${1:-}"
shots="${2:-${TMPDIR:-/tmp}/trialforge-table-shots}"
if [[ -z "$tables" ]]; then
  tables="$(mktemp -d)/tables"
  (cd "$here/.." && "$py" -c "
import sys
from pathlib import Path
from trialforge.tables.command import adam_from_study
from trialforge.tables.build import build_tables
adam, study = adam_from_study(Path(sys.argv[2]))
build_tables(adam, sys.argv[1], study=study)" "$tables" "$here/examples/cd70-cart")
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
