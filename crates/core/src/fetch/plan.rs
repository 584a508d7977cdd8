//! `Scheduler::poll`: the one place attempts start. Cancels stalled and timed-out attempts, lets delays
//! expire, starts first attempts and retries on the best usable source, then hedges late attempts.

use super::scheduler::{Chunk, Ready, Running};
use super::source::{Failure, SourceState};
use super::{Attempt, AttemptId, Millis, Plan, Scheduler, SourceId, SourceKind};

impl Scheduler {
    /// What to do at `now`: attempts to start, attempts to cancel and when to call again. `random` returns
    /// uniform numbers in `[0, 1)` (for jitter). Never returns an attempt towards a source that is banned,
    /// whose breaker is open (a half-open one gets a single probe), or that asked to wait with `Retry-After`.
    pub fn poll(&mut self, now: Millis, random: &mut dyn FnMut() -> f64) -> Plan {
        let mut cancel = std::mem::take(&mut self.cancels);
        cancel.extend(self.expire(now));
        // Cancellations above may have opened breakers: settle after them, so their jitter is drawn now.
        for source in &mut self.sources {
            source.settle(now, random, &self.config);
        }
        self.settle_chunks(now, random);
        // Hedges first: a late attempt holds up its whole file, a chunk not started yet holds up nothing.
        let mut start = self.hedge(now);
        start.extend(self.start_chunks(now));
        Plan { start, cancel, wake_at: self.wake_at(now) }
    }

    /// Attempts without a new byte for the stall timeout, or running past the request timeout: forgotten
    /// and blamed on their source, as if it had not answered.
    fn expire(&mut self, now: Millis) -> Vec<AttemptId> {
        let (stall, timeout) = (self.config.stall_timeout, self.config.request_timeout);
        let late: Vec<AttemptId> = self
            .attempts
            .iter()
            .filter(|(_, run)| {
                now >= run.last_progress.saturating_add(stall) || now >= run.started.saturating_add(timeout)
            })
            .map(|(&id, _)| id)
            .collect();
        for &id in &late {
            if let Some(running) = self.attempts.remove(&id) {
                self.attempt_failed(id, &running, Failure::Silent, now);
            }
        }
        late
    }

    fn settle_chunks(&mut self, now: Millis, random: &mut dyn FnMut() -> f64) {
        for chunk in &mut self.chunks {
            if let Ready::Pending { from } = chunk.ready {
                let delay = self.config.backoff(chunk.failures, random());
                chunk.ready = Ready::At(from.saturating_add(delay));
            }
            if let Ready::At(at) = chunk.ready {
                if now >= at {
                    chunk.ready = Ready::Now;
                }
            }
        }
    }

    /// First attempts and retries, the chunks pupils wait for first, each kind in the order they were
    /// wanted, while slots remain.
    fn start_chunks(&mut self, now: Millis) -> Vec<Attempt> {
        let mut start = Vec::new();
        let waited =
            (0..self.chunks.len()).filter(|&index| self.chunks.get(index).is_some_and(|chunk| !chunk.prefetch));
        let prefetched =
            (0..self.chunks.len()).filter(|&index| self.chunks.get(index).is_some_and(|chunk| chunk.prefetch));
        let order: Vec<usize> = waited.chain(prefetched).collect();
        for index in order {
            if self.attempts.len() >= self.config.max_in_flight {
                break;
            }
            let Some(chunk) = self.chunks.get(index) else { break };
            if chunk.verified || chunk.running > 0 || chunk.ready != Ready::Now {
                continue;
            }
            let retry = chunk.owes_budget;
            if retry && !self.budget_left() {
                continue;
            }
            let Some(source) = self.choose(index) else { continue };
            if let Some(chunk) = self.chunks.get_mut(index) {
                if !chunk.tried {
                    chunk.tried = true;
                    self.first_attempts += 1;
                }
                chunk.owes_budget = false;
            }
            if retry {
                self.retries += 1;
            }
            start.push(self.launch(index, source, false, now));
        }
        start
    }

    /// For a prefetch (nobody waits for it), a usable mirror or peer known to hold the chunk, then the best
    /// usable mirror: saving for later spares the origin whenever something else can give the chunk (it
    /// even waits for a busy mirror, or classmate holding it, that is well), so that a region saving at
    /// once leaves the origin to the pupils who wait. For a chunk a pupil waits
    /// for, the origin while it is usable (it is authoritative), then the best usable mirror (HTTP first),
    /// else a peer known to hold it; while the origin is spared ([`Scheduler::spare_origin`]), the peer
    /// first. Otherwise the usable source with the best score, the lower latency
    /// breaking ties. A retry avoids the source that just failed for this chunk when any other source is
    /// usable.
    fn choose(&self, chunk: usize) -> Option<SourceId> {
        let chunk = self.chunks.get(chunk)?;
        let usable: Vec<(usize, &SourceState)> = self
            .sources
            .iter()
            .enumerate()
            .filter(|(index, source)| source.usable(&self.config) && !chunk.shunned.contains(&SourceId(*index)))
            .collect();
        let elsewhere: Vec<(usize, &SourceState)> =
            usable.iter().copied().filter(|(index, _)| Some(SourceId(*index)) != chunk.last_failed).collect();
        let candidates = if elsewhere.is_empty() { usable } else { elsewhere };
        let held = candidates.iter().find(|(index, _)| chunk.held.contains(&SourceId(*index)));
        let mirrors = || candidates.iter().copied().filter(|(_, source)| source.kind == SourceKind::Mirror);
        let origin = candidates.iter().find(|(_, source)| source.kind == SourceKind::Origin);
        let (held, origin) = (held.map(|(index, _)| SourceId(*index)), origin.map(|(index, _)| SourceId(*index)));
        let order = match chunk.prefetch || self.spare_origin {
            true => [held, best(mirrors()), origin],
            false => [origin, best(mirrors()), held],
        };
        let chosen = order.into_iter().flatten().next().or_else(|| best(candidates.into_iter()));
        let to_origin =
            chosen.and_then(|source| self.sources.get(source.0)).is_some_and(|state| state.kind == SourceKind::Origin);
        // A prefetch waits for a slot of a mirror that is well, or of a classmate known to hold it, rather
        // than taking the origin's.
        match to_origin && chunk.prefetch && self.stands_in_for_origin(chunk) {
            true => None,
            false => chosen,
        }
    }

