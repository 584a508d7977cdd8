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

# The browser app and its service worker: optimised for size, bound to JavaScript with names stripped.
# Two cargo runs, so the worker does not inherit the app's features (Yew) through feature unification.
# Each is built as a cdylib alone: with the rlib the tests link against built beside it, every public
# function stays exported through LTO, and the app's wasm is 26 KB gzip larger, the worker's 20 KB.
say "building the browser app and its service worker into pkg/"
rm -rf pkg/snippets   # wasm-bindgen names them by a hash: an old build's would linger
for crate in cartable cartable-sw; do
  "${WASM_CARGO[@]}" rustc --quiet --profile wasm-release --target wasm32-unknown-unknown -p "$crate" --lib \
    --crate-type cdylib
  wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
    --out-dir pkg "target/wasm32-unknown-unknown/wasm-release/${crate//-/_}.wasm"
done

# The app shell as content (`cartable shell`): its list with each file's CID, the build id, the chunks
# in pkg/ipfs/ and brotli and gzip copies of everything served, which `cartable serve` and `cartable mirror`
# serve as they are; the build id and the list are appended to the worker's module, pkg/cartable_sw.js. Copies already made are kept.
cargo build --quiet -p cartable-cli
target/debug/cartable shell --www www --pkg pkg
