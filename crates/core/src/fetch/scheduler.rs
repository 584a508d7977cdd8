//! The scheduler's state and how reports change it: wanted chunks, running attempts, and what each ending
//! means for the chunk and its source. Deciding what to start lives in `plan.rs`.

use std::collections::{BTreeMap, HashMap};

use super::source::{Failure, SourceState};
use super::{
    AttemptId, Breaker, Config, Health, Millis, OriginState, Outcome, Remembered, SourceId, SourceKind, SourceReport,
};
use crate::cid::Cid;

/// Plans the fetching of a set of chunks from a fixed list of sources, one client's worth.
///
/// Drive it with [`Scheduler::poll`] (the only place attempts start), [`Scheduler::progress`] and
/// [`Scheduler::finish`]; call `poll` again after every `finish` and at the latest at [`super::Plan::wake_at`].
/// No input makes it panic: unknown attempts are ignored, out-of-order times are taken as they come.
#[derive(Clone, Debug)]
pub struct Scheduler {
    pub(super) config: Config,
    pub(super) sources: Vec<SourceState>,
    pub(super) chunks: Vec<Chunk>,
    index: HashMap<Cid, usize>,
    pub(super) attempts: BTreeMap<AttemptId, Running>,
    pub(super) next_id: u64,
    /// Attempts started: first attempts, retries and hedges.
    pub(super) started: u64,
    pub(super) first_attempts: u64,
    pub(super) retries: u64,
    pub(super) hedges: u64,
    /// Losing twins decided in `finish`, handed to the caller by the next `poll`.
    pub(super) cancels: Vec<AttemptId>,
    /// The origin was saturated when the page opened the course: chunks a pupil waits for are asked of a
    /// classmate holding them before any HTTP source, until the origin serves one (see
    /// [`Scheduler::spare_origin`]).
    pub(super) spare_origin: bool,
}

/// One wanted chunk.
#[derive(Clone, Debug)]
pub(super) struct Chunk {
    pub(super) cid: Cid,
    pub(super) verified: bool,
    /// Attempts running for it: one, or two with a hedge.
    pub(super) running: usize,
    pub(super) tried: bool,
    /// Overload failures so far: the exponent of its backoff.
    pub(super) failures: u32,
    /// Its next attempt is a retry after an overload failure, paid from the retry budget.
    pub(super) owes_budget: bool,
    pub(super) ready: Ready,
    /// Sources that said they do not have it, or sent bad bytes for it.
    pub(super) shunned: Vec<SourceId>,
    /// The source of its last failed attempt: a retry goes elsewhere when another source is usable.
    pub(super) last_failed: Option<SourceId>,
    /// Mirrors or peers known to hold it now (see [`Scheduler::held_by`]): asked before the origin when
    /// the chunk is a prefetch.
    pub(super) held: Vec<SourceId>,
    /// Nobody waits for it yet (saving the course for later): it goes after the chunks a pupil waits
    /// for, and to a peer that holds it before HTTP sources.
    pub(super) prefetch: bool,
}

/// When a chunk may be tried again; backoff jitter is drawn at the next poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ready {
    Now,
    Pending { from: Millis },
    At(Millis),
}

/// One running attempt.
#[derive(Clone, Debug)]
pub(super) struct Running {
    pub(super) chunk: usize,
    pub(super) source: SourceId,
    pub(super) started: Millis,
    pub(super) last_progress: Millis,
    pub(super) bytes: u64,
    pub(super) hedge: bool,
}

impl Scheduler {
    /// A scheduler over `sources`, each named afterwards by its index as a [`SourceId`].
    pub fn new(sources: &[SourceKind], config: Config) -> Scheduler {
        Scheduler {
            sources: sources.iter().map(|&kind| SourceState::new(kind, &config)).collect(),
            config,
            chunks: Vec::new(),
            index: HashMap::new(),
            attempts: BTreeMap::new(),
            next_id: 0,
            started: 0,
            first_attempts: 0,
            retries: 0,
            hedges: 0,
            cancels: Vec::new(),
            spare_origin: false,
        }
    }

