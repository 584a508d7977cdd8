//! cartable's browser edge shared by the app (the root crate) and its service worker (`crates/sw`): the
//! IndexedDB store, HTTP fetches, WebCrypto hashing, the browser's clocks, and the fetcher that carries
//! out the core's `Scheduler`. Thin adapters over `cartable-core`: nothing here decides what is trusted
//! (the core's manifest and CID checks do) nor what to fetch when (the core's scheduler does).

#![deny(missing_docs)]

pub mod clock;
pub mod digest;
pub mod fetcher;
pub mod net;
pub mod store;
