//! The source scheduler: which chunk to ask of which source, and when. Pure: the caller passes the time
//! (monotonic milliseconds) and a source of random numbers, performs the requests it is told to start,
//! verifies the bytes, and reports back. Nothing here touches the network, a clock or a store.
//!
//! The scheduler protects the sources as much as it uses them: a circuit breaker per source, full-jitter
//! exponential backoff, `Retry-After` honoured, a per-client retry budget, stall and timeout detection,
//! hedged requests only towards mirrors and peers, and a session ban for any source that sends bytes which
//! fail verification. [`scenario`] simulates a class of such clients against scripted sources.

mod config;
mod manifest;
mod plan;
mod retry_after;
mod scheduler;
mod source;

pub mod scenario;

pub use config::{full_jitter, Config};
pub use manifest::{ManifestRetry, MANIFEST_PAUSE_BASE, MANIFEST_PAUSE_CAP, MANIFEST_TRIES, MANIFEST_WAIT};
pub use retry_after::retry_after_ms;
pub use scheduler::Scheduler;

use crate::cid::Cid;

/// Monotonic milliseconds, passed in by the caller. Only differences between two values mean anything.
pub type Millis = u64;

/// What a page keeps of one source when it reloads ([`Scheduler::remembered`], [`Scheduler::recall`]), so
/// that a pupil pressing reload does not undo the protection: a liar stays banned, and an origin or
/// mirror that refused is left alone for what remained of its breaker or `Retry-After`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Remembered {
    /// Banned for sending bad bytes (never the origin).
    pub banned: bool,
    /// How long it is still to be left alone after refusals, in milliseconds.
    pub quiet_ms: Millis,
}

/// How long a ban is remembered across reloads, from the last page that kept it: a liar is set aside for
/// the rest of the morning, not for ever (a mirror's operator may repair it).
pub const REMEMBER_BAN_MS: Millis = 3_600_000;

impl Remembered {
    /// This memory as a page keeps it, in text: `<ban end>,<quiet end>`, in whole seconds of the wall
    /// clock from `wall_ms` (milliseconds since the epoch); `None` when there is nothing to keep.
    pub fn to_text(self, wall_ms: u64) -> Option<String> {
        if self == Remembered::default() {
            return None;
        }
        let ban_end = if self.banned { wall_ms.saturating_add(REMEMBER_BAN_MS) / 1000 } else { 0 };
        let quiet_end = if self.quiet_ms > 0 { wall_ms.saturating_add(self.quiet_ms).div_ceil(1000) } else { 0 };
        Some(format!("{ban_end},{quiet_end}"))
    }

    /// What is left at `wall_ms` of a memory kept as `text` by [`Remembered::to_text`]; nothing for text
    /// in any other form.
    pub fn from_text(text: &str, wall_ms: u64) -> Remembered {
        let mut fields = text.split(',').map(|field| field.trim().parse::<u64>().ok());
        let (Some(Some(ban_end)), Some(Some(quiet_end)), None) = (fields.next(), fields.next(), fields.next()) else {
            return Remembered::default();
        };
        Remembered {
            banned: ban_end.saturating_mul(1000) > wall_ms,
            quiet_ms: quiet_end.saturating_mul(1000).saturating_sub(wall_ms),
        }
    }
}

/// A source, as the index of its kind in the slice given to [`Scheduler::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(pub usize);

/// What a source is, which decides how much it is trusted with load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// The school's own server: authoritative, preferred while healthy, protected when it is not.
    Origin,
    /// A static mirror or IPFS gateway laid out as `/ipfs/<cid>`.
    Mirror,
    /// A classmate's browser over a WebRTC data channel.
    Peer,
}

/// The identity of one attempt, unique within a [`Scheduler`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttemptId(pub u64);

/// One request to start: chunk `cid` from exactly one `source`. The caller reports its end with
/// [`Scheduler::finish`], whatever happens, unless the attempt was in [`Plan::cancel`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The attempt's identity, to pass back to [`Scheduler::progress`] and [`Scheduler::finish`].
    pub id: AttemptId,
    /// The chunk to fetch.
    pub cid: Cid,
    /// The one source to ask.
    pub source: SourceId,
    /// True for a hedge: a second attempt for a chunk whose first attempt is running late.
    pub hedge: bool,
}

/// How an attempt ended, as the caller saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The bytes matched the CID (the caller verified and stored them).
    Verified {
        /// How many bytes the chunk had.
        bytes: u64,
    },
    /// The bytes did not match the CID or the expected length: the source is banned for the session.
    Corrupt,
    /// Any HTTP status but 200.
    Status {
        /// The status code.
        code: u16,
        /// The `Retry-After` delay, if the answer had one (see [`retry_after_ms`]).
        retry_after_ms: Option<u64>,
    },
    /// No answer, a dropped connection, a CORS refusal.
    NetworkError,
    /// No connected classmate holds the chunk: asked elsewhere meanwhile, and of the classmates again
    /// once one says it holds it (a source's own "not here", as an HTTP 404 is a server's).
    NotHeld,
    /// The caller aborted it because the plan said so (or for a reason of its own: then the chunk is
    /// simply asked again, with no blame on the source).
    Cancelled,
}

/// What to do now, as decided by [`Scheduler::poll`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Attempts to start now, each towards its one source.
    pub start: Vec<Attempt>,
    /// Attempts to abort: stalled, timed out, or a hedge whose twin already won. The scheduler has
    /// already forgotten them; reporting their end is allowed and ignored.
    pub cancel: Vec<AttemptId>,
    /// The latest time to call `poll` again (sooner after any `finish`); `None` when nothing is waiting
    /// on time.
    pub wake_at: Option<Millis>,
}

/// How the origin is doing, for the page to explain what it sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OriginState {
    /// Answering (or not asked yet).
    Healthy,
    /// It refused recently (503, 429 or another error status): its breaker is open or half-open, or it
    /// asked to wait with `Retry-After`.
    Saturated,
    /// No answer at all recently (network errors, stalls, timeouts): its breaker is open or half-open.
    Down,
}

/// The state of a source's circuit breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Breaker {
    /// Requests flow.
    Closed,
    /// Too many failures in a row: no request until a jittered delay has passed.
    Open,
    /// The delay has passed: one probe request decides whether to close or open again.
    HalfOpen,
}

/// The counters of one source, for figures and for the page.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceReport {
    /// What the source is.
    pub kind: SourceKind,
    /// Attempts started towards it.
    pub requests: u64,
    /// Attempts that failed: error status, network error, stall, timeout, corrupt bytes.
    pub failures: u64,
    /// Verified bytes it delivered.
    pub bytes: u64,
    /// Its circuit breaker.
    pub breaker: Breaker,
    /// True once it sent bytes that failed verification: it is never asked again in the session.
    pub banned: bool,
}

/// The health figures of one source (see [`Scheduler::health`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Health {
    /// Exponentially weighted mean latency of its verified answers, in milliseconds.
    pub latency_ewma: Option<f64>,
    /// Exponentially weighted share of its attempts that failed, from 0 to 1.
    pub error_rate: f64,
    /// The 95th percentile of its recent latencies, once it has enough samples to hedge on.
    pub p95: Option<Millis>,
    /// The score it is chosen by: higher is better.
    pub score: f64,
}

#[cfg(test)]
mod tests;
