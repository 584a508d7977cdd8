//! One remote peer, as a state machine: the handshake, what they hold, the chunks I asked of them and
//! the requests they made of me. Pure: the caller moves the bytes over the data channel, passes the time,
//! reads its store to answer requests and verifies every chunk this hands over.
//!
//! A session trusts nothing. Any breach of the protocol gives one [`Event::Violation`], after which the
//! session is closed and ignores everything: the caller disconnects and bans the peer for the session.

mod inbound;
mod receive;

use std::collections::{BTreeMap, BTreeSet};

use self::inbound::Inbound;
use super::wire::{self, Message, PROTOCOL};
use crate::cid::Cid;
use crate::fetch::Millis;

/// How much one peer may ask of me and hold up of mine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Chunks I ask of this peer at once (4).
    pub max_requests_in_flight: usize,
    /// Bytes of partly received chunks I hold for this peer; more is a violation (2 MiB).
    pub max_buffered_bytes: u64,
    /// A request with no new byte for this long is given up ([`Event::Stalled`]) (5 s).
    pub stall_ms: Millis,
    /// Requests from this peer I have not answered yet; one more is a violation (8).
    pub max_requests_served: usize,
}

impl Default for Limits {
    /// 4 requests in flight, 2 MiB buffered, a stall after 5 s without a byte, 8 requests served at once.
    fn default() -> Limits {
        Limits {
            max_requests_in_flight: 4,
            max_buffered_bytes: 2 * 1024 * 1024,
            stall_ms: 5_000,
            max_requests_served: 8,
        }
    }
}

/// What a message from the peer (or the passing of time) means for the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Their Hello arrived, for my course and protocol; they hold `version` of the manifest.
    Ready {
        /// Their manifest version.
        version: u64,
    },
    /// They hold this chunk of my manifest (from their Bitfield or a Have); reported once per chunk.
    Has {
        /// The chunk.
        cid: Cid,
    },
    /// They are fetching this chunk of my manifest over HTTP: wait a little for their Have (see `lottery::Lottery`).
    Fetching {
        /// The chunk.
        cid: Cid,
    },
    /// They ask me for this chunk: read it from the store and answer with [`Session::serve`].
    Requested {
        /// The chunk.
        cid: Cid,
    },
    /// A whole chunk I asked for, assembled. Unverified: the caller must check it against `cid` before
    /// storing, showing or passing it on, and call [`Session::reject_chunk`] if it does not match.
    Chunk {
        /// The chunk asked for.
        cid: Cid,
        /// The bytes the peer sent for it.
        bytes: Vec<u8>,
    },
    /// They do not have a chunk I asked for; the request is over.
    Absent {
        /// The chunk.
        cid: Cid,
    },
    /// A chunk I asked for got no new byte for `stall_ms`: the request is forgotten (late pieces of it are
    /// dropped) and the caller may send [`Session::cancel`] and ask elsewhere.
    Stalled {
        /// The chunk.
        cid: Cid,
    },
    /// They ask for my signed manifest: answer with [`Session::serve_manifest`].
    ManifestRequested,
    /// Their whole signed manifest, which I asked for with [`Session::ask_manifest`]. Unverified: the
    /// caller checks its signature against the school's pinned key and my rollback floor before using
    /// it, and calls [`Session::reject_manifest`] if it fails.
    Manifest {
        /// The manifest's bytes as published.
        bytes: Vec<u8>,
    },
    /// The manifest I asked for got no new byte for `stall_ms`: the ask is over; the caller may ask
    /// another classmate.
    ManifestStalled,
    /// The peer broke the protocol: disconnect and ban it for the session. Nothing follows.
    Violation {
        /// What it did, for logs.
        reason: String,
    },
}

/// Where the handshake stands.
enum Phase {
    AwaitingHello,
    Open { same_version: bool, bitfield_seen: bool },
    Closed,
}

