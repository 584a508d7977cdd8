#!/usr/bin/env bash
# Installs what cartable needs to build (the wasm target, wasm-bindgen-cli), and builds the browser app
# into pkg/. Quick when everything is already there. Sourced by demo.sh and test.sh, which adds what the
# tests need; sets WASM_CARGO and defines say and apt_install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The wasm32 target from rustup; else Debian's rustc-web building std from source (slower).
WASM_CARGO=(cargo)
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  if ! rustup target add wasm32-unknown-unknown; then
    say "rustup could not add the target: using Debian's rustc-web instead"
    command -v /usr/lib/llvm-22/bin/wasm-ld >/dev/null || apt_install rustc-web cargo-web rust-web-src lld-22
    WASM_CARGO=(env PATH="/usr/bin:$PATH" cargo --config .cargo/debian.toml)
  fi
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
wanted=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
installed=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$installed" != "$wanted" ]; then
  say "installing wasm-bindgen-cli $wanted (about 2 minutes, once)"
  cargo install -q wasm-bindgen-cli --version "$wanted"
fi

# wasm-split-cli cuts the app into its first bundle and the parts loaded when first needed (src/parts.rs):
# this version reads the split points of wasm_split_helpers 0.2 (Cargo.lock).
split_wanted=0.2.4
if ! cargo install --list | grep -qx "wasm_split_cli_support v$split_wanted:"; then
  say "installing wasm-split-cli $split_wanted (about 1 minute, once)"
  cargo install -q --locked wasm_split_cli_support --version "$split_wanted" --features build-binary
fi

# The browser app and its service worker: optimised for size, bound to JavaScript with names stripped.
# Two cargo runs, so the worker does not inherit the app's features (Yew) through feature unification.
# Each is built as a cdylib alone: with the rlib the tests link against built beside it, every public
# function stays exported through LTO, and the app's wasm is 26 KB gzip larger, the worker's 20 KB.
# The app is linked with its relocations (what wasm-split-cli follows to cut it) and without names, then
# cut: its first bundle goes through wasm-bindgen (keeping the function table, which the parts share),
# its parts and their loader are copied beside it.
say "building the browser app and its service worker into pkg/"
# Snippets and parts are named by hashes and counters: an old build's would linger.
rm -rf pkg/snippets pkg/__wasm_split.js pkg/split_*.wasm pkg/chunk_*.wasm
"${WASM_CARGO[@]}" rustc --quiet --profile wasm-release --target wasm32-unknown-unknown -p cartable --lib \
  --crate-type cdylib --features split -- \
  -Clink-args=--emit-relocs -Clink-args=--strip-all -Clink-args=--keep-section=target_features
rm -rf target/wasm-split
wasm-split-cli --target web --out-name cartable target/wasm32-unknown-unknown/wasm-release/cartable.wasm target/wasm-split
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section --keep-lld-exports \
  --out-dir pkg target/wasm-split/cartable.wasm
find target/wasm-split -maxdepth 1 \( -name '*.wasm' ! -name cartable.wasm -o -name __wasm_split.js \) -exec cp {} pkg/ \;
"${WASM_CARGO[@]}" rustc --quiet --profile wasm-release --target wasm32-unknown-unknown -p cartable-sw --lib \
  --crate-type cdylib
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
  --out-dir pkg target/wasm32-unknown-unknown/wasm-release/cartable_sw.wasm

# The app shell as content (`cartable shell`): its list with each file's CID, the build id, the chunks
# in pkg/ipfs/ and brotli and gzip copies of everything served, which `cartable serve` and `cartable mirror`
# serve as they are; the build id and the list are appended to the worker's module, pkg/cartable_sw.js. Copies already made are kept.
cargo build --quiet -p cartable-cli
target/debug/cartable shell --www www --pkg pkg
