//! This page's store: IndexedDB, or [`Unkept`] where the browser refuses storage.

use cartable_core::store::{Store, StoreFuture, StoredManifest};
use cartable_core::Cid;
use cartable_web::store::IdbStore;

use super::unkept::Unkept;

/// This page's store. An enum rather than a `dyn Store`: a trait object would keep every method of both
/// stores in the first bundle, those that only saving and the swarm call (in parts of the app) too.
pub enum PageStore {
    /// IndexedDB.
    Kept(IdbStore),
    /// The browser refuses storage.
    Unkept(Unkept),
}

/// Calls `$method` on whichever store `$store` is.
macro_rules! either {
    ($store:expr, $method:ident($($arg:expr),*)) => {
        match $store {
            PageStore::Kept(store) => store.$method($($arg),*),
            PageStore::Unkept(store) => store.$method($($arg),*),
        }
    };
}

impl Store for PageStore {
    fn get_chunk(&self, cid: &Cid) -> StoreFuture<'_, Option<Vec<u8>>> {
        either!(self, get_chunk(cid))
    }

    fn has_chunks(&self, cids: &[Cid]) -> StoreFuture<'_, Vec<bool>> {
        either!(self, has_chunks(cids))
    }

    fn put_chunks(&self, chunks: Vec<(Cid, Vec<u8>)>) -> StoreFuture<'_, ()> {
        either!(self, put_chunks(chunks))
    }

    fn delete_chunks(&self, cids: Vec<Cid>) -> StoreFuture<'_, ()> {
        either!(self, delete_chunks(cids))
    }

    fn chunk_ids(&self) -> StoreFuture<'_, Vec<Cid>> {
        either!(self, chunk_ids())
    }

    fn chunk_bytes(&self) -> StoreFuture<'_, u64> {
        either!(self, chunk_bytes())
    }

    fn get_manifest(&self, course_id: &str) -> StoreFuture<'_, Option<StoredManifest>> {
        either!(self, get_manifest(course_id))
    }

    fn put_manifest(&self, manifest: StoredManifest) -> StoreFuture<'_, ()> {
        either!(self, put_manifest(manifest))
    }

    fn manifests(&self) -> StoreFuture<'_, Vec<StoredManifest>> {
        either!(self, manifests())
    }
}
