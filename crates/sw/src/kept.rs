//! The app shell as the worker keeps it: records of the `shell` object store of the course database
//! (`cartable_web::store::SHELL`), each a file's bytes and media type under a key `shell.rs` makes (a
//! chunk, a boot page, a snapshot). Only the worker reads and writes them, so they live here, on top of
//! the store's generic operations.

use cartable_core::store::StoreError;
use cartable_web::store::{bytes_field, corrupt, field, record, IdbStore, SHELL};
use idb::Query;
use js_sys::Uint8Array;

/// The worker's app-shell records in an [`IdbStore`].
pub(crate) trait ShellRecords {
    /// The bytes and media type of the shell file `key`, if kept.
    async fn get_shell(&self, key: &str) -> Result<Option<(Vec<u8>, String)>, StoreError>;
    /// Keeps every `(key, bytes, media type)` of `entries` in one transaction, or none of them.
    async fn put_shell(&self, entries: Vec<(String, Vec<u8>, String)>) -> Result<(), StoreError>;
    /// Which of `keys` the shell store holds, in order.
    async fn has_shell(&self, keys: &[String]) -> Result<Vec<bool>, StoreError>;
    /// Every key of the shell store.
    async fn shell_keys(&self) -> Result<Vec<String>, StoreError>;
    /// Deletes `keys` from the shell store, in one transaction.
    async fn delete_shell(&self, keys: Vec<String>) -> Result<(), StoreError>;
}

impl ShellRecords for IdbStore {
    async fn get_shell(&self, key: &str) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        let value = self.get(SHELL, key).await?;
        if value.is_undefined() {
            return Ok(None);
        }
        let bytes = bytes_field(&value, "bytes")?;
        let media_type = field(&value, "type")?.as_string().ok_or_else(|| corrupt("shell media type"))?;
        Ok(Some((bytes, media_type)))
    }

    async fn put_shell(&self, entries: Vec<(String, Vec<u8>, String)>) -> Result<(), StoreError> {
        self.write(SHELL, |shell| {
            for (key, bytes, media_type) in &entries {
                let value = record(&[("bytes", Uint8Array::from(&bytes[..]).into()), ("type", media_type.into())]);
                shell.put(&value, Some(&key.into()))?;
            }
            Ok(())
        })
        .await
    }

    async fn has_shell(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        self.count_each(SHELL, keys).await
    }

    async fn shell_keys(&self) -> Result<Vec<String>, StoreError> {
        self.keys(SHELL).await
    }

    async fn delete_shell(&self, keys: Vec<String>) -> Result<(), StoreError> {
        self.write(SHELL, |shell| {
            for key in &keys {
                shell.delete(Query::Key(key.into()))?;
            }
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    async fn shell_records_are_listed_counted_and_deleted_by_key() {
        let name = format!("test-shell-{}-{}", cartable_web::clock::unix_ms(), cartable_web::clock::random());
        let store = IdbStore::open_named(&name).await.expect("the database opens");
        assert_eq!(store.get_shell("snapshot/b1").await, Ok(None));
        let entry =
            |key: &str, body: &str, media_type: &str| (key.to_string(), body.as_bytes().to_vec(), media_type.into());
        store
            .put_shell(vec![
                entry("snapshot/b1", "{}", "application/json"),
                entry("page/b1/index.html", "old page", "text/html"),
                entry("chunk/bafkold", "old script", ""),
                entry("chunk/bafkkept", "kept", ""),
            ])
            .await
            .expect("written in one transaction");
        assert_eq!(store.get_shell("page/b1/index.html").await, Ok(Some((b"old page".to_vec(), "text/html".into()))));
        let keys = ["chunk/bafkkept".to_string(), "chunk/missing".into(), "snapshot/b1".into()];
        assert_eq!(store.has_shell(&keys).await, Ok(vec![true, false, true]));
        let mut listed = store.shell_keys().await.expect("listed");
        listed.sort();
        assert_eq!(listed, ["chunk/bafkkept", "chunk/bafkold", "page/b1/index.html", "snapshot/b1"]);
        store.delete_shell(vec!["chunk/bafkold".into(), "page/b1/index.html".into()]).await.expect("deleted");
        assert_eq!(store.get_shell("chunk/bafkold").await, Ok(None));
        assert_eq!(store.get_shell("page/b1/index.html").await, Ok(None));
        assert_eq!(store.get_shell("chunk/bafkkept").await, Ok(Some((b"kept".to_vec(), String::new()))));
    }
}
