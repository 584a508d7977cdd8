//! Browser tier for `IdbStore`: the core's `Store` contract over a real IndexedDB in headless Chromium.
//! Each test opens a database of its own.
// See: issue 3
#![cfg(target_arch = "wasm32")]

use cartable_core::store::{Store, StoreError, StoredManifest};
use cartable_core::Cid;
use cartable_web::store::{js_store_error, IdbStore, DATABASE};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A store over a database no other test (or earlier run) has used.
async fn fresh(name: &str) -> (IdbStore, String) {
    let name = format!("test-{name}-{}-{}", cartable_web::clock::unix_ms(), cartable_web::clock::random());
    let store = IdbStore::open_named(&name).await.expect("the database opens");
    (store, name)
}

fn chunk(text: &str) -> (Cid, Vec<u8>) {
    (Cid::of(text.as_bytes()), text.as_bytes().to_vec())
}

fn manifest(course_id: &str, version: u64, json: &str) -> StoredManifest {
    StoredManifest {
        course_id: course_id.into(),
        version,
        json: json.as_bytes().to_vec(),
        stored_at: 1_764_288_000,
        source: format!("https://college.example/courses/{course_id}/manifest.json"),
    }
}

#[wasm_bindgen_test]
async fn chunks_are_put_got_and_deleted() {
    let (store, _) = fresh("chunks").await;
    let (a, b) = (chunk("alpha"), chunk("beta"));
    assert_eq!(store.get_chunk(&a.0).await, Ok(None));
    store.put_chunks(vec![a.clone(), b.clone()]).await.expect("the batch is written");
    assert_eq!(store.get_chunk(&a.0).await, Ok(Some(a.1.clone())));
    assert_eq!(store.get_chunk(&b.0).await, Ok(Some(b.1.clone())));
    store.delete_chunks(vec![a.0, chunk("never stored").0]).await.expect("deleted, absent ones ignored");
    assert_eq!(store.get_chunk(&a.0).await, Ok(None));
    assert_eq!(store.get_chunk(&b.0).await, Ok(Some(b.1)));
}

#[wasm_bindgen_test]
async fn has_chunks_answers_in_order() {
    let (store, _) = fresh("has").await;
    let (a, b, c) = (chunk("a"), chunk("b"), chunk("c"));
    store.put_chunks(vec![a.clone(), c.clone()]).await.expect("written");
    assert_eq!(store.has_chunks(&[a.0, b.0, c.0]).await, Ok(vec![true, false, true]));
    assert_eq!(store.has_chunks(&[]).await, Ok(vec![]));
}

#[wasm_bindgen_test]
async fn chunk_ids_and_bytes_count_what_is_stored() {
    let (store, _) = fresh("ids").await;
    assert_eq!(store.chunk_ids().await, Ok(vec![]));
    assert_eq!(store.chunk_bytes().await, Ok(0));
    let chunks = vec![chunk("one"), chunk("three"), chunk("")];
    store.put_chunks(chunks.clone()).await.expect("written");
    store.put_chunks(vec![chunk("one")]).await.expect("putting the same chunk again replaces it");
    let mut ids = store.chunk_ids().await.expect("listed");
    ids.sort();
    let mut expected: Vec<Cid> = chunks.iter().map(|(cid, _)| *cid).collect();
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(store.chunk_bytes().await, Ok(3 + 5));
}

#[wasm_bindgen_test]
async fn a_failed_batch_keeps_nothing() {
    let (store, _) = fresh("atomic").await;
    let kept = chunk("kept from before");
    store.put_chunks(vec![kept.clone()]).await.expect("written");
    let batch = vec![chunk("first"), chunk("second"), chunk("third")];
    // The hook makes the last request of the transaction fail, after every put of the batch succeeded.
    let failed = store.put_chunks_then_fail(batch.clone()).await;
    assert!(
        matches!(&failed, Err(StoreError::Unavailable(message)) if message.contains("ConstraintError")),
        "{failed:?}"
    );
    let cids: Vec<Cid> = batch.iter().map(|(cid, _)| *cid).collect();
    assert_eq!(store.has_chunks(&cids).await, Ok(vec![false, false, false]));
    assert_eq!(store.chunk_ids().await, Ok(vec![kept.0]));
    assert_eq!(store.get_chunk(&kept.0).await, Ok(Some(kept.1)));
}

