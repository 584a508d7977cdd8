//! The naive and backoff-only clients: the origin only, two chunks at a time, asked again after each
//! failure. Their refused requests are not events: a naive one joins a pool that is asked again, as a
//! whole, at every new second (the origin serves as many as it has tokens for, drawn at random, and the
//! rest are counted as refused); a backoff one takes a slot on a wheel of seconds at its jittered time.

use super::engine::{Client, Engine, Event};
use super::Policy;
use crate::fetch::{full_jitter, Millis};

/// A naive or backoff student's state.
#[derive(Debug, Default)]
pub(super) struct Plain {
    /// The next chunk not asked for yet.
    next: usize,
    /// Its requests in the naive pool.
    pooled: u32,
}

/// Requests refused by the origin, waiting to be asked again.
pub(super) struct Waiting {
    /// Naive: (student, chunk), including those of students who left, skipped when drawn.
    pool: Vec<(u32, u8)>,
    /// Naive requests in the pool whose student is still there.
    pooled: u64,
    /// Backoff: per second, (student, chunk, failures so far) due then.
    wheel: Vec<Vec<(u32, u8, u8)>>,
    on_wheel: u64,
    tick_queued: bool,
}

/// Requests a plain client keeps running at once.
const AT_ONCE: usize = 2;
/// The backoff-only client's first delay and ceiling.
const BACKOFF_BASE: Millis = 500;
const BACKOFF_CAP: Millis = 30_000;

impl Waiting {
    pub(super) fn new(seconds: usize) -> Waiting {
        Waiting { pool: Vec::new(), pooled: 0, wheel: vec![Vec::new(); seconds], on_wheel: 0, tick_queued: false }
    }

    /// A student left: their pooled requests no longer count (their wheel slots are skipped when due).
    pub(super) fn forget(&mut self, plain: &Plain) {
        self.pooled = self.pooled.saturating_sub(u64::from(plain.pooled));
    }
}

impl Engine<'_> {
    /// A plain student arrives: their first two chunks are asked for at once.
    pub(super) fn start_plain(&mut self, index: u32) {
        for _ in 0..AT_ONCE {
            self.ask_next(index);
        }
    }

    fn ask_next(&mut self, index: u32) {
        let chunks = self.chunks;
        let Some(Client::Plain(plain)) = self.client(index) else { return };
        if plain.next >= chunks {
            return;
        }
        let chunk = plain.next;
        plain.next += 1;
        self.ask(index, chunk, 0);
    }

    fn client(&mut self, index: u32) -> Option<&mut Client> {
        self.students.get_mut(index as usize).and_then(Option::as_mut).map(|student| &mut student.client)
    }

    /// Asks the origin for `chunk` now; refused (or unanswered), the request waits to be asked again.
    fn ask(&mut self, index: u32, chunk: usize, failures: u8) {
        let (now, size) = (self.now, self.region.chunk_size);
        let Some(origin) = self.servers.first_mut() else { return };
        if origin.down(now) {
            let answered = now + origin.silence();
            return self.wait(index, chunk, failures.saturating_add(1), answered);
        }
        let admitted = origin.admit(now);
        if admitted {
            let (lie, end) = origin.send(chunk, size);
            self.push(now + end, Event::Delivered(index, chunk as u8, lie));
        }
        let latency = self.region.origin.latency;
        self.count_origin(1, u32::from(admitted), failures > 0);
        if !admitted {
            self.wait(index, chunk, failures.saturating_add(1), now + latency);
        }
    }

    /// A request failed, its answer arriving at `answered`: into the naive pool, or on the wheel at its
    /// backoff's time.
    fn wait(&mut self, index: u32, chunk: usize, failures: u8, answered: Millis) {
        match self.policy {
            Policy::Naive => {
                if let Some(Client::Plain(plain)) = self.client(index) {
                    plain.pooled += 1;
                }
                self.waiting.pool.push((index, chunk as u8));
                self.waiting.pooled += 1;
            }
            _ => {
                let delay = full_jitter(BACKOFF_BASE, BACKOFF_CAP, u32::from(failures), self.random.next_f64());
                let second = (answered + delay).div_ceil(1000) as usize;
                // Past the end of the morning, the student has given up by then.
                if let Some(slot) = self.waiting.wheel.get_mut(second) {
                    slot.push((index, chunk as u8, failures));
                    self.waiting.on_wheel += 1;
                }
            }
        }
        self.queue_tick();
    }

    fn queue_tick(&mut self) {
        if !self.waiting.tick_queued {
            self.waiting.tick_queued = true;
            let next_second = (self.now / 1000 + 1) * 1000;
            self.push(next_second, Event::Tick);
        }
    }

    /// A new second: the naive pool is asked again as a whole, and the backoff requests due now, in a
    /// random order.
    pub(super) fn tick(&mut self) {
        self.waiting.tick_queued = false;
        self.retry_pool();
        let second = (self.now / 1000) as usize;
        let mut due = self.waiting.wheel.get_mut(second).map(std::mem::take).unwrap_or_default();
        self.waiting.on_wheel = self.waiting.on_wheel.saturating_sub(due.len() as u64);
        for last in (1..due.len()).rev() {
            due.swap(last, self.random.below(last + 1));
        }
        for (index, chunk, failures) in due {
            if self.students.get(index as usize).is_some_and(Option::is_some) {
                self.ask(index, usize::from(chunk), failures);
            }
        }
        if self.waiting.pooled > 0 || self.waiting.on_wheel > 0 {
            self.queue_tick();
        }
    }

    /// Every naive request waiting is sent again: the origin accepts as many as it has tokens for, drawn
    /// at random; the others are counted as refused, and stay.
    fn retry_pool(&mut self) {
        let (now, size) = (self.now, self.region.chunk_size);
        if self.waiting.pooled == 0 {
            self.waiting.pool.clear();
            return;
        }
        if self.servers.first().is_none_or(|origin| origin.down(now)) {
            return;
        }
        while self.waiting.pooled > 0 && !self.waiting.pool.is_empty() {
            let drawn = self.random.below(self.waiting.pool.len());
            let Some(&(index, chunk)) = self.waiting.pool.get(drawn) else { break };
            if !matches!(self.client(index), Some(Client::Plain(_))) {
                self.waiting.pool.swap_remove(drawn); // a student who left
                continue;
            }
            let Some(origin) = self.servers.first_mut() else { break };
            if !origin.admit(now) {
                break;
            }
            let (lie, end) = origin.send(usize::from(chunk), size);
            if let Some(Client::Plain(plain)) = self.client(index) {
                plain.pooled = plain.pooled.saturating_sub(1);
            }
            self.waiting.pool.swap_remove(drawn);
            self.waiting.pooled -= 1;
            self.count_origin(1, 1, true);
            self.push(now + end, Event::Delivered(index, chunk, lie));
        }
        self.count_origin(u32::try_from(self.waiting.pooled).unwrap_or(u32::MAX), 0, true);
    }

    /// The origin's answer to a plain student ends: the chunk is kept (plain clients check nothing) and
    /// the next one asked for.
    pub(super) fn delivered(&mut self, index: u32, chunk: usize, lie: bool) {
        if let Some(origin) = self.servers.first_mut() {
            origin.release();
        }
        let Some(mut student) = self.students.get_mut(index as usize).and_then(Option::take) else { return };
        self.keep(&mut student, chunk, 0, lie, false);
        let (complete, arrived) = (student.has == self.all_chunks(), student.arrived);
        self.students[index as usize] = Some(student);
        if complete {
            self.finished(index, arrived);
            self.leave(index);
        } else {
            self.ask_next(index);
        }
    }
}
