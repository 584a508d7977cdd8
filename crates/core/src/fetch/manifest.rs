//! How a page asks a saturated origin for the course's manifest again when no mirror has a copy: a few
//! times at most, after full-jitter pauses that honour its `Retry-After`, so that a class opening the
//! course in the same minute does not hammer the origin that said it would come back.

use super::{full_jitter, Millis};

/// How long a server (the origin, then each mirror) has to send the manifest before the page counts it
/// unanswered and asks the next. A saturated origin that refuses at once (503, 429) is passed over at once.
pub const MANIFEST_WAIT: Millis = 8_000;
/// Times in all a saturated origin (503, 429) is asked for the manifest when no mirror has it.
pub const MANIFEST_TRIES: u32 = 6;
/// The ceiling of the first pause's jitter; it doubles with each try, up to [`MANIFEST_PAUSE_CAP`].
pub const MANIFEST_PAUSE_BASE: Millis = 2_000;
/// The longest jitter ceiling of one pause, before `Retry-After`.
pub const MANIFEST_PAUSE_CAP: Millis = 16_000;

/// The manifest's retries after a saturated origin refused it once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManifestRetry {
    /// Times the origin was asked so far, the first refusal included.
    asked: u32,
    /// The `Retry-After` of its last refusal.
    retry_after_ms: Option<Millis>,
}

impl ManifestRetry {
    /// After a first refusal, which named `retry_after_ms` or not.
    pub fn after(retry_after_ms: Option<Millis>) -> ManifestRetry {
        ManifestRetry { asked: 1, retry_after_ms }
    }

    /// How long to wait before asking again, given `random` in `[0, 1)`: the last `Retry-After` plus
    /// full jitter; `None` once the origin has been asked [`MANIFEST_TRIES`] times.
    pub fn pause(&mut self, random: f64) -> Option<Millis> {
        if self.asked >= MANIFEST_TRIES {
            return None;
        }
        let jitter = full_jitter(MANIFEST_PAUSE_BASE, MANIFEST_PAUSE_CAP, self.asked, random);
        self.asked += 1;
        Some(self.retry_after_ms.unwrap_or(0).saturating_add(jitter))
    }

    /// The origin refused again, naming `retry_after_ms` or not.
    pub fn refused(&mut self, retry_after_ms: Option<Millis>) {
        self.retry_after_ms = retry_after_ms;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saturated_origin_is_asked_five_times_more_after_growing_pauses_and_its_retry_after() {
        let mut retry = ManifestRetry::after(None);
        let ceilings: Vec<_> = std::iter::from_fn(|| retry.pause(0.999_999)).collect();
        assert_eq!(ceilings.len() as u32, MANIFEST_TRIES - 1, "six asks in all");
        assert_eq!(ceilings, [1_999, 3_999, 7_999, 15_999, 15_999]);
        let mut retry = ManifestRetry::after(Some(30_000));
        assert_eq!(retry.pause(0.0), Some(30_000), "never before its Retry-After");
        retry.refused(None);
        assert_eq!(retry.pause(0.0), Some(0));
        retry.refused(Some(u64::MAX));
        assert_eq!(retry.pause(0.5), Some(u64::MAX), "a Retry-After past the end of time, without overflow");
    }
}