    /// True when a mirror that is well (busy or not), or a classmate known to hold `chunk` and well, can
    /// give `chunk` instead of the origin. Not the source that just failed for it: the retry avoids that
    /// one, and waiting for it would wait for nothing.
    fn stands_in_for_origin(&self, chunk: &Chunk) -> bool {
        self.sources.iter().enumerate().any(|(index, source)| {
            let id = SourceId(index);
            if chunk.last_failed == Some(id) {
                return false;
            }
            let stands_in = match source.kind {
                SourceKind::Origin => false,
                SourceKind::Mirror => !chunk.shunned.contains(&id),
                SourceKind::Peer => chunk.held.contains(&id),
            };
            stands_in && source.well()
        })
    }

    /// A second attempt for chunks whose only attempt has run longer than its source's p95 latency, towards
    /// a mirror or peer with a closed breaker, while hedges stay within the hedge ratio of all attempts.
    fn hedge(&mut self, now: Millis) -> Vec<Attempt> {
        let late: Vec<(usize, SourceId)> = self
            .attempts
            .values()
            .filter(|run| !run.hedge && self.chunks.get(run.chunk).is_some_and(|chunk| chunk.running == 1))
            .filter(|run| {
                let p95 = self.sources.get(run.source.0).and_then(|source| source.p95(&self.config));
                p95.is_some_and(|p95| now.saturating_sub(run.started) > p95)
            })
            .map(|run| (run.chunk, run.source))
            .collect();
        let mut start = Vec::new();
        for (chunk, busy) in late {
            let allowed = (self.hedges + 1) as f64 <= self.config.hedge_ratio * (self.started + 1) as f64;
            if !allowed || self.attempts.len() >= self.config.max_in_flight {
                break;
            }
            if let Some(source) = self.hedge_source(chunk, busy) {
                self.hedges += 1;
                start.push(self.launch(chunk, source, true, now));
            }
        }
        start
    }

    fn hedge_source(&self, chunk: usize, busy: SourceId) -> Option<SourceId> {
        let shunned = &self.chunks.get(chunk)?.shunned;
        best(self.sources.iter().enumerate().filter(|(index, source)| {
            *index != busy.0 && source.hedgeable(&self.config) && !shunned.contains(&SourceId(*index))
        }))
    }

    fn launch(&mut self, chunk: usize, source: SourceId, hedge: bool, now: Millis) -> Attempt {
        let id = AttemptId(self.next_id);
        self.next_id += 1;
        self.started += 1;
        if let Some(state) = self.sources.get_mut(source.0) {
            state.started(id);
        }
        let cid = match self.chunks.get_mut(chunk) {
            Some(state) => {
                state.running += 1;
                state.cid
            }
            None => crate::cid::Cid::from_sha256([0; 32]),
        };
        self.attempts.insert(id, Running { chunk, source, started: now, last_progress: now, bytes: 0, hedge });
        Attempt { id, cid, source, hedge }
    }

    /// The earliest future time at which something changes by itself: a stall or timeout deadline, a hedge
    /// becoming due, a backoff, a breaker delay or a `Retry-After` wait ending.
    fn wake_at(&self, now: Millis) -> Option<Millis> {
        let (stall, timeout) = (self.config.stall_timeout, self.config.request_timeout);
        let attempts = self.attempts.values().flat_map(|run| {
            let p95 = self.sources.get(run.source.0).and_then(|source| source.p95(&self.config));
            let hedge = p95.filter(|_| !run.hedge).map(|p95| run.started.saturating_add(p95).saturating_add(1));
            [Some(run.last_progress.saturating_add(stall)), Some(run.started.saturating_add(timeout)), hedge]
        });
        let chunks = self.chunks.iter().filter(|chunk| !chunk.verified).filter_map(|chunk| match chunk.ready {
            Ready::At(at) => Some(at),
            _ => None,
        });
        let sources = self.sources.iter().filter_map(|source| source.next_change(now));
        attempts.flatten().chain(chunks).chain(sources).filter(|&at| at > now).min()
    }
}

/// The source with the best score; lower latency, then the lower index, break ties.
fn best<'a>(candidates: impl Iterator<Item = (usize, &'a SourceState)>) -> Option<SourceId> {
    candidates
        .max_by(|(a_index, a), (b_index, b)| {
            a.score().total_cmp(&b.score()).then(b.latency().total_cmp(&a.latency())).then(b_index.cmp(a_index))
        })
        .map(|(index, _)| SourceId(index))
}
