#!/usr/bin/env bash
# Benchmark report: the app's and the service worker's gzip transfer, a first visit's bytes on the wire,
# cold and warm start at 6x CPU throttle, SHA-256 throughput (WebCrypto and the wasm sha2, same page), peak
# memory while saving a 200 MB course for offline, and a class of 8 saving from each other with the whole
# origin saturated. Writes target/bench/report.json and target/bench/report.md and prints the Markdown;
# progress goes to stderr.
# Arguments go to bench/report.mjs: --quick, --runs N, --course-mb MB, --class-sizes 8,16, --only a,b.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh >&2   # its progress, not the report, on stderr
source scripts/test-deps.sh >&2
# The app built with `sha2_digest` exported (`--features bench`), for bench/hash.mjs: in target/bench/pkg,
# never in pkg/, which pupils download.
"${WASM_CARGO[@]}" rustc --quiet --profile wasm-release --target wasm32-unknown-unknown -p cartable --lib \
  --crate-type cdylib --features bench
wasm-bindgen --target web --no-typescript --out-dir target/bench/pkg --out-name cartable_bench \
  target/wasm32-unknown-unknown/wasm-release/cartable.wasm
# The release tool packs and serves the 200 MB course several times faster than the debug one.
cargo build --quiet --release -p cartable-cli
CARTABLE_BIN=target/release/cartable node bench/report.mjs "$@"
