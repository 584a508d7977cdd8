//! Browser tier, service worker: `IdbStore` opens without a window (the worker's global `indexedDB`).
// See: issue 3
#![cfg(target_arch = "wasm32")]

use cartable_core::store::{Store, StoredManifest};
use cartable_core::Cid;
use cartable_web::store::IdbStore;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_service_worker);

#[wasm_bindgen_test]
async fn the_store_works_in_a_service_worker() {
    assert!(web_sys::window().is_none(), "this runs in a worker, with no window");
    let store = IdbStore::open().await.expect("the database opens in a service worker");
    let bytes = b"served offline".to_vec();
    let cid = Cid::of(&bytes);
    store.put_chunks(vec![(cid, bytes.clone())]).await.expect("written");
    assert_eq!(store.get_chunk(&cid).await, Ok(Some(bytes)));
    let manifest = StoredManifest {
        course_id: "physique-3e".into(),
        version: 3,
        json: b"{}".to_vec(),
        stored_at: 1_764_288_000,
        source: String::new(),
    };
    store.put_manifest(manifest.clone()).await.expect("written");
    assert_eq!(store.get_manifest("physique-3e").await, Ok(Some(manifest)));
    store.close();
}
