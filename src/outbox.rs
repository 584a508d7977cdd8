//! The outbox's browser edge: saves a pupil's submission in IndexedDB (before the page says "saved") and
//! sends what has no receipt yet, on page load, on the `online` event, when a submission is saved and
//! from "send now", following the core's [`Outbox`] (backoff, `Retry-After`). Every attempt posts the
//! same stored body with the same idempotency key, so a repeat is answered with the first receipt and the
//! origin keeps one row. The service worker (`www/sw.js`) sends the same records the same way.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use cartable_core::fetch::retry_after_ms;
use cartable_core::store::StoreError;
use cartable_core::submission::{encode_upload, Entry, Outbox, Outcome, Receipt, Submission, SubmissionError};
use futures::channel::oneshot;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

mod idb;

pub use idb::{Kept, OutboxStore, OUTBOX_DATABASE};

use cartable_web::net;

/// The Background Sync tag the service worker sends the outbox on (`www/sw.js`).
pub const SYNC_TAG: &str = "cartable-outbox";

/// Longest an attempt may wait for its answer.
const ATTEMPT_TIMEOUT_MS: u32 = 60_000;

/// Why a submission could not be saved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SaveError {
    /// It breaks a rule of the core (limits, a missing name).
    #[error(transparent)]
    Invalid(#[from] SubmissionError),
    /// IndexedDB refused it (full, unavailable, private mode).
    #[error("cannot keep it on this device: {0}")]
    Storage(#[from] StoreError),
}

#[derive(Default)]
struct Sender {
    outbox: Outbox,
    urls: HashMap<String, String>,
    running: bool,
    wake: Option<oneshot::Sender<()>>,
    listeners: Vec<(u32, Rc<dyn Fn()>)>,
    next_listener: u32,
}

thread_local! {
    static SENDER: RefCell<Sender> = RefCell::new(Sender::default());
}

/// 128 random bits from the browser's CSPRNG, as an idempotency key; `None` without one (never a
/// predictable key, which could collide with a classmate's).
pub fn new_key() -> Option<String> {
    let mut bytes = [0u8; 16];
    let crypto = web_sys::window()?.crypto().ok()?;
    crypto.get_random_values_with_u8_array(&mut bytes).ok()?;
    Some(cartable_core::submission::key_from(bytes))
}

/// Where the pupil's name is kept in this browser, once typed on "Mon travail".
const STUDENT: &str = "cartable.student";

/// The name the pupil gave on "Mon travail", if any: their answers to exercises go to the teacher under it.
pub fn student() -> Option<String> {
    let storage = web_sys::window()?.local_storage().ok()??;
    storage.get_item(STUDENT).ok().flatten().filter(|name| !name.trim().is_empty())
}

/// Keeps the pupil's name for the next submissions.
pub fn set_student(name: &str) {
    if let Some(storage) = web_sys::window().and_then(|window| window.local_storage().ok().flatten()) {
        let _ = storage.set_item(STUDENT, name);
    }
}

/// The current time in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    cartable_web::clock::unix_ms() as i64
}

/// Keeps `submission` (with the bytes of its files) in IndexedDB, to be posted to `url`, and starts
/// sending it. Returns once the write committed: only then may the page say "saved".
pub async fn save(url: &str, submission: Submission, files: &[Vec<u8>]) -> Result<(), SaveError> {
    submission.validate()?;
    let body = encode_upload(&submission, files);
    let summary = serde_json::to_string(&submission).unwrap_or_default();
    let store = OutboxStore::open().await?;
    let kept = store.put_submission(&submission.key, url, &body, &summary).await;
    store.close();
    kept?;
    SENDER.with_borrow_mut(|sender| {
        sender.urls.insert(submission.key.clone(), url.to_owned());
        sender.outbox.add(submission);
    });
    changed();
    start();
    kick();
    ask_background_sync();
    Ok(())
}

