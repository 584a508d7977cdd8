//! Classmates as sources: the wire protocol spoken over WebRTC data channels, one remote peer's session,
//! and the swarm's lottery. Pure: bytes come in as slices and the time is passed in; the browser edge
//! owns the data channels, the store and the hashing. Nothing here opens a connection or reads a clock.
//!
//! Nothing a peer sends is trusted. [`wire::decode`] refuses any malformed message without panicking,
//! [`session::Session`] turns any protocol breach into [`session::Event::Violation`] and then goes
//! silent, and a chunk a peer assembled must still be verified against its CID by the caller before it
//! is stored, shown or passed on to another peer.

pub mod announce;
pub mod lottery;
pub mod saving;
pub mod session;
pub mod wire;

pub use session::{Event, Limits, Session};
pub use wire::{Message, WireError};
