//! Where verified bytes are kept between visits: the seam between the core and IndexedDB. The core
//! decides what to keep and what to drop (`offline`); a `Store` only keeps bytes. `MemoryStore` is the
//! in-memory version the native tests drive; the browser edge implements `IdbStore`.

use std::future::Future;
use std::pin::Pin;

use crate::cid::Cid;

mod memory;

pub use memory::MemoryStore;

/// What a store operation returns: a `!Send` boxed future, as single-threaded wasm needs; native tests
/// drive it with `futures::executor::block_on`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + 'a>>;

/// Why a store operation failed. After any error, what was stored before is still whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The browser's quota for this site is used up (`QuotaExceededError`): nothing of the failed write
    /// was kept.
    #[error("storage is full")]
    QuotaExceeded,
    /// Storage cannot be used at all (private mode, blocked, corrupted database...).
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
}

/// A manifest as kept: the published `manifest.json` bytes, verified before they were put.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredManifest {
    /// The course's id (the key: one manifest is kept per course).
    pub course_id: String,
    /// The manifest's version, to refuse older ones later without parsing.
    pub version: u64,
    /// The `manifest.json` bytes as published (signed), so they can be verified again.
    pub json: Vec<u8>,
    /// Unix time (seconds) at which this copy was stored: "copie du <date>".
    pub stored_at: i64,
    /// The absolute URL it was fetched from, so that a page pinned to that URL finds it with no network.
    pub source: String,
}

/// Keeps verified chunks (by CID) and the newest verified manifest of each course.
///
/// Contract: a chunk is only ever put after its bytes were checked against its CID; `put_chunks` keeps
/// all of its chunks or none of them; a chunk that is present is whole.
pub trait Store {
    /// The bytes of chunk `cid`, if stored.
    fn get_chunk(&self, cid: &Cid) -> StoreFuture<'_, Option<Vec<u8>>>;
    /// For each of `cids`, whether it is stored.
    fn has_chunks(&self, cids: &[Cid]) -> StoreFuture<'_, Vec<bool>>;
    /// Stores all of `chunks` in one transaction, or none of them.
    fn put_chunks(&self, chunks: Vec<(Cid, Vec<u8>)>) -> StoreFuture<'_, ()>;
    /// Removes `cids` (absent ones are ignored).
    fn delete_chunks(&self, cids: Vec<Cid>) -> StoreFuture<'_, ()>;
    /// Every stored chunk's CID.
    fn chunk_ids(&self) -> StoreFuture<'_, Vec<Cid>>;
    /// Total size of the stored chunks, in bytes.
    fn chunk_bytes(&self) -> StoreFuture<'_, u64>;
    /// The manifest kept for `course_id`, if any.
    fn get_manifest(&self, course_id: &str) -> StoreFuture<'_, Option<StoredManifest>>;
    /// Keeps `manifest` for its course, replacing the one kept before.
    fn put_manifest(&self, manifest: StoredManifest) -> StoreFuture<'_, ()>;
    /// Every kept manifest.
    fn manifests(&self) -> StoreFuture<'_, Vec<StoredManifest>>;
}
