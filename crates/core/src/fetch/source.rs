//! What the scheduler knows of one source: its health (latency, error rate), its circuit breaker, a
//! `Retry-After` wait and a session ban. Decides whether the source may be asked now; never starts anything.

use std::collections::VecDeque;

use super::config::scale;
use super::{AttemptId, Breaker, Config, Health, Millis, SourceKind};

/// Why an attempt failed, as far as its source is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Failure {
    /// It answered with an error status (5xx, 429, 408): overloaded or broken.
    Refused,
    /// No answer, a stall or a timeout: down or unreachable.
    Silent,
    /// It answered that it does not have this chunk (404 and other client errors).
    Missing,
    /// It sent bytes that failed verification.
    Corrupt,
}

impl Failure {
    /// Failures that mean the source is in trouble: they trip its breaker and cost a retry.
    pub(super) fn is_overload(self) -> bool {
        matches!(self, Failure::Refused | Failure::Silent)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BreakerState {
    Closed,
    /// `until` is drawn (with jitter) at the next poll, as `finish` has no random numbers.
    Open {
        since: Millis,
        until: Option<Millis>,
    },
    HalfOpen {
        probe: Option<AttemptId>,
    },
}

/// A `Retry-After` wait; its jitter is drawn at the next poll too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wait {
    Free,
    Pending { from: Millis, delay: Millis },
    Until(Millis),
}

/// The state of one source.
#[derive(Clone, Debug)]
pub(super) struct SourceState {
    pub(super) kind: SourceKind,
    pub(super) in_flight: usize,
    pub(super) requests: u64,
    pub(super) failures: u64,
    successes: u64,
    pub(super) bytes: u64,
    pub(super) banned: bool,
    consecutive: u32,
    breaker: BreakerState,
    open_delay: Millis,
    last_cause: Failure,
    wait: Wait,
    latency_ewma: Option<f64>,
    error_rate: f64,
    window: VecDeque<Millis>,
}

impl SourceState {
    pub(super) fn new(kind: SourceKind, config: &Config) -> SourceState {
        SourceState {
            kind,
            in_flight: 0,
            requests: 0,
            failures: 0,
            successes: 0,
            bytes: 0,
            banned: false,
            consecutive: 0,
            breaker: BreakerState::Closed,
            open_delay: config.breaker_open,
            last_cause: Failure::Refused,
            wait: Wait::Free,
            latency_ewma: None,
            error_rate: 0.0,
            window: VecDeque::new(),
        }
    }

    /// Draws pending jitters and lets delays that have passed expire: an open breaker turns half-open.
    pub(super) fn settle(&mut self, now: Millis, random: &mut dyn FnMut() -> f64, config: &Config) {
        if let BreakerState::Open { since, until: None } = self.breaker {
            let half = self.open_delay / 2;
            let until = since.saturating_add(half).saturating_add(scale(self.open_delay - half, random()));
            self.breaker = BreakerState::Open { since, until: Some(until) };
        }
        if let BreakerState::Open { until: Some(until), .. } = self.breaker {
            if now >= until {
                self.breaker = BreakerState::HalfOpen { probe: None };
            }
        }
        if let Wait::Pending { from, delay } = self.wait {
            let jitter = scale(config.retry_after_jitter, random());
            self.wait = Wait::Until(from.saturating_add(delay).saturating_add(jitter));
        }
        if let Wait::Until(until) = self.wait {
            if now >= until {
                self.wait = Wait::Free;
            }
        }
    }

    /// True when a new attempt may go to this source now (after [`SourceState::settle`]): not banned, no
    /// `Retry-After` wait, breaker closed (or half-open with its probe not sent yet), under its cap.
    pub(super) fn usable(&self, config: &Config) -> bool {
        let breaker = matches!(self.breaker, BreakerState::Closed | BreakerState::HalfOpen { probe: None });
        breaker && self.open_to_new(config)
    }

    /// True when the source is well (not banned, no `Retry-After` wait, breaker closed), even if its
    /// slots are all taken for now.
    pub(super) fn well(&self) -> bool {
        !self.banned && self.wait == Wait::Free && self.breaker == BreakerState::Closed
    }

