//! The browser edge of cartable: Yew components, WebCrypto hashing, HTTP fetches and IndexedDB, thin
//! adapters over `cartable-core`. Nothing here decides what is trusted: the core's manifest and CID checks
//! do. The `app` feature (on by default) adds the Yew app and `mount`; the service worker (`crates/sw`)
//! uses this crate without it.

#![deny(missing_docs)]

pub mod clock;
pub mod course;
pub mod digest;
pub mod fetcher;
pub mod i18n;
pub mod net;
#[cfg(feature = "app")]
pub mod outbox;
pub mod progress;
pub mod sharing;
pub mod store;
pub mod swarm;
#[cfg(feature = "app")]
pub mod view;

#[cfg(feature = "app")]
mod mount;
#[cfg(feature = "app")]
pub mod worker;
