//! When a page announces itself to the tracker again. The tracker names an interval (two minutes by
//! default); a page connected to no classmate while the tracker counts others in the swarm announces
//! sooner, with fresh offers: a first connection attempt that failed (ICE through a busy relay, a
//! classmate who left before answering) is then tried again within half a minute, not two minutes later.
//! A page with classmates, or alone in the swarm (a pupil working at home), keeps the tracker's pace:
//! offers cost a low-end Chromebook, and relay allocations cost the school.

use crate::fetch::Millis;

/// The longest wait before a page that is connected to no classmate, with others in the swarm, announces
/// again.
pub const ALONE_ANNOUNCE_MS: Millis = 20_000;

/// The wait before the next announce, given the tracker's `interval_ms`, how many classmates are
/// `connected`, how many `others` the tracker counts in the swarm, and `random` in `[0, 1)`: the tracker's
/// interval, or for a page cut off from others the shorter of it and [`ALONE_ANNOUNCE_MS`], drawn in its
/// upper half so that a class does not announce in step.
pub fn next_announce_ms(interval_ms: Millis, connected: usize, others: u64, random: f64) -> Millis {
    if connected > 0 || others == 0 {
        return interval_ms;
    }
    let ceiling = interval_ms.min(ALONE_ANNOUNCE_MS);
    let random = if random.is_finite() { random.clamp(0.0, 1.0) } else { 0.0 };
    ceiling / 2 + ((ceiling / 2) as f64 * random) as Millis
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_cut_off_from_its_class_announces_again_within_twenty_seconds_the_others_at_the_trackers_pace() {
        assert_eq!(next_announce_ms(120_000, 3, 5, 0.5), 120_000, "with classmates");
        assert_eq!(next_announce_ms(120_000, 0, 0, 0.5), 120_000, "alone in the swarm");
        assert_eq!(next_announce_ms(120_000, 0, 4, 0.0), 10_000);
        assert_eq!(next_announce_ms(120_000, 0, 4, 0.999_999), 19_999);
        assert_eq!(next_announce_ms(8_000, 0, 4, 0.5), 6_000, "never later than the tracker asks");
        for random in [f64::NAN, -1.0, 2.0, f64::INFINITY] {
            assert!((10_000..=20_000).contains(&next_announce_ms(120_000, 0, 4, random)), "{random}");
        }
    }
}
