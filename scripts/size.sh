#!/usr/bin/env bash
# Prints the size of what a pupil's browser downloads for the app, raw and gzip -9, from pkg/ and www/.
# Build first (./scripts/demo.sh or ./scripts/test.sh do).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f pkg/cartable_bg.wasm ] || { echo "pkg/cartable_bg.wasm not found: run ./scripts/demo.sh or ./scripts/test.sh first" >&2; exit 1; }
total_raw=0; total_gz=0
printf '%-24s %10s %10s\n' file bytes gzip
for file in pkg/cartable_bg.wasm pkg/cartable.js $(find pkg/snippets -name '*.js' 2>/dev/null | sort) www/index.html www/app.js www/start.js www/style.css www/favicon.svg; do
  raw=$(wc -c < "$file"); gz=$(gzip -9c "$file" | wc -c)
  total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz))
  printf '%-24s %10d %10d\n' "$file" "$raw" "$gz"
done
printf '%-24s %10d %10d\n' total "$total_raw" "$total_gz"
