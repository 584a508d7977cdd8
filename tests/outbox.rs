//! Browser tier for the outbox's IndexedDB records (`src/outbox/idb.rs`), in headless Chromium. Each
//! test opens a database of its own.
#![cfg(target_arch = "wasm32")]

use cartable::outbox::OutboxStore;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

// See: issue 6
#[wasm_bindgen_test]
async fn submissions_and_receipts_are_kept_and_read_back() {
    let name = format!("test-outbox-{}-{}", cartable_web::clock::unix_ms(), cartable_web::clock::random());
    let store = OutboxStore::open_named(&name).await.expect("the outbox database opens");
    let url = "https://college.example/courses/c/submissions";
    store.put_submission("k1", url, "{\"body\":1}", "{\"summary\":1}").await.expect("kept");
    store.put_submission("k2", url, "{\"body\":2}", "{\"summary\":2}").await.expect("kept");
    store.put_receipt("k1", "{\"key\":\"k1\"}").await.expect("receipt kept");
    store.close();
    let store = OutboxStore::open_named(&name).await.expect("reopens");
    let (entries, receipts) = store.outbox().await.expect("read back");
    let expected = |key: &str, n: u8| (key.to_owned(), url.to_owned(), format!("{{\"summary\":{n}}}"));
    assert_eq!(entries, vec![expected("k1", 1), expected("k2", 2)]);
    assert_eq!(receipts, vec!["{\"key\":\"k1\"}".to_owned()]);
    assert_eq!(store.submission_body("k2").await, Ok(Some("{\"body\":2}".into())));
    assert_eq!(store.submission_body("k3").await, Ok(None));
}
