//! The tracker server's logic, as a state machine: a message from a connection in, the texts to send
//! to which connections out. The caller owns the sockets, the clock and the random numbers; nothing here
//! blocks, and no input can make it panic.

use std::collections::BTreeMap;

use serde::Deserialize as _;

use super::message::{
    Action, Announce, AnnounceReply, ClientMessage, Event, Failure, Id20, RelayedAnswer, RelayedOffer, Scrape,
    ScrapeFile, ScrapeFlags, ScrapeReply, Sdp, SdpType, ServerMessage,
};
use super::{MAX_MESSAGE_BYTES, MAX_OFFERS, MAX_SDP_BYTES};
use crate::fetch::Millis;

/// The most swarms one connection may be in: a pupil follows a few courses, not thousands.
pub const MAX_SWARMS_PER_CONNECTION: usize = 64;
/// The most peers one swarm holds unless the caller says otherwise: a course's swarm is a school's
/// pupils, not the internet, and each offer relayed costs a pass over the whole swarm, so a flood of
/// announces must not grow it without end. Refused announces get a `failure reason` (the browser still
/// has the origin and its mirrors).
pub const MAX_PEERS_PER_SWARM: usize = 1000;

/// A client connection, numbered by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// What the tracker did so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Announces accepted (answers included: they are announces too).
    pub announces: u64,
    /// Offers relayed to a peer.
    pub offers_relayed: u64,
    /// Answers relayed to their offerer.
    pub answers_relayed: u64,
    /// Answers whose offerer was no longer in the swarm.
    pub answers_lost: u64,
    /// Scrapes answered.
    pub scrapes: u64,
    /// Messages refused with a `failure reason`.
    pub failures: u64,
}

/// Every swarm the tracker knows, and which connection holds which peer.
#[derive(Debug)]
pub struct Swarms {
    interval_secs: u32,
    max_peers: usize,
    swarms: BTreeMap<Id20, Swarm>,
    /// For each connection, its peer_id in each swarm it is in.
    connections: BTreeMap<ConnId, BTreeMap<Id20, Id20>>,
    counts: Counts,
}

#[derive(Debug, Default)]
struct Swarm {
    peers: BTreeMap<Id20, Peer>,
}

#[derive(Clone, Copy, Debug)]
struct Peer {
    connection: ConnId,
    complete: bool,
    seen: Millis,
}

impl Swarms {
    /// A tracker that asks clients to announce every `interval_secs` seconds (at least 1) and forgets a
    /// peer that has not announced for twice as long.
    pub fn new(interval_secs: u32) -> Swarms {
        let interval_secs = interval_secs.max(1);
        Swarms {
            interval_secs,
            max_peers: MAX_PEERS_PER_SWARM,
            swarms: BTreeMap::new(),
            connections: BTreeMap::new(),
            counts: Counts::default(),
        }
    }

    /// The same tracker with room for `max_peers` peers in each swarm (at least 1) instead of
    /// [`MAX_PEERS_PER_SWARM`]; an announce that would add one more is refused.
    pub fn with_max_peers(mut self, max_peers: usize) -> Swarms {
        self.max_peers = max_peers.max(1);
        self
    }

    /// What the tracker did so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The number of swarms and of peers in them.
    pub fn size(&self) -> (usize, usize) {
        (self.swarms.len(), self.swarms.values().map(|swarm| swarm.peers.len()).sum())
    }

    /// Handles one text message from `from` at `now`: the reply to it and the offers or answer it
    /// relays, as JSON texts with the connection each goes to. `random` gives numbers in [0, 1) and
    /// picks the peers that receive offers. A bad message gets a `failure reason` reply only.
    pub fn handle(
        &mut self,
        from: ConnId,
        message: &str,
        now: Millis,
        random: &mut dyn FnMut() -> f64,
    ) -> Vec<(ConnId, String)> {
        let result = read(message).and_then(|request| match request {
            ClientMessage::Announce(announce) => self.announce(from, announce, now, random),
            ClientMessage::Scrape(scrape) => Ok(vec![(from, self.scrape(&scrape, now))]),
        });
        match result {
            Ok(sends) => sends,
            Err(failure) => {
                self.counts.failures += 1;
                vec![(from, text(&ServerMessage::Failure(failure)))]
            }
        }
    }

