//! The discrete-event engine of a region's morning: arrivals (sorted in advance, and so the times patience
//! runs out) and a queue of timed events, handled in time order, ties in the order they were queued. A student exists only between
//! arrival and leaving (coursework complete, or given up; a reachable cartable student who has it stays a
//! while to serve classmates). What differs between policies lives in `plain.rs` (naive, backoff) and
//! `cartable.rs`; what they share (the servers' books, keeping a chunk, leaving) lives here.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::cartable::Saver;
use super::plain::{Delivery, Plain, Waiting};
use super::world::{arrivals, payload, Arrival, Class, Live};
use super::{Figures, Policy, Region, MINUTE};
use crate::fetch::Millis;
use crate::peer::saving::MAX_LINKS;
use crate::random::SplitMix64;

/// Runs `policy` over the morning of `region` with the random numbers of `seed`: the same seed gives the
/// same arrivals for every policy, and the same figures. `progress` is called with the virtual time at
/// every new minute, for a progress line. Courses of more than 64 chunks are cut to 64.
pub fn run(region: &Region, policy: Policy, seed: u64, progress: &mut dyn FnMut(Millis)) -> Figures {
    let mut engine = Engine::new(region, policy, seed);
    let mut minute = 0;
    while engine.handle_next(region.horizon()) {
        if engine.now / MINUTE != minute {
            minute = engine.now / MINUTE;
            progress(engine.now);
        }
    }
    for student in 0..engine.students.len() {
        engine.leave(student as u32);
    }
    engine.figures
}

/// Something due at a time. Students are named by their index in arrival order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Event {
    /// A new second: naive and backoff retries due now reach the origin.
    Tick,
    /// A cartable student's page acts (its scheduler and its lottery).
    Poll(u32),
    /// The answer to a cartable student's request `id` ends.
    Answer(u32, u64),
    /// A server's answer to a naive or backoff student ends with the chunk's bytes.
    Delivered(u32, Delivery),
    /// The student, served, closes the page.
    Leave(u32),
}

/// What comes next: students arrive, and their patience runs out, in the order of the arrivals (a cursor
/// each, not events: the queue stays small); the rest is queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Due {
    Arrival,
    GiveUp,
    Event,
}

/// A present student.
pub(super) struct Student {
    pub(super) class: usize,
    /// In the class's swarm: classmates can link to the student, directly or through the relay.
    pub(super) reachable: bool,
    /// Out of reach directly, the student reaches classmates through the school's TURN relay.
    pub(super) relayed: bool,
    pub(super) arrived: Millis,
    /// The chunks verified so far, one bit each.
    pub(super) has: u64,
    /// The classmates the page is linked to, [`crate::peer::saving::MAX_LINKS`] at most.
    pub(super) links: Vec<Link>,
    /// The transfers it is sending to classmates now: (the classmate, its request's id).
    pub(super) uploads: Vec<(u32, u64)>,
    pub(super) client: Client,
}

/// A link between two classmates' pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Link {
    /// The classmate at the other end.
    pub(super) peer: u32,
    /// Through the school's TURN relay: one of the two is out of reach, or their pair cannot link
    /// directly.
    pub(super) relayed: bool,
}

pub(super) enum Client {
    Plain(Plain),
    Saver(Box<Saver>),
    /// The coursework is complete; the page stays open, serving classmates.
    Served,
}

pub(super) struct Engine<'a> {
    pub(super) region: &'a Region,
    pub(super) policy: Policy,
    pub(super) now: Millis,
    pub(super) random: SplitMix64,
    /// The run's seed, from which the fixed draws (which pairs cannot link, which answers stall) come.
    pub(super) seed: u64,
    queue: BinaryHeap<Reverse<(Millis, u64, Event)>>,
    seq: u64,
    arrivals: Vec<Arrival>,
    next_arrival: usize,
    /// The next student whose patience runs out (arrival order is also that order).
    next_give_up: usize,
    pub(super) classes: Vec<Option<Class>>,
    pub(super) students: Vec<Option<Box<Student>>>,
    /// The origin, then the mirrors; a reachable student's classmates come after them as one source.
    pub(super) servers: Vec<Live>,
    pub(super) chunks: usize,
    pub(super) waiting: Waiting,
    present: usize,
    pub(super) figures: Figures,
}

