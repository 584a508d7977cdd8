//! What the students fetch from: the servers (a token bucket for their request rate, a bandwidth shared by
//! the answers in flight, an outage, lies, stalls, refusals or silence beyond their rate), the classes and
//! who fetches what over HTTP, the arrivals, and the simulation's own seeded random numbers.

use super::{Overload, Region, Server, MINUTE};
use crate::cid::Cid;
use crate::fetch::Millis;
use crate::random::SplitMix64;

/// How a server answers one request, decided when it arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Answer {
    /// The chunk's bytes (wrong ones when `lie`), the last of them at the answer's time.
    Bytes { lie: bool },
    /// 503, with its `Retry-After` in milliseconds.
    Refused { retry_after_ms: Option<u64> },
    /// A classmate swarm with nobody holding the chunk: 404.
    Absent,
    /// No answer: the network gives up at the answer's time.
    Down,
    /// Accepted, then silent halfway through the bytes: no end comes; the client gives up on its own clock.
    Stalled,
    /// Beyond its rate, a server that times out rather than refuse leaves the request unanswered: no end
    /// comes; the client gives up on its own clock.
    Unanswered,
}

/// A server during the run.
pub(super) struct Live {
    spec: Server,
    tokens: f64,
    refilled: Millis,
    /// The waiting room's next free time: each refusal takes the next slot of `1000 / rps` ms.
    next_slot: Millis,
    /// Answers it is sending now (a stalled one until its client gives up).
    pub(super) sending: u64,
    /// Which of its answers stall.
    random: SplitMix64,
}

impl Live {
    /// Server `spec` at 07:00, its stalls drawn from `seed`.
    pub(super) fn new(spec: &Server, seed: u64) -> Live {
        let tokens = f64::from(spec.rps);
        let random = SplitMix64::new(seed);
        Live { spec: spec.clone(), tokens, refilled: 0, next_slot: 0, sending: 0, random }
    }

    /// How it answers beyond its rate.
    pub(super) fn overload(&self) -> Overload {
        self.spec.overload
    }

    /// True while it answers nothing at all.
    pub(super) fn down(&self, now: Millis) -> bool {
        self.spec.down.is_some_and(|(from, to)| (from..to).contains(&now))
    }

    /// Milliseconds before the first byte of any answer.
    pub(super) fn latency(&self) -> Millis {
        self.spec.latency
    }

    /// How long a request waits for no answer before the network gives up.
    pub(super) fn silence(&self) -> Millis {
        self.spec.latency.max(1_000)
    }

    /// Takes one of this second's tokens if one is left.
    pub(super) fn admit(&mut self, now: Millis) -> bool {
        let rate = f64::from(self.spec.rps);
        let elapsed = now.saturating_sub(self.refilled) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * rate).min(rate.max(1.0));
        self.refilled = now.max(self.refilled);
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }

    /// Receives a request for chunk `chunk` of a course at `now`: the answer, and how long until its end
    /// (and until its first byte). A stalled answer's end is when its bytes would have ended; they stop
    /// halfway. An unanswered request's end is `Millis::MAX`.
    pub(super) fn receive(&mut self, chunk: usize, size: u64, now: Millis) -> (Answer, Millis, Millis) {
        let latency = self.spec.latency;
        if self.down(now) {
            return (Answer::Down, self.silence(), self.silence());
        }
        if !self.admit(now) {
            if self.spec.overload == Overload::Timeout {
                return (Answer::Unanswered, Millis::MAX, Millis::MAX);
            }
            let retry_after_ms = match self.spec.waiting_room {
                true => Some(self.queue(now)),
                false => self.spec.retry_after_s.map(|seconds| seconds * 1000),
            };
            return (Answer::Refused { retry_after_ms }, latency, latency);
        }
        let (lie, end) = self.send(chunk, size);
        match self.stalls() {
            true => (Answer::Stalled, end, latency),
            false => (Answer::Bytes { lie }, end, latency),
        }
    }

    /// Whether the answer it has just started sending stalls halfway: one in `1 / stalls`, drawn from its
    /// own numbers (no draw at all when none stall, so that figures without stalls stay as they were).
    pub(super) fn stalls(&mut self) -> bool {
        self.spec.stalls > 0.0 && self.random.next_f64() < self.spec.stalls
    }

    /// A refused request takes the waiting room's next slot, a second from now at the soonest: the
    /// `Retry-After` in milliseconds, in whole seconds as the header says it.
    fn queue(&mut self, now: Millis) -> Millis {
        let slot = self.next_slot.max(now + 1_000);
        self.next_slot = slot + (1_000 / u64::from(self.spec.rps.max(1))).max(1);
        (slot - now).div_ceil(1_000) * 1_000
    }

    /// Starts sending chunk `chunk` (admitted): whether the bytes are wrong ones, and how long until the
    /// last of them.
    pub(super) fn send(&mut self, chunk: usize, size: u64) -> (bool, Millis) {
        self.sending += 1;
        let lie = self.spec.lies_every > 0 && chunk % self.spec.lies_every == self.spec.lies_every - 1;
        (lie, self.spec.latency + transfer_ms(size, self.spec.bandwidth, self.sending))
    }

    /// An answer it was sending ended (delivered, or abandoned by its client).
    pub(super) fn release(&mut self) {
        self.sending = self.sending.saturating_sub(1);
    }
}

