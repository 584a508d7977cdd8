//! An in-memory `Store`, with an optional quota, for the core's tests and for native tools.

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::{Store, StoreError, StoreFuture, StoredManifest};
use crate::cid::Cid;

/// A `Store` in memory. With a quota, a write that would exceed it fails with
/// [`StoreError::QuotaExceeded`] and keeps nothing, as IndexedDB does.
#[derive(Default)]
pub struct MemoryStore {
    chunks: RefCell<BTreeMap<Cid, Vec<u8>>>,
    manifests: RefCell<BTreeMap<String, StoredManifest>>,
    quota: Option<u64>,
}

impl MemoryStore {
    /// An empty store without a quota.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// An empty store that holds at most `bytes` of chunks.
    pub fn with_quota(bytes: u64) -> MemoryStore {
        MemoryStore { quota: Some(bytes), ..MemoryStore::default() }
    }

    fn used(&self) -> u64 {
        self.chunks.borrow().values().map(|bytes| bytes.len() as u64).sum()
    }
}

fn ready<'a, T: 'a>(value: Result<T, StoreError>) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

impl Store for MemoryStore {
    fn get_chunk(&self, cid: &Cid) -> StoreFuture<'_, Option<Vec<u8>>> {
        ready(Ok(self.chunks.borrow().get(cid).cloned()))
    }

    fn has_chunks(&self, cids: &[Cid]) -> StoreFuture<'_, Vec<bool>> {
        let chunks = self.chunks.borrow();
        ready(Ok(cids.iter().map(|cid| chunks.contains_key(cid)).collect()))
    }

    fn put_chunks(&self, chunks: Vec<(Cid, Vec<u8>)>) -> StoreFuture<'_, ()> {
        let adding: u64 = chunks
            .iter()
            .filter(|(cid, _)| !self.chunks.borrow().contains_key(cid))
            .map(|(_, bytes)| bytes.len() as u64)
            .sum();
        if self.quota.is_some_and(|quota| self.used() + adding > quota) {
            return ready(Err(StoreError::QuotaExceeded));
        }
        self.chunks.borrow_mut().extend(chunks);
        ready(Ok(()))
    }

    fn delete_chunks(&self, cids: Vec<Cid>) -> StoreFuture<'_, ()> {
        let mut chunks = self.chunks.borrow_mut();
        for cid in cids {
            chunks.remove(&cid);
        }
        ready(Ok(()))
    }

    fn chunk_ids(&self) -> StoreFuture<'_, Vec<Cid>> {
        ready(Ok(self.chunks.borrow().keys().copied().collect()))
    }

    fn chunk_bytes(&self) -> StoreFuture<'_, u64> {
        ready(Ok(self.used()))
    }

    fn get_manifest(&self, course_id: &str) -> StoreFuture<'_, Option<StoredManifest>> {
        ready(Ok(self.manifests.borrow().get(course_id).cloned()))
    }

    fn put_manifest(&self, manifest: StoredManifest) -> StoreFuture<'_, ()> {
        self.manifests.borrow_mut().insert(manifest.course_id.clone(), manifest);
        ready(Ok(()))
    }

    fn manifests(&self) -> StoreFuture<'_, Vec<StoredManifest>> {
        ready(Ok(self.manifests.borrow().values().cloned().collect()))
    }
}
