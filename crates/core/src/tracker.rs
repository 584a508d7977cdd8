//! Signalling between classmates' browsers: the WebTorrent tracker WebSocket protocol (as the npm
//! `bittorrent-tracker` server and aquatic_ws speak it), so that any existing tracker works. Pure: the
//! messages with serde, the swarm key of a course, and the server's logic as a state machine that takes
//! text in and gives text out. No socket, clock or randomness of its own.
//!
//! A tracker only introduces browsers to each other: it sees which browsers share a course (by a hash
//! of its id) and relays WebRTC offers and answers. It never sees course content.

mod message;
mod swarms;

#[cfg(test)]
mod tests;

/// Monotonic milliseconds, passed in by the caller (the scheduler's clock type).
pub use crate::fetch::Millis;
pub use message::{
    Action, Announce, AnnounceReply, ClientMessage, Event, Failure, Id20, Offer, RelayedAnswer, RelayedOffer, Scrape,
    ScrapeFile, ScrapeFlags, ScrapeReply, Sdp, SdpType, ServerMessage, ToPage,
};
pub use swarms::{ConnId, Counts, Swarms, MAX_PEERS_PER_SWARM, MAX_SWARMS_PER_CONNECTION};

use sha2::{Digest, Sha256};

/// The most offers a client sends in one announce, and the most the server accepts and relays.
pub const MAX_OFFERS: usize = 5;
/// The longest message the server reads, in bytes of JSON text.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The longest session description (offer or answer `sdp`) the server relays, in bytes.
pub const MAX_SDP_BYTES: usize = 16 * 1024;
/// The announce interval the server asks for by default, in seconds (the npm server's WebSocket value).
pub const DEFAULT_INTERVAL_SECS: u32 = 120;

/// The swarm of a course: the first 20 bytes of sha2-256 of `"cartable-swarm:" + course_id`. Every
/// browser holding the course announces this value as its `info_hash`; the tracker learns no course id.
pub fn info_hash(course_id: &str) -> [u8; 20] {
    let digest: [u8; 32] = Sha256::new().chain_update(b"cartable-swarm:").chain_update(course_id).finalize().into();
    let mut hash = [0; 20];
    hash.copy_from_slice(&digest[..20]);
    hash
}

/// `bytes` as a JavaScript "binary string": one char per byte, each char's code point being the byte's
/// value (0–255). JSON then carries it as text (`\u00xx` for control bytes).
pub fn binary_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&byte| char::from(byte)).collect()
}

/// The bytes a binary string stands for, or `None` if a char is above U+00FF (it cannot be a byte).
pub fn from_binary_string(text: &str) -> Option<Vec<u8>> {
    text.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}
