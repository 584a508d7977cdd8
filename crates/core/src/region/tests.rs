// See: issue 7 ("A region's morning: simulation at scale").

use super::world::{arrivals, SplitMix};
use super::{run, Figures, Policy, Region, MINUTE};

fn morning(students: usize, seed: u64) -> Vec<Figures> {
    let region = Region::morning(students, 2);
    Policy::ALL.iter().map(|&policy| run(&region, policy, seed, &mut |_| {})).collect()
}

#[test]
fn most_students_arrive_around_eight() {
    let region = Region::morning(3_000, 2);
    let arrivals = arrivals(&region, &mut SplitMix(7));
    let around_eight = arrivals.iter().filter(|arrival| (30 * MINUTE..90 * MINUTE).contains(&arrival.at)).count();
    assert!(around_eight * 10 > arrivals.len() * 6, "{around_eight} of {} between 07:30 and 08:30", arrivals.len());
    assert!(arrivals.windows(2).all(|pair| pair[0].at <= pair[1].at), "sorted by time");
    let unreachable = arrivals.iter().filter(|arrival| !arrival.reachable).count();
    assert!((450..750).contains(&unreachable), "about one in five out of reach: {unreachable}");
}

#[test]
fn every_byte_kept_came_from_one_source() {
    for figures in morning(900, 3) {
        let policy = figures.policy;
        assert_eq!(figures.bytes_delivered(), figures.bytes_kept, "{policy:?}: sources and students agree");
        assert!(figures.bytes_kept > 0, "{policy:?} delivered something");
        assert_eq!(figures.corrupt_accepted, 0, "{policy:?}");
    }
}

#[test]
fn the_cartable_policy_uses_mirrors_and_classmates_and_refuses_the_liar() {
    let cartable = run(&Region::morning(900, 2), Policy::Cartable, 3, &mut |_| {});
    assert!(cartable.bytes_mirrors > 0 && cartable.bytes_peers > 0, "{cartable:?}");
    assert!(cartable.bytes_refused > 0, "the lying mirror was caught");
    let naive = run(&Region::morning(900, 2), Policy::Naive, 3, &mut |_| {});
    assert_eq!(naive.bytes_mirrors + naive.bytes_peers, 0, "naive clients know the origin only");
}

#[test]
fn the_same_seed_gives_the_same_figures() {
    assert_eq!(morning(300, 11), morning(300, 11));
    assert_ne!(morning(300, 11), morning(300, 12));
}

/// The peak rate of requests reaching an origin of 5 requests/s, over 10 s, from 30 s after a cartable
/// student first held back from it: (naive, cartable).
fn saturated_origin_peaks() -> (f64, f64) {
    let mut region = Region::morning(2_000, 2);
    region.origin.rps = 5;
    region.origin.down = None;
    let figures = |policy| run(&region, policy, 5, &mut |_| {});
    let (naive, cartable) = (figures(Policy::Naive), figures(Policy::Cartable));
    let protected = cartable.origin_protected_at.expect("the origin refused someone") / 1000;
    let from = protected as usize + 30;
    (naive.origin_peak_rate(from, 10), cartable.origin_peak_rate(from, 10))
}

#[test]
fn naive_clients_flood_a_saturated_origin_and_cartable_clients_do_not() {
    let (naive, cartable) = saturated_origin_peaks();
    assert!(naive > 5.0 * 1.05 * 10.0, "naive sent {naive:.1} req/s at most");
    assert!(cartable * 10.0 < naive, "cartable sent {cartable:.1} req/s, naive {naive:.1}");
}

/// The property, not met yet: students arriving keep sending their first requests to the origin
/// (each scheduler's breaker is its own), which takes the origin to about 7 req/s against 5.
#[test]
#[ignore = "fails today: about 7.2 req/s against a capacity of 5 (first requests of new arrivals)"]
fn cartable_keeps_a_saturated_origin_within_five_percent_of_its_capacity_once_protected() {
    let (_, cartable) = saturated_origin_peaks();
    assert!(cartable <= 5.0 * 1.05, "cartable sent {cartable:.1} req/s over 10 s, capacity 5");
}
