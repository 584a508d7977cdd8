//! One chunk I asked a peer for, assembled from its pieces in order. Pure bookkeeping for
//! [`super::Session`]: it refuses what breaks the order, it does not verify the bytes.

use crate::fetch::Millis;

/// A chunk in flight from the remote peer.
pub(super) struct Inbound {
    bytes: Vec<u8>,
    total: Option<u32>,
    /// When the last new byte arrived (or the request was sent): the stall clock.
    pub(super) progress_at: Millis,
    /// This chunk was asked of the peer before in the session (then cancelled or stalled): pieces of the
    /// old answer may still be on the wire, and are dropped until one starts the chunk again.
    leftovers: bool,
}

/// What one piece did to a chunk in flight.
pub(super) enum Step {
    /// A leftover of an earlier answer, ignored.
    Dropped,
    /// Accepted; more to come.
    Partial,
    /// The last piece: the whole chunk, still to be verified by the caller.
    Complete(Vec<u8>),
}

impl Inbound {
    pub(super) fn new(now: Millis, leftovers: bool) -> Inbound {
        Inbound { bytes: Vec::new(), total: None, progress_at: now, leftovers }
    }

    /// Bytes held so far.
    pub(super) fn buffered(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// Applies one piece (already checked by `wire::decode`: `offset + data.len() <= total`); `room` is
    /// how many more bytes the session may buffer. Errors are protocol violations.
    pub(super) fn accept(
        &mut self,
        offset: u32,
        total: u32,
        data: &[u8],
        room: u64,
        now: Millis,
    ) -> Result<Step, String> {
        if self.leftovers && self.bytes.is_empty() && offset != 0 {
            return Ok(Step::Dropped);
        }
        if self.total.is_some_and(|known| known != total) {
            return Err(format!("piece declares {total} bytes after an earlier one declared {:?}", self.total));
        }
        if offset as usize != self.bytes.len() {
            return Err(format!("piece at {offset} out of order (expected {})", self.bytes.len()));
        }
        if data.len() as u64 > room {
            return Err(format!("piece of {} bytes overflows the {room} bytes of buffer left", data.len()));
        }
        self.total = Some(total);
        self.leftovers = false;
        if !data.is_empty() {
            self.bytes.extend_from_slice(data);
            self.progress_at = now;
        }
        if self.bytes.len() == total as usize {
            return Ok(Step::Complete(std::mem::take(&mut self.bytes)));
        }
        Ok(Step::Partial)
    }
}
