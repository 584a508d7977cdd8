//! `IdbStore`: the core's `Store` over IndexedDB, in a page or a service worker, and the few generic
//! operations (get, write, count, keys) that the worker's app-shell records (`crates/sw/src/kept.rs`) and
//! the outbox (`src/outbox/idb.rs`) are built on. It only keeps bytes it is handed: what to keep or drop
//! is the core's decision, and nothing here fetches, so no transaction ever waits on the network.

use std::cell::Cell;
use std::rc::Rc;

use cartable_core::store::{Store, StoreError, StoreFuture, StoredManifest};
use cartable_core::Cid;
use futures::channel::oneshot;
use idb::{
    Database, DatabaseEvent, Event, Factory, ObjectStore, ObjectStoreParams, Query, Request, Transaction,
    TransactionMode,
};
use js_sys::{Array, BigInt, Object, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbRequest, IdbTransaction};

/// The database [`IdbStore::open`] opens.
pub const DATABASE: &str = "cartable";

const VERSION: u32 = 1;
const CHUNKS: &str = "chunks";
const MANIFESTS: &str = "manifests";
/// The object store the service worker keeps the app shell in (`crates/sw/src/kept.rs` reads and writes
/// it). Part of this database's one schema, so that a page and a worker opening it agree on its stores.
pub const SHELL: &str = "shell";

/// A [`Store`] over the IndexedDB database `cartable`: chunks keyed by CID text, manifests keyed by course
/// id, and the service worker's app shell. Works with a window or in a worker (it uses the global
/// `indexedDB`). Every write is one transaction and is reported done only once that transaction commits.
pub struct IdbStore {
    database: Database,
}

impl IdbStore {
    /// Opens (and on first use creates) the database [`DATABASE`].
    pub async fn open() -> Result<IdbStore, StoreError> {
        IdbStore::open_named(DATABASE).await
    }

    /// Opens (and on first use creates) the database `name`; tests use their own names.
    pub async fn open_named(name: &str) -> Result<IdbStore, StoreError> {
        IdbStore::open_with(name, VERSION, &[CHUNKS, MANIFESTS, SHELL]).await
    }

