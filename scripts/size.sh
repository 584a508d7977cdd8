#!/usr/bin/env bash
# Prints the size of what a pupil's browser downloads for the app, raw, gzip -9 and brotli, from pkg/ and
# www/: the first bundle, each part loaded when first needed, the service worker (the file lists are
# bench/transfer.mjs's, which ./scripts/bench.sh reports from too). With --check (as ./scripts/test.sh
# runs it), fails when the first bundle passes its budget on the wire. Build first (./scripts/demo.sh or
# ./scripts/test.sh do).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f pkg/cartable_bg.wasm ] || { echo "pkg/cartable_bg.wasm not found: run ./scripts/demo.sh or ./scripts/test.sh first" >&2; exit 1; }
exec node bench/transfer.mjs "$@"