/// My side of the conversation with one remote peer.
pub struct Session {
    course_id: String,
    version: u64,
    chunks: Vec<Cid>,
    /// The same chunks, to look up: holdings outside my manifest are not recorded, which bounds memory.
    mine: BTreeSet<Cid>,
    limits: Limits,
    phase: Phase,
    /// What they said they hold.
    theirs: BTreeSet<Cid>,
    /// My requests in flight.
    inbound: BTreeMap<Cid, Inbound>,
    /// Every chunk I have asked of them: late pieces of these are dropped, not violations.
    asked_before: BTreeSet<Cid>,
    /// Requests given up by a stall that the caller has not cancelled yet.
    stalled: BTreeSet<Cid>,
    /// Their requests I have not answered.
    owed: BTreeSet<Cid>,
    /// The manifest version their Hello named.
    their_version: Option<u64>,
    /// The manifest I asked of them, while it comes; [`Session::ask_manifest`] asks once per session.
    manifest_in: Option<Inbound>,
    manifest_asked: bool,
    /// They asked for my manifest and I have not answered.
    manifest_owed: bool,
}

impl Session {
    /// A session for my copy of `course_id` at `version`; `chunks` is `wire::distinct_chunks` of my
    /// manifest, the order my Bitfield and theirs (at the same version) index.
    pub fn new(course_id: &str, version: u64, chunks: Vec<Cid>, limits: Limits) -> Session {
        Session {
            course_id: course_id.to_owned(),
            version,
            mine: chunks.iter().copied().collect(),
            chunks,
            limits,
            phase: Phase::AwaitingHello,
            theirs: BTreeSet::new(),
            inbound: BTreeMap::new(),
            asked_before: BTreeSet::new(),
            stalled: BTreeSet::new(),
            owed: BTreeSet::new(),
            their_version: None,
            manifest_in: None,
            manifest_asked: false,
            manifest_owed: false,
        }
    }

    /// My opening: my Hello, then my Bitfield, where `have[i]` says whether I hold `chunks[i]` (missing
    /// entries count as not held, extra ones are ignored). Send both before anything else.
    pub fn hello(&self, have: &[bool]) -> Vec<Message> {
        let mut bits = vec![0u8; self.chunks.len().div_ceil(8)];
        for (index, _) in have.iter().take(self.chunks.len()).enumerate().filter(|(_, held)| **held) {
            bits[index / 8] |= 0x80 >> (index % 8);
        }
        let hello = Message::Hello { protocol: PROTOCOL, course_id: self.course_id.clone(), version: self.version };
        vec![hello, Message::Bitfield { bits }]
    }

    /// Decodes and applies one message from the peer, received at `now`. A closed session returns nothing.
    pub fn receive(&mut self, bytes: &[u8], now: Millis) -> Vec<Event> {
        if self.is_closed() {
            return Vec::new();
        }
        let applied = match wire::decode(bytes) {
            Ok(message) => self.apply(message, now),
            Err(error) => Err(format!("undecodable message: {error}")),
        };
        applied.unwrap_or_else(|reason| vec![self.close(reason)])
    }

    /// A Request for `cid` to send them, or `None` when the session is not open, they have not said they
    /// hold it, it is already in flight, or [`Limits::max_requests_in_flight`] are.
    pub fn request(&mut self, cid: Cid, now: Millis) -> Option<Message> {
        if !self.can_request() || !self.has(&cid) || self.inbound.contains_key(&cid) {
            return None;
        }
        let leftovers = !self.asked_before.insert(cid);
        self.stalled.remove(&cid);
        self.inbound.insert(cid, Inbound::new(now, leftovers));
        Some(Message::Request { cid })
    }

    /// A Cancel to send them for a request in flight or given up by a stall, which is then over; `None`
    /// when there is nothing to cancel. Late pieces of it are dropped.
    pub fn cancel(&mut self, cid: Cid) -> Option<Message> {
        let in_flight = self.inbound.remove(&cid).is_some();
        let stalled = self.stalled.remove(&cid);
        (in_flight || stalled).then_some(Message::Cancel { cid })
    }

    /// Whether they said they hold `cid` (Bitfield or Have) and have not answered Absent for it since.
    /// Only chunks of my manifest are recorded: for any other, false.
    pub fn has(&self, cid: &Cid) -> bool {
        self.theirs.contains(cid)
    }

