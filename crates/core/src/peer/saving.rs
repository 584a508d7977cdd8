//! The page's save loop, decided once: for each chunk the page misses, whether to ask the classmates
//! who hold it, to fetch it over HTTP (its turn in the swarm's [`Lottery`]), or to wait until a given
//! time. The page (`src/course.rs`) and the simulator (`region/cartable.rs`) both carry out these steps
//! and nothing else decides: the simulator measures the loop pupils run.
//!
//! A step is `(now, held by a classmate, whose turn) → Ask | Fetch | Wait(at)`:
//! - nothing starts before the swarm has settled (`draws_from`): classmates still connecting could hold
//!   the chunk or a lower ticket;
//! - a chunk a connected classmate holds is asked of the classmates, [`ASKS`] times at most (one may
//!   hold it and not answer); after that it goes to the lottery like any other. While every holder is
//!   busy with this page's other asks, it waits for one to answer;
//! - otherwise the lottery says whose turn it is; the winner fetches over HTTP (the scheduler picks the
//!   origin or a mirror) and announces `Fetching` until it holds the chunk; the others wait until the
//!   lottery's answer may change ([`Lottery::changes_at`]), or until they hear news (a `Have`, a first
//!   `Fetching`, an answer, a classmate coming or going). Nobody polls in between.
//!
//! A page alone (no swarm, or nobody connected) fetches every chunk once settled. Pure: ids, time and what
//! classmates hold are passed in.

use std::collections::HashMap;

use crate::fetch::Millis;
use crate::peer::lottery::{Lottery, Rules, Turn};
use crate::Cid;

/// How many times a chunk is asked of the classmates who hold it before it goes to the lottery like any
/// other (each ask tries a few holders in turn).
pub const ASKS: u8 = 3;

/// How long saving waits at most for the swarm's classmates to connect before the lottery draws.
pub const SETTLE_MS: Millis = 5_000;

/// How long a page with no mirror, which the tracker says is not alone but no classmate has reached yet,
/// waits for one before it fetches the whole course from the origin by itself: a page cut off announces
/// again within 20 s (`announce::next_announce_ms`), and on a slow machine links take that long to open.
/// A page out of reach of every classmate pays this once; with mirrors it does not wait (they spare the
/// origin anyway).
pub const SETTLE_ALONE_MS: Millis = 30_000;

/// The longest a waiting chunk goes without a fresh look, news or not: a safety net under
/// [`Lottery::changes_at`], never the pace of the loop.
pub const LOOK_AGAIN_AT_MOST_MS: Millis = 10_000;

/// Whether connected classmates hold a chunk, as the page sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    /// No connected classmate says it holds it.
    No,
    /// Some do, but each already has all the requests a link takes in flight.
    Busy,
    /// One that holds it takes a request now.
    Free,
}

/// What the page does next about one chunk it misses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Ask the connected classmates who hold it; report a failure with [`Saving::not_given`].
    Ask,
    /// Fetch it over HTTP, announcing `Fetching` to classmates until it is held.
    Fetch,
    /// Look again at this time, or sooner on news from the swarm.
    Wait(Millis),
}

/// One page's save loop: its lottery, and the asks each chunk has cost so far.
#[derive(Debug, Default)]
pub struct Saving {
    lottery: Lottery,
    refused_asks: HashMap<Cid, u8>,
    draws_from: Millis,
}

impl Saving {
    /// A save loop with these lottery rules, drawing no chunk before `draws_from` (the time the swarm has
    /// settled: 0 for a page that waited for it already).
    pub fn new(rules: Rules, draws_from: Millis) -> Saving {
        Saving { lottery: Lottery::new(rules), refused_asks: HashMap::new(), draws_from }
    }