    /// What a reload should keep of each source at `now`, indexed like the slice given to
    /// [`Scheduler::new`].
    pub fn remembered(&self, now: Millis) -> Vec<Remembered> {
        self.sources.iter().map(|source| source.remembered(now)).collect()
    }

    /// Takes back what an earlier page remembered of `source`, at `now` (before the first poll).
    pub fn recall(&mut self, source: SourceId, remembered: Remembered, now: Millis) {
        if let Some(state) = self.sources.get_mut(source.0) {
            state.recall(remembered, now);
        }
    }

    /// The origin refused the page (503, 429) when it opened the course: until it serves a chunk, the
    /// chunks a pupil waits for are asked first of a classmate known to hold them, then of the HTTP
    /// sources, so that a class reading at the same minute leaves the origin to those nobody can serve.
    pub fn spare_origin(&mut self) {
        self.spare_origin = true;
    }

    /// Adds chunks a pupil waits for, as `(cid, size)`, fetched in the order given, before any prefetch,
    /// from the best HTTP source first (peers when HTTP sources fail or are saturated); chunks already
    /// wanted are ignored (a prefetch becomes a wait), a chunk verified before is fetched again (its
    /// bytes could not be kept), and one given up for want of retries gets a first attempt again.
    pub fn want(&mut self, chunks: impl IntoIterator<Item = (Cid, u64)>) {
        self.add(chunks, false);
    }

    /// Adds chunks nobody waits for yet (saving the course for later), like [`Scheduler::want`] but after
    /// the waited ones and from a peer that holds them first.
    pub fn prefetch(&mut self, chunks: impl IntoIterator<Item = (Cid, u64)>) {
        self.add(chunks, true);
    }

    fn add(&mut self, chunks: impl IntoIterator<Item = (Cid, u64)>, prefetch: bool) {
        for (cid, _size) in chunks {
            if let Some(&known) = self.index.get(&cid) {
                let out_of_budget = !self.budget_left();
                if let Some(chunk) = self.chunks.get_mut(known) {
                    chunk.prefetch &= prefetch;
                    // Asked again after it was given up for want of retries: the caller has waited before
                    // asking (the page's pupil pressed "retry", the worker paced its install), so its next
                    // attempt is a first attempt again. Breakers, `Retry-After` and bans still hold.
                    if out_of_budget && chunk.owes_budget && !chunk.verified && chunk.running == 0 {
                        chunk.owes_budget = false;
                        chunk.tried = false;
                    }
                }
                // Wanted again after it was verified (the caller could not keep it): fetch it again.
                if let Some(chunk) = self.chunks.get_mut(known).filter(|chunk| chunk.verified && chunk.running == 0) {
                    chunk.verified = false;
                    chunk.ready = Ready::Now;
                }
                continue;
            }
            self.index.insert(cid, self.chunks.len());
            self.chunks.push(Chunk {
                cid,
                verified: false,
                running: 0,
                tried: false,
                failures: 0,
                owes_budget: false,
                ready: Ready::Now,
                shunned: Vec::new(),
                last_failed: None,
                held: Vec::new(),
                prefetch,
            });
        }
    }

    /// Records that `source` (a mirror or a peer) is known to hold `cid` now, as classmates announce what
    /// they hold: a prefetch is then asked of it before the origin, which it spares; a chunk a pupil waits
    /// for, when HTTP sources cannot serve it. Unknown chunks and the origin itself are ignored.
    pub fn held_by(&mut self, source: SourceId, cid: &Cid) {
        let is_origin = self.sources.get(source.0).is_none_or(|state| state.kind == SourceKind::Origin);
        let Some(&index) = self.index.get(cid) else { return };
        if let Some(chunk) = self.chunks.get_mut(index).filter(|chunk| !is_origin && !chunk.held.contains(&source)) {
            chunk.held.push(source);
            chunk.shunned.retain(|shunned| *shunned != source);
        }
    }

