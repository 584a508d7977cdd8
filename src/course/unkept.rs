//! The store of a browser that refuses storage (IndexedDB blocked): it keeps nothing and says so, so that
//! the course reads online and saving tells the pupil why it cannot (`LoadError::StorageUnavailable`).
//! Not a memory store: a copy lost with the tab would be a promise the app cannot keep, and it would weigh
//! on every pupil's download.

use cartable_core::store::{Store, StoreError, StoreFuture, StoredManifest};
use cartable_core::Cid;

/// Keeps nothing: reads find nothing, writes fail as unavailable.
pub struct Unkept;

fn refused<'a, T: 'a>() -> StoreFuture<'a, T> {
    Box::pin(async { Err(StoreError::Unavailable("this browser refuses storage".into())) })
}

fn found<'a, T: 'a>(value: T) -> StoreFuture<'a, T> {
    Box::pin(async move { Ok(value) })
}

impl Store for Unkept {
    fn get_chunk(&self, _cid: &Cid) -> StoreFuture<'_, Option<Vec<u8>>> {
        found(None)
    }

    fn has_chunks(&self, cids: &[Cid]) -> StoreFuture<'_, Vec<bool>> {
        found(vec![false; cids.len()])
    }

    fn put_chunks(&self, _chunks: Vec<(Cid, Vec<u8>)>) -> StoreFuture<'_, ()> {
        refused()
    }

    fn delete_chunks(&self, _cids: Vec<Cid>) -> StoreFuture<'_, ()> {
        found(())
    }

    fn chunk_ids(&self) -> StoreFuture<'_, Vec<Cid>> {
        found(Vec::new())
    }

    fn chunk_bytes(&self) -> StoreFuture<'_, u64> {
        found(0)
    }

    fn get_manifest(&self, _course_id: &str) -> StoreFuture<'_, Option<StoredManifest>> {
        found(None)
    }

    fn put_manifest(&self, _manifest: StoredManifest) -> StoreFuture<'_, ()> {
        refused()
    }

    fn manifests(&self) -> StoreFuture<'_, Vec<StoredManifest>> {
        found(Vec::new())
    }
}
