//! A region's morning: a seeded discrete-event simulation of many classes fetching their courses at once,
//! to compare client policies at scale. Pure: time is virtual and random numbers come from a seeded
//! generator of its own; nothing here reads a clock, a file or the network.
//!
//! Students arrive class by class over the morning, most around 08:00; each class of about 30 shares one
//! course. They fetch it from the school's origin (a request rate and a bandwidth), from mirrors (each
//! with its own), and, under the cartable policy, from classmates. The same arrivals are run under three
//! [`Policy`]s, each in a world of its own. The cartable policy drives the real [`crate::fetch::Scheduler`]
//! and the swarm's real [`crate::peer::lottery::Lottery`], one each per student, created when the student
//! arrives and dropped once the coursework is complete (or the student gives up), so memory follows the
//! students present, not the whole region. The naive and backoff-only policies need no such state: their
//! refused requests wait in a pool (naive: all asked again at the next second) or on a wheel of seconds
//! (backoff), so that millions of refusals cost a counter or a slot each, not an event each.

mod cartable;
mod engine;
mod figures;
mod links;
mod opening;
mod plain;
mod world;

pub use engine::run;
pub use figures::{Figures, Minute};

use crate::fetch::Millis;

/// One minute of virtual time, in milliseconds.
pub const MINUTE: Millis = 60_000;

/// The region and its morning. Times are milliseconds since 07:00.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    /// Students in the region.
    pub students: usize,
    /// Students per class; each class has a course of its own.
    pub class_size: usize,
    /// Chunks in each course (64 at most).
    pub chunks: usize,
    /// Size of every chunk, in bytes.
    pub chunk_size: u64,
    /// Classes start within `0..morning`, most of them around 08:00.
    pub morning: Millis,
    /// A student still without the whole coursework this long after arriving gives up and leaves.
    pub patience: Millis,
    /// How long, on average (exponentially distributed), a student who has the coursework keeps the page
    /// open, serving classmates, before leaving: the swarm's churn.
    pub stay: Millis,
    /// The school's origin.
    pub origin: Server,
    /// The mirrors.
    pub mirrors: Vec<Server>,
    /// Share of students, from 0 to 1, who cannot connect to classmates (and so neither fetch from nor
    /// serve them).
    pub unreachable: f64,
    /// Share of students, from 0 to 1, who saved an earlier version of the course on this device: when
    /// neither the origin nor a mirror gives them today's manifest, their page opens that copy, joins the
    /// swarm with it, and takes today's signed manifest from a classmate it links to who has it (or the
    /// pupil reloads [`RETRY_BY_HAND`] later). The others come for the first time, and only a server
    /// can give them the manifest.
    ///
    /// [`RETRY_BY_HAND`]: cartable::RETRY_BY_HAND
    pub returning: f64,
    /// Share of pairs of classmates, from 0 to 1, whose direct link fails (their NATs do not let them
    /// through), on top of [`Region::unreachable`]: drawn once per pair from the seed. Through the
    /// school's TURN relay, when present, such a pair is linked all the same.
    pub pair_failure: f64,
    /// Upload bandwidth of one student's browser towards classmates, in bytes per second, shared by the
    /// transfers it is sending now. A page links to [`MAX_LINKS`] classmates at most, among those present
    /// the tracker hands out; a transfer is sent by one of them, and fails if it leaves meanwhile.
    ///
    /// [`MAX_LINKS`]: crate::peer::saving::MAX_LINKS
    pub peer_upload: u64,
    /// Milliseconds before the first byte from a classmate.
    pub peer_latency: Millis,
    /// Milliseconds from the page having the manifest until its links to the classmates present are open
    /// (tracker round trip, offer and answer, ICE): the page settles from then on.
    pub peer_connect: Millis,
    /// Whether the naive and backoff clients are given the mirror list, and check what they get.
    pub baseline_mirrors: BaselineMirrors,
    /// Size of the signed manifest each page asks for first, in bytes.
    pub manifest_bytes: u64,
    /// Chunks of the first lesson, which the pupil reads as the page opens (the first ones of the course).
    pub reading_chunks: usize,
    /// The school's TURN relay, when the manifest names one: its bandwidth in bytes per second, for each
    /// class. Students out of reach of classmates, and pairs that cannot link directly, link through it,
    /// their transfers sharing that bandwidth.
    pub turn: Option<u64>,
}