    /// Opens the database `name` at `version`, creating the object stores `stores` that it lacks. Also
    /// opens the outbox's database, apart from this one.
    pub async fn open_with(name: &str, version: u32, stores: &'static [&'static str]) -> Result<IdbStore, StoreError> {
        let factory = Factory::new().map_err(idb_error)?;
        let mut request = factory.open(name, Some(version)).map_err(idb_error)?;
        request.on_upgrade_needed(move |event| {
            if create_stores(&event, stores).is_err() {
                // Aborting the upgrade makes `open` fail rather than hand out a database missing a store.
                if let Some(transaction) = event.target().ok().and_then(|request| request.transaction()) {
                    let _ = transaction.abort();
                }
            }
        });
        // Opening is always awaited to the end, so the request's own callbacks live long enough.
        let value = opened(request).await?;
        let raw: web_sys::IdbDatabase = value.clone().unchecked_into();
        let mut database = Database::try_from(value).map_err(idb_error)?;
        // A newer page wants to upgrade the schema: step aside instead of blocking it.
        database.on_version_change(move |_| raw.close());
        Ok(IdbStore { database })
    }

    /// Closes the connection once its running transactions are done.
    pub fn close(self) {
        self.database.close();
    }

    /// Every key of the object store `store`.
    pub async fn keys(&self, store: &str) -> Result<Vec<String>, StoreError> {
        let (_transaction, objects) = self.objects(store, TransactionMode::ReadOnly)?;
        let keys = outcome(objects.get_all_keys(None, None).map_err(idb_error)?).await?;
        Ok(Array::from(&keys).iter().filter_map(|key| key.as_string()).collect())
    }

    /// Whether `store` holds each of `keys`: one count request per key, all in one transaction.
    pub async fn count_each(&self, store: &str, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        let (_transaction, objects) = self.objects(store, TransactionMode::ReadOnly)?;
        // Every request is made before the first await, so they all run in this one transaction.
        let requests = keys
            .iter()
            .map(|key| objects.count(Some(Query::Key(key.into()))))
            .collect::<Result<Vec<_>, _>>()
            .map_err(idb_error)?;
        let mut present = Vec::with_capacity(requests.len());
        for request in requests {
            present.push(outcome(request).await?.as_f64().is_some_and(|count| count > 0.0));
        }
        Ok(present)
    }

    /// Test hook: writes `chunks` like [`Store::put_chunks`], then makes the transaction fail with a
    /// `ConstraintError` (adding a key it already holds), to check that nothing of the batch is kept.
    #[cfg(feature = "test-hooks")]
    pub async fn put_chunks_then_fail(&self, chunks: Vec<(Cid, Vec<u8>)>) -> Result<(), StoreError> {
        self.write(CHUNKS, |store| {
            put_chunks_into(store, &chunks)?;
            if let Some((cid, bytes)) = chunks.first() {
                store.add(&Uint8Array::from(&bytes[..]), Some(&cid.to_string().into()))?;
            }
            Ok(())
        })
        .await
    }

    /// A transaction in `mode` on the object store `store`, and that store.
    pub fn objects(&self, store: &str, mode: TransactionMode) -> Result<(Transaction, ObjectStore), StoreError> {
        let transaction = self.database.transaction(&[store], mode).map_err(idb_error)?;
        let objects = transaction.object_store(store).map_err(idb_error)?;
        Ok((transaction, objects))
    }

    /// The value kept under `key` in the object store `store` (`undefined` when there is none).
    pub async fn get(&self, store: &str, key: &str) -> Result<JsValue, StoreError> {
        let (_transaction, objects) = self.objects(store, TransactionMode::ReadOnly)?;
        outcome(objects.get(Query::Key(key.into())).map_err(idb_error)?).await
    }

    /// Runs `fill` in one readwrite transaction on `store` and waits until the transaction commits; if it
    /// aborts (a failed request, the quota), nothing `fill` did is kept.
    pub async fn write(
        &self,
        store: &str,
        fill: impl FnOnce(&ObjectStore) -> Result<(), idb::Error>,
    ) -> Result<(), StoreError> {
        let (transaction, objects) = self.objects(store, TransactionMode::ReadWrite)?;
        let transaction = IdbTransaction::from(transaction);
        let (sender, receiver) = oneshot::channel();
        let sender = Rc::new(Cell::new(Some(sender)));
        let aborted = Rc::clone(&sender);
        transaction.set_oncomplete(Some(js_once(move || settle(&sender, true)).unchecked_ref()));
        transaction.set_onabort(Some(js_once(move || settle(&aborted, false)).unchecked_ref()));
        let filled = fill(&objects);
        if filled.is_err() {
            // A request that throws (rather than fails later) leaves the transaction running: end it here.
            let _ = objects.transaction().abort();
        }
        let committed = receiver.await;
        filled.map_err(idb_error)?;
        match committed {
            Ok(true) => Ok(()),
            _ => Err(transaction
                .error()
                .map(|error| js_store_error(&error))
                .unwrap_or_else(|| StoreError::Unavailable("the transaction was aborted".into()))),
        }
    }
}

