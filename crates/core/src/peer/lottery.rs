//! The swarm's lottery: which classmate asks the origin for a chunk while the others wait for its Have.
//! Every page draws the same way, from ids it shares with its classmates: each peer's ticket for a chunk
//! is a hash of its peer id and the chunk's CID, and the lowest ticket among the peers a page is
//! connected to wins. In a swarm of `n` connected peers each one wins about `1 / n` of the chunks, so
//! about one peer fetches each chunk over HTTP, not one per pupil.
//!
//! Views differ (a page may not yet be connected to everyone, a classmate may only be reading, not
//! saving), so announcements settle what the draw cannot: a peer fetching a chunk says so (`Fetching`)
//! and repeats it while it fetches; the others wait for it. A winner that says nothing within
//! [`Rules::grace_ms`], or whose announce is older than [`Rules::patience_ms`], is passed over for that
//! chunk and the draw goes on without it; so is one still announcing after [`Rules::max_wait_ms`], so
//! that a classmate who only pretends to fetch cannot hold the class back. Pure: ids, time and announcements are passed in.

use std::collections::HashMap;

use crate::fetch::Millis;
use crate::Cid;

/// A peer's ticket for `cid`: FNV-1a over the CID's binary form, then the peer id. The same in every
/// page; lowest wins.
pub fn ticket(peer_id: &[u8], cid: &Cid) -> u64 {
    tickets(cid)(peer_id)
}

/// The tickets of `cid`, for any peer: the CID's part of the hash is computed once per draw.
fn tickets(cid: &Cid) -> impl Fn(&[u8]) -> u64 {
    let fold = |hash: u64, byte: &u8| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    let seed = cid.to_bytes().iter().fold(0xcbf2_9ce4_8422_2325u64, fold);
    move |peer_id: &[u8]| peer_id.iter().fold(seed, fold)
}

/// How long announcements count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// How long the winner of a draw has to announce `Fetching` (or `Have`) before it is passed over.
    pub grace_ms: Millis,
    /// How long a `Fetching` announce holds: a fetcher repeats it more often than this while it fetches.
    pub patience_ms: Millis,
    /// How long, from its first announce, a classmate fetching a chunk is waited for at most: one that
    /// keeps announcing and never delivers holds nobody back for longer.
    pub max_wait_ms: Millis,
    /// How long I must stay the winner of a chunk before it is mine, when I have classmates: others still
    /// connecting (whose ticket may be lower, or who announce they fetch it) get that long to show up.
    pub confirm_ms: Millis,
}

impl Default for Rules {
    fn default() -> Self {
        Rules { grace_ms: 3_000, patience_ms: 8_000, max_wait_ms: 30_000, confirm_ms: 1_000 }
    }
}

/// What this page should do about a chunk it misses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Turn {
    /// Fetch it over HTTP, announcing `Fetching` to classmates meanwhile.
    Mine,
    /// I win the draw, but only since less than [`Rules::confirm_ms`]: ask again.
    Confirming,
    /// Wait for this classmate (the winner of the draw, or one that announced it is fetching).
    Theirs(Vec<u8>),
}

/// One page's view of the lottery: the `Fetching` announces it heard and the winners it passed over,
/// kept per chunk (a page asks about one chunk at a time, among a few dozen classmates at most).
#[derive(Debug, Default)]
pub struct Lottery {
    rules: Rules,
    draws: HashMap<Cid, Draw>,
}

/// What one page knows of one chunk's draw.
#[derive(Debug, Default)]
struct Draw {
    /// When each classmate first and last announced it was fetching it.
    fetching: Vec<(Vec<u8>, Millis, Millis)>,
    /// When each classmate was first found the winner.
    drawn_at: Vec<(Vec<u8>, Millis)>,
    /// The classmates passed over.
    passed: Vec<Vec<u8>>,
    /// Since when I have been the winner, without a break.
    winning: Option<Millis>,
}

impl Lottery {
    /// An empty lottery with these rules.
    pub fn new(rules: Rules) -> Lottery {
        Lottery { rules, ..Lottery::default() }
    }

    /// Classmate `peer` announced at `now` that it is fetching `cid`. True when this is news: its first
    /// announce for `cid`, or one after it had been passed over; a repeat only keeps the announce holding.
    pub fn fetching(&mut self, peer: &[u8], cid: Cid, now: Millis) -> bool {
        let draw = self.draws.entry(cid).or_default();
        let passed = draw.passed.len();
        draw.passed.retain(|who| who != peer);
        match draw.fetching.iter_mut().find(|(who, _, _)| who == peer) {
            Some((_, _, last)) => {
                *last = now;
                draw.passed.len() != passed
            }
            None => {
                draw.fetching.push((peer.to_vec(), now, now));
                true
            }
        }
    }