    /// The next step for chunk `cid`, for this page (`me`) connected to `classmates`, at `now`; `held`
    /// says whether connected classmates hold the chunk. Holders all busy with this page's other asks are
    /// waited for (an answer is news), not counted as refusals.
    pub fn step(&mut self, me: &[u8], classmates: &[&[u8]], cid: Cid, held: Held, now: Millis) -> Step {
        if now < self.draws_from {
            return Step::Wait(self.draws_from);
        }
        if held != Held::No && self.refused_asks.get(&cid).copied().unwrap_or(0) < ASKS {
            return match held {
                Held::Free => Step::Ask,
                _ => Step::Wait(now.saturating_add(LOOK_AGAIN_AT_MOST_MS)),
            };
        }
        if classmates.is_empty() {
            return Step::Fetch;
        }
        match self.lottery.turn(me, classmates, cid, now) {
            Turn::Mine => Step::Fetch,
            Turn::Confirming | Turn::Theirs(_) => {
                let at_most = now.saturating_add(LOOK_AGAIN_AT_MOST_MS);
                Step::Wait(self.lottery.changes_at(&cid, now).map_or(at_most, |at| at.min(at_most)))
            }
        }
    }

    /// The classmates asked for `cid` did not give it (none answered, or the bytes were wrong).
    pub fn not_given(&mut self, cid: Cid) {
        let asks = self.refused_asks.entry(cid).or_default();
        *asks = asks.saturating_add(1);
    }

    /// Classmate `peer` announced at `now` that it is fetching `cid`. True when this is news (see
    /// [`Lottery::fetching`]): the page then looks again at what waits; a repeat is not news.
    pub fn fetching(&mut self, peer: &[u8], cid: Cid, now: Millis) -> bool {
        self.lottery.fetching(peer, cid, now)
    }

    /// Classmate `peer` left (or was banned): its announces no longer hold.
    pub fn left(&mut self, peer: &[u8]) {
        self.lottery.left(peer);
    }
}

/// How many classmates a page talks to at most.
pub const MAX_LINKS: usize = 8;

/// How often a settling page looks at its swarm.
pub const SETTLE_STEP_MS: Millis = 250;

/// A page's wait for its swarm before the first step, [`SETTLE_MS`] at most ([`SETTLE_ALONE_MS`] without
/// mirrors while the tracker counts classmates and none is connected): until no classmate has connected for a second
/// and those the tracker counts are connected (up to [`MAX_LINKS`]), or, short of that, no new one came
/// for two seconds. Draws made then agree from page to page.
#[derive(Clone, Copy, Debug, Default)]
pub struct Settling {
    mirrors: bool,
    waited: Millis,
    quiet: Millis,
    seen: usize,
}

impl Settling {
    /// A page starting to settle, with mirrors or without.
    pub fn new(mirrors: bool) -> Settling {
        Settling { mirrors, ..Settling::default() }
    }

    /// Looks at the swarm: `peers` classmates connected now, `others` the classmates the tracker counts
    /// (`None` before it answered). True once settled; otherwise the page looks again
    /// [`SETTLE_STEP_MS`] later.
    pub fn settled(&mut self, peers: usize, others: Option<usize>) -> bool {
        let cap = match (peers, others) {
            (0, Some(others)) if others > 0 && !self.mirrors => SETTLE_ALONE_MS,
            _ => SETTLE_MS,
        };
        if self.waited >= cap {
            return true;
        }
        let everyone = others.is_some_and(|others| peers >= others.min(MAX_LINKS));
        if (everyone && self.quiet >= 1_000) || (peers > 0 && self.quiet >= 2_000) {
            return true;
        }
        self.quiet = if peers == self.seen { self.quiet + SETTLE_STEP_MS } else { 0 };
        self.seen = peers;
        self.waited += SETTLE_STEP_MS;
        false
    }

    /// How long the page has waited so far.
    pub fn waited(&self) -> Millis {
        self.waited
    }
}

/// How many chunks a page saves at once: from the origin alone one at a time (a reload in the middle
/// then costs at most that one again, and the origin is spared); with mirrors or connected classmates,
/// every missing chunk at once, the scheduler capping what runs towards each source.
pub fn at_once(classmates: bool, mirrors: bool, missing: usize) -> usize {
    match classmates || mirrors {
        true => missing.max(1),
        false => 1,
    }
}

#[cfg(test)]
mod tests;