/// Asks the browser to wake the service worker with a `sync` event tagged [`SYNC_TAG`] once it is online,
/// even if the page is closed by then (Background Sync, Chromium only; elsewhere nothing happens).
fn ask_background_sync() {
    let Some(window) = web_sys::window() else { return };
    let ready = window.navigator().service_worker().ready();
    wasm_bindgen_futures::spawn_local(async move {
        let Ok(ready) = ready else { return };
        let Ok(registration) = JsFuture::from(ready).await else { return };
        let sync = js_sys::Reflect::get(&registration, &"sync".into()).unwrap_or(JsValue::UNDEFINED);
        let register = js_sys::Reflect::get(&sync, &"register".into()).ok();
        if let Some(register) = register.and_then(|f| f.dyn_into::<js_sys::Function>().ok()) {
            if let Ok(promise) = register.call1(&sync, &SYNC_TAG.into()) {
                let _ = JsFuture::from(js_sys::Promise::from(promise)).await;
            }
        }
    });
}

/// Whether an earlier visit left work to send, read without starting the sender: the page loads the
/// outbox's part of the app (`crate::parts`) only then.
pub async fn waiting() -> bool {
    let Ok(store) = OutboxStore::open().await else { return false };
    let waiting = store.waiting().await.unwrap_or(false);
    store.close();
    waiting
}

