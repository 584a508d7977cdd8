//! What one policy's morning measured, and the summaries the tool prints: shares of students served
//! within a delay, percentiles of the time to the coursework, the origin's load minute by minute.

use super::{Policy, MINUTE};
use crate::fetch::Millis;

/// The measures of one policy's run. Times of students are from their arrival; times of the origin's
/// load are seconds since 07:00.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    /// The policy measured.
    pub policy: Option<Policy>,
    /// Per student (in arrival order): time to the whole coursework, `None` if they gave up.
    pub finished: Vec<Option<Millis>>,
    /// Per second: requests that reached the origin (accepted or refused; not those it was down for).
    pub origin_offered: Vec<u32>,
    /// Per second: requests the origin accepted.
    pub origin_accepted: Vec<u32>,
    /// Per second: requests that reached the origin from clients it had refused or left unanswered
    /// before (retries, probes): the load a client's policy controls once it knows.
    pub origin_after_refusal: Vec<u32>,
    /// The origin's capacity, in requests per second.
    pub origin_rps: u32,
    /// Verified bytes the origin delivered, counted where it sent them.
    pub bytes_origin: u64,
    /// Verified bytes the mirrors delivered.
    pub bytes_mirrors: u64,
    /// Verified bytes classmates delivered.
    pub bytes_peers: u64,
    /// Bytes students kept (each verified chunk once), counted on the students' side.
    pub bytes_kept: u64,
    /// Bytes delivered for a chunk the student already had (a hedge's twin landing late).
    pub bytes_duplicate: u64,
    /// Bytes refused because they failed their CID.
    pub bytes_refused: u64,
    /// Chunks kept although their bytes did not match their CID. Must be 0.
    pub corrupt_accepted: u64,
    /// When a student's scheduler first held back from the origin (breaker not closed, or a
    /// `Retry-After`), for the cartable policy.
    pub origin_protected_at: Option<Millis>,
    /// Most students present at once (the schedulers alive at once, for the cartable policy).
    pub peak_present: usize,
    /// Cartable pages left with every source failed, restarted by their pupil.
    pub restarts: u64,
    /// Transfers between classmates cut because the sender left while sending (the receiver asks again).
    pub peer_cut: u64,
    /// Stalled answers from servers that cartable pages gave up on (their stall timeout) to ask again.
    pub stalls_caught: u64,
    /// Events handled.
    pub events: u64,
    /// Cartable pages that took today's manifest from a classmate ([`super::Region::returning`]).
    pub manifest_from_classmates: u64,
    /// Cartable pages the origin had refused that got the manifest from the origin later: each came back
    /// at least once, a load no client policy avoids when only the origin holds the manifest.
    pub manifest_origin_after_refusal: u64,
}

/// The origin's load over one minute.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Minute {
    /// Minutes since 07:00.
    pub minute: usize,
    /// Mean requests per second that reached the origin.
    pub offered_mean: f64,
    /// The busiest second's requests.
    pub offered_peak: u32,
    /// Mean requests per second the origin accepted.
    pub accepted_mean: f64,
}

impl Figures {
    /// Share of students, from 0 to 1, with the whole coursework within `delay` of their arrival.
    pub fn share_within(&self, delay: Millis) -> f64 {
        let served = self.finished.iter().flatten().filter(|&&time| time <= delay).count();
        served as f64 / self.finished.len().max(1) as f64
    }

    /// The `q`-quantile (0 to 1) of the time to the coursework over all students, `None` when the
    /// student at that rank gave up.
    pub fn quantile(&self, q: f64) -> Option<Millis> {
        let mut times: Vec<Millis> = self.finished.iter().map(|time| time.unwrap_or(Millis::MAX)).collect();
        if times.is_empty() {
            return None;
        }
        times.sort_unstable();
        let rank = ((times.len() as f64 * q.clamp(0.0, 1.0)).ceil() as usize).clamp(1, times.len()) - 1;
        times.get(rank).copied().filter(|&time| time != Millis::MAX)
    }

    /// Students who gave up.
    pub fn gave_up(&self) -> usize {
        self.finished.iter().filter(|time| time.is_none()).count()
    }

    /// Verified bytes from every source together.
    pub fn bytes_delivered(&self) -> u64 {
        self.bytes_origin + self.bytes_mirrors + self.bytes_peers
    }

    /// The origin's load minute by minute.
    pub fn minutes(&self) -> Vec<Minute> {
        let per_minute = (MINUTE / 1000) as usize;
        let offered = self.origin_offered.chunks(per_minute);
        let accepted = self.origin_accepted.chunks(per_minute);
        offered
            .zip(accepted)
            .enumerate()
            .map(|(minute, (offered, accepted))| Minute {
                minute,
                offered_mean: mean(offered),
                offered_peak: offered.iter().copied().max().unwrap_or(0),
                accepted_mean: mean(accepted),
            })
            .collect()
    }

    /// The highest mean rate of requests reaching the origin over any `window` consecutive seconds from
    /// second `from` on.
    pub fn origin_peak_rate(&self, from: usize, window: usize) -> f64 {
        peak_rate(&self.origin_offered, from, window)
    }

    /// Like [`Figures::origin_peak_rate`], for the requests of clients the origin had refused before.
    pub fn origin_peak_retry_rate(&self, from: usize, window: usize) -> f64 {
        peak_rate(&self.origin_after_refusal, from, window)
    }
}

fn peak_rate(per_second: &[u32], from: usize, window: usize) -> f64 {
    let tail = per_second.get(from..).unwrap_or_default();
    tail.windows(window.max(1)).map(mean).fold(0.0, f64::max)
}

fn mean(values: &[u32]) -> f64 {
    values.iter().map(|&value| f64::from(value)).sum::<f64>() / values.len().max(1) as f64
}