    /// The manifest version they hold, when their Hello named a newer one than mine.
    pub fn newer(&self) -> Option<u64> {
        self.their_version.filter(|&theirs| theirs > self.version && !self.is_closed())
    }

    /// An AskManifest to send them: once per session, when they hold a newer version than mine
    /// ([`Session::newer`]). The answer comes as [`Event::Manifest`] (or [`Event::ManifestStalled`]).
    pub fn ask_manifest(&mut self, now: Millis) -> Option<Message> {
        if self.newer().is_none() || self.manifest_asked {
            return None;
        }
        self.manifest_asked = true;
        self.manifest_in = Some(Inbound::new(now, false));
        Some(Message::AskManifest)
    }

    /// The answer to their AskManifest: `json`, my signed manifest as published, in pieces. Nothing when
    /// they did not ask, or the session is closed.
    pub fn serve_manifest(&mut self, json: &[u8]) -> Vec<Message> {
        if self.is_closed() || !std::mem::take(&mut self.manifest_owed) {
            return Vec::new();
        }
        wire::manifest_pieces(json)
    }

    /// Closes the session because the manifest it handed over failed verification (a bad signature, another
    /// school, older than it claimed): the [`Event::Violation`] to act on. Nothing follows.
    pub fn reject_manifest(&mut self) -> Event {
        self.close("its manifest failed verification".into())
    }

    /// Whether the session is open and another request would be within the in-flight limit.
    pub fn can_request(&self) -> bool {
        matches!(self.phase, Phase::Open { .. }) && self.inbound.len() < self.limits.max_requests_in_flight
    }

    /// Whether the session is closed by a violation: it ignores everything from then on.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// The requests that got no new byte for [`Limits::stall_ms`] up to `now`, each as [`Event::Stalled`]
    /// and forgotten. Call it whenever time passes.
    pub fn poll(&mut self, now: Millis) -> Vec<Event> {
        let stall_ms = self.limits.stall_ms;
        let stalled: Vec<Cid> = self
            .inbound
            .iter()
            .filter(|(_, inbound)| now.saturating_sub(inbound.progress_at) >= stall_ms)
            .map(|(cid, _)| *cid)
            .collect();
        for cid in &stalled {
            self.inbound.remove(cid);
            self.stalled.insert(*cid);
        }
        let manifest_stalled =
            self.manifest_in.as_ref().is_some_and(|manifest| now.saturating_sub(manifest.progress_at) >= stall_ms);
        if manifest_stalled {
            self.manifest_in = None;
        }
        let manifest = manifest_stalled.then_some(Event::ManifestStalled);
        stalled.into_iter().map(|cid| Event::Stalled { cid }).chain(manifest).collect()
    }

    /// A Have to send them for a chunk I now hold (verified and stored).
    pub fn announce(&mut self, cid: Cid) -> Message {
        Message::Have { cid }
    }

    /// The answer to their Request for `cid`: `chunk` (the verified bytes of `cid` from my store) as
    /// pieces, or Absent when I do not hold it. Nothing when they did not ask, cancelled since, or the
    /// session is closed.
    pub fn serve(&mut self, cid: Cid, chunk: Option<&[u8]>) -> Vec<Message> {
        if self.is_closed() || !self.owed.remove(&cid) {
            return Vec::new();
        }
        match chunk.map(|chunk| wire::pieces(cid, chunk)) {
            Some(pieces) if !pieces.is_empty() => pieces,
            _ => vec![Message::Absent { cid }],
        }
    }

    /// Closes the session because a chunk it handed over failed verification against `cid`: returns the
    /// [`Event::Violation`] to act on like any other (disconnect, ban). Nothing follows.
    pub fn reject_chunk(&mut self, cid: Cid) -> Event {
        self.close(format!("chunk {cid} failed verification"))
    }

    fn close(&mut self, reason: String) -> Event {
        self.phase = Phase::Closed;
        self.theirs.clear();
        self.inbound.clear();
        self.owed.clear();
        self.manifest_in = None;
        self.manifest_owed = false;
        Event::Violation { reason }
    }
}

#[cfg(test)]
mod tests;