/// Starts sending what the outbox holds and sends again whenever the browser comes back online. Called
/// when the page loads with work waiting, when "Mon travail" opens and when work is saved; only the first
/// call does anything.
pub fn start() {
    thread_local! {
        static STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if STARTED.replace(true) {
        return;
    }
    if let Some(window) = web_sys::window() {
        let online = Closure::<dyn Fn()>::new(send_now);
        let _ = window.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
        online.forget();
    }
    kick();
}

/// "Send now": every submission without a receipt goes at once, backoff forgotten, refused ones too (their
/// stored refusals are forgotten, so that the service worker sends them again as well).
pub fn send_now() {
    SENDER.with_borrow_mut(|sender| sender.outbox.hurry());
    wasm_bindgen_futures::spawn_local(async {
        if let Ok(store) = OutboxStore::open().await {
            let _ = store.clear_refusals().await;
            store.close();
        }
    });
    kick();
}

/// The entries of the outbox, in the order they were saved.
pub fn entries() -> Vec<Entry> {
    let mut entries = SENDER.with_borrow(|sender| sender.outbox.entries().to_vec());
    entries.sort_by_key(|entry| entry.submission.created_at);
    entries
}

/// Calls `listener` whenever an entry changes, until [`unsubscribe`] with the id returned.
pub fn subscribe(listener: Rc<dyn Fn()>) -> u32 {
    SENDER.with_borrow_mut(|sender| {
        sender.next_listener += 1;
        sender.listeners.push((sender.next_listener, listener));
        sender.next_listener
    })
}

/// Stops calling the listener `id`.
pub fn unsubscribe(id: u32) {
    SENDER.with_borrow_mut(|sender| sender.listeners.retain(|(known, _)| *known != id));
}

fn changed() {
    let listeners: Vec<_> = SENDER.with_borrow(|sender| sender.listeners.iter().map(|(_, l)| l.clone()).collect());
    listeners.iter().for_each(|listener| listener());
}

/// Runs the sending loop if it is not running, or wakes it if it waits.
fn kick() {
    let start = SENDER.with_borrow_mut(|sender| {
        if let Some(wake) = sender.wake.take() {
            let _ = wake.send(());
        }
        !std::mem::replace(&mut sender.running, true)
    });
    if start {
        wasm_bindgen_futures::spawn_local(run());
    }
}

async fn run() {
    loop {
        reload().await;
        let due = SENDER.with_borrow_mut(|sender| sender.outbox.due(cartable_web::clock::unix_ms() as u64));
        for submission in &due {
            let outcome = attempt(&submission.key).await;
            SENDER.with_borrow_mut(|sender| {
                sender.outbox.finish(
                    &submission.key,
                    outcome,
                    cartable_web::clock::unix_ms() as u64,
                    cartable_web::clock::random(),
                )
            });
            changed();
        }
        if !due.is_empty() {
            continue;
        }
        let (sender, woken) = oneshot::channel();
        let wake_at = SENDER.with_borrow_mut(|state| {
            let wake_at = state.outbox.wake_at();
            match wake_at {
                None => state.running = false,
                Some(_) => state.wake = Some(sender),
            }
            wake_at
        });
        let Some(wake_at) = wake_at else { return };
        let wait = wake_at.saturating_sub(cartable_web::clock::unix_ms() as u64).min(i32::MAX as u64) as i32;
        futures::future::select(woken, Box::pin(net::sleep(wait))).await;
    }
}

/// Reads the outbox back from IndexedDB: entries saved by another tab, receipts written by the service
/// worker or another tab, and, after a reload, everything.
async fn reload() {
    let Ok(store) = OutboxStore::open().await else { return };
    let read = store.outbox().await;
    store.close();
    let Ok(Kept { entries, receipts, refusals }) = read else { return };
    let mut refusals: HashMap<String, String> = refusals.into_iter().collect();
    let receipts: HashMap<String, Receipt> = receipts
        .iter()
        .filter_map(|json| serde_json::from_str::<Receipt>(json).ok())
        .map(|receipt| (receipt.key.clone(), receipt))
        .collect();
    SENDER.with_borrow_mut(|sender| {
        for (key, url, summary) in entries {
            let Ok(submission) = serde_json::from_str::<Submission>(&summary) else { continue };
            sender.urls.insert(key.clone(), url);
            match (receipts.get(&key), refusals.remove(&key)) {
                (Some(receipt), _) => sender.outbox.add_delivered(submission, receipt.clone()),
                (None, Some(reason)) => sender.outbox.add_refused(submission, reason),
                (None, None) => sender.outbox.add(submission),
            }
        }
    });
    changed();
}

/// One attempt to post the stored body of `key`; a receipt is kept in IndexedDB before it counts.
async fn attempt(key: &str) -> Outcome {
    let Some(url) = SENDER.with_borrow(|sender| sender.urls.get(key).cloned()) else { return Outcome::Lost };
    let Ok(store) = OutboxStore::open().await else { return Outcome::Lost };
    let body = store.submission_body(key).await.ok().flatten();
    let outcome = match body {
        Some(body) => post(&url, &body, key).await,
        None => Outcome::Lost,
    };
    match &outcome {
        Outcome::Receipt(receipt) => {
            let json = serde_json::to_string(receipt).unwrap_or_default();
            if store.put_receipt(key, &json).await.is_err() {
                // Not kept, so not counted: the next attempt gets the same receipt again.
                store.close();
                return Outcome::Lost;
            }
        }
        // Kept so that neither a reload nor the service worker posts it again; if it cannot be kept, one
        // more post after a reload is all it costs.
        Outcome::Refused(reason) => drop(store.put_refusal(key, reason).await),
        _ => {}
    }
    store.close();
    outcome
}

async fn post(url: &str, body: &str, key: &str) -> Outcome {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(ATTEMPT_TIMEOUT_MS)));
    if let Ok(headers) = web_sys::Headers::new() {
        let _ = headers.set("content-type", "application/json");
        init.set_headers(&headers);
    }
    let Ok(request) = Request::new_with_str_and_init(url, &init) else { return Outcome::Lost };
    let Ok(response) = JsFuture::from(net::fetch_request(&request)).await else { return Outcome::Lost };
    let response: Response = response.unchecked_into();
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise).await.ok().and_then(|text| text.as_string()),
        Err(_) => None,
    };
    let header = response.headers().get("retry-after").ok().flatten();
    let retry_after = header.and_then(|header| retry_after_ms(&header, now_ms()));
    Outcome::of_answer(response.status(), text.unwrap_or_default().as_bytes(), key, retry_after)
}