impl<'a> Engine<'a> {
    pub(super) fn new(region: &'a Region, policy: Policy, seed: u64) -> Engine<'a> {
        let arrivals = arrivals(region, &mut SplitMix64::new(seed));
        let seconds = (region.horizon() / 1000) as usize + 1;
        let classes = region.students.div_ceil(region.class_size.max(1));
        let servers = std::iter::once(&region.origin).chain(&region.mirrors).enumerate();
        let servers =
            servers.map(|(index, spec)| Live::new(spec, seed ^ 0x57a1_1ed0 ^ ((index as u64) << 40))).collect();
        Engine {
            region,
            policy,
            now: 0,
            random: SplitMix64::new(seed ^ 0x05ee_d0fc_1a55 ^ (policy as u64).wrapping_mul(0x9e37_79b9)),
            seed,
            queue: BinaryHeap::new(),
            seq: 0,
            students: (0..arrivals.len()).map(|_| None).collect(),
            arrivals,
            next_arrival: 0,
            next_give_up: 0,
            classes: (0..classes).map(|_| None).collect(),
            servers,
            chunks: region.chunks.min(64),
            waiting: Waiting::new(seconds + 1),
            present: 0,
            figures: Figures {
                policy: Some(policy),
                finished: vec![None; region.students],
                origin_offered: vec![0; seconds],
                origin_accepted: vec![0; seconds],
                origin_after_refusal: vec![0; seconds],
                origin_rps: region.origin.rps,
                ..Figures::default()
            },
        }
    }

    /// Handles what comes next, if it comes by `until`; false when nothing does.
    pub(super) fn handle_next(&mut self, until: Millis) -> bool {
        // Arrivals first on a tie, then the patience running out, then the queue.
        let next_arrival = self.arrivals.get(self.next_arrival).map(|arrival| (arrival.at, Due::Arrival));
        let next_give_up = self.give_up_at().map(|at| (at, Due::GiveUp));
        let next_event = self.queue.peek().map(|Reverse((time, _, _))| (*time, Due::Event));
        let Some((time, due)) = [next_arrival, next_give_up, next_event].into_iter().flatten().min() else {
            return false;
        };
        if time > until {
            return false;
        }
        self.now = time;
        self.figures.events += 1;
        match due {
            Due::Arrival => self.arrive(),
            Due::GiveUp => {
                self.next_give_up += 1;
                self.give_up(self.next_give_up as u32 - 1);
            }
            Due::Event => match self.queue.pop().map(|Reverse((_, _, event))| event) {
                Some(Event::Tick) => self.tick(),
                Some(Event::Poll(student)) => self.poll(student),
                Some(Event::Answer(student, id)) => self.answer(student, id),
                Some(Event::Delivered(student, request)) => self.delivered(student, request),
                Some(Event::Leave(student)) => self.leave(student),
                None => {}
            },
        }
        true
    }

    /// Drops every event queued so far (a test's starting point: what was due is taken as done).
    #[cfg(test)]
    pub(super) fn forget_events(&mut self) {
        self.queue.clear();
    }

    pub(super) fn push(&mut self, time: Millis, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse((time, self.seq, event)));
    }

    /// The client of student `index`, while present.
    pub(super) fn client(&mut self, index: u32) -> Option<&mut Client> {
        self.students.get_mut(index as usize).and_then(Option::as_mut).map(|student| &mut student.client)
    }

    /// The page of cartable student `index`, while it saves.
    pub(super) fn saver_of(&mut self, index: u32) -> Option<&mut Saver> {
        match self.client(index) {
            Some(Client::Saver(saver)) => Some(saver),
            _ => None,
        }
    }

    /// The source index standing for a reachable student's classmates.
    pub(super) fn peer_source(&self) -> usize {
        self.servers.len()
    }

    /// The student's bit mask of a whole course.
    pub(super) fn all_chunks(&self) -> u64 {
        match self.chunks {
            64 => u64::MAX,
            chunks => (1u64 << chunks) - 1,
        }
    }

    pub(super) fn arrive(&mut self) {
        let index = self.next_arrival;
        self.next_arrival += 1;
        let Some(&Arrival { at, class, reachable, returning }) = self.arrivals.get(index) else { return };
        let chunks = self.chunks;
        if let Some(slot) = self.classes.get_mut(class) {
            slot.get_or_insert_with(|| Class::new(class, chunks));
        }
        // Through the school's relay, a student out of reach directly reaches classmates all the same.
        let relayed = !reachable && self.policy == Policy::Cartable && self.region.turn.is_some();
        let reachable = reachable || relayed;
        let client = match self.policy {
            Policy::Cartable => Client::Saver(Box::new(self.saver(reachable, returning))),
            Policy::Naive | Policy::Backoff => Client::Plain(Plain::default()),
        };
        let linkable = reachable && self.policy == Policy::Cartable;
        let (links, uploads) = (Vec::with_capacity(if linkable { MAX_LINKS } else { 0 }), Vec::new());
        let student = Student { class, reachable, relayed, arrived: at, has: 0, links, uploads, client };
        if let Some(slot) = self.students.get_mut(index) {
            *slot = Some(Box::new(student));
        }
        self.present += 1;
        self.figures.peak_present = self.figures.peak_present.max(self.present);
        let index = index as u32;
        match self.policy {
            Policy::Cartable => self.ask_manifest(index, &[0]),
            Policy::Naive | Policy::Backoff => self.start_plain(index),
        }
    }

