//! The tracker's count of open connections per client address, so that one machine cannot take the
//! whole tracker: pure bookkeeping, the caller owns the sockets.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

/// Open connections per client address, so that one machine cannot take the whole tracker.
#[derive(Default)]
pub struct Addresses(HashMap<IpAddr, usize>);

impl Addresses {
    /// Counts one more connection from `from` if it holds fewer than `most`; `false` otherwise.
    pub fn enter(&mut self, from: IpAddr, most: usize) -> bool {
        let address = counted_as(from);
        let count = self.0.get(&address).copied().unwrap_or(0);
        if count >= most {
            return false;
        }
        self.0.insert(address, count + 1);
        true
    }

    /// Counts one connection from `from` less; an address with none left is forgotten.
    pub fn leave(&mut self, from: IpAddr) {
        let address = counted_as(from);
        if let Some(count) = self.0.get_mut(&address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.0.remove(&address);
            }
        }
    }
}

/// The address a client is counted under: an IPv4 address as is (also when mapped into IPv6), an
/// IPv6 address by its /64 network, which one household or phone is given whole.
fn counted_as(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_counted_as(address: &str, expected: &str) {
        let address: IpAddr = address.parse().unwrap();
        assert_eq!(counted_as(address), expected.parse::<IpAddr>().unwrap(), "{address}");
    }

    #[test]
    fn a_client_is_counted_by_its_address_or_its_ipv6_network() {
        check_counted_as("192.0.2.7", "192.0.2.7");
        check_counted_as("::ffff:192.0.2.7", "192.0.2.7");
        check_counted_as("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::");
        check_counted_as("2001:db8:1:2:ffff::1", "2001:db8:1:2::");
        check_counted_as("::1", "::");
    }

    #[test]
    fn each_address_has_its_own_room() {
        let (first, second): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let mut addresses = Addresses::default();
        assert!(addresses.enter(first, 2) && addresses.enter(first, 2));
        assert!(!addresses.enter(first, 2), "a third from the same address");
        assert!(addresses.enter(second, 2), "another address is still let in");
        addresses.leave(first);
        assert!(addresses.enter(first, 2), "a place freed is taken again");
        for _ in 0..3 {
            addresses.leave(first);
            addresses.leave(second);
        }
        assert!(addresses.0.is_empty(), "addresses with no connection are forgotten: {:?}", addresses.0);
        assert!(!addresses.enter(first, 0) && addresses.0.is_empty(), "a refusal is not remembered");
    }
}
