#!/usr/bin/env bash
# Prints the size of what a pupil's browser downloads for the app, raw and gzip -9, from pkg/ and www/
# (the file list is bench/transfer.mjs's, which ./scripts/bench.sh reports from too).
# Build first (./scripts/demo.sh or ./scripts/test.sh do).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f pkg/cartable_bg.wasm ] || { echo "pkg/cartable_bg.wasm not found: run ./scripts/demo.sh or ./scripts/test.sh first" >&2; exit 1; }
exec node bench/transfer.mjs
