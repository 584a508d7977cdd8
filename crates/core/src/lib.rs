//! The pure core of cartable: everything that decides, nothing that does I/O.
//!
//! This crate never names `web_sys`, `wasm_bindgen`, `yew`, `std::fs`, `std::net`, `Instant::now` or
//! `thread::spawn`: time and randomness are passed in, bytes come in as slices. The browser edge (root
//! package) and the `cartable` tool (`crates/cli`) are thin adapters over it.

#![deny(missing_docs)]

pub mod cid;
pub mod course;
pub mod date;
pub mod exercise;
pub mod fetch;
pub mod html;
pub mod key;
pub mod located;
pub mod manifest;
pub mod markdown;
pub mod media;
pub mod miss;
pub mod offline;
pub mod pack;
pub mod path;
pub mod peer;
pub mod random;
pub mod range;
pub mod region;
pub mod shell;
pub mod store;
#[cfg(feature = "submission")]
pub mod submission;
pub mod tracker;

pub use cid::Cid;
pub use key::{PublicKey, SecretKey};
pub use manifest::{Manifest, ManifestError, SignedManifest, Trust};
