//! Browser tier for `digest`: WebCrypto, in headless Chromium, agrees with the core's sha2 on every CID.
// See: issue 2
#![cfg(target_arch = "wasm32")]

use cartable_core::Cid;
use cartable_web::digest;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn webcrypto_hashes_to_the_same_cids_as_the_core() {
    for size in [0usize, 1, 1000, 256 * 1024 + 3] {
        let bytes: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
        assert_eq!(digest::cid_of(&bytes).await, Some(Cid::of(&bytes)), "size {size}");
    }
}
