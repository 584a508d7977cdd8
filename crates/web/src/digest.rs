//! Chunk hashing with WebCrypto (`crypto.subtle.digest`), several times faster than sha2 compiled to wasm.
//! Computes digests and compares them with the CID the signed manifest names; nothing else decides trust.

use cartable_core::Cid;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The CID of `bytes`, hashed by the browser's WebCrypto. `None` if WebCrypto is unavailable (pages
/// served over plain HTTP from a non-local host have no `crypto.subtle`).
pub async fn cid_of(bytes: &[u8]) -> Option<Cid> {
    let subtle = subtle()?;
    let promise = subtle.digest_with_str_and_u8_array("SHA-256", bytes).ok()?;
    let buffer = JsFuture::from(promise).await.ok()?;
    let digest: [u8; 32] = js_sys::Uint8Array::new(&buffer).to_vec().try_into().ok()?;
    Some(Cid::from_sha256(digest))
}

/// Why fetched bytes are not the chunk asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// Wrong length or wrong hash: the bytes must be thrown away.
    Bytes,
    /// The browser cannot hash, so nothing can be checked.
    NoWebCrypto,
}

/// Checks that `bytes` are chunk `cid`, `len` bytes long: the test every fetched chunk passes before it is
/// used, stored or passed on. The length is compared first, which costs nothing.
pub async fn check_chunk(bytes: &[u8], cid: Cid, len: u64) -> Result<(), Mismatch> {
    if bytes.len() as u64 != len {
        return Err(Mismatch::Bytes);
    }
    match cid_of(bytes).await {
        Some(actual) if actual == cid => Ok(()),
        Some(_) => Err(Mismatch::Bytes),
        None => Err(Mismatch::NoWebCrypto),
    }
}

/// The page's or the worker's WebCrypto, where there is one (secure contexts only).
pub fn subtle() -> Option<web_sys::SubtleCrypto> {
    let global = js_sys::global();
    let crypto = js_sys::Reflect::get(&global, &"crypto".into()).ok()?;
    Some(crypto.dyn_into::<web_sys::Crypto>().ok()?.subtle())
}
