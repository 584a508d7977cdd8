//! What happened to course requests under `cartable serve`: counters shared by every connection, and the
//! two ways they are reported (a summary line on standard error, JSON at `/_cartable/stats`).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// The live counters. Each course request is `received` once, then ends as exactly one of `ok`,
/// `refused`, `dropped` or `other`; `stalled` and `corrupted` count `ok` answers whose body was spoiled.
#[derive(Debug, Default)]
pub struct Counters {
    received: AtomicU64,
    ok: AtomicU64,
    refused: AtomicU64,
    dropped: AtomicU64,
    other: AtomicU64,
    stalled: AtomicU64,
    corrupted: AtomicU64,
}

/// One outcome to count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A course request arrived.
    Received,
    /// Answered 200.
    Ok,
    /// Refused with 503 or 429 beyond capacity.
    Refused,
    /// Its connection was dropped without an answer.
    Dropped,
    /// Answered with another status (404, 405, 204 for a preflight...).
    Other,
    /// A 200 whose body stopped part way, the connection left open.
    Stalled,
    /// A 200 whose bytes were altered.
    Corrupted,
}

/// A snapshot of the counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Course requests received.
    pub received: u64,
    /// Answered 200 (bodies possibly stalled or corrupted).
    pub ok: u64,
    /// Refused beyond capacity.
    pub refused: u64,
    /// Dropped without an answer.
    pub dropped: u64,
    /// Answered with another status.
    pub other: u64,
    /// 200s whose body stalled.
    pub stalled: u64,
    /// 200s whose bytes were altered.
    pub corrupted: u64,
}

impl Counters {
    /// Counts one `event`; returns the new count of its kind.
    pub fn add(&self, event: Event) -> u64 {
        let counter = match event {
            Event::Received => &self.received,
            Event::Ok => &self.ok,
            Event::Refused => &self.refused,
            Event::Dropped => &self.dropped,
            Event::Other => &self.other,
            Event::Stalled => &self.stalled,
            Event::Corrupted => &self.corrupted,
        };
        counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The counts now.
    pub fn snapshot(&self) -> Stats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Stats {
            received: read(&self.received),
            ok: read(&self.ok),
            refused: read(&self.refused),
            dropped: read(&self.dropped),
            other: read(&self.other),
            stalled: read(&self.stalled),
            corrupted: read(&self.corrupted),
        }
    }
}

impl Stats {
    /// The counts as a JSON object, keys as the field names.
    pub fn to_json(self) -> String {
        serde_json::json!({
            "received": self.received,
            "ok": self.ok,
            "refused": self.refused,
            "dropped": self.dropped,
            "other": self.other,
            "stalled": self.stalled,
            "corrupted": self.corrupted,
        })
        .to_string()
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Stats { received, ok, refused, dropped, other, stalled, corrupted } = self;
        write!(
            f,
            "cartable serve: course requests: {received} received, {ok} ok (200), {refused} refused, \
             {dropped} dropped, {other} other; {stalled} stalled, {corrupted} corrupted"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_reports() {
        let counters = Counters::default();
        for event in [Event::Received, Event::Received, Event::Ok, Event::Corrupted, Event::Received, Event::Refused] {
            counters.add(event);
        }
        assert_eq!(counters.add(Event::Received), 4);
        let stats = counters.snapshot();
        assert_eq!(stats, Stats { received: 4, ok: 1, refused: 1, corrupted: 1, ..Stats::default() });
        assert_eq!(
            stats.to_string(),
            "cartable serve: course requests: 4 received, 1 ok (200), 1 refused, 0 dropped, 0 other; \
             0 stalled, 1 corrupted"
        );
        let json: serde_json::Value = serde_json::from_str(&stats.to_json()).unwrap();
        assert_eq!(json["received"], 4);
        assert_eq!(json["corrupted"], 1);
        assert_eq!(json["dropped"], 0);
    }
}