#[wasm_bindgen_test]
fn quota_errors_map_to_quota_exceeded() {
    let quota =
        web_sys::DomException::new_with_message_and_name("no room left", "QuotaExceededError").expect("a DOMException");
    assert_eq!(js_store_error(&quota), StoreError::QuotaExceeded);
    let other = web_sys::DomException::new_with_message_and_name("gone", "InvalidStateError").expect("a DOMException");
    assert_eq!(js_store_error(&other), StoreError::Unavailable("InvalidStateError: gone".into()));
    assert!(matches!(js_store_error(&"odd".into()), StoreError::Unavailable(_)));
}

#[wasm_bindgen_test]
async fn a_16_mib_chunk_round_trips_byte_for_byte() {
    let (store, _) = fresh("large").await;
    let bytes: Vec<u8> = (0..16 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let cid = Cid::of(&bytes);
    store.put_chunks(vec![(cid, bytes.clone())]).await.expect("written");
    let back = store.get_chunk(&cid).await.expect("read").expect("present");
    assert!(back == bytes, "the bytes read back differ");
    assert_eq!(store.chunk_bytes().await, Ok(16 * 1024 * 1024));
}

#[wasm_bindgen_test]
async fn data_persists_after_close_and_reopen() {
    let (store, name) = fresh("reopen").await;
    let a = chunk("persistent");
    store.put_chunks(vec![a.clone()]).await.expect("written");
    store.put_manifest(manifest("physique-3e", 2, "{}")).await.expect("written");
    store.close();
    let store = IdbStore::open_named(&name).await.expect("reopens");
    assert_eq!(store.get_chunk(&a.0).await, Ok(Some(a.1)));
    assert_eq!(store.get_manifest("physique-3e").await, Ok(Some(manifest("physique-3e", 2, "{}"))));
}

#[wasm_bindgen_test]
async fn manifests_are_put_replaced_and_listed() {
    let (store, _) = fresh("manifests").await;
    assert_eq!(store.get_manifest("physique-3e").await, Ok(None));
    let first = manifest("physique-3e", 1, r#"{"v":1}"#);
    store.put_manifest(first.clone()).await.expect("written");
    assert_eq!(store.get_manifest("physique-3e").await, Ok(Some(first)));
    // Versions and dates beyond 2^53 must come back exactly.
    let newer = StoredManifest { stored_at: -(1 << 60), ..manifest("physique-3e", u64::MAX, r#"{"v":2}"#) };
    store.put_manifest(newer.clone()).await.expect("replaced");
    assert_eq!(store.get_manifest("physique-3e").await, Ok(Some(newer.clone())));
    let other = manifest("svt-4e", 7, "{}");
    store.put_manifest(other.clone()).await.expect("written");
    let mut all = store.manifests().await.expect("listed");
    all.sort_by(|a, b| a.course_id.cmp(&b.course_id));
    assert_eq!(all, vec![newer, other]);
}

#[wasm_bindgen_test]
async fn the_default_database_opens() {
    let store = IdbStore::open().await.expect("the cartable database opens");
    assert!(store.chunk_bytes().await.is_ok(), "{DATABASE} has its chunks store");
    store.close();
}

/// Errors thrown by event handlers that nobody catches: the page sees them as `window.onerror`.
fn record_uncaught_errors() -> js_sys::Array {
    let errors = js_sys::Array::new();
    let sink = errors.clone();
    let handler = wasm_bindgen::closure::Closure::<dyn Fn(wasm_bindgen::JsValue)>::new(move |message| {
        sink.push(&message);
    });
    let window = web_sys::window().expect("a window");
    window.set_onerror(Some(wasm_bindgen::JsCast::unchecked_ref(handler.as_ref())));
    handler.forget(); // lives as long as the test page
    errors
}

async fn pause(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let window = web_sys::window().expect("a window");
        window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).expect("a timer");
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.expect("the timer fires");
}

#[wasm_bindgen_test]
async fn a_caller_that_stops_waiting_leaves_no_broken_callback() {
    use futures::FutureExt as _;
    let (store, _) = fresh("dropped").await;
    let (cid, bytes) = chunk("gamma");
    store.put_chunks(vec![(cid, bytes.clone())]).await.expect("written");
    let errors = record_uncaught_errors();
    // Started, then dropped before IndexedDB answers: as when one chunk of a file fails verification and
    // the reads of its other chunks are abandoned.
    assert!(store.get_chunk(&cid).now_or_never().is_none(), "the read is still pending");
    assert!(store.put_chunks(vec![chunk("delta")]).now_or_never().is_none(), "the write is still pending");
    assert!(store.chunk_bytes().now_or_never().is_none(), "the cursor is still pending");
    pause(100).await;
    assert_eq!(errors.length(), 0, "uncaught: {:?}", errors.to_vec());
    assert_eq!(store.get_chunk(&cid).await, Ok(Some(bytes)), "the store still works");
}