    /// True when a hedge may go to this source now: as [`SourceState::usable`], but never the origin and
    /// only with a closed breaker (a half-open source's one probe is not spent on a hedge).
    pub(super) fn hedgeable(&self, config: &Config) -> bool {
        self.kind != SourceKind::Origin && self.breaker == BreakerState::Closed && self.open_to_new(config)
    }

    fn open_to_new(&self, config: &Config) -> bool {
        !self.banned && self.wait == Wait::Free && self.in_flight < config.cap(self.kind)
    }

    /// Counts a started attempt; the first one while half-open is the probe.
    pub(super) fn started(&mut self, attempt: AttemptId) {
        self.requests += 1;
        self.in_flight += 1;
        if self.breaker == (BreakerState::HalfOpen { probe: None }) {
            self.breaker = BreakerState::HalfOpen { probe: Some(attempt) };
        }
    }

    /// An attempt ended with no verdict on the source (cancelled as a losing twin, or by the caller).
    pub(super) fn released(&mut self, attempt: AttemptId) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if self.breaker == (BreakerState::HalfOpen { probe: Some(attempt) }) {
            self.breaker = BreakerState::HalfOpen { probe: None };
        }
    }

    /// An attempt delivered verified bytes after `latency` milliseconds. A successful probe closes the breaker.
    pub(super) fn succeeded(&mut self, attempt: AttemptId, latency: Millis, bytes: u64, config: &Config) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.successes += 1;
        self.bytes = self.bytes.saturating_add(bytes);
        self.error_rate = ewma(self.error_rate, 0.0, config.ewma_weight);
        self.latency_ewma =
            Some(self.latency_ewma.map_or(latency as f64, |old| ewma(old, latency as f64, config.ewma_weight)));
        self.window.push_back(latency);
        while self.window.len() > config.latency_window.max(1) {
            self.window.pop_front();
        }
        match self.breaker {
            BreakerState::Closed => self.consecutive = 0,
            BreakerState::HalfOpen { probe: Some(probe) } if probe == attempt => {
                self.breaker = BreakerState::Closed;
                self.consecutive = 0;
                self.open_delay = config.breaker_open;
            }
            // A late answer to a request sent before the breaker opened proves little: the probe decides.
            _ => {}
        }
    }

    /// An attempt failed. Overload failures trip the breaker; a failed probe opens it again for twice as long.
    pub(super) fn failed(&mut self, attempt: AttemptId, failure: Failure, now: Millis, config: &Config) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.failures += 1;
        self.error_rate = ewma(self.error_rate, 1.0, config.ewma_weight);
        match failure {
            // A mirror or peer that lies is never asked again. The origin is the authority and often the
            // only source: one bad chunk from it (a damaged file on its disk, a broken proxy) is refused and
            // that chunk is not asked of it again (the chunk shuns it), but the rest of the course still is.
            Failure::Corrupt => self.banned = self.kind != SourceKind::Origin,
            Failure::Missing => {}
            Failure::Refused | Failure::Silent => {
                self.last_cause = failure;
                self.trip(attempt, now, config);
            }
        }
    }

    fn trip(&mut self, attempt: AttemptId, now: Millis, config: &Config) {
        match self.breaker {
            BreakerState::Closed => {
                self.consecutive += 1;
                if self.consecutive >= config.breaker_threshold.max(1) {
                    self.breaker = BreakerState::Open { since: now, until: None };
                }
            }
            BreakerState::HalfOpen { probe: Some(probe) } if probe == attempt => {
                self.open_delay = self.open_delay.saturating_mul(2).min(config.breaker_open_max.max(1));
                self.breaker = BreakerState::Open { since: now, until: None };
            }
            _ => {}
        }
    }

    /// The source asked to wait `delay` milliseconds (`Retry-After`); jitter is added at the next poll.
    pub(super) fn wait(&mut self, now: Millis, delay: Millis) {
        let later = match self.wait {
            Wait::Until(until) => until >= now.saturating_add(delay),
            Wait::Pending { from, delay: old } => from.saturating_add(old) >= now.saturating_add(delay),
            Wait::Free => false,
        };
        if !later {
            self.wait = Wait::Pending { from: now, delay };
        }
    }

    /// What a reload should keep of this source at `now` (see [`super::Remembered`]): its ban, and how long
    /// it is still to be left alone after refusals (its breaker or its `Retry-After`). A source that fell
    /// silent is not kept quiet: a pupil's reload is often the retry once the network is back.
    pub(super) fn remembered(&self, now: Millis) -> super::Remembered {
        let open_until = match self.breaker {
            BreakerState::Open { until: Some(until), .. } if self.last_cause == Failure::Refused => until,
            // Jitter not drawn yet: the earliest it could end.
            BreakerState::Open { since, until: None } if self.last_cause == Failure::Refused => {
                since.saturating_add(self.open_delay / 2)
            }
            _ => now,
        };
        let wait_until = match self.wait {
            Wait::Until(until) => until,
            Wait::Pending { from, delay } => from.saturating_add(delay),
            Wait::Free => now,
        };
        super::Remembered { banned: self.banned, quiet_ms: open_until.max(wait_until).saturating_sub(now) }
    }

    /// Takes back what an earlier page `remembered`, at `now`: the ban, and a breaker open (after refusals)
    /// for what was left of the quiet time, after which one probe goes first.
    pub(super) fn recall(&mut self, remembered: super::Remembered, now: Millis) {
        self.banned |= remembered.banned && self.kind != SourceKind::Origin;
        if remembered.quiet_ms > 0 {
            self.last_cause = Failure::Refused;
            self.breaker = BreakerState::Open { since: now, until: Some(now.saturating_add(remembered.quiet_ms)) };
        }
    }

    /// The next time this source's state changes by itself, if after `now`.
    pub(super) fn next_change(&self, now: Millis) -> Option<Millis> {
        let open = match self.breaker {
            BreakerState::Open { until: Some(until), .. } => Some(until),
            _ => None,
        };
        let wait = match self.wait {
            Wait::Until(until) => Some(until),
            _ => None,
        };
        open.into_iter().chain(wait).filter(|&at| at > now).min()
    }

    /// Higher is better: successes / (answers + 3 × failures), with one success assumed so that a new
    /// source is worth trying.
    pub(super) fn score(&self) -> f64 {
        (self.successes + 1) as f64 / (self.successes + 1 + 4 * self.failures) as f64
    }

    /// The mean latency used to break ties between equal scores; unknown counts as fast, to try it.
    pub(super) fn latency(&self) -> f64 {
        self.latency_ewma.unwrap_or(0.0)
    }

    /// The 95th percentile of recent latencies, once there are enough of them.
    pub(super) fn p95(&self, config: &Config) -> Option<Millis> {
        if self.window.len() < config.hedge_min_samples.max(1) {
            return None;
        }
        let mut sorted: Vec<Millis> = self.window.iter().copied().collect();
        sorted.sort_unstable();
        let rank = ((sorted.len() as f64) * 0.95).ceil() as usize;
        sorted.get(rank.saturating_sub(1)).copied()
    }

    pub(super) fn breaker(&self) -> Breaker {
        match self.breaker {
            BreakerState::Closed => Breaker::Closed,
            BreakerState::Open { .. } => Breaker::Open,
            BreakerState::HalfOpen { .. } => Breaker::HalfOpen,
        }
    }

    /// Why the breaker last tripped.
    pub(super) fn cause(&self) -> Failure {
        self.last_cause
    }

    /// True while a `Retry-After` wait is pending or running.
    pub(super) fn waiting(&self) -> bool {
        self.wait != Wait::Free
    }

    pub(super) fn health(&self, config: &Config) -> Health {
        Health {
            latency_ewma: self.latency_ewma,
            error_rate: self.error_rate,
            p95: self.p95(config),
            score: self.score(),
        }
    }
}

fn ewma(old: f64, sample: f64, weight: f64) -> f64 {
    let weight = if weight.is_finite() { weight.clamp(0.0, 1.0) } else { 0.2 };
    old + weight * (sample - old)
}
