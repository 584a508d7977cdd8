//! The discrete-event engine of a rehearsal: a queue of timed events (polls, byte progress, answers),
//! handled in time order, ties in the order they were queued. Each simulated client verifies every answer
//! against the chunk's CID, as the browser does, before reporting it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::{Figures, Scenario};
use crate::cid::Cid;
use crate::fetch::{Attempt, AttemptId, Breaker, Millis, Outcome, Plan, Scheduler, SourceKind};
use crate::random::SplitMix64;

/// Runs `scenario` with the random numbers of `seed`: the same seed gives the same figures.
pub fn run(scenario: &Scenario, seed: u64) -> Figures {
    let mut sim = Sim::new(scenario, seed);
    while let Some(Reverse((time, _, event))) = sim.queue.pop() {
        if time > scenario.horizon {
            break;
        }
        sim.now = time;
        match event {
            Event::Poll(client) => sim.poll(client),
            Event::Progress(client, attempt, bytes) => {
                if sim.requests.contains_key(&(client, attempt)) {
                    sim.clients[client].scheduler.progress(attempt, bytes, time);
                }
            }
            Event::Answer(client, attempt) => sim.answer(client, attempt),
        }
    }
    sim.figures
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Poll(usize),
    Progress(usize, AttemptId, u64),
    Answer(usize, AttemptId),
}

struct Client {
    scheduler: Scheduler,
    arrived: Millis,
    poll_at: Option<Millis>,
    /// Per source: the end of the last `Retry-After` it sent this client.
    told_to_wait: Vec<Millis>,
}

/// A request a source is working on.
struct Request {
    source: usize,
    chunk: usize,
    /// The answer it will give, if it ever answers.
    answer: Option<Outcome>,
    holds_slot: bool,
}

struct Sim<'a> {
    scenario: &'a Scenario,
    now: Millis,
    random: SplitMix64,
    queue: BinaryHeap<Reverse<(Millis, u64, Event)>>,
    seq: u64,
    clients: Vec<Client>,
    chunks: HashMap<Cid, usize>,
    requests: HashMap<(usize, AttemptId), Request>,
    active: Vec<usize>,
    figures: Figures,
}

impl<'a> Sim<'a> {
    fn new(scenario: &'a Scenario, seed: u64) -> Sim<'a> {
        let kinds: Vec<SourceKind> = scenario.sources.iter().map(|script| script.kind).collect();
        let course: Vec<(Cid, u64)> =
            (0..scenario.chunks).map(|i| (Cid::of(&payload(i)), scenario.chunk_size)).collect();
        let mut sim = Sim {
            scenario,
            now: 0,
            random: SplitMix64::new(seed),
            queue: BinaryHeap::new(),
            seq: 0,
            clients: Vec::new(),
            chunks: course.iter().enumerate().map(|(index, (cid, _))| (*cid, index)).collect(),
            requests: HashMap::new(),
            active: vec![0; kinds.len()],
            figures: Figures {
                finished: vec![None; scenario.clients],
                origin_requests: vec![0; scenario.clients],
                origin_requests_while_open: vec![0; scenario.clients],
                bytes_per_source: vec![0; kinds.len()],
                ..Figures::default()
            },
        };
        for client in 0..scenario.clients {
            let mut scheduler = Scheduler::new(&kinds, scenario.config.clone());
            scheduler.want(course.iter().copied());
            let arrived = (sim.random.next_f64() * scenario.arrival_spread as f64) as Millis;
            sim.clients.push(Client { scheduler, arrived, poll_at: None, told_to_wait: vec![0; kinds.len()] });
            sim.schedule_poll(client, arrived);
        }
        sim
    }

    fn push(&mut self, time: Millis, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse((time, self.seq, event)));
    }

    fn schedule_poll(&mut self, client: usize, time: Millis) {
        let Some(state) = self.clients.get_mut(client) else { return };
        if state.poll_at.is_some_and(|at| at <= time && at >= self.now) {
            return;
        }
        state.poll_at = Some(time);
        self.push(time, Event::Poll(client));
    }

    fn poll(&mut self, client: usize) {
        let now = self.now;
        let Some(state) = self.clients.get_mut(client) else { return };
        if state.poll_at != Some(now) {
            return; // superseded by an earlier poll
        }
        state.poll_at = None;
        let before = state.scheduler.report();
        let random = &mut self.random;
        let plan: Plan = state.scheduler.poll(now, &mut || random.next_f64());
        let after = state.scheduler.report();
        for attempt in &plan.start {
            let (was, is) = (&before[attempt.source.0], &after[attempt.source.0]);
            let waiting = now < state.told_to_wait[attempt.source.0];
            if was.banned || is.breaker == Breaker::Open || waiting {
                self.figures.violations += 1;
            }
            if is.kind == SourceKind::Origin {
                self.figures.origin_requests[client] += 1;
                if was.breaker != Breaker::Closed {
                    self.figures.origin_requests_while_open[client] += 1;
                }
            }
        }
        for id in plan.cancel {
            if let Some(request) = self.requests.remove(&(client, id)) {
                self.release(&request);
            }
            self.clients[client].scheduler.finish(id, Outcome::Cancelled, now);
        }
        for attempt in plan.start {
            self.send(client, attempt);
        }
        if let Some(wake) = plan.wake_at {
            self.schedule_poll(client, wake);
        }
    }