    /// Records that running attempt `attempt` has received `bytes_so_far` bytes by `now`: only growth
    /// counts as progress for stall detection. Unknown attempts are ignored.
    pub fn progress(&mut self, attempt: AttemptId, bytes_so_far: u64, now: Millis) {
        if let Some(running) = self.attempts.get_mut(&attempt) {
            if bytes_so_far > running.bytes {
                running.bytes = bytes_so_far;
                running.last_progress = now.max(running.last_progress);
            }
        }
    }

    /// Records how `attempt` ended at `now`. Unknown attempts (never started, already finished, or
    /// cancelled by a plan) are ignored.
    pub fn finish(&mut self, attempt: AttemptId, outcome: Outcome, now: Millis) {
        let Some(running) = self.attempts.remove(&attempt) else { return };
        let failure = match outcome {
            Outcome::Verified { bytes } => return self.verified(attempt, &running, bytes, now),
            Outcome::Cancelled => return self.forget(attempt, &running),
            Outcome::Corrupt => Failure::Corrupt,
            Outcome::NetworkError => Failure::Silent,
            Outcome::NotHeld => Failure::Missing,
            Outcome::Status { code, retry_after_ms } => {
                if let (Some(delay), Some(source)) = (retry_after_ms, self.sources.get_mut(running.source.0)) {
                    source.wait(now, delay);
                }
                match code {
                    408 | 429 | 500.. => Failure::Refused,
                    _ => Failure::Missing,
                }
            }
        };
        self.attempt_failed(attempt, &running, failure, now);
    }

    fn verified(&mut self, attempt: AttemptId, running: &Running, bytes: u64, now: Millis) {
        let latency = now.saturating_sub(running.started);
        if let Some(source) = self.sources.get_mut(running.source.0) {
            source.succeeded(attempt, latency, bytes, &self.config);
            // The origin serves again: it is preferred again for what a pupil waits for.
            self.spare_origin &= source.kind != SourceKind::Origin;
        }
        if let Some(chunk) = self.chunks.get_mut(running.chunk) {
            chunk.verified = true;
            chunk.running = chunk.running.saturating_sub(1);
        }
        let twins: Vec<AttemptId> =
            self.attempts.iter().filter(|(_, other)| other.chunk == running.chunk).map(|(&id, _)| id).collect();
        for twin in twins {
            if let Some(other) = self.attempts.remove(&twin) {
                self.forget(twin, &other);
                self.cancels.push(twin);
            }
        }
    }

    /// An attempt that ended with no verdict: its chunk is asked again at once if nothing else runs for it.
    fn forget(&mut self, attempt: AttemptId, running: &Running) {
        if let Some(source) = self.sources.get_mut(running.source.0) {
            source.released(attempt);
        }
        if let Some(chunk) = self.chunks.get_mut(running.chunk) {
            chunk.running = chunk.running.saturating_sub(1);
            chunk.held.retain(|held| *held != running.source);
        }
    }

    /// An attempt failed: blame its source, and schedule the chunk again unless a twin still runs for it.
    pub(super) fn attempt_failed(&mut self, attempt: AttemptId, running: &Running, failure: Failure, now: Millis) {
        if let Some(source) = self.sources.get_mut(running.source.0) {
            source.failed(attempt, failure, now, &self.config);
        }
        let Some(chunk) = self.chunks.get_mut(running.chunk) else { return };
        chunk.running = chunk.running.saturating_sub(1);
        chunk.last_failed = Some(running.source);
        // It said it held the chunk and did not give it: ask as if it had not said so.
        chunk.held.retain(|held| *held != running.source);
        if matches!(failure, Failure::Missing | Failure::Corrupt) && !chunk.shunned.contains(&running.source) {
            chunk.shunned.push(running.source);
        }
        if chunk.running > 0 || chunk.verified {
            return;
        }
        if failure.is_overload() {
            chunk.failures = chunk.failures.saturating_add(1);
            chunk.owes_budget = true;
            chunk.ready = Ready::Pending { from: now };
        }
        // After a ban or a "not here" the chunk goes elsewhere at once: each source can cost that only once.
    }