impl Store for IdbStore {
    fn get_chunk(&self, cid: &Cid) -> StoreFuture<'_, Option<Vec<u8>>> {
        let key = cid.to_string();
        Box::pin(async move {
            let value = self.get(CHUNKS, &key).await?;
            if value.is_undefined() {
                return Ok(None);
            }
            let bytes = value.dyn_into::<Uint8Array>().map_err(|_| corrupt("chunk"))?;
            Ok(Some(bytes.to_vec()))
        })
    }

    fn has_chunks(&self, cids: &[Cid]) -> StoreFuture<'_, Vec<bool>> {
        let keys: Vec<String> = cids.iter().map(Cid::to_string).collect();
        Box::pin(async move { self.count_each(CHUNKS, &keys).await })
    }

    fn put_chunks(&self, chunks: Vec<(Cid, Vec<u8>)>) -> StoreFuture<'_, ()> {
        Box::pin(async move { self.write(CHUNKS, |store| put_chunks_into(store, &chunks)).await })
    }

    fn delete_chunks(&self, cids: Vec<Cid>) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.write(CHUNKS, |store| {
                for cid in &cids {
                    store.delete(Query::Key(cid.to_string().into()))?;
                }
                Ok(())
            })
            .await
        })
    }

    fn chunk_ids(&self) -> StoreFuture<'_, Vec<Cid>> {
        Box::pin(async move {
            let (_transaction, objects) = self.objects(CHUNKS, TransactionMode::ReadOnly)?;
            let keys = outcome(objects.get_all_keys(None, None).map_err(idb_error)?).await?;
            // A key that is not a CID was not written by this store; it names no chunk the core can use.
            Ok(Array::from(&keys).iter().filter_map(|key| key.as_string()?.parse().ok()).collect())
        })
    }

    fn chunk_bytes(&self) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let (_transaction, objects) = self.objects(CHUNKS, TransactionMode::ReadOnly)?;
            let request = objects.open_cursor(None, None).map_err(idb_error)?;
            sum_lengths(request.into()).await
        })
    }

    fn get_manifest(&self, course_id: &str) -> StoreFuture<'_, Option<StoredManifest>> {
        let course_id = course_id.to_string();
        Box::pin(async move {
            let value = self.get(MANIFESTS, &course_id).await?;
            if value.is_undefined() {
                return Ok(None);
            }
            manifest_from(&value).map(Some)
        })
    }

    fn put_manifest(&self, manifest: StoredManifest) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let value = record(&[
                ("course_id", manifest.course_id.as_str().into()),
                // BigInt, not Number: a u64 version must compare exactly.
                ("version", BigInt::from(manifest.version).into()),
                ("stored_at", BigInt::from(manifest.stored_at).into()),
                ("json", Uint8Array::from(&manifest.json[..]).into()),
                ("source", manifest.source.as_str().into()),
            ]);
            let key = JsValue::from(manifest.course_id.as_str());
            self.write(MANIFESTS, |store| store.put(&value, Some(&key)).map(drop)).await
        })
    }

    fn manifests(&self) -> StoreFuture<'_, Vec<StoredManifest>> {
        Box::pin(async move {
            let (_transaction, objects) = self.objects(MANIFESTS, TransactionMode::ReadOnly)?;
            let values = outcome(objects.get_all(None, None).map_err(idb_error)?).await?;
            Array::from(&values).iter().map(|value| manifest_from(&value)).collect()
        })
    }
}

fn create_stores(event: &idb::event::VersionChangeEvent, stores: &[&str]) -> Result<(), idb::Error> {
    let database = event.database()?;
    let existing = database.store_names();
    for &name in stores {
        if !existing.iter().any(|store| store == name) {
            database.create_object_store(name, ObjectStoreParams::new())?;
        }
    }
    Ok(())
}

fn put_chunks_into(store: &ObjectStore, chunks: &[(Cid, Vec<u8>)]) -> Result<(), idb::Error> {
    for (cid, bytes) in chunks {
        store.put(&Uint8Array::from(&bytes[..]), Some(&cid.to_string().into()))?;
    }
    Ok(())
}