    /// A source receives a request and decides, now, how it will answer.
    fn send(&mut self, client: usize, attempt: Attempt) {
        let (now, source) = (self.now, attempt.source.0);
        let Some(script) = self.scenario.sources.get(source) else { return };
        let chunk = self.chunks.get(&attempt.cid).copied().unwrap_or(0);
        let mut request = Request { source, chunk, answer: None, holds_slot: false };
        let after = if script.down(now) {
            request.answer = Some(Outcome::NetworkError);
            script.latency
        } else if script.troubled(now) && script.capacity.is_some_and(|capacity| self.active[source] >= capacity) {
            if script.kind == SourceKind::Origin {
                self.figures.origin_refusals += 1;
            }
            let retry_after_ms = script.refusal.retry_after_s.map(|seconds| seconds * 1000);
            request.answer = Some(Outcome::Status { code: script.refusal.code, retry_after_ms });
            script.latency
        } else {
            request.holds_slot = true;
            self.active[source] += 1;
            if script.kind == SourceKind::Origin {
                self.figures.origin_peak = self.figures.origin_peak.max(self.active[source]);
            }
            let size = self.scenario.chunk_size;
            let transfer = script.ms_per_kib.saturating_mul(size.div_ceil(1024));
            let stall = script.stall_after.filter(|_| script.troubled(now)).map(|after| after.min(size));
            let end = match stall {
                Some(_) => None,
                None => Some(transfer),
            };
            // Bytes arrive evenly from the first byte on; progress is reported every second.
            let mut elapsed = 0;
            while elapsed <= end.unwrap_or(transfer) {
                let bytes = (size as u128 * u128::from(elapsed) / u128::from(transfer.max(1))) as u64;
                let bytes = stall.map_or(bytes, |limit| bytes.min(limit)).max(1);
                self.push(now + script.latency + elapsed, Event::Progress(client, attempt.id, bytes));
                elapsed += 1000;
            }
            if end.is_none() {
                self.requests.insert((client, attempt.id), request);
                return;
            }
            request.answer = Some(Outcome::Verified { bytes: size });
            script.latency + transfer
        };
        self.requests.insert((client, attempt.id), request);
        self.push(now + after.max(1), Event::Answer(client, attempt.id));
    }

    fn release(&mut self, request: &Request) {
        if request.holds_slot {
            if let Some(active) = self.active.get_mut(request.source) {
                *active = active.saturating_sub(1);
            }
        }
    }

    /// An answer reaches the client, which checks the bytes against the CID before reporting success.
    fn answer(&mut self, client: usize, attempt: AttemptId) {
        let Some(request) = self.requests.remove(&(client, attempt)) else { return };
        self.release(&request);
        let now = self.now;
        let corrupt =
            self.scenario.sources.get(request.source).is_some_and(|script| script.corrupt.contains(&request.chunk));
        let mut outcome = request.answer.unwrap_or(Outcome::NetworkError);
        if let Outcome::Verified { bytes } = outcome {
            let mut sent = payload(request.chunk);
            if corrupt {
                sent.push(0xff);
            }
            let expected = Cid::of(&payload(request.chunk));
            outcome = if expected.matches(&sent) { Outcome::Verified { bytes } } else { Outcome::Corrupt };
            if outcome != Outcome::Corrupt {
                self.figures.bytes_per_source[request.source] += bytes;
                self.figures.corrupt_accepted += u64::from(sent != payload(request.chunk));
            }
        }
        let state = &mut self.clients[client];
        if let Outcome::Status { retry_after_ms: Some(delay), .. } = outcome {
            state.told_to_wait[request.source] = state.told_to_wait[request.source].max(now + delay);
        }
        state.scheduler.finish(attempt, outcome, now);
        if state.scheduler.done() && self.figures.finished[client].is_none() {
            self.figures.finished[client] = Some(now - state.arrived);
        }
        self.schedule_poll(client, now);
    }
}

/// The bytes of chunk `index`: short, so that verifying them by CID costs nothing.
fn payload(index: usize) -> Vec<u8> {
    format!("chunk {index}").into_bytes()
}
