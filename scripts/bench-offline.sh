#!/usr/bin/env bash
# Benchmark: cold start of a lesson on a first visit (on loopback and on a shaped 4 Mbit/s, 100 ms line) and warm
# offline start, with Chromium's CPU throttled 6x, each as a ratio to the same lesson as a static page measured
# in the same run; and the gzip size of the app and its service worker. Prints a table and writes
# target/bench/offline-start.json.
# Arguments go to bench/offline-start.mjs: --runs N (default 5), --rate R (CPU throttle, default 6).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/test-deps.sh
cargo build --quiet -p cartable-cli
CARTABLE_BIN=target/debug/cartable node bench/offline-start.mjs "$@"