/// Waits for the open `request` to succeed or fail and returns its result. The request owns its callbacks,
/// so it must be awaited to the end (opening always is).
async fn opened<R: Request>(mut request: R) -> Result<JsValue, StoreError> {
    let (sender, receiver) = oneshot::channel();
    let sender = Rc::new(Cell::new(Some(sender)));
    let failed = Rc::clone(&sender);
    request.on_success(move |_| settle(&sender, true));
    request.on_error(move |_| settle(&failed, false));
    match receiver.await {
        Ok(true) => request.result().map_err(idb_error),
        Ok(false) => Err(match request.error() {
            Ok(Some(error)) => js_store_error(&error),
            _ => StoreError::Unavailable("the request failed".into()),
        }),
        Err(_) => Err(StoreError::Unavailable("the request was dropped".into())),
    }
}

/// Waits for `request` to succeed or fail and returns its result. Its callbacks belong to JavaScript:
/// if the caller stops waiting (a dropped future), the browser can still call them safely.
pub async fn outcome(request: impl Into<IdbRequest>) -> Result<JsValue, StoreError> {
    let request: IdbRequest = request.into();
    let (sender, receiver) = oneshot::channel();
    let sender = Rc::new(Cell::new(Some(sender)));
    let failed = Rc::clone(&sender);
    request.set_onsuccess(Some(js_once(move || settle(&sender, true)).unchecked_ref()));
    request.set_onerror(Some(js_once(move || settle(&failed, false)).unchecked_ref()));
    match receiver.await {
        Ok(true) => request.result().map_err(|error| js_store_error(&error)),
        Ok(false) => Err(match request.error() {
            Ok(Some(error)) => js_store_error(&error),
            _ => StoreError::Unavailable("the request failed".into()),
        }),
        Err(_) => Err(StoreError::Unavailable("the request was dropped".into())),
    }
}

/// A one-shot callback owned by JavaScript: it frees itself once called, and stays valid until then even
/// when the Rust side that waited for it is gone (a dropped `Closure` would throw when called).
fn js_once(callback: impl FnOnce() + 'static) -> JsValue {
    Closure::once_into_js(callback)
}

fn settle(sender: &Cell<Option<oneshot::Sender<bool>>>, succeeded: bool) {
    if let Some(sender) = sender.take() {
        let _ = sender.send(succeeded);
    }
}

/// Walks a cursor over chunk values and adds up their lengths. `continue` must be called from the
/// success callback itself (the transaction is only active there), hence a plain `FnMut` closure.
async fn sum_lengths(request: web_sys::IdbRequest) -> Result<u64, StoreError> {
    let (sender, receiver) = oneshot::channel::<Result<u64, StoreError>>();
    let sender = Rc::new(Cell::new(Some(sender)));
    let failed = Rc::clone(&sender);
    let cursor_request = request.clone();
    let mut total = 0u64;
    let on_success = Closure::<dyn FnMut()>::new(move || {
        let mut step = || -> Result<Option<u64>, JsValue> {
            let Ok(cursor) = cursor_request.result()?.dyn_into::<web_sys::IdbCursorWithValue>() else {
                return Ok(Some(total));
            };
            total += cursor.value()?.dyn_into::<Uint8Array>().map(|bytes| bytes.length() as u64).unwrap_or(0);
            cursor.continue_()?;
            Ok(None)
        };
        match step() {
            Ok(None) => {}
            Ok(Some(done)) => send_once(&sender, Ok(done)),
            Err(error) => send_once(&sender, Err(js_store_error(&error))),
        }
    });
    let error_request = request.clone();
    let on_error = Closure::<dyn FnMut()>::new(move || {
        let error = error_request.error().ok().flatten().map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
        send_once(&failed, Err(js_store_error(&error)));
    });
    // Owned by JavaScript, so that a dropped caller leaves no dangling handler behind.
    request.set_onsuccess(Some(on_success.into_js_value().unchecked_ref()));
    request.set_onerror(Some(on_error.into_js_value().unchecked_ref()));
    let total = receiver.await.unwrap_or_else(|_| Err(StoreError::Unavailable("the cursor was dropped".into())));
    request.set_onsuccess(None);
    request.set_onerror(None);
    total
}

