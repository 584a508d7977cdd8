//! A deterministic rehearsal of a class's morning: N clients, each with its own [`Scheduler`], against
//! scripted sources (slow, saturated, down, stalling, lying), in virtual time. For tests and for
//! `cartable rehearse`. Pure: its random numbers come from a seeded generator of its own.

mod sim;

pub use sim::run;

use super::{Config, Millis, SourceKind};

#[cfg(doc)]
use super::Scheduler;

/// A class, a course and the sources it is fetched from.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Clients (pupils' browsers), each with its own scheduler.
    pub clients: usize,
    /// Chunks in the course.
    pub chunks: usize,
    /// Size of every chunk, in bytes.
    pub chunk_size: u64,
    /// Clients arrive at uniform random times in `0..arrival_spread`.
    pub arrival_spread: Millis,
    /// The simulation stops at this time, finished or not.
    pub horizon: Millis,
    /// The settings of every client's scheduler.
    pub config: Config,
    /// The sources, in the order given to [`Scheduler::new`].
    pub sources: Vec<Script>,
}

/// How a scripted source behaves. Behaviours combine; [`Script::healthy`] gives one that always answers.
#[derive(Clone, Debug, PartialEq)]
pub struct Script {
    /// What it is.
    pub kind: SourceKind,
    /// Milliseconds before the first byte of every answer.
    pub latency: Millis,
    /// Milliseconds per KiB of an answer.
    pub ms_per_kib: Millis,
    /// Most requests it serves at once across all clients; beyond that it refuses with `refusal`.
    pub capacity: Option<usize>,
    /// How it refuses when over capacity.
    pub refusal: Refusal,
    /// No answer at all (network error) between these times.
    pub outage: Option<(Millis, Millis)>,
    /// Every answer stops for good after this many bytes.
    pub stall_after: Option<u64>,
    /// The capacity limit and the stalls end at this time (the outage has its own end).
    pub recovers_at: Option<Millis>,
    /// Chunks (by index) it answers with wrong bytes: a lying mirror.
    pub corrupt: Vec<usize>,
}

/// The answer of a source over capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status: 503 or 429.
    pub code: u16,
    /// The `Retry-After` it sends, in seconds, if any.
    pub retry_after_s: Option<u64>,
}

impl Script {
    /// A source of `kind` that always answers, 40 ms plus 2 ms per KiB.
    pub fn healthy(kind: SourceKind) -> Script {
        Script {
            kind,
            latency: 40,
            ms_per_kib: 2,
            capacity: None,
            refusal: Refusal { code: 503, retry_after_s: None },
            outage: None,
            stall_after: None,
            recovers_at: None,
            corrupt: Vec::new(),
        }
    }

    /// True while its capacity limit and stalls apply.
    pub fn troubled(&self, now: Millis) -> bool {
        self.recovers_at.is_none_or(|at| now < at)
    }

    /// True during its outage.
    pub fn down(&self, now: Millis) -> bool {
        self.outage.is_some_and(|(from, to)| (from..to).contains(&now))
    }
}

/// What one run measured. Times are per client, from its arrival.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    /// Per client: time to the full course, or `None` if it did not finish before the horizon.
    pub finished: Vec<Option<Millis>>,
    /// Per client: attempts it sent to the origin.
    pub origin_requests: Vec<u64>,
    /// Per client: attempts it sent to the origin while its breaker for the origin was open or half-open
    /// (that is, half-open probes).
    pub origin_requests_while_open: Vec<u64>,
    /// Requests the origin refused (over capacity).
    pub origin_refusals: u64,
    /// Most requests the origin was serving at once.
    pub origin_peak: usize,
    /// Verified bytes delivered by each source, all clients together.
    pub bytes_per_source: Vec<u64>,
    /// Chunks accepted although their bytes did not match their CID. Must be 0.
    pub corrupt_accepted: u64,
    /// Attempts started towards a banned source, one whose breaker was open, or one inside a
    /// `Retry-After` it had sent to that client. Must be 0.
    pub violations: u64,
}

impl Figures {
    /// Clients that got the whole course.
    pub fn complete(&self) -> usize {
        self.finished.iter().flatten().count()
    }

    /// Median time to the full course over the clients that finished.
    pub fn median_finish(&self) -> Option<Millis> {
        let mut times: Vec<Millis> = self.finished.iter().flatten().copied().collect();
        times.sort_unstable();
        times.get(times.len() / 2).copied()
    }

    /// Longest time to the full course, `None` if some client did not finish.
    pub fn max_finish(&self) -> Option<Millis> {
        self.finished.iter().try_fold(0, |most: Millis, time| time.map(|time| most.max(time)))
    }

    /// Mean origin requests per client.
    pub fn origin_mean(&self) -> f64 {
        self.origin_requests.iter().sum::<u64>() as f64 / self.origin_requests.len().max(1) as f64
    }

    /// Most origin requests of one client.
    pub fn origin_max(&self) -> u64 {
        self.origin_requests.iter().copied().max().unwrap_or(0)
    }

    /// Each source's share of the verified bytes, in percent.
    pub fn shares(&self) -> Vec<f64> {
        let total = self.bytes_per_source.iter().sum::<u64>().max(1) as f64;
        self.bytes_per_source.iter().map(|&bytes| bytes as f64 * 100.0 / total).collect()
    }
}

/// The rehearsed mornings, by name: a course of 40 chunks of 256 KiB for a class of 30.
pub fn standard() -> Vec<(&'static str, Scenario)> {
    use SourceKind::{Mirror, Origin};
    let mirror = || Script { latency: 60, ms_per_kib: 3, ..Script::healthy(Mirror) };
    let saturated = |code, retry_after_s| Script {
        capacity: Some(6),
        refusal: Refusal { code, retry_after_s },
        ..Script::healthy(Origin)
    };
    let scenario = |sources: Vec<Script>| Scenario {
        clients: 30,
        chunks: 40,
        chunk_size: 256 * 1024,
        arrival_spread: 5_000,
        horizon: 30 * 60_000,
        config: Config::default(),
        sources,
    };
    let liar = Script { latency: 20, ms_per_kib: 1, corrupt: (0..40).step_by(4).collect(), ..mirror() };
    let down = Script { outage: Some((0, 30_000)), ..Script::healthy(Origin) };
    let slow_mirror = Script { latency: 100, ms_per_kib: 4, ..mirror() };
    vec![
        ("healthy origin", scenario(vec![Script::healthy(Origin), mirror()])),
        ("503 storm, Retry-After 10 s", scenario(vec![saturated(503, Some(10)), mirror(), mirror()])),
        ("429, no Retry-After", scenario(vec![saturated(429, None), mirror(), mirror()])),
        (
            "stalling origin",
            scenario(vec![Script { stall_after: Some(64 * 1024), ..Script::healthy(Origin) }, mirror(), mirror()]),
        ),
        ("lying mirror", scenario(vec![saturated(503, Some(5)), liar, mirror()])),
        ("origin down 30 s, then back", Scenario { arrival_spread: 60_000, ..scenario(vec![down, slow_mirror]) }),
    ]
}

#[cfg(test)]
mod tests;
