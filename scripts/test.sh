#!/usr/bin/env bash
# Every test tier, as CI runs it: lints, native (core and the cartable tool), browser (wasm in headless
# Chromium), end to end (real pages in Chromium against a real `cartable serve`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/test-deps.sh
started=$SECONDS

say "size: the app's first bundle within its budget on the wire (brotli), every part printed"
./scripts/size.sh --check

say "lints: rustfmt, clippy (native and wasm32)"
cargo fmt --all --check
cargo clippy --quiet --workspace --exclude cartable --exclude cartable-web --exclude cartable-sw --all-targets -- -D warnings
for crate in cartable cartable-web cartable-sw; do
  "${WASM_CARGO[@]}" clippy --quiet --target wasm32-unknown-unknown -p "$crate" --all-targets --features cartable-web/test-hooks -- -D warnings
done
"${WASM_CARGO[@]}" clippy --quiet --target wasm32-unknown-unknown -p cartable --features bench -- -D warnings
"${WASM_CARGO[@]}" clippy --quiet --target wasm32-unknown-unknown -p cartable --features split -- -D warnings

say "native tests: core and the cartable tool"
cargo test --workspace --exclude cartable --exclude cartable-web --exclude cartable-sw

say "browser tests: wasm-bindgen-test in headless Chromium"
"${WASM_CARGO[@]}" test --target wasm32-unknown-unknown -p cartable -p cartable-web -p cartable-sw --features cartable-web/test-hooks

say "end-to-end tests: Playwright driving Chromium against cartable serve"
CARTABLE_BIN="$PWD/target/debug/cartable" node --test --test-concurrency=1 tests/e2e/

say "all tiers passed in $((SECONDS - started)) s (after setup)"
