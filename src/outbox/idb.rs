//! The outbox's IndexedDB records: the database `cartable-outbox`, apart from the course cache so that
//! neither its schema nor its garbage collection ever touches what a pupil typed. Its store `outbox` holds
//! `{key, url, body, submission}` by idempotency key (the upload's URL and JSON body, and the submission's
//! JSON without its files, for the list); `receipts` holds the origin's receipt JSON by key, so that a
//! sender records a receipt with one `put` and never rewrites a submission; `refusals` holds `{key,
//! reason}` for work the origin refused for good (a 400, 404 or 413), which no sender posts again until
//! the pupil asks ("send now" clears them). Version 2 added `refusals`. `www/sw.js` reads and writes the
//! same records: keep the two in step (`crates/cli/tests/tidy.rs` checks the names). Written here rather
//! than in `cartable-web`, which the service worker's wasm compiles, so that the worker pays nothing for it.

use wasm_bindgen::JsValue;

use cartable_core::store::StoreError;
use cartable_web::store::{field, idb_error, outcome, record, IdbStore};
use idb::TransactionMode;
use js_sys::Array;

/// The outbox's database.
pub const OUTBOX_DATABASE: &str = "cartable-outbox";
const VERSION: u32 = 2;
const OUTBOX: &str = "outbox";
const RECEIPTS: &str = "receipts";
const REFUSALS: &str = "refusals";

/// What the outbox's database holds, as [`OutboxStore::outbox`] reads it.
#[derive(Debug, Default, PartialEq)]
pub struct Kept {
    /// Every submission as `(key, url, summary)`, in key order.
    pub entries: Vec<(String, String, String)>,
    /// Every receipt's JSON.
    pub receipts: Vec<String>,
    /// Every refusal for good as `(key, reason)`.
    pub refusals: Vec<(String, String)>,
}

/// The outbox's database, open.
pub struct OutboxStore(IdbStore);

impl OutboxStore {
    /// Opens (and on first use creates) the outbox's database [`OUTBOX_DATABASE`].
    pub async fn open() -> Result<OutboxStore, StoreError> {
        OutboxStore::open_named(OUTBOX_DATABASE).await
    }

    /// Opens (and on first use creates) an outbox database named `name`; tests use their own names.
    pub async fn open_named(name: &str) -> Result<OutboxStore, StoreError> {
        Ok(OutboxStore(IdbStore::open_with(name, VERSION, &[OUTBOX, RECEIPTS, REFUSALS]).await?))
    }

    /// Closes the connection once its running transactions are done.
    pub fn close(self) {
        self.0.close();
    }

    /// Keeps a submission in the outbox: its `key`, where to post it (`url`), the upload's `body` and the
    /// submission's JSON without files (`summary`). Done only once the transaction commits: the page says
    /// "saved" after this returns.
    pub async fn put_submission(&self, key: &str, url: &str, body: &str, summary: &str) -> Result<(), StoreError> {
        let value =
            record(&[("key", key.into()), ("url", url.into()), ("body", body.into()), ("submission", summary.into())]);
        self.0.write(OUTBOX, |store| store.put(&value, Some(&key.into())).map(drop)).await
    }

    /// Every submission of the outbox as `(key, url, summary)`, in key order, every receipt's JSON, and
    /// every refusal as `(key, reason)`.
    pub async fn outbox(&self) -> Result<Kept, StoreError> {
        let text = |value: &JsValue, name: &str| field(value, name).ok().and_then(|v| v.as_string());
        let (_transaction, objects) = self.0.objects(OUTBOX, TransactionMode::ReadOnly)?;
        let values = outcome(objects.get_all(None, None).map_err(idb_error)?).await?;
        let entries = Array::from(&values)
            .iter()
            .filter_map(|value| Some((text(&value, "key")?, text(&value, "url")?, text(&value, "submission")?)))
            .collect();
        let (_transaction, objects) = self.0.objects(RECEIPTS, TransactionMode::ReadOnly)?;
        let values = outcome(objects.get_all(None, None).map_err(idb_error)?).await?;
        let receipts = Array::from(&values).iter().filter_map(|value| value.as_string()).collect();
        let (_transaction, objects) = self.0.objects(REFUSALS, TransactionMode::ReadOnly)?;
        let values = outcome(objects.get_all(None, None).map_err(idb_error)?).await?;
        let refusals = Array::from(&values)
            .iter()
            .filter_map(|value| Some((text(&value, "key")?, text(&value, "reason")?)))
            .collect();
        Ok(Kept { entries, receipts, refusals })
    }

    /// Whether a submission has neither a receipt nor a refusal for good: work still to send.
    pub async fn waiting(&self) -> Result<bool, StoreError> {
        let mut done = Vec::new();
        for name in [RECEIPTS, REFUSALS] {
            let (_transaction, objects) = self.0.objects(name, TransactionMode::ReadOnly)?;
            let keys = outcome(objects.get_all_keys(None, None).map_err(idb_error)?).await?;
            done.extend(Array::from(&keys).iter().filter_map(|key| key.as_string()));
        }
        let (_transaction, objects) = self.0.objects(OUTBOX, TransactionMode::ReadOnly)?;
        let keys = outcome(objects.get_all_keys(None, None).map_err(idb_error)?).await?;
        Ok(Array::from(&keys).iter().filter_map(|key| key.as_string()).any(|key| !done.contains(&key)))
    }

    /// The upload body of the submission `key`, if kept.
    pub async fn submission_body(&self, key: &str) -> Result<Option<String>, StoreError> {
        let value = self.0.get(OUTBOX, key).await?;
        Ok(field(&value, "body").ok().and_then(|body| body.as_string()))
    }

    /// Keeps the origin's refusal of `key` for good, with its `reason`.
    pub async fn put_refusal(&self, key: &str, reason: &str) -> Result<(), StoreError> {
        let value = record(&[("key", key.into()), ("reason", reason.into())]);
        self.0.write(REFUSALS, |store| store.put(&value, Some(&key.into())).map(drop)).await
    }

    /// Forgets every refusal: the pupil asked to send again.
    pub async fn clear_refusals(&self) -> Result<(), StoreError> {
        self.0.write(REFUSALS, |store| store.clear().map(drop)).await
    }

    /// Keeps the origin's receipt (its JSON text) for `key`.
    pub async fn put_receipt(&self, key: &str, receipt: &str) -> Result<(), StoreError> {
        self.0.write(RECEIPTS, |store| store.put(&receipt.into(), Some(&key.into())).map(drop)).await
    }
}
