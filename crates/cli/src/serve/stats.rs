//! What happened to requests under `cartable serve`: counters shared by every connection, the body bytes
//! sent, and the two ways they are reported (a summary line on standard error, JSON at
//! `/_cartable/stats`).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// The live counters. Each request the faults cover (every one but the statistics' and the tracker's;
/// those under `/courses/` only with `--spare-app`) is `received` once, then ends as exactly one of
/// `ok`, `refused`, `dropped` or `other`; `stalled` and `corrupted` count `ok` answers whose body was
/// spoiled. The bytes count every answer, covered or not.
#[derive(Debug, Default)]
pub struct Counters {
    received: AtomicU64,
    ok: AtomicU64,
    refused: AtomicU64,
    dropped: AtomicU64,
    other: AtomicU64,
    stalled: AtomicU64,
    corrupted: AtomicU64,
    app_bytes: AtomicU64,
    course_bytes: AtomicU64,
    other_bytes: AtomicU64,
}

/// One outcome to count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A request arrived.
    Received,
    /// Answered 200, or 304 (not modified).
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

/// What an answer's body bytes were, for the figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The app: pages, `/pkg/`, `sw.js`, static files (not under `/courses/`, not the teacher view).
    App,
    /// Courses: manifests and chunks under `/courses/` (submissions excepted).
    Course,
    /// Submissions, the teacher view, and errors (refusals and other 4xx and 5xx).
    Other,
}

/// Body bytes the origin sent, by [`Part`]: as they went on the wire (compressed when compressed;
/// nothing for a `HEAD`, a 304 or a dropped connection; the prefix sent of a stalled body).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BytesSent {
    /// Of the app.
    pub app: u64,
    /// Of courses.
    pub course: u64,
    /// Of the rest.
    pub other: u64,
}

/// A snapshot of the counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests received.
    pub received: u64,
    /// Answered 200 or 304 (bodies possibly stalled or corrupted).
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
    /// Body bytes sent.
    pub bytes: BytesSent,
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

    /// Counts `bytes` of body sent for `part`.
    pub fn sent(&self, part: Part, bytes: u64) {
        let counter = match part {
            Part::App => &self.app_bytes,
            Part::Course => &self.course_bytes,
            Part::Other => &self.other_bytes,
        };
        counter.fetch_add(bytes, Ordering::Relaxed);
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
            bytes: BytesSent {
                app: read(&self.app_bytes),
                course: read(&self.course_bytes),
                other: read(&self.other_bytes),
            },
        }
    }
}

impl Stats {
    /// The counts as a JSON object, keys as the field names (`bytes` an object of its own).
    pub fn to_json(self) -> String {
        serde_json::json!({
            "received": self.received,
            "ok": self.ok,
            "refused": self.refused,
            "dropped": self.dropped,
            "other": self.other,
            "stalled": self.stalled,
            "corrupted": self.corrupted,
            "bytes": {"app": self.bytes.app, "course": self.bytes.course, "other": self.bytes.other},
        })
        .to_string()
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Stats { received, ok, refused, dropped, other, stalled, corrupted, bytes } = self;
        let BytesSent { app, course, other: other_bytes } = bytes;
        write!(
            f,
            "cartable serve: requests: {received} received, {ok} ok (200 or 304), {refused} refused, \
             {dropped} dropped, {other} other; {stalled} stalled, {corrupted} corrupted; \
             bytes sent: {app} app, {course} course, {other_bytes} other"
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
        for (part, bytes) in [(Part::App, 1000), (Part::Course, 20), (Part::App, 300), (Part::Other, 5)] {
            counters.sent(part, bytes);
        }
        let stats = counters.snapshot();
        let bytes = BytesSent { app: 1300, course: 20, other: 5 };
        assert_eq!(stats, Stats { received: 4, ok: 1, refused: 1, corrupted: 1, bytes, ..Stats::default() });
        assert_eq!(
            stats.to_string(),
            "cartable serve: requests: 4 received, 1 ok (200 or 304), 1 refused, 0 dropped, 0 other; \
             0 stalled, 1 corrupted; bytes sent: 1300 app, 20 course, 5 other"
        );
        let json: serde_json::Value = serde_json::from_str(&stats.to_json()).unwrap();
        assert_eq!(json["received"], 4);
        assert_eq!(json["corrupted"], 1);
        assert_eq!(json["dropped"], 0);
        assert_eq!(json["bytes"], serde_json::json!({"app": 1300, "course": 20, "other": 5}));
    }
}
