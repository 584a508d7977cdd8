#!/usr/bin/env bash
# The demo: packs the bundled sample course with a demo key, serves the app and the course, prints the
# address. Extra arguments go to `cartable demo` (e.g. --port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --quiet -p cartable-cli
exec target/debug/cartable demo "$@"
