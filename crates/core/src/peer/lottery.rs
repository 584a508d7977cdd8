//! The swarm's lottery: who asks the origin for a chunk, and how long to wait for a classmate who said
//! they were fetching it. Pure: the caller passes a uniform random number in `[0, 1)` and the time.

use crate::fetch::Millis;

/// Whether I should fetch a missing chunk over HTTP while the origin is saturated: true with probability
/// `1 / swarm_size`, so that about one peer of the swarm asks the origin for each chunk and the others
/// wait for its Have. `swarm_size` counts me; 0 or 1 (I am alone) is always true. `random` is uniform
/// in `[0, 1)`; anything outside that (NaN included) is false unless I am alone.
pub fn fetch_from_http(swarm_size: usize, random: f64) -> bool {
    swarm_size <= 1 || ((0.0..1.0).contains(&random) && random * (swarm_size as f64) < 1.0)
}

/// Whether to keep waiting for a peer that announced (with `Fetching`) at `fetching_announced_at` that it
/// is fetching a chunk: true until `patience` has elapsed since the announce, then false (fetch anyway).
/// No announce: false. A `now` before the announce counts as no time elapsed.
pub fn wait_for_peer(fetching_announced_at: Option<Millis>, now: Millis, patience: Millis) -> bool {
    fetching_announced_at.is_some_and(|at| now.saturating_sub(at) < patience)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic uniform source in `[0, 1)` (xorshift64).
    fn draws(count: usize) -> impl Iterator<Item = f64> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        (0..count).map(move |_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        })
    }

    #[test]
    fn about_one_peer_in_the_swarm_fetches_from_http() {
        let count = 100_000;
        for swarm_size in [2, 3, 5, 10, 30] {
            let hits = draws(count).filter(|&random| fetch_from_http(swarm_size, random)).count();
            let expected = count as f64 / swarm_size as f64;
            let error = (hits as f64 - expected).abs() / expected;
            assert!(error < 0.05, "swarm of {swarm_size}: {hits} draws of {count} (expected {expected})");
        }
    }

    #[test]
    fn alone_always_fetches_and_bad_draws_do_not() {
        assert!(fetch_from_http(1, 0.999));
        assert!(fetch_from_http(0, f64::NAN));
        assert!(fetch_from_http(2, 0.0));
        assert!(!fetch_from_http(2, 0.5));
        for bad in [f64::NAN, -0.1, 1.0, f64::INFINITY] {
            assert!(!fetch_from_http(2, bad), "{bad}");
        }
    }

    #[test]
    fn wait_for_a_peer_until_patience_runs_out() {
        assert!(!wait_for_peer(None, 10, 1_000));
        assert!(wait_for_peer(Some(100), 100, 1_000));
        assert!(wait_for_peer(Some(100), 1_099, 1_000));
        assert!(!wait_for_peer(Some(100), 1_100, 1_000));
        assert!(wait_for_peer(Some(100), 50, 1_000));
        assert!(!wait_for_peer(Some(100), 100, 0));
    }
}