    /// Forgets a connection that closed: its peers leave every swarm they were in.
    pub fn disconnect(&mut self, connection: ConnId) {
        for (info_hash, peer_id) in self.connections.remove(&connection).unwrap_or_default() {
            self.remove_peer(info_hash, peer_id, connection);
        }
    }

    /// Forgets every peer that has not announced for twice the interval (call it now and then; the
    /// swarm an announce names is also swept before it is used).
    pub fn expire(&mut self, now: Millis) {
        let hashes: Vec<Id20> = self.swarms.keys().copied().collect();
        for info_hash in hashes {
            self.expire_swarm(info_hash, now);
        }
    }

    fn announce(
        &mut self,
        from: ConnId,
        announce: Announce,
        now: Millis,
        random: &mut dyn FnMut() -> f64,
    ) -> Result<Vec<(ConnId, String)>, Failure> {
        check(&announce)?;
        let (info_hash, peer_id) = (announce.info_hash, announce.peer_id);
        self.expire_swarm(info_hash, now);
        if announce.event == Some(Event::Stopped) {
            self.counts.announces += 1;
            if self.swarms.get(&info_hash).and_then(|swarm| swarm.peers.get(&peer_id)).map(|p| p.connection)
                == Some(from)
            {
                self.remove_peer(info_hash, peer_id, from);
                self.forget(from, info_hash);
            }
            return Ok(vec![(from, self.reply(info_hash))]);
        }
        self.join(from, &announce, now)?;
        self.counts.announces += 1;
        let mut sends = Vec::new();
        if announce.answer.is_none() {
            sends.push((from, self.reply(info_hash)));
        }
        self.relay_offers(from, &announce, random, &mut sends);
        self.relay_answer(&announce, &mut sends);
        Ok(sends)
    }

    /// Adds or refreshes the sender's peer. A peer_id announced from a new connection moves there (a
    /// browser that reconnected); a connection holds one peer_id per swarm.
    fn join(&mut self, from: ConnId, announce: &Announce, now: Millis) -> Result<(), Failure> {
        let (info_hash, peer_id) = (announce.info_hash, announce.peer_id);
        if !self.has_room(from, info_hash, peer_id) {
            return Err(failure(Some(info_hash), &format!("swarm full: {} peers at most", self.max_peers)));
        }
        let held = self.connections.entry(from).or_default();
        if !held.contains_key(&info_hash) && held.len() >= MAX_SWARMS_PER_CONNECTION {
            return Err(failure(Some(info_hash), "too many swarms on one connection"));
        }
        if let Some(previous) = held.insert(info_hash, peer_id).filter(|previous| *previous != peer_id) {
            self.remove_peer(info_hash, previous, from);
        }
        let finished = announce.left == Some(0) || announce.event == Some(Event::Completed);
        let swarm = self.swarms.entry(info_hash).or_default();
        let peer = swarm.peers.entry(peer_id).or_insert(Peer { connection: from, complete: false, seen: now });
        let moved_from = std::mem::replace(&mut peer.connection, from);
        peer.complete |= finished;
        peer.seen = now;
        if moved_from != from {
            self.forget(moved_from, info_hash);
        }
        Ok(())
    }

    /// Whether `peer_id` may be in the swarm: it is already (a refresh, or a browser that reconnected),
    /// or there is room once the peer this connection held there before, if any, has made way for it.
    fn has_room(&self, from: ConnId, info_hash: Id20, peer_id: Id20) -> bool {
        let Some(swarm) = self.swarms.get(&info_hash) else { return true };
        if swarm.peers.contains_key(&peer_id) {
            return true;
        }
        let held = self.connections.get(&from).and_then(|held| held.get(&info_hash));
        let replaced = held.and_then(|previous| swarm.peers.get(previous)).is_some_and(|peer| peer.connection == from);
        swarm.peers.len() - usize::from(replaced) < self.max_peers
    }