    /// Classmate `peer` left (or was banned): its announces no longer hold.
    pub fn left(&mut self, peer: &[u8]) {
        for draw in self.draws.values_mut() {
            draw.fetching.retain(|(who, _, _)| who != peer);
            draw.drawn_at.retain(|(who, _)| who != peer);
        }
    }

    /// Whose turn it is to fetch `cid` over HTTP, for this page (`me`) connected to `classmates`, at `now`.
    /// A classmate whose `Fetching` holds is waited for; otherwise the lowest ticket among me and the
    /// classmates not passed over for `cid` wins. A winning classmate silent past the grace is passed over.
    pub fn turn(&mut self, me: &[u8], classmates: &[&[u8]], cid: Cid, now: Millis) -> Turn {
        let rules = self.rules;
        let draw = self.draws.entry(cid).or_default();
        // The latest announce that holds, from a classmate I am connected to: surely still at it. Latest
        // first (the later heard on a tie), so that one connected classmate is looked up, not all.
        let mut holding: Vec<(Millis, usize)> = draw
            .fetching
            .iter()
            .enumerate()
            .filter(|(_, (_, first, last))| {
                now.saturating_sub(*last) < rules.patience_ms && now.saturating_sub(*first) < rules.max_wait_ms
            })
            .map(|(index, (_, _, last))| (*last, index))
            .collect();
        holding.sort_unstable_by(|a, b| b.cmp(a));
        let mut connected = holding.iter().filter_map(|&(_, index)| draw.fetching.get(index));
        if let Some((peer, _, _)) = connected.find(|(peer, _, _)| classmates.contains(&peer.as_slice())) {
            let peer = peer.clone();
            draw.winning = None;
            return Turn::Theirs(peer);
        }
        // Classmates whose ticket beats mine, lowest first: each in turn is the winner unless passed over.
        let ticket = tickets(&cid);
        let mine = ticket(me);
        let mut ahead: Vec<(u64, &[u8])> =
            classmates.iter().map(|peer| (ticket(peer), *peer)).filter(|(theirs, _)| *theirs < mine).collect();
        ahead.sort_unstable();
        for (_, winner) in ahead {
            if draw.passed.iter().any(|who| who == winner) {
                continue;
            }
            draw.winning = None;
            // An announce that ran out (those that hold were waited for above) means the winner stopped.
            let stopped = draw.fetching.iter().any(|(who, _, _)| who == winner);
            let drawn_at = match draw.drawn_at.iter().find(|(who, _)| who == winner) {
                Some((_, at)) => *at,
                None => {
                    draw.drawn_at.push((winner.to_vec(), now));
                    now
                }
            };
            if !stopped && now.saturating_sub(drawn_at) < rules.grace_ms {
                return Turn::Theirs(winner.to_vec());
            }
            draw.passed.push(winner.to_vec());
        }
        // Alone, there is nobody to wait for.
        if classmates.is_empty() {
            return Turn::Mine;
        }
        let since = *draw.winning.get_or_insert(now);
        match now.saturating_sub(since) >= rules.confirm_ms {
            true => Turn::Mine,
            false => Turn::Confirming,
        }
    }

    /// The earliest time after `now` at which [`Lottery::turn`] for `cid` may answer otherwise with no new
    /// announce and no classmate coming or going: when a confirmation ends, a drawn winner's grace runs
    /// out, or an announce stops holding. `None` when nothing is pending. A page waiting for a classmate
    /// looks again then, or at once when something new is heard, and never polls in between.
    pub fn changes_at(&self, cid: &Cid, now: Millis) -> Option<Millis> {
        let rules = self.rules;
        let draw = self.draws.get(cid)?;
        let confirmed = draw.winning.map(|since| since.saturating_add(rules.confirm_ms));
        let graces = draw.drawn_at.iter().map(|(_, at)| at.saturating_add(rules.grace_ms));
        let announces = draw.fetching.iter().map(|(_, first, last)| {
            last.saturating_add(rules.patience_ms).min(first.saturating_add(rules.max_wait_ms))
        });
        confirmed.into_iter().chain(graces).chain(announces).filter(|&at| at > now).min()
    }
}

#[cfg(test)]
mod tests;
