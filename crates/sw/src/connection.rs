//! One IndexedDB connection per worker start, shared by every event: opening a database per request would
//! add its latency to every answer.

use std::cell::RefCell;
use std::rc::Rc;

use cartable_core::store::StoreError;
use cartable_web::store::IdbStore;

thread_local! {
    static STORE: RefCell<Option<Rc<IdbStore>>> = const { RefCell::new(None) };
}

/// The worker's store, opened on first use. A failed open is not kept, so the next event tries again.
pub async fn store() -> Result<Rc<IdbStore>, StoreError> {
    if let Some(store) = STORE.with(|cell| cell.borrow().clone()) {
        return Ok(store);
    }
    let store = Rc::new(IdbStore::open().await?);
    STORE.with(|cell| *cell.borrow_mut() = Some(store.clone()));
    Ok(store)
}