    /// Sends each offer to a different peer of the swarm, picked at random, never back to the sender.
    fn relay_offers(
        &mut self,
        from: ConnId,
        announce: &Announce,
        random: &mut dyn FnMut() -> f64,
        sends: &mut Vec<(ConnId, String)>,
    ) {
        let offers = announce.offers.as_deref().unwrap_or_default();
        let Some(swarm) = self.swarms.get(&announce.info_hash) else { return };
        let mut candidates: Vec<(Id20, ConnId)> = swarm
            .peers
            .iter()
            .filter(|(id, peer)| **id != announce.peer_id && peer.connection != from)
            .map(|(id, peer)| (*id, peer.connection))
            .collect();
        let wanted = offers.len().min(usize::try_from(announce.numwant.unwrap_or(u64::MAX)).unwrap_or(usize::MAX));
        let chosen = pick(&mut candidates, wanted, random);
        for (offer, (_, connection)) in offers.iter().zip(chosen) {
            let relayed = RelayedOffer {
                action: Action::Announce,
                offer: offer.offer.clone(),
                offer_id: offer.offer_id,
                peer_id: announce.peer_id,
                info_hash: announce.info_hash,
            };
            sends.push((*connection, text(&ServerMessage::Offer(relayed))));
            self.counts.offers_relayed += 1;
        }
    }

    /// Sends an answer to its offerer, if the offerer is still in the swarm.
    fn relay_answer(&mut self, announce: &Announce, sends: &mut Vec<(ConnId, String)>) {
        let (Some(answer), Some(to), Some(offer_id)) = (&announce.answer, announce.to_peer_id, announce.offer_id)
        else {
            return;
        };
        let Some(offerer) = self.swarms.get(&announce.info_hash).and_then(|swarm| swarm.peers.get(&to)) else {
            self.counts.answers_lost += 1;
            return;
        };
        let relayed = RelayedAnswer {
            action: Action::Announce,
            answer: answer.clone(),
            offer_id,
            peer_id: announce.peer_id,
            info_hash: announce.info_hash,
        };
        sends.push((offerer.connection, text(&ServerMessage::Answer(relayed))));
        self.counts.answers_relayed += 1;
    }

    fn scrape(&mut self, scrape: &Scrape, now: Millis) -> String {
        self.counts.scrapes += 1;
        let mut files = BTreeMap::new();
        for &info_hash in &scrape.info_hash {
            self.expire_swarm(info_hash, now);
            let (complete, incomplete) = self.tally(info_hash);
            files.insert(info_hash, ScrapeFile { complete, incomplete, downloaded: complete });
        }
        let flags = Some(ScrapeFlags { min_request_interval: u64::from(self.interval_secs) });
        text(&ServerMessage::Scraped(ScrapeReply { action: Action::Scrape, files, flags }))
    }

    fn reply(&self, info_hash: Id20) -> String {
        let (complete, incomplete) = self.tally(info_hash);
        let interval = u64::from(self.interval_secs);
        text(&ServerMessage::Announced(AnnounceReply {
            action: Action::Announce,
            interval,
            info_hash,
            complete,
            incomplete,
        }))
    }

    /// Peers with everything, and peers still downloading.
    fn tally(&self, info_hash: Id20) -> (u64, u64) {
        let Some(swarm) = self.swarms.get(&info_hash) else { return (0, 0) };
        let complete = swarm.peers.values().filter(|peer| peer.complete).count() as u64;
        (complete, swarm.peers.len() as u64 - complete)
    }

    fn expire_swarm(&mut self, info_hash: Id20, now: Millis) {
        let lifetime = 2 * 1000 * u64::from(self.interval_secs);
        let Some(swarm) = self.swarms.get(&info_hash) else { return };
        let stale: Vec<(Id20, ConnId)> = swarm
            .peers
            .iter()
            .filter(|(_, peer)| now.saturating_sub(peer.seen) > lifetime)
            .map(|(id, peer)| (*id, peer.connection))
            .collect();
        for (peer_id, connection) in stale {
            self.remove_peer(info_hash, peer_id, connection);
            self.forget(connection, info_hash);
        }
    }