/// Milliseconds to send `size` bytes over `bandwidth` bytes per second shared `ways` ways (at least 1 ms).
pub(super) fn transfer_ms(size: u64, bandwidth: u64, ways: u64) -> Millis {
    let per_answer = bandwidth.max(1) as f64 / ways.max(1) as f64;
    ((size as f64 * 1000.0 / per_answer) as Millis).max(1)
}

/// The bytes of chunk `chunk` of course `course`: short, so that checking them against their CID costs
/// little, and different for every course.
pub(super) fn payload(course: usize, chunk: usize) -> Vec<u8> {
    format!("course {course} chunk {chunk}").into_bytes()
}

/// One class: its course's CIDs and, per chunk, who is fetching it over HTTP (their `Fetching` announces,
/// heard by their linked classmates).
pub(super) struct Class {
    pub(super) cids: Vec<Cid>,
    pub(super) fetchers: Vec<Vec<u32>>,
    /// The reachable classmates present (the class's swarm), by student.
    pub(super) members: Vec<u32>,
    /// Classmates in the swarm, reachable or not (their pages have the manifest): those the tracker counts.
    pub(super) present: usize,
    /// Transfers between classmates going through the school's TURN relay now.
    pub(super) relayed: u64,
    /// Returning pages opened from their stored copy, waiting for a classmate with today's manifest.
    pub(super) awaiting_manifest: Vec<u32>,
}

impl Class {
    pub(super) fn new(course: usize, chunks: usize) -> Class {
        Class {
            cids: (0..chunks).map(|chunk| Cid::of(&payload(course, chunk))).collect(),
            fetchers: vec![Vec::new(); chunks],
            members: Vec::new(),
            present: 0,
            relayed: 0,
            awaiting_manifest: Vec::new(),
        }
    }
}

/// One student as the region draws them: when they arrive, in which class, and whether classmates can
/// reach them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Arrival {
    pub(super) at: Millis,
    pub(super) class: usize,
    pub(super) reachable: bool,
    /// Holds an earlier version of the course ([`Region::returning`]).
    pub(super) returning: bool,
}

/// Every student's arrival, sorted by time (ties by student). Classes start at 08:00 give or take a normal
/// spread of 12 minutes (four in five) or at any time of the morning (one in five); their students arrive
/// within 5 minutes of the start.
pub(super) fn arrivals(region: &Region, random: &mut SplitMix64) -> Vec<Arrival> {
    let class_size = region.class_size.max(1);
    let classes = region.students.div_ceil(class_size);
    let morning = region.morning.max(1) as f64;
    // A class starts early enough for its last student to arrive within the morning: none piles up at
    // its last second.
    let last_start = (morning - 5.0 * MINUTE as f64).max(0.0);
    let starts: Vec<f64> = (0..classes)
        .map(|_| match random.next_f64() < 0.8 {
            true => (60.0 * MINUTE as f64 + random.normal() * 12.0 * MINUTE as f64).clamp(0.0, last_start),
            false => random.next_f64() * last_start,
        })
        .collect();
    let mut arrivals: Vec<Arrival> = (0..region.students)
        .map(|student| {
            let class = student / class_size;
            let late = random.next_f64() * 5.0 * MINUTE as f64;
            let at = (starts.get(class).copied().unwrap_or(0.0) + late).min(morning - 1.0).max(0.0) as Millis;
            let reachable = random.next_f64() >= region.unreachable;
            // No draw when nobody returns, so that such mornings keep the numbers they had.
            let returning = region.returning > 0.0 && random.next_f64() < region.returning;
            Arrival { at, class, reachable, returning }
        })
        .collect();
    arrivals.sort_by_key(|arrival| arrival.at);
    arrivals
}