/// What the naive and backoff clients know of the mirrors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BaselineMirrors {
    /// The origin only.
    #[default]
    None,
    /// The origin and the mirrors in turn, a failed request going to the next; the bytes are trusted.
    Trusting,
    /// The same, but each chunk is checked against its CID, and a wrong one asked of the next source.
    Checking,
}

/// An HTTP server: the origin or a mirror.
#[derive(Clone, Debug, PartialEq)]
pub struct Server {
    /// Requests per second it accepts (a token bucket holding one second's worth); beyond that it answers
    /// 503 with `Retry-After`.
    pub rps: u32,
    /// Its bandwidth, in bytes per second, shared by the answers it is sending.
    pub bandwidth: u64,
    /// Milliseconds before the first byte of any answer.
    pub latency: Millis,
    /// The `Retry-After` it sends with a 503, in seconds.
    pub retry_after_s: Option<u64>,
    /// No answer at all (a network error) between these times.
    pub down: Option<(Millis, Millis)>,
    /// It answers one chunk in `lies_every` with wrong bytes (0: never): a lying mirror.
    pub lies_every: usize,
    /// A waiting room: a refusal's `Retry-After` names the next free second in its queue instead of
    /// `retry_after_s`, so that clients who honour it come back spread at its capacity.
    pub waiting_room: bool,
    /// How it answers beyond its request rate.
    pub overload: Overload,
    /// Share of the chunk answers it accepts, from 0 to 1, that stop sending halfway and stay silent: a
    /// client's stall timeout must catch them. Drawn per answer from the seed.
    pub stalls: f64,
}

/// How a server answers the requests beyond its rate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Overload {
    /// 503 at once, with its `Retry-After`.
    #[default]
    Refuse,
    /// No answer at all: the request hangs until the client gives up (the scheduler's stall or request
    /// timeout, the page's wait for the manifest, a plain client's [`PLAIN_TIMEOUT`]).
    Timeout,
}

/// How long a naive or backoff client waits for an answer that does not come (a stalled one, or none)
/// before it counts the request failed: a hand-written loop's `AbortSignal.timeout`.
pub const PLAIN_TIMEOUT: Millis = 30_000;

/// How students' browsers fetch the coursework.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Policy {
    /// The origin only, two requests at a time, and any failed chunk asked again at the next second,
    /// without end: a hand-written fetch loop.
    Naive,
    /// The origin only, two requests at a time, each failed chunk retried after a full-jitter backoff
    /// (0.5 s doubling up to 30 s).
    Backoff,
    /// cartable: the swarm's lottery decides who fetches each chunk over HTTP while classmates wait for it;
    /// the scheduler sends it (mirrors first when saving, breakers, `Retry-After`, retry budget, hedges).
    Cartable,
}

impl Policy {
    /// The three policies, in the order they are reported.
    pub const ALL: [Policy; 3] = [Policy::Naive, Policy::Backoff, Policy::Cartable];

    /// A short name for tables and files.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Naive => "naive",
            Policy::Backoff => "backoff",
            Policy::Cartable => "cartable",
        }
    }
}

