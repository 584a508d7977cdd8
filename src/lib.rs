//! The app pupils run: Yew components, the course's saving and reading, classmates over WebRTC, the
//! outbox, thin adapters over `cartable-core` on top of the browser edge `cartable-web` (store, fetches,
//! hashing, clocks), which the service worker (`crates/sw`) shares. Nothing here decides what is trusted:
//! the core's manifest and CID checks do.

#![deny(missing_docs)]

#[cfg(feature = "bench")]
mod bench;
pub mod course;
pub mod i18n;
mod mount;
pub mod outbox;
pub mod parts;
pub mod progress;
pub mod sharing;
pub mod signature;
pub mod swarm;
pub mod view;
pub mod worker;
