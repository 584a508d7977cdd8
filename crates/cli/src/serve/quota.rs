//! How often one client may do something at `cartable serve`: a token bucket per client address, for
//! the submissions pupils post and the wrong tokens tried at the teacher view. Pure: time is passed in
//! (milliseconds on a monotonic clock); this file never reads a clock nor touches the network.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, PoisonError};

/// Addresses remembered at most: past that, buckets that have filled up again are forgotten, and if
/// none has, newcomers share one bucket, so that a flood of addresses cannot grow the map without end.
const MAX_CLIENTS: usize = 65_536;

/// How many tries a client may make: `burst` at once, each coming back evenly over `window_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// The bucket's size: tries allowed in a row after a quiet time.
    pub burst: u32,
    /// The time an empty bucket takes to fill up again.
    pub window_ms: u64,
}

impl Rate {
    /// `burst` tries a minute.
    pub const fn per_minute(burst: u32) -> Rate {
        Rate { burst, window_ms: 60_000 }
    }

    /// The time one token takes to come back: never 0, so that a bucket always empties.
    fn interval(self) -> u64 {
        (self.window_ms / u64::from(self.burst.max(1))).max(1)
    }

    /// How far ahead of now a bucket may be full again and still hold a token.
    fn depth(self) -> u64 {
        self.interval().saturating_mul(u64::from(self.burst))
    }
}

/// One client's bucket, kept as the time it is full again: each token taken pushes that time one
/// interval later, and a try is allowed while it stays within the bucket's depth of now. One integer,
/// no floating point and no timer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bucket {
    full_at: u64,
}

impl Bucket {
    /// Whether a token can be taken at `now`; if not, the milliseconds until one can.
    pub fn check(&self, rate: Rate, now: u64) -> Result<(), u64> {
        let ahead = self.full_at.max(now).saturating_add(rate.interval()) - now;
        match ahead <= rate.depth() {
            true => Ok(()),
            false => Err(ahead - rate.depth()),
        }
    }

    /// Takes a token at `now`; if there is none, the milliseconds until there is one (nothing taken).
    pub fn take(&mut self, rate: Rate, now: u64) -> Result<(), u64> {
        self.check(rate, now)?;
        self.full_at = self.full_at.max(now).saturating_add(rate.interval());
        Ok(())
    }

    /// Whether the bucket is full at `now`: forgetting it changes nothing.
    pub fn is_full(&self, now: u64) -> bool {
        self.full_at <= now
    }
}

/// A wait in milliseconds as a `Retry-After` in whole seconds, rounded up, at least 1.
pub fn retry_after(wait_ms: u64) -> u64 {
    wait_ms.div_ceil(1000).max(1)
}

/// The client an address stands for: an IPv6 address by its /64 (one household or school network
/// holds a whole /64), an IPv4-mapped one as IPv4.
pub fn client_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(Ipv6Addr::from(segments))
            }
        },
    }
}

/// A bucket per client address, all with the same rate.
pub struct Quota {
    rate: Rate,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl Quota {
    /// No try taken yet from anyone.
    pub fn new(rate: Rate) -> Quota {
        Quota { rate, buckets: Mutex::new(HashMap::new()) }
    }

    /// Whether `address` may try at `now`, without taking a token; if not, the milliseconds to wait.
    pub fn check(&self, address: IpAddr, now: u64) -> Result<(), u64> {
        // A bucket is one integer, always consistent: a panic elsewhere while it was held changes nothing.
        let buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        buckets.get(&client_of(address)).copied().unwrap_or_default().check(self.rate, now)
    }

    /// Takes a token for `address` at `now`; if there is none, the milliseconds to wait.
    pub fn take(&self, address: IpAddr, now: u64) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let mut client = client_of(address);
        if !buckets.contains_key(&client) && buckets.len() >= MAX_CLIENTS {
            buckets.retain(|_, bucket| !bucket.is_full(now));
            if buckets.len() >= MAX_CLIENTS {
                client = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
            }
        }
        buckets.entry(client).or_default().take(self.rate, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREE_A_SECOND: Rate = Rate { burst: 3, window_ms: 1000 };

    /// Takes tokens at each of `times` (ms) and returns what each got.
    fn tries(rate: Rate, times: &[u64]) -> Vec<Result<(), u64>> {
        let mut bucket = Bucket::default();
        times.iter().map(|&now| bucket.take(rate, now)).collect()
    }

    #[test]
    fn a_full_bucket_lets_a_burst_through_then_one_per_interval() {
        let expected = vec![Ok(()), Ok(()), Ok(()), Err(333), Ok(()), Err(333)];
        assert_eq!(tries(THREE_A_SECOND, &[0, 0, 0, 0, 333, 333]), expected);
    }

    #[test]
    fn a_quiet_client_gets_its_whole_burst_back() {
        let times = [10_000, 10_000, 10_000, 10_000, 20_000, 20_000, 20_000];
        let got = tries(THREE_A_SECOND, &times);
        assert_eq!(got.iter().filter(|got| got.is_ok()).count(), 6, "{got:?}");
        assert!(got[3].is_err());
    }

    #[test]
    fn a_refused_try_takes_nothing() {
        let mut bucket = Bucket::default();
        let rate = Rate::per_minute(1);
        assert_eq!(bucket.take(rate, 0), Ok(()));
        for now in [0, 1_000, 59_999] {
            assert_eq!(bucket.take(rate, now), Err(60_000 - now));
        }
        assert_eq!(bucket.take(rate, 60_000), Ok(()));
        assert!(!bucket.is_full(60_000) && bucket.is_full(120_000));
    }

    #[test]
    fn check_looks_without_taking() {
        let quota = Quota::new(Rate::per_minute(2));
        let address: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..5 {
            assert_eq!(quota.check(address, 0), Ok(()));
        }
        assert_eq!((quota.take(address, 0), quota.take(address, 0)), (Ok(()), Ok(())));
        assert_eq!(quota.check(address, 0), Err(30_000));
        assert_eq!(quota.check("192.0.2.8".parse().unwrap(), 0), Ok(()), "another address has its own bucket");
    }

    #[test]
    fn an_ipv6_network_is_one_client() {
        let quota = Quota::new(Rate::per_minute(1));
        assert_eq!(quota.take("2001:db8:1:2:aaaa::1".parse().unwrap(), 0), Ok(()));
        assert!(quota.take("2001:db8:1:2:bbbb::2".parse().unwrap(), 0).is_err(), "same /64");
        assert_eq!(quota.take("2001:db8:1:3::1".parse().unwrap(), 0), Ok(()), "another /64");
        assert_eq!(client_of("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!([0, 1, 999, 1000, 1001, 6_000].map(retry_after), [1, 1, 1, 1, 2, 6]);
    }

    #[test]
    fn a_zero_burst_or_window_still_limits() {
        assert_eq!(tries(Rate { burst: 0, window_ms: 1000 }, &[0, 0]), vec![Err(1000), Err(1000)]);
        assert_eq!(tries(Rate { burst: 2, window_ms: 0 }, &[5, 5, 5]), vec![Ok(()), Ok(()), Err(1)]);
    }
}
