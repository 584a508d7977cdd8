//! Browser tier for the outbox's IndexedDB records (`src/outbox/idb.rs`), in headless Chromium. Each
//! test opens a database of its own.
#![cfg(target_arch = "wasm32")]

use cartable::outbox::OutboxStore;
use cartable_web::store::{record, IdbStore};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

// See: issue 6
#[wasm_bindgen_test]
async fn submissions_receipts_and_refusals_are_kept_and_read_back() {
    let name = fresh_name();
    let store = OutboxStore::open_named(&name).await.expect("the outbox database opens");
    store.put_submission("k1", URL, "{\"body\":1}", "{\"summary\":1}").await.expect("kept");
    store.put_submission("k2", URL, "{\"body\":2}", "{\"summary\":2}").await.expect("kept");
    store.put_submission("k3", URL, "{\"body\":3}", "{\"summary\":3}").await.expect("kept");
    store.put_receipt("k1", "{\"key\":\"k1\"}").await.expect("receipt kept");
    store.put_refusal("k3", "not found").await.expect("refusal kept");
    store.close();
    let store = OutboxStore::open_named(&name).await.expect("reopens");
    let kept = store.outbox().await.expect("read back");
    assert_eq!(kept.entries, vec![entry("k1", 1), entry("k2", 2), entry("k3", 3)]);
    assert_eq!(kept.receipts, vec!["{\"key\":\"k1\"}".to_owned()]);
    assert_eq!(kept.refusals, vec![("k3".to_owned(), "not found".to_owned())]);
    assert_eq!(store.submission_body("k2").await, Ok(Some("{\"body\":2}".into())));
    assert_eq!(store.submission_body("k4").await, Ok(None));
    store.clear_refusals().await.expect("cleared");
    assert_eq!(store.outbox().await.expect("read back").refusals, vec![]);
}

// See: issue 14
#[wasm_bindgen_test]
async fn an_outbox_kept_by_the_first_version_is_upgraded_with_its_submissions() {
    let name = fresh_name();
    // The database as version 1 left it: no `refusals` store.
    let first = IdbStore::open_with(&name, 1, &["outbox", "receipts"]).await.expect("version 1 opens");
    let value = record(&[
        ("key", "k1".into()),
        ("url", URL.into()),
        ("body", "{}".into()),
        ("submission", "{\"summary\":1}".into()),
    ]);
    first.write("outbox", |store| store.put(&value, Some(&"k1".into())).map(drop)).await.expect("kept");
    first.close();
    let store = OutboxStore::open_named(&name).await.expect("the outbox database is upgraded");
    let kept = store.outbox().await.expect("read back");
    assert_eq!((kept.entries, kept.refusals), (vec![entry("k1", 1)], vec![]));
    store.put_refusal("k1", "too big").await.expect("the new store takes refusals");
}

const URL: &str = "https://college.example/courses/c/submissions";

fn fresh_name() -> String {
    format!("test-outbox-{}-{}", cartable_web::clock::unix_ms(), cartable_web::clock::random())
}

fn entry(key: &str, n: u8) -> (String, String, String) {
    (key.to_owned(), URL.to_owned(), format!("{{\"summary\":{n}}}"))
}