    /// Counts `offered` requests that reached the origin at `now`, `accepted` of them accepted, all of
    /// them from clients it had refused (or not answered) before when `after_refusal`.
    pub(super) fn count_origin(&mut self, offered: u32, accepted: u32, after_refusal: bool) {
        let second = (self.now / 1000) as usize;
        if let (true, Some(count)) = (after_refusal, self.figures.origin_after_refusal.get_mut(second)) {
            *count = count.saturating_add(offered);
        }
        if let Some(count) = self.figures.origin_offered.get_mut(second) {
            *count = count.saturating_add(offered);
        }
        if let Some(count) = self.figures.origin_accepted.get_mut(second) {
            *count = count.saturating_add(accepted);
        }
    }

    /// Checks bytes from `source` for chunk `chunk` against its CID (wrong bytes when `lie`, which a client
    /// that `verifies` refuses); keeps them if they pass. Returns whether they passed.
    pub(super) fn keep(
        &mut self,
        student: &mut Student,
        chunk: usize,
        source: usize,
        lie: bool,
        verifies: bool,
    ) -> bool {
        let size = self.region.chunk_size;
        let mut sent = payload(student.class, chunk);
        if lie {
            sent.push(0xff);
        }
        let Some(class) = self.classes.get_mut(student.class).and_then(Option::as_mut) else { return false };
        let matches = class.cids.get(chunk).is_some_and(|cid| cid.matches(&sent));
        if verifies && !matches {
            self.figures.bytes_refused += size;
            return false;
        }
        self.figures.corrupt_accepted += u64::from(!matches);
        let bit = 1u64 << chunk;
        if student.has & bit != 0 {
            self.figures.bytes_duplicate += size;
            return true;
        }
        student.has |= bit;
        match source {
            0 => self.figures.bytes_origin += size,
            source if source == self.servers.len() => self.figures.bytes_peers += size,
            _ => self.figures.bytes_mirrors += size,
        }
        true
    }

    /// Notes the time `index` took to get the whole coursework.
    pub(super) fn finished(&mut self, index: u32, arrived: Millis) {
        if let Some(time) = self.figures.finished.get_mut(index as usize) {
            *time = Some(self.now.saturating_sub(arrived));
        }
    }

    /// When the next student to give up, among those arrived, runs out of patience.
    fn give_up_at(&self) -> Option<Millis> {
        let arrival = self.arrivals.get(self.next_give_up).filter(|_| self.next_give_up < self.next_arrival)?;
        Some(arrival.at.saturating_add(self.region.patience))
    }

    fn give_up(&mut self, index: u32) {
        let served = self.students.get(index as usize).and_then(Option::as_ref).map(|student| &student.client);
        if !matches!(served, Some(Client::Served)) {
            self.leave(index);
        }
    }

    /// The student leaves (served and done serving, or giving up): requests abandoned, scheduler dropped,
    /// what they were sending to classmates cut, what they held no longer offered. What they kept is
    /// counted on their side, apart from what the sources counted.
    pub(super) fn leave(&mut self, index: u32) {
        let Some(student) = self.students.get_mut(index as usize).and_then(Option::take) else { return };
        self.cut_uploads(index, &student.uploads);
        match &student.client {
            Client::Saver(saver) => self.abandon(student.class, index, saver),
            Client::Plain(plain) => self.waiting.forget(plain),
            Client::Served => {}
        }
        if student.reachable && self.policy == Policy::Cartable {
            self.quit_swarm(index, &student);
        }
        // A page that had the manifest announced itself to the tracker; one still opening had not.
        let announced = match &student.client {
            Client::Saver(saver) => saver.opening.is_none(),
            Client::Served => true,
            Client::Plain(_) => false,
        };
        if let Some(class) = self.classes.get_mut(student.class).and_then(Option::as_mut).filter(|_| announced) {
            class.present = class.present.saturating_sub(1);
        }
        self.figures.bytes_kept += u64::from(student.has.count_ones()) * self.region.chunk_size;
        self.present = self.present.saturating_sub(1);
    }
}
