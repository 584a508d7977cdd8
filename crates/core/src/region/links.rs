//! The links between classmates' pages: each page talks to [`MAX_LINKS`] classmates at most, among those
//! present the tracker hands out, directly or, when their pair cannot link directly (one is out of reach,
//! or their NATs fail them, a fixed draw per pair), through the school's TURN relay if there is one. A page
//! sees what its linked classmates hold, and nothing of the others; a transfer is sent by one linked
//! holder, which sends it from its own upload; a holder leaving cuts what it was sending. The save loop
//! and the scheduler decide what to ask; this file only says who is linked and who holds what.

use super::engine::{Client, Engine, Event, Link, Student};
use crate::peer::saving::{Held, MAX_LINKS};
use crate::peer::Limits;
use crate::random::SplitMix64;

/// Requests a page keeps in flight on one link at most (a classmate takes no more from it).
fn per_link() -> usize {
    Limits::default().max_requests_in_flight
}

/// The id a student's page has in the swarm.
pub(super) fn peer_id(student: u32) -> [u8; 4] {
    student.to_le_bytes()
}

/// What a page linked by `links`, whose classmates hold `holdings` and with `in_flight` of its requests on
/// each link, knows of chunk `bit`: held by a linked classmate that takes a request now (that link), held
/// only by busy ones, or not held by any. A direct link is asked before one through the relay, as the page
/// asks first the classmate that gave it most so far.
pub(super) fn held_by_links(links: &[Link], holdings: &[u64], in_flight: &[usize], bit: u64) -> (Held, Option<Link>) {
    let (mut held, mut relayed, per_link) = (Held::No, None, per_link());
    for ((link, &has), &busy) in links.iter().zip(holdings).zip(in_flight) {
        if has & bit == 0 {
            continue;
        }
        match (busy < per_link, link.relayed) {
            (true, false) => return (Held::Free, Some(*link)),
            (true, true) => relayed = relayed.or(Some(*link)),
            (false, _) => held = Held::Busy,
        }
    }
    match relayed {
        Some(link) => (Held::Free, Some(link)),
        None => (held, None),
    }
}

impl Engine<'_> {
    /// True when the direct link between students `a` and `b` fails (their NATs), drawn once for the pair
    /// from the run's seed: the same pair fails or not whenever they try, and in every policy's world.
    pub(super) fn pair_fails(&self, a: u32, b: u32) -> bool {
        let (low, high) = (u64::from(a.min(b)), u64::from(a.max(b)));
        let pair = (low << 32 | high).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        SplitMix64::new(self.seed ^ 0x0a17_11e4 ^ pair).next_f64() < self.region.pair_failure
    }

    /// How students `a` and `b` (both in the swarm) can link: `Some(false)` directly, `Some(true)` through
    /// the relay, `None` not at all.
    pub(super) fn pair(&self, a: u32, b: u32, a_relayed: bool, b_relayed: bool) -> Option<bool> {
        let direct = !a_relayed && !b_relayed && !self.pair_fails(a, b);
        match (direct, self.region.turn.is_some()) {
            (true, _) => Some(false),
            (false, true) => Some(true),
            (false, false) => None,
        }
    }

    fn student(&self, index: u32) -> Option<&Student> {
        self.students.get(index as usize).and_then(Option::as_deref)
    }

    /// Links student `index` (present, in the swarm) to classmates of the swarm with room for one more
    /// link, in a random order (as the tracker hands them out), until it has [`MAX_LINKS`] or none is
    /// left; a pair that cannot link is passed over. Returns how many links it has.
    pub(super) fn connect(&mut self, index: u32) -> usize {
        let Some(me) = self.student(index).filter(|me| me.reachable) else { return 0 };
        let (class, relayed, mut links) = (me.class, me.relayed, me.links.len());
        let linked: Vec<u32> = me.links.iter().map(|link| link.peer).collect();
        let Some(members) = self.classes.get(class).and_then(Option::as_ref).map(|class| &class.members) else {
            return links;
        };
        let mut candidates: Vec<u32> = members
            .iter()
            .copied()
            .filter(|&other| other != index && !linked.contains(&other))
            .filter(|&other| self.student(other).is_some_and(|student| student.links.len() < MAX_LINKS))
            .collect();
        while links < MAX_LINKS && !candidates.is_empty() {
            let other = candidates.swap_remove(self.random.below(candidates.len()));
            let Some(other_relayed) = self.student(other).map(|student| student.relayed) else { continue };
            let Some(through_relay) = self.pair(index, other, relayed, other_relayed) else { continue };
            for (from, to) in [(index, other), (other, index)] {
                if let Some(student) = self.students.get_mut(from as usize).and_then(Option::as_mut) {
                    student.links.push(Link { peer: to, relayed: through_relay });
                }
            }
            links += 1;
        }
        links
    }

    /// What each of `links` holds now, one bit per chunk: what a page heard in its classmates' `Have`s.
    pub(super) fn holdings(&self, links: &[Link]) -> [u64; MAX_LINKS] {
        let mut holdings = [0; MAX_LINKS];
        for (has, link) in holdings.iter_mut().zip(links) {
            *has = self.student(link.peer).map_or(0, |student| student.has);
        }
        holdings
    }

    /// True when a classmate linked to `index`, other than `but`, holds chunk `bit`.
    pub(super) fn linked_holder(&self, index: u32, but: u32, bit: u64) -> bool {
        let Some(student) = self.student(index) else { return false };
        student
            .links
            .iter()
            .filter(|link| link.peer != but)
            .any(|link| self.student(link.peer).is_some_and(|holder| holder.has & bit != 0))
    }

    /// A holder leaves: each transfer it was sending fails for its classmate at once (the link closed),
    /// who reports it as not given and asks again.
    pub(super) fn cut_uploads(&mut self, index: u32, uploads: &[(u32, u64)]) {
        let now = self.now;
        for &(receiver, id) in uploads {
            let Some(student) = self.students.get_mut(receiver as usize).and_then(Option::as_mut) else { continue };
            let class = student.class;
            let Client::Saver(saver) = &mut student.client else { continue };
            let Some(relayed) = saver.cut(id, index, now) else { continue };
            if relayed {
                if let Some(class) = self.classes.get_mut(class).and_then(Option::as_mut) {
                    class.relayed = class.relayed.saturating_sub(1);
                }
            }
            self.figures.peer_cut += 1;
            self.push(now, Event::Answer(receiver, id));
        }
    }

    /// A student leaves the class's swarm: its classmates' links to it close, their save loops forget
    /// it, and each still saving takes a new classmate in its place if one has room (a served page
    /// waits for classmates to link to it) and looks again at what it waits for; its `Fetching`
    /// announces stop.
    pub(super) fn quit_swarm(&mut self, index: u32, student: &Student) {
        let now = self.now;
        if let Some(class) = self.classes.get_mut(student.class).and_then(Option::as_mut) {
            for fetchers in &mut class.fetchers {
                fetchers.retain(|&fetcher| fetcher != index);
            }
            class.members.retain(|&member| member != index);
        }
        for link in &student.links {
            let Some(peer) = self.students.get_mut(link.peer as usize).and_then(Option::as_mut) else { continue };
            peer.links.retain(|other| other.peer != index);
            if let Client::Saver(saver) = &mut peer.client {
                saver.saving.left(&peer_id(index));
            }
        }
        for link in &student.links {
            if self.saver_of(link.peer).is_some() {
                self.connect(link.peer);
                self.schedule_poll(link.peer, now);
            }
        }
    }
}