fn send_once<T>(sender: &Cell<Option<oneshot::Sender<T>>>, value: T) {
    if let Some(sender) = sender.take() {
        let _ = sender.send(value);
    }
}

fn manifest_from(value: &JsValue) -> Result<StoredManifest, StoreError> {
    let course_id = field(value, "course_id")?.as_string().ok_or_else(|| corrupt("manifest course id"))?;
    let version = field(value, "version")?.dyn_into::<BigInt>().ok().and_then(|big| u64::try_from(big).ok());
    let stored_at = field(value, "stored_at")?.dyn_into::<BigInt>().ok().and_then(|big| i64::try_from(big).ok());
    Ok(StoredManifest {
        course_id,
        version: version.ok_or_else(|| corrupt("manifest version"))?,
        json: bytes_field(value, "json")?,
        stored_at: stored_at.ok_or_else(|| corrupt("manifest date"))?,
        // Copies kept before sources were recorded have none: they are found again once fetched online.
        source: field(value, "source")?.as_string().unwrap_or_default(),
    })
}

/// A plain object with `fields`, as stored (structured clone keeps plain objects, strings, BigInts and
/// typed arrays).
pub fn record(fields: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (name, value) in fields {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &JsValue::from(*name), value);
    }
    object
}

/// The field `name` of a stored record.
pub fn field(value: &JsValue, name: &str) -> Result<JsValue, StoreError> {
    Reflect::get(value, &JsValue::from(name)).map_err(|error| js_store_error(&error))
}

/// The bytes in the field `name` of a stored record (a `Uint8Array`).
pub fn bytes_field(value: &JsValue, name: &str) -> Result<Vec<u8>, StoreError> {
    Ok(field(value, name)?.dyn_into::<Uint8Array>().map_err(|_| corrupt(name))?.to_vec())
}

/// The error for a stored `what` that is not in the form this code writes.
pub fn corrupt(what: &str) -> StoreError {
    StoreError::Unavailable(format!("the stored {what} is not in the expected form"))
}

/// Maps what the browser threw or reported (a `DOMException`, an `Error`, anything) to a [`StoreError`]:
/// `QuotaExceededError` is [`StoreError::QuotaExceeded`], the rest [`StoreError::Unavailable`] with the
/// browser's own name and message.
pub fn js_store_error(error: &JsValue) -> StoreError {
    let text = |name: &str| Reflect::get(error, &JsValue::from(name)).ok().and_then(|value| value.as_string());
    match (text("name"), text("message")) {
        (Some(name), _) if name == "QuotaExceededError" => StoreError::QuotaExceeded,
        (Some(name), Some(message)) => StoreError::Unavailable(format!("{name}: {message}")),
        _ => StoreError::Unavailable(format!("{error:?}")),
    }
}

/// Maps an error of the `idb` crate to a [`StoreError`], as [`js_store_error`] does for what the browser
/// threw.
pub fn idb_error(error: idb::Error) -> StoreError {
    use idb::Error as E;
    let thrown = match &error {
        E::DomException(exception) => Some(exception.as_ref()),
        E::AddFailed(value)
        | E::UpdateFailed(value)
        | E::DeleteFailed(value)
        | E::GetFailed(value)
        | E::GetAllFailed(value)
        | E::GetAllKeysFailed(value)
        | E::CountFailed(value)
        | E::OpenCursorFailed(value)
        | E::TransactionOpenFailed(value)
        | E::IndexedDbOpenFailed(value)
        | E::IndexedDbNotFound(value)
        | E::ObjectStoreNotFound(value)
        | E::ObjectStoreCreateFailed(value) => Some(value),
        _ => None,
    };
    // The browser's own exception names the failure; idb's `Display` would pull formatting code for every
    // kind of JS value into the wasm (15 KB for floats alone), paid for by every pupil.
    thrown.map(js_store_error).unwrap_or_else(|| StoreError::Unavailable("an IndexedDB operation failed".into()))
}
