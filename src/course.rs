//! One course as the app sees it: a verified manifest and its files, fetched chunk by chunk, each chunk
//! checked against its CID before any byte of it is used, shown or kept.

use std::cell::RefCell;
use std::collections::HashMap;

use cartable_core::manifest::FileEntry;
use cartable_core::{Cid, Manifest, ManifestError, PublicKey, SignedManifest, Trust};
use futures::future::try_join_all;

use crate::digest;
use crate::net::{self, FetchError};

/// Why a course or one of its files cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The manifest was refused: not signed by the pinned key, expired, rolled back or malformed.
    #[error("course could not be verified: {0}")]
    Unverified(#[from] ManifestError),
    /// A chunk of this file did not match its CID: its bytes were thrown away.
    #[error("{path} is corrupted")]
    Corrupted {
        /// Course path of the file.
        path: String,
    },
    /// The server did not answer, or answered with an error.
    #[error("server did not answer: {0}")]
    Unreachable(#[from] FetchError),
    /// The manifest lists no such file.
    #[error("{path} is not part of this course")]
    NotInCourse {
        /// Course path asked for.
        path: String,
    },
    /// The browser cannot hash (no WebCrypto), so nothing can be verified.
    #[error("this browser cannot verify files (no WebCrypto)")]
    NoWebCrypto,
}

/// A course whose manifest has been verified against the school's key.
pub struct Course {
    /// The verified manifest.
    pub manifest: Manifest,
    manifest_url: String,
    object_urls: RefCell<HashMap<String, String>>,
}

impl Course {
    /// Fetches the manifest at `manifest_url` (relative to the page) and keeps it only if it is signed by
    /// `key`, unexpired, and not older than the version this browser accepted before.
    pub async fn open(manifest_url: &str, key: PublicKey) -> Result<Course, LoadError> {
        let manifest_url = net::resolve(manifest_url, &net::page_url()).unwrap_or_else(|| manifest_url.to_owned());
        let bytes = net::get(&manifest_url).await?;
        let accepted_version = accepted::load(&manifest_url);
        let trust = Trust { keys: &[key], now: (js_sys::Date::now() / 1000.0) as i64, accepted_version };
        let manifest = SignedManifest::verify(&bytes, &trust)?;
        accepted::save(&manifest_url, manifest.version);
        Ok(Course { manifest, manifest_url, object_urls: RefCell::default() })
    }

    /// The bytes of the course file at `path`, every chunk verified.
    pub async fn file(&self, path: &str) -> Result<Vec<u8>, LoadError> {
        let entry = self.manifest.file(path).ok_or_else(|| LoadError::NotInCourse { path: path.to_owned() })?;
        let chunks = entry.chunks.iter().enumerate().map(|(index, cid)| self.chunk(entry, index, *cid));
        let mut bytes = Vec::with_capacity(entry.size as usize);
        for chunk in try_join_all(chunks).await? {
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// A `blob:` URL for the course file at `path`, typed with its media type; made once per file.
    pub async fn object_url(&self, path: &str) -> Result<String, LoadError> {
        if let Some(url) = self.object_urls.borrow().get(path) {
            return Ok(url.clone());
        }
        let bytes = self.file(path).await?;
        let media_type = self.manifest.file(path).map(|entry| entry.media_type.as_str()).unwrap_or_default();
        let url = object_url(&bytes, media_type).ok_or(LoadError::NoWebCrypto)?;
        self.object_urls.borrow_mut().insert(path.to_owned(), url.clone());
        Ok(url)
    }

    async fn chunk(&self, entry: &FileEntry, index: usize, cid: Cid) -> Result<Vec<u8>, LoadError> {
        let url = net::resolve(&format!("ipfs/{cid}"), &self.manifest_url).unwrap_or_default();
        let bytes = net::get(&url).await?;
        let corrupted = || LoadError::Corrupted { path: entry.path.clone() };
        if bytes.len() as u64 != entry.chunk_len(index, self.manifest.chunk_size) {
            return Err(corrupted());
        }
        match digest::cid_of(&bytes).await {
            Some(actual) if actual == cid => Ok(bytes),
            Some(_) => Err(corrupted()),
            None => Err(LoadError::NoWebCrypto),
        }
    }
}

fn object_url(bytes: &[u8], media_type: &str) -> Option<String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(media_type);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// The newest manifest version accepted per manifest URL, so that an older one is refused later.
mod accepted {
    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }

    fn key(manifest_url: &str) -> String {
        format!("cartable.accepted-version.{manifest_url}")
    }

    pub fn load(manifest_url: &str) -> Option<u64> {
        storage()?.get_item(&key(manifest_url)).ok()??.parse().ok()
    }

    pub fn save(manifest_url: &str, version: u64) {
        // Without storage (private mode, blocked cookies) rollback protection lasts for this page only.
        if let Some(storage) = storage() {
            let _ = storage.set_item(&key(manifest_url), &version.to_string());
        }
    }
}