impl Region {
    /// A morning for `students`: classes of 30, courses of 12 chunks of 256 KiB, 2 hours of arrivals, an
    /// origin of 100 requests/s and 12.5 MB/s that is down from 08:10 to 08:20 and refuses beyond its rate,
    /// `mirrors` mirrors of 500 requests/s and 125 MB/s (the first of two or more lies about one chunk in
    /// four), one chunk answer in a hundred stalling on every server, an 8 KiB manifest and a first lesson
    /// of one chunk, 20 % of students out of reach of their classmates and one pair of classmates in ten
    /// unable to link directly, 250 kB/s of upload each, links to classmates open 1.5 s after the manifest
    /// came, 20 minutes on average on the page once served, no TURN relay, baselines that know the origin
    /// only.
    pub fn morning(students: usize, mirrors: usize) -> Region {
        let mirror = |index: usize| Server {
            rps: 500,
            bandwidth: 125_000_000,
            latency: 80,
            retry_after_s: Some(5),
            down: None,
            lies_every: if index == 0 && mirrors >= 2 { 4 } else { 0 },
            waiting_room: false,
            overload: Overload::Refuse,
            stalls: 0.01,
        };
        Region {
            students,
            class_size: 30,
            chunks: 12,
            chunk_size: 256 * 1024,
            morning: 120 * MINUTE,
            patience: 60 * MINUTE,
            stay: 20 * MINUTE,
            origin: Server {
                rps: 100,
                bandwidth: 12_500_000,
                latency: 50,
                retry_after_s: Some(5),
                down: Some((70 * MINUTE, 80 * MINUTE)),
                lies_every: 0,
                waiting_room: false,
                overload: Overload::Refuse,
                stalls: 0.01,
            },
            mirrors: (0..mirrors).map(mirror).collect(),
            unreachable: 0.2,
            returning: 0.0,
            pair_failure: 0.1,
            peer_upload: 250_000,
            peer_latency: 150,
            peer_connect: 1_500,
            baseline_mirrors: BaselineMirrors::None,
            turn: None,
            manifest_bytes: 8 * 1024,
            reading_chunks: 1,
        }
    }

    /// Bytes of one course.
    pub fn course_bytes(&self) -> u64 {
        self.chunk_size.saturating_mul(self.chunks as u64)
    }

    /// The last time anything can happen: the last arrival plus the patience.
    pub fn horizon(&self) -> Millis {
        self.morning.saturating_add(self.patience)
    }

    /// The peak demand of the morning drawn from `seed`, in chunk requests per second: the busiest
    /// minute's arrivals, each wanting the whole course, spread over that minute.
    pub fn peak_demand(&self, seed: u64) -> f64 {
        let arrivals = world::arrivals(self, &mut crate::random::SplitMix64::new(seed));
        let mut per_minute = vec![0u32; (self.morning / MINUTE) as usize + 1];
        for arrival in &arrivals {
            if let Some(count) = per_minute.get_mut((arrival.at / MINUTE) as usize) {
                *count += 1;
            }
        }
        let busiest = per_minute.into_iter().max().unwrap_or(0);
        f64::from(busiest) * self.chunks.min(64) as f64 / 60.0
    }

    /// Sizes the servers for the morning drawn from `seed`: the origin to `origin_share` (0 to 1) of its
    /// peak demand and each mirror to `mirror_share` of it (at least 1 request/s each), each with the
    /// bandwidth to send that many chunks every second.
    pub fn with_shares(mut self, origin_share: f64, mirror_share: f64, seed: u64) -> Region {
        let peak = self.peak_demand(seed);
        let rate = |share: f64| (peak * share).ceil().max(1.0) as u32;
        let chunk_size = self.chunk_size;
        self.origin.set_rate(rate(origin_share.clamp(0.0, 1.0)), chunk_size);
        for mirror in &mut self.mirrors {
            mirror.set_rate(rate(mirror_share.max(0.0)), chunk_size);
        }
        self
    }
}

impl Server {
    /// Sets its rate to `rps` requests per second, with the bandwidth to send that many chunks of
    /// `chunk_size` bytes every second.
    pub fn set_rate(&mut self, rps: u32, chunk_size: u64) {
        self.rps = rps;
        self.bandwidth = u64::from(rps).saturating_mul(chunk_size);
    }
}

#[cfg(test)]
mod tests;
