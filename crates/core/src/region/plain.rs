//! The naive and backoff-only clients: two chunks at a time, asked again after each failure; from the
//! origin only, or, given the mirror list ([`BaselineMirrors`]), from the origin and the mirrors in turn,
//! a failed request going to the next. Their refused requests are not events: a naive one joins a pool
//! that is asked again, as a whole, at every new second (the origin serves as many as it has tokens for,
//! drawn at random, and the rest are counted as refused); a backoff one, or a naive one given the
//! mirrors, takes a slot on a wheel of seconds at its (jittered) time.

use super::engine::{Client, Engine, Event};
use super::{BaselineMirrors, Overload, Policy, PLAIN_TIMEOUT};
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

/// A plain client's answer on its way: which chunk, from which server, after how many failures, whether
/// its bytes are wrong ones, and whether it stalled (the client then gives up at the delivery's time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Delivery {
    chunk: u8,
    server: u8,
    failures: u8,
    lie: bool,
    stalled: bool,
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

    /// The server a plain student asks for `chunk` after `failures` failures: the origin, or, given the
    /// mirror list, the origin and the mirrors in turn (each student starting elsewhere).
    fn server(&self, index: u32, chunk: usize, failures: u8) -> usize {
        match self.region.baseline_mirrors {
            BaselineMirrors::None => 0,
            _ => (index as usize + chunk + usize::from(failures)) % self.servers.len().max(1),
        }
    }

    /// Asks a server for `chunk` now; refused (or unanswered), the request waits to be asked again. A
    /// stalled answer, or none from a server that times out, is given up after [`PLAIN_TIMEOUT`].
    fn ask(&mut self, index: u32, chunk: usize, failures: u8) {
        let (now, size) = (self.now, self.region.chunk_size);
        let server = self.server(index, chunk, failures);
        let Some(live) = self.servers.get_mut(server) else { return };
        if live.down(now) {
            let answered = now + live.silence();
            return self.wait(index, chunk, failures.saturating_add(1), answered, false);
        }
        let (admitted, latency) = (live.admit(now), live.latency());
        let hung = !admitted && live.overload() == Overload::Timeout;
        if admitted {
            let (lie, end) = live.send(chunk, size);
            let stalled = live.stalls();
            let delivery = Delivery { chunk: chunk as u8, server: server as u8, failures, lie, stalled };
            let end = if stalled { PLAIN_TIMEOUT } else { end };
            self.push(now + end, Event::Delivered(index, delivery));
        }
        if server == 0 {
            self.count_origin(1, u32::from(admitted), failures > 0);
        }
        match (admitted, hung) {
            (true, _) => {}
            (false, true) => self.wait(index, chunk, failures.saturating_add(1), now + PLAIN_TIMEOUT, true),
            (false, false) => self.wait(index, chunk, failures.saturating_add(1), now + latency, false),
        }
    }

    /// A request failed, its answer arriving (or the client giving up) at `answered`: into the naive pool,
    /// or on the wheel at the next second (naive, given the mirrors, or after a request that `hung`) or at
    /// its backoff's time.
    fn wait(&mut self, index: u32, chunk: usize, failures: u8, answered: Millis, hung: bool) {
        let delay = match (self.policy, self.region.baseline_mirrors) {
            (Policy::Naive, BaselineMirrors::None) if !hung => {
                if let Some(Client::Plain(plain)) = self.client(index) {
                    plain.pooled += 1;
                }
                self.waiting.pool.push((index, chunk as u8));
                self.waiting.pooled += 1;
                return self.queue_tick();
            }
            (Policy::Naive, _) => 1,
            _ => full_jitter(BACKOFF_BASE, BACKOFF_CAP, u32::from(failures), self.random.next_f64()),
        };
        let second = (answered + delay).div_ceil(1000) as usize;
        // Past the end of the morning, the student has given up by then.
        if let Some(slot) = self.waiting.wheel.get_mut(second) {
            slot.push((index, chunk as u8, failures));
            self.waiting.on_wheel += 1;
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
            let stalled = origin.stalls();
            if let Some(Client::Plain(plain)) = self.client(index) {
                plain.pooled = plain.pooled.saturating_sub(1);
            }
            self.waiting.pool.swap_remove(drawn);
            self.waiting.pooled -= 1;
            self.count_origin(1, 1, true);
            let end = if stalled { PLAIN_TIMEOUT } else { end };
            let delivery = Delivery { chunk, server: 0, failures: 1, lie, stalled };
            self.push(now + end, Event::Delivered(index, delivery));
        }
        self.count_origin(u32::try_from(self.waiting.pooled).unwrap_or(u32::MAX), 0, true);
        if self.servers.first().is_some_and(|origin| origin.overload() == Overload::Timeout) {
            self.hang_pool();
        }
    }

    /// An origin that times out answers none of the naive requests it did not admit: each client gives up
    /// after [`PLAIN_TIMEOUT`] and asks again a second later, from the wheel.
    fn hang_pool(&mut self) {
        let answered = self.now + PLAIN_TIMEOUT;
        for (index, chunk) in std::mem::take(&mut self.waiting.pool) {
            let Some(Client::Plain(plain)) = self.client(index) else { continue };
            plain.pooled = plain.pooled.saturating_sub(1);
            self.waiting.pooled = self.waiting.pooled.saturating_sub(1);
            self.wait(index, usize::from(chunk), 2, answered, true);
        }
    }

    /// A server's answer to a plain student ends: the chunk is kept (checked against its CID only when
    /// the client checks, a wrong one then asked of the next server at once) and the next one asked for.
    pub(super) fn delivered(&mut self, index: u32, delivery: Delivery) {
        let Delivery { chunk, server, failures, lie, stalled } = delivery;
        if let Some(live) = self.servers.get_mut(usize::from(server)) {
            live.release();
        }
        if stalled {
            // The client gives up on it and asks again, if still there.
            if matches!(self.client(index), Some(Client::Plain(_))) {
                self.wait(index, usize::from(chunk), failures.saturating_add(1), self.now, true);
            }
            return;
        }
        let checks = self.region.baseline_mirrors == BaselineMirrors::Checking;
        let Some(mut student) = self.students.get_mut(index as usize).and_then(Option::take) else { return };
        let kept = self.keep(&mut student, usize::from(chunk), usize::from(server), lie, checks);
        let (complete, arrived) = (student.has == self.all_chunks(), student.arrived);
        self.students[index as usize] = Some(student);
        if !kept {
            self.ask(index, usize::from(chunk), failures.saturating_add(1));
        } else if complete {
            self.finished(index, arrived);
            self.leave(index);
        } else {
            self.ask_next(index);
        }
    }
}
