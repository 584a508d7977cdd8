//! Chunk hashing with WebCrypto (`crypto.subtle.digest`), several times faster than sha2 compiled to wasm.
//! Only computes digests: deciding whether bytes are trusted stays with `cartable_core::Cid`.

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

fn subtle() -> Option<web_sys::SubtleCrypto> {
    let global = js_sys::global();
    let crypto = js_sys::Reflect::get(&global, &"crypto".into()).ok()?;
    Some(crypto.dyn_into::<web_sys::Crypto>().ok()?.subtle())
}
