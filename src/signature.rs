//! Ed25519 signatures of manifests, checked by the browser's WebCrypto; where it has no Ed25519 (Chromium
//! before 137, as on Chromebooks no longer updated), by ed25519-dalek, in a part of the app loaded only
//! then (`crate::parts`), so that the first bundle carries no curve arithmetic. Either way the core
//! decides what the answer means (`SignedManifest::verify_with`).

use std::future::Future;
use std::pin::Pin;

use cartable_core::key::{Signature, SignatureCheck};
use cartable_core::PublicKey;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// WebCrypto first, ed25519-dalek where it has no Ed25519.
pub struct Browser;

impl SignatureCheck for Browser {
    fn check<'a>(
        &'a self,
        key: PublicKey,
        message: &'a [u8],
        signature: Signature,
    ) -> Pin<Box<dyn Future<Output = Option<bool>> + 'a>> {
        Box::pin(async move {
            match webcrypto(key, message, signature).await {
                Some(verified) => Some(verified),
                None => crate::parts::check_signature(key, message.to_vec(), signature).await.ok(),
            }
        })
    }
}

/// Whether WebCrypto finds `signature` made over `message` by `key`; `None` where it cannot check
/// Ed25519 (no WebCrypto, or no Ed25519 in it).
async fn webcrypto(key: PublicKey, message: &[u8], signature: Signature) -> Option<bool> {
    let subtle = cartable_web::digest::subtle()?;
    let algorithm = Object::new();
    Reflect::set(&algorithm, &"name".into(), &"Ed25519".into()).ok()?;
    let raw = Uint8Array::from(&key.to_bytes()[..]);
    let usages = Array::of1(&"verify".into());
    let imported = subtle.import_key_with_object("raw", &raw, &algorithm, false, &usages).ok()?;
    let crypto_key = JsFuture::from(imported).await.ok()?.dyn_into::<web_sys::CryptoKey>().ok()?;
    let verified =
        subtle.verify_with_object_and_u8_array_and_u8_array(&algorithm, &crypto_key, &signature.to_bytes(), message);
    JsFuture::from(verified.ok()?).await.ok()?.as_bool()
}
