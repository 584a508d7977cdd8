//! What each message from the peer does to a [`Session`]: the handshake, holdings, their requests and
//! the pieces of mine. Every refusal here is a protocol violation, returned as its reason.

use super::inbound::{Inbound, Step};
use super::{Event, Phase, Session};
use crate::cid::Cid;
use crate::fetch::Millis;
use crate::peer::wire::{Message, MAX_MANIFEST, PROTOCOL};

impl Session {
    pub(super) fn apply(&mut self, message: Message, now: Millis) -> Result<Vec<Event>, String> {
        match (&self.phase, message) {
            (Phase::Closed, _) => Ok(Vec::new()),
            (Phase::AwaitingHello, Message::Hello { protocol, course_id, version }) => {
                self.greet(protocol, &course_id, version)
            }
            (Phase::AwaitingHello, _) => Err("message before hello".into()),
            (Phase::Open { .. }, Message::Hello { .. }) => Err("a second hello".into()),
            (&Phase::Open { same_version, bitfield_seen }, Message::Bitfield { bits }) => {
                if bitfield_seen {
                    return Err("a second bitfield".into());
                }
                self.phase = Phase::Open { same_version, bitfield_seen: true };
                // Another version's bitfield indexes another chunk list: only its Haves mean anything to me.
                if same_version {
                    self.bitfield(&bits)
                } else {
                    Ok(Vec::new())
                }
            }
            (Phase::Open { .. }, message) => self.exchange(message, now),
        }
    }

    fn greet(&mut self, protocol: u8, course_id: &str, version: u64) -> Result<Vec<Event>, String> {
        if protocol != PROTOCOL {
            return Err(format!("protocol {protocol} is not {PROTOCOL}"));
        }
        if course_id != self.course_id {
            return Err(format!("hello for course `{course_id}`, not `{}`", self.course_id));
        }
        self.phase = Phase::Open { same_version: version == self.version, bitfield_seen: false };
        self.their_version = Some(version);
        Ok(vec![Event::Ready { version }])
    }

    fn bitfield(&mut self, bits: &[u8]) -> Result<Vec<Event>, String> {
        let count = self.chunks.len();
        if bits.len() != count.div_ceil(8) {
            return Err(format!("bitfield of {} bytes for {count} chunks", bits.len()));
        }
        let held = |index: usize| bits[index / 8] & (0x80 >> (index % 8)) != 0;
        // Spare bits set would name chunks that do not exist: one spelling per bitfield.
        if (count..bits.len() * 8).any(held) {
            return Err(format!("bitfield sets bits past its {count} chunks"));
        }
        let held: Vec<Cid> = (0..count).filter(|&index| held(index)).map(|index| self.chunks[index]).collect();
        Ok(held.into_iter().filter_map(|cid| self.learn(cid)).collect())
    }

    fn exchange(&mut self, message: Message, now: Millis) -> Result<Vec<Event>, String> {
        let event = match message {
            Message::Have { cid } => self.learn(cid),
            Message::Fetching { cid } => self.mine.contains(&cid).then_some(Event::Fetching { cid }),
            Message::Request { cid } => self.requested(cid)?,
            Message::Piece { cid, offset, total, data } => self.piece(cid, offset, total, &data, now)?,
            Message::Cancel { cid } => {
                self.owed.remove(&cid);
                None
            }
            Message::Absent { cid } => self.inbound.remove(&cid).map(|_| {
                self.theirs.remove(&cid);
                Event::Absent { cid }
            }),
            Message::AskManifest => {
                (!std::mem::replace(&mut self.manifest_owed, true)).then_some(Event::ManifestRequested)
            }
            Message::ManifestPiece { offset, total, data } => self.manifest_piece(offset, total, &data, now)?,
            // Handled by `apply`: the handshake messages never reach here.
            Message::Hello { .. } | Message::Bitfield { .. } => None,
        };
        Ok(event.into_iter().collect())
    }

    /// They hold `cid`: an event the first time only, and only for a chunk of my manifest (a peer of another
    /// version announces chunks I will never ask for; recording them would let it fill my memory).
    fn learn(&mut self, cid: Cid) -> Option<Event> {
        (self.mine.contains(&cid) && self.theirs.insert(cid)).then_some(Event::Has { cid })
    }

    fn requested(&mut self, cid: Cid) -> Result<Option<Event>, String> {
        if self.owed.contains(&cid) {
            return Ok(None);
        }
        if self.owed.len() >= self.limits.max_requests_served {
            return Err(format!("more than {} requests outstanding", self.limits.max_requests_served));
        }
        self.owed.insert(cid);
        Ok(Some(Event::Requested { cid }))
    }

    /// A piece of the manifest I asked for; one I did not ask for breaks the protocol. Pieces after a stall
    /// may still be on the wire, and are dropped.
    fn manifest_piece(&mut self, offset: u32, total: u32, data: &[u8], now: Millis) -> Result<Option<Event>, String> {
        let Some(manifest) = self.manifest_in.as_mut() else {
            return match self.manifest_asked {
                true => Ok(None),
                false => Err("a manifest piece, which was not asked for".into()),
            };
        };
        match manifest.accept(offset, total, data, u64::from(MAX_MANIFEST), now)? {
            Step::Dropped | Step::Partial => Ok(None),
            Step::Complete(bytes) => {
                self.manifest_in = None;
                Ok(Some(Event::Manifest { bytes }))
            }
        }
    }

    fn piece(&mut self, cid: Cid, offset: u32, total: u32, data: &[u8], now: Millis) -> Result<Option<Event>, String> {
        let buffered: u64 = self.inbound.values().map(Inbound::buffered).sum();
        let room = self.limits.max_buffered_bytes.saturating_sub(buffered);
        let Some(inbound) = self.inbound.get_mut(&cid) else {
            // A chunk asked before (then cancelled, stalled or received) may still have pieces on the wire.
            if self.asked_before.contains(&cid) {
                return Ok(None);
            }
            return Err(format!("piece of {cid}, which was not requested"));
        };
        match inbound.accept(offset, total, data, room, now)? {
            Step::Dropped | Step::Partial => Ok(None),
            Step::Complete(bytes) => {
                self.inbound.remove(&cid);
                Ok(Some(Event::Chunk { cid, bytes }))
            }
        }
    }
}