    /// Removes `peer_id` from a swarm if `connection` holds it; drops the swarm once empty.
    fn remove_peer(&mut self, info_hash: Id20, peer_id: Id20, connection: ConnId) {
        let Some(swarm) = self.swarms.get_mut(&info_hash) else { return };
        if swarm.peers.get(&peer_id).is_some_and(|peer| peer.connection == connection) {
            swarm.peers.remove(&peer_id);
        }
        if swarm.peers.is_empty() {
            self.swarms.remove(&info_hash);
        }
    }

    /// Drops a swarm from a connection's list (its peer left or moved to another connection).
    fn forget(&mut self, connection: ConnId, info_hash: Id20) {
        if let Some(held) = self.connections.get_mut(&connection) {
            held.remove(&info_hash);
        }
    }
}

/// Reads a client message within the bounds, or the failure to reply with.
fn read(message: &str) -> Result<ClientMessage, Failure> {
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(failure(None, "message too long: 64 KiB at most"));
    }
    let value: serde_json::Value =
        serde_json::from_str(message).map_err(|_| failure(None, "invalid message: expected JSON"))?;
    ClientMessage::deserialize(&value).map_err(|error| {
        let action = match value.get("action").and_then(|action| action.as_str()) {
            Some("announce") => Some(Action::Announce),
            Some("scrape") => Some(Action::Scrape),
            _ => None,
        };
        let info_hash = value.get("info_hash").and_then(|v| v.as_str()).and_then(Id20::from_binary_string);
        let what = if action.is_some() { "request" } else { "action" };
        // serde's message may quote the input: keep the reply short.
        let reason = format!("invalid {what}: {error}").chars().take(200).collect();
        Failure { action, reason, info_hash }
    })
}

/// Refuses an announce beyond the bounds, or whose answer cannot be routed.
fn check(announce: &Announce) -> Result<(), Failure> {
    let refuse = |reason: &str| Err(failure(Some(announce.info_hash), reason));
    let offers = announce.offers.as_deref().unwrap_or_default();
    if offers.len() > MAX_OFFERS {
        return refuse("too many offers: 5 at most");
    }
    if !offers.iter().all(|offer| fits(&offer.offer, SdpType::Offer)) {
        return refuse("invalid offer: type `offer` and an sdp of 16 KiB at most");
    }
    match &announce.answer {
        Some(answer) if !fits(answer, SdpType::Answer) => {
            refuse("invalid answer: type `answer` and an sdp of 16 KiB at most")
        }
        Some(_) if announce.to_peer_id.is_none() || announce.offer_id.is_none() => {
            refuse("an answer needs `to_peer_id` and `offer_id`")
        }
        _ => Ok(()),
    }
}

fn fits(sdp: &Sdp, kind: SdpType) -> bool {
    sdp.kind == kind && sdp.sdp.len() <= MAX_SDP_BYTES
}

fn failure(info_hash: Option<Id20>, reason: &str) -> Failure {
    Failure { action: Some(Action::Announce), reason: reason.to_owned(), info_hash }
}

/// Moves `wanted` distinct candidates, chosen at random, to the front and returns them (fewer if there
/// are fewer candidates): a partial Fisher–Yates shuffle.
fn pick<'a, T>(candidates: &'a mut [T], wanted: usize, random: &mut dyn FnMut() -> f64) -> &'a [T] {
    let wanted = wanted.min(candidates.len());
    for i in 0..wanted {
        let left = candidates.len() - i;
        // `as` saturates: NaN and negative numbers give 0; 1.0 or more is clamped to the last one.
        let j = i + ((random() * left as f64) as usize).min(left - 1);
        candidates.swap(i, j);
    }
    &candidates[..wanted]
}

fn text(message: &ServerMessage) -> String {
    // Nothing in these types can fail to serialize (map keys are strings); stay total anyway.
    serde_json::to_string(message).unwrap_or_else(|_| r#"{"failure reason":"internal error"}"#.to_owned())
}