    /// True when every wanted chunk is verified (and so when nothing is wanted).
    pub fn done(&self) -> bool {
        self.chunks.iter().all(|chunk| chunk.verified)
    }

    /// Wanted chunks that no usable source can give any more: every source is banned or lacks them, or the
    /// retry budget is spent while they wait for a retry after failures and no attempt runs that could earn
    /// some back.
    pub fn failed(&self) -> Vec<Cid> {
        self.chunks.iter().filter(|chunk| self.hopeless(chunk)).map(|chunk| chunk.cid).collect()
    }

    /// Whether the origin is down (it does not answer at all) and nothing can stand in for it: no mirror
    /// left that is not banned or behind an open breaker, and no classmate connected (`classmates`). The
    /// page then tells the pupil at once, with a way to try again, rather than leave them waiting on
    /// retries. A saturated origin is waited for: it said it will come back.
    pub fn stranded(&self, classmates: bool) -> bool {
        let mirrors = self.sources.iter().filter(|source| source.kind == SourceKind::Mirror);
        self.origin_state() == OriginState::Down
            && !classmates
            && mirrors.into_iter().all(|source| source.banned || source.breaker() == Breaker::Open)
    }

    pub(super) fn hopeless(&self, chunk: &Chunk) -> bool {
        if chunk.verified || chunk.running > 0 {
            return false;
        }
        let nowhere = self
            .sources
            .iter()
            .enumerate()
            .all(|(index, source)| source.banned || chunk.shunned.contains(&SourceId(index)));
        // Out of budget is final only when nothing runs that could still earn some back.
        nowhere || (chunk.owes_budget && !self.budget_left() && self.attempts.is_empty())
    }

    /// Chunks verified so far.
    fn verified_count(&self) -> u64 {
        self.chunks.iter().filter(|chunk| chunk.verified).count() as u64
    }

    /// True while a retry may still be paid for.
    pub(super) fn budget_left(&self) -> bool {
        self.retries < self.config.retry_budget(self.first_attempts, self.verified_count())
    }

    /// How the (first) origin is doing; `Healthy` when there is none.
    pub fn origin_state(&self) -> OriginState {
        let Some(origin) = self.sources.iter().find(|source| source.kind == SourceKind::Origin) else {
            return OriginState::Healthy;
        };
        match (origin.breaker(), origin.cause()) {
            (Breaker::Open | Breaker::HalfOpen, Failure::Silent) => OriginState::Down,
            (Breaker::Open | Breaker::HalfOpen, _) => OriginState::Saturated,
            (Breaker::Closed, _) if origin.waiting() => OriginState::Saturated,
            (Breaker::Closed, _) => OriginState::Healthy,
        }
    }

    /// The counters of every source, indexed like the slice given to [`Scheduler::new`].
    pub fn report(&self) -> Vec<SourceReport> {
        self.sources
            .iter()
            .map(|source| SourceReport {
                kind: source.kind,
                requests: source.requests,
                failures: source.failures,
                bytes: source.bytes,
                breaker: source.breaker(),
                banned: source.banned,
            })
            .collect()
    }

    /// The health figures of `source`, or `None` for an unknown id.
    pub fn health(&self, source: SourceId) -> Option<Health> {
        self.sources.get(source.0).map(|state| state.health(&self.config))
    }

    /// Retries started so far, and how many the budget allows now.
    pub fn retries(&self) -> (u64, u64) {
        (self.retries, self.config.retry_budget(self.first_attempts, self.verified_count()))
    }

    /// Hedges started so far, and all attempts started (first attempts, retries and hedges).
    pub fn hedges(&self) -> (u64, u64) {
        (self.hedges, self.started)
    }
}
