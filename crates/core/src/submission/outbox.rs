//! The outbox: every submission not yet acknowledged, and when to try each again. The edge asks
//! [`Outbox::due`] what to send, sends it, and reports how it went with [`Outbox::finish`]; nothing
//! leaves the outbox but a receipt.

use super::{Receipt, Submission};

/// First retry delay after a failure; the n-th retry waits a uniform random time in
/// `0..min(BACKOFF_CAP, BACKOFF_BASE × 2^(n-1))` (full jitter), so a class coming back online does not
/// knock on the origin all at once. Also the most jitter added to an origin's `Retry-After` (a second).
pub const BACKOFF_BASE: u64 = 1_000;
/// Longest retry delay.
pub const BACKOFF_CAP: u64 = 60_000;

/// Where one submission stands.
#[derive(Clone, Debug, PartialEq)]
pub enum State {
    /// Waiting to be sent, not before `not_before` (milliseconds, the caller's clock); `failures` so far.
    Pending {
        /// Attempts that failed in a row.
        failures: u32,
        /// Earliest time of the next attempt.
        not_before: u64,
    },
    /// An attempt is on its way.
    Sending {
        /// Attempts that failed in a row before this one.
        failures: u32,
    },
    /// The origin stored it and gave this receipt: final.
    Delivered(Receipt),
    /// The origin refused it for good (400: it breaks a rule); kept, and sent again only when asked.
    Refused(String),
}

/// One submission and where it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The submission, as saved.
    pub submission: Submission,
    /// Its state.
    pub state: State,
}

/// How one attempt ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The origin stored it (now or earlier) and gave its receipt.
    Receipt(Receipt),
    /// The origin is overloaded (503 or 429), maybe saying when to come back (`Retry-After`, in ms).
    Busy(Option<u64>),
    /// No answer: the network, the origin down, or an answer lost on the way. The origin may have stored
    /// it: the same key is sent again, so that is harmless.
    Lost,
    /// The origin refused it for good, with its message.
    Refused(String),
}

/// The statuses by which an origin refuses a submission for good: a rule it breaks (400), a course the
/// origin no longer serves (404), too large (413). Posting the same body again would get the same answer,
/// so the outbox keeps the work and waits for the pupil. `www/sw.js` refuses the same ones.
pub const REFUSED_FOR_GOOD: [u16; 3] = [400, 404, 413];

impl Outcome {
    /// How an attempt that got `status` with `body` ended, for the submission `key`: a receipt for that
    /// key, the origin busy (503, 429, with its `Retry-After` in ms), refused for good, or lost.
    pub fn of_answer(status: u16, body: &[u8], key: &str, retry_after_ms: Option<u64>) -> Outcome {
        match status {
            200 => super::receipt_from_json(body, key).map_or(Outcome::Lost, Outcome::Receipt),
            503 | 429 => Outcome::Busy(retry_after_ms),
            _ if REFUSED_FOR_GOOD.contains(&status) => {
                Outcome::Refused(String::from_utf8_lossy(body).trim().to_owned())
            }
            _ => Outcome::Lost,
        }
    }
}

/// Every submission a page knows of, delivered or not.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outbox {
    entries: Vec<Entry>,
}

impl Outbox {
    /// The entries, in the order they were added.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Adds a saved submission, to be sent at once; a key already known is left as it is.
    pub fn add(&mut self, submission: Submission) {
        if self.entry(&submission.key).is_none() {
            self.entries.push(Entry { submission, state: State::Pending { failures: 0, not_before: 0 } });
        }
    }

    /// Adds a submission already delivered (read back from storage with its receipt).
    pub fn add_delivered(&mut self, submission: Submission, receipt: Receipt) {
        match self.entries.iter_mut().find(|entry| entry.submission.key == submission.key) {
            Some(entry) => entry.state = State::Delivered(receipt),
            None => self.entries.push(Entry { submission, state: State::Delivered(receipt) }),
        }
    }

    /// Adds a submission the origin refused for good, read back from storage with the origin's `reason`
    /// (by this page before a reload, by another tab or by the service worker): it waits for the pupil's
    /// "send now". A key already known keeps its state: a receipt, or this page's own attempt, is newer.
    pub fn add_refused(&mut self, submission: Submission, reason: String) {
        if self.entry(&submission.key).is_none() {
            self.entries.push(Entry { submission, state: State::Refused(reason) });
        }
    }

    /// The entry of `key`, if known.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|entry| entry.submission.key == key)
    }

    /// The submissions to send now, marked as sending: pending ones whose time has come.
    pub fn due(&mut self, now: u64) -> Vec<Submission> {
        let mut due = Vec::new();
        for entry in &mut self.entries {
            if let State::Pending { failures, not_before } = entry.state {
                if not_before <= now {
                    entry.state = State::Sending { failures };
                    due.push(entry.submission.clone());
                }
            }
        }
        due
    }

    /// "Send now": every pending or refused entry may go at once, backoff forgotten.
    pub fn hurry(&mut self) {
        for entry in &mut self.entries {
            match entry.state {
                State::Pending { failures, .. } => entry.state = State::Pending { failures, not_before: 0 },
                State::Refused(_) => entry.state = State::Pending { failures: 0, not_before: 0 },
                _ => {}
            }
        }
    }

    /// Records how the attempt for `key` ended, at `now`, with `random` in `[0, 1)`. A receipt is final
    /// whatever the entry's state (a duplicate receipt changes nothing); a busy origin is waited for at
    /// least its `Retry-After`, plus jitter; a lost attempt backs off and sends the same key again.
    pub fn finish(&mut self, key: &str, outcome: Outcome, now: u64, random: f64) {
        let Some(entry) = self.entries.iter_mut().find(|entry| entry.submission.key == key) else { return };
        if matches!(entry.state, State::Delivered(_)) {
            return;
        }
        let failures = match entry.state {
            State::Pending { failures, .. } | State::Sending { failures } => failures,
            _ => 0,
        };
        entry.state = match outcome {
            Outcome::Receipt(receipt) => State::Delivered(receipt),
            Outcome::Refused(message) => State::Refused(message),
            // A `Retry-After` is the origin's word, however large: added with saturation, never past the end
            // of time.
            Outcome::Busy(retry_after) => {
                let failures = failures.saturating_add(1);
                let backoff = backoff(failures, random);
                let wait = retry_after.map_or(backoff, |ms| ms.saturating_add((random * BACKOFF_BASE as f64) as u64));
                State::Pending { failures, not_before: now.saturating_add(wait) }
            }
            Outcome::Lost => {
                let failures = failures.saturating_add(1);
                State::Pending { failures, not_before: now.saturating_add(backoff(failures, random)) }
            }
        };
    }

    /// When the next pending entry may go (`None` when none waits), for the edge's timer.
    pub fn wake_at(&self) -> Option<u64> {
        self.entries
            .iter()
            .filter_map(|entry| match entry.state {
                State::Pending { not_before, .. } => Some(not_before),
                _ => None,
            })
            .min()
    }

    /// How many entries have no receipt yet.
    pub fn undelivered(&self) -> usize {
        self.entries.iter().filter(|entry| !matches!(entry.state, State::Delivered(_))).count()
    }
}

/// The delay before retry number `retry` (1 for the first): the scheduler's full jitter.
fn backoff(retry: u32, random: f64) -> u64 {
    crate::fetch::full_jitter(BACKOFF_BASE, BACKOFF_CAP, retry, random)
}
