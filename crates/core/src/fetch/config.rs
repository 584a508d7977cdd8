//! The scheduler's settings and their defaults. Plain numbers: nothing here decides anything.

use super::{Millis, SourceKind};

/// Limits and delays of a [`super::Scheduler`]. `Config::default()` suits a pupil's browser.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Attempts running at once, all sources together.
    pub max_in_flight: usize,
    /// Attempts running at once towards the origin.
    pub origin_in_flight: usize,
    /// Attempts running at once towards one mirror.
    pub mirror_in_flight: usize,
    /// Attempts running at once towards one peer.
    pub peer_in_flight: usize,
    /// First retry delay of a chunk: the n-th retry waits a uniform random time in
    /// `0..min(backoff_cap, backoff_base × 2^(n-1))` (full jitter).
    pub backoff_base: Millis,
    /// Longest retry delay of a chunk.
    pub backoff_cap: Millis,
    /// Longest an attempt may run in all.
    pub request_timeout: Millis,
    /// Longest an attempt may go without a new byte (counted from its start before the first byte).
    pub stall_timeout: Millis,
    /// Failures in a row (error status, network error, stall, timeout) that open a source's breaker.
    pub breaker_threshold: u32,
    /// First delay of an open breaker before its half-open probe; jittered between half and all of it.
    pub breaker_open: Millis,
    /// Longest breaker delay: each failed probe doubles the delay up to this.
    pub breaker_open_max: Millis,
    /// Most random time added to a `Retry-After` delay, so that refused clients do not come back at once.
    pub retry_after_jitter: Millis,
    /// Retries allowed per first attempt (0.1: one retry for ten chunks)...
    pub retry_ratio: f64,
    /// ...plus this many.
    pub retry_floor: u32,
    /// Most hedges per attempt started, from 0 to 1.
    pub hedge_ratio: f64,
    /// Verified answers a source needs before its p95 latency is trusted to hedge on.
    pub hedge_min_samples: usize,
    /// Recent latencies kept per source for its p95.
    pub latency_window: usize,
    /// Weight of the newest sample in the latency and error-rate averages, from 0 to 1.
    pub ewma_weight: f64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_in_flight: 6,
            origin_in_flight: 2,
            mirror_in_flight: 4,
            peer_in_flight: 4,
            backoff_base: 500,
            backoff_cap: 30_000,
            request_timeout: 15_000,
            stall_timeout: 4_000,
            breaker_threshold: 3,
            breaker_open: 5_000,
            breaker_open_max: 60_000,
            retry_after_jitter: 1_000,
            retry_ratio: 0.1,
            retry_floor: 5,
            hedge_ratio: 0.05,
            hedge_min_samples: 5,
            latency_window: 20,
            ewma_weight: 0.2,
        }
    }
}

impl Config {
    /// The in-flight cap of one source of this kind.
    pub fn cap(&self, kind: SourceKind) -> usize {
        match kind {
            SourceKind::Origin => self.origin_in_flight,
            SourceKind::Mirror => self.mirror_in_flight,
            SourceKind::Peer => self.peer_in_flight,
        }
    }

    /// The full-jitter delay before retry number `retry` (1 for the first) of a chunk, given `random` in
    /// `[0, 1)`: uniform in `0..min(cap, base × 2^(retry-1))`, never above the cap.
    pub fn backoff(&self, retry: u32, random: f64) -> Millis {
        full_jitter(self.backoff_base, self.backoff_cap, retry, random)
    }

    /// The retries a client may have made after `first_attempts` first attempts and `verified` chunks.
    /// Each verified chunk earns one retry (as gRPC's retry throttling refills on success): a source that
    /// answers some requests is retried at the pace it serves, one that answers none gets only the fixed
    /// share, so a client never stampedes a dead origin yet does not give up on a busy one.
    pub fn retry_budget(&self, first_attempts: u64, verified: u64) -> u64 {
        let share = (first_attempts as f64 * self.retry_ratio.max(0.0)).floor();
        (share as u64).saturating_add(u64::from(self.retry_floor)).saturating_add(verified)
    }
}

/// Full-jitter exponential backoff: the delay before retry number `retry` (1 for the first), given
/// `random` in `[0, 1)`, uniform in `0..min(cap, base × 2^(retry-1))`, never above the cap. The one
/// backoff of cartable: chunk retries and the outbox's sends both wait this way.
pub fn full_jitter(base: Millis, cap: Millis, retry: u32, random: f64) -> Millis {
    let exponent = retry.saturating_sub(1).min(40);
    scale(base.saturating_mul(1u64 << exponent).min(cap), random)
}

/// `ceiling × random`, with `random` clamped to `[0, 1)`: never above `ceiling`, never a panic.
pub(super) fn scale(ceiling: Millis, random: f64) -> Millis {
    let random = if random.is_finite() { random.clamp(0.0, 1.0) } else { 0.0 };
    ((ceiling as f64) * random).min(ceiling as f64) as Millis
}
