//! What only the bench's build of the app exports (`--features bench`, built by `scripts/bench.sh`).

use cartable_core::Cid;

/// The sha2-256 digest of `bytes` (32 bytes) computed in wasm by the core's `sha2`, as [`Cid::of`] and
/// `Cid::matches` do natively. The app verifies chunks with WebCrypto (`cartable_web::digest`); this
/// export lets `bench/hash.mjs` measure that choice against sha2 in the same page, on the same bytes.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn sha2_digest(bytes: &[u8]) -> Vec<u8> {
    Cid::of(bytes).sha256().to_vec()
}
