// See: issue 7 ("A region's morning: simulation at scale").

use super::world::arrivals;
use super::{run, BaselineMirrors, Figures, Policy, Region, MINUTE};
use crate::random::SplitMix64;

fn morning(students: usize, seed: u64) -> Vec<Figures> {
    let region = Region::morning(students, 2);
    Policy::ALL.iter().map(|&policy| run(&region, policy, seed, &mut |_| {})).collect()
}

#[test]
fn most_students_arrive_around_eight() {
    let region = Region::morning(3_000, 2);
    let arrivals = arrivals(&region, &mut SplitMix64::new(7));
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

/// A region of `students` whose origin can serve a tenth of the peak demand (and goes down from 08:10 to
/// 08:20), with two mirrors of half the peak demand each, the first lying: the naive and the cartable
/// policies' mornings, and the origin's capacity.
fn saturated_origin(students: usize) -> (Figures, Figures, f64) {
    let region = Region::morning(students, 2).with_shares(0.1, 0.5, 5);
    let figures = |policy| run(&region, policy, 5, &mut |_| {});
    (figures(Policy::Naive), figures(Policy::Cartable), f64::from(region.origin.rps))
}

#[test]
fn clients_the_origin_refused_keep_within_five_percent_of_its_capacity_under_cartable_not_under_naive() {
    let (naive, cartable, capacity) = saturated_origin(20_000);
    assert!(cartable.origin_protected_at.is_some(), "the origin refused or failed cartable clients");
    // Requests from clients the origin had refused or left unanswered before (their breakers and
    // `Retry-After` engaged), at the busiest 10 s of the morning.
    let (naive, cartable) = (naive.origin_peak_retry_rate(0, 10), cartable.origin_peak_retry_rate(0, 10));
    assert!(naive > capacity * 1.05, "naive sent {naive:.1} req/s at most, capacity {capacity}");
    assert!(cartable <= capacity * 1.05, "cartable sent {cartable:.1} req/s over 10 s, capacity {capacity}");
}

#[test]
fn classmates_carry_most_of_the_bytes_and_the_lottery_keeps_http_near_one_copy_per_class() {
    let mut region = Region::morning(1_500, 0);
    region.origin.down = None;
    region.reading_chunks = 0; // saving alone: the first lesson read over HTTP has a test of its own
    let cartable = run(&region, Policy::Cartable, 9, &mut |_| {});
    assert_eq!(cartable.gave_up(), 0);
    let http = cartable.bytes_origin + cartable.bytes_mirrors;
    assert!(cartable.bytes_peers > 2 * http, "classmates {} bytes, HTTP {http}", cartable.bytes_peers);
    // Out of reach of classmates, a student fetches the whole course over HTTP; the others of a class,
    // about one copy between them (the lottery's winners), a little more when a winner is slow.
    let unreachable = arrivals(&region, &mut SplitMix64::new(9)).iter().filter(|arrival| !arrival.reachable).count();
    let classes = region.students.div_ceil(region.class_size);
    let copies = http as f64 / region.course_bytes() as f64 - unreachable as f64;
    assert!(copies < 1.5 * classes as f64, "{copies:.0} copies over HTTP for {classes} classes' reachable students");
}

#[test]
fn the_servers_capacities_follow_their_shares_of_peak_demand() {
    let region = Region::morning(20_000, 0);
    let peak = region.peak_demand(1);
    assert!(peak > 10.0, "{peak} chunk requests/s at the peak");
    let sized = Region::morning(20_000, 2).with_shares(0.1, 0.5, 1);
    assert_eq!(f64::from(sized.origin.rps), (peak * 0.1).ceil());
    assert_eq!(sized.origin.bandwidth, u64::from(sized.origin.rps) * sized.chunk_size);
    assert!(sized.mirrors.iter().all(|mirror| f64::from(mirror.rps) == (peak * 0.5).ceil()));
}

// See: issue 15: baselines given the mirror list, checking or not.
#[test]
fn baselines_given_the_mirrors_use_them_and_trust_the_liar_unless_they_check() {
    let mut region = Region::morning(600, 2).with_shares(0.1, 0.5, 4);
    for (given, corrupt) in [(BaselineMirrors::Trusting, true), (BaselineMirrors::Checking, false)] {
        region.baseline_mirrors = given;
        for policy in [Policy::Naive, Policy::Backoff] {
            let figures = run(&region, policy, 4, &mut |_| {});
            assert!(figures.bytes_mirrors > figures.bytes_origin, "{given:?} {policy:?}: {figures:?}");
            assert_eq!(figures.corrupt_accepted > 0, corrupt, "{given:?} {policy:?}");
            assert_eq!(figures.bytes_refused > 0, !corrupt, "{given:?} {policy:?}");
            assert_eq!(figures.bytes_delivered(), figures.bytes_kept, "{given:?} {policy:?}");
        }
    }
}

// See: issue 15: a waiting room names the next free second of its queue.
#[test]
fn a_waiting_room_spreads_refused_clients_at_its_capacity() {
    let mut origin = Region::morning(10, 0).origin;
    origin.set_rate(4, 1);
    origin.waiting_room = true;
    let mut live = super::world::Live::new(&origin);
    let answers: Vec<_> = (0..12).map(|_| live.receive(0, 1, 0).0).collect();
    let retry_after: Vec<Option<u64>> = answers
        .iter()
        .filter_map(|answer| match answer {
            super::world::Answer::Refused { retry_after_ms } => Some(*retry_after_ms),
            _ => None,
        })
        .collect();
    // Four admitted; then a slot every quarter second from a second on, rounded up to whole seconds as
    // the header says: four come back within each second.
    assert_eq!(retry_after, [1, 2, 2, 2, 2, 3, 3, 3].map(|s| Some(s * 1000)));
}

// See: issue 15: students out of reach of classmates go through the school's TURN relay when it has one.
#[test]
fn a_turn_relay_brings_students_out_of_reach_into_the_swarm() {
    let mut region = Region::morning(900, 0).with_shares(0.1, 0.5, 6);
    let without = run(&region, Policy::Cartable, 6, &mut |_| {});
    region.turn = Some(1_000_000);
    let with = run(&region, Policy::Cartable, 6, &mut |_| {});
    assert!(
        with.bytes_origin < without.bytes_origin / 2,
        "origin {} with, {} without",
        with.bytes_origin,
        without.bytes_origin
    );
    assert!(with.share_within(15 * MINUTE) > without.share_within(15 * MINUTE));
    // A relay of 1 kB/s is all but useless: relayed students take minutes for a chunk.
    region.turn = Some(1_000);
    let narrow = run(&region, Policy::Cartable, 6, &mut |_| {});
    let (narrow, with) = (narrow.share_within(5 * MINUTE), with.share_within(5 * MINUTE));
    assert!(narrow < with, "{narrow} served within 5 minutes through a 1 kB/s relay, {with} through 1 MB/s");
}

// See: issue 15: every page first asks for the signed manifest, from a mirror when the origin fails it.
#[test]
fn the_manifest_comes_from_a_mirror_when_the_origin_is_gone_and_from_nowhere_without_one() {
    let mut region = Region::morning(300, 2);
    region.origin.down = Some((0, region.horizon() + 1));
    let with = run(&region, Policy::Cartable, 8, &mut |_| {});
    assert_eq!((with.gave_up(), with.bytes_origin), (0, 0), "{with:?}");
    region.mirrors.clear();
    let without = run(&region, Policy::Cartable, 8, &mut |_| {});
    assert_eq!(without.share_within(60 * MINUTE), 0.0, "no manifest, nothing saved");
    // Each page says so, and its pupil presses "Réessayer" again and again.
    assert!(without.restarts > 300, "{} restarts", without.restarts);
}

// See: issue 15: the reading path: the first lesson is wanted at once, over HTTP, with no lottery.
#[test]
fn each_pupil_reads_the_first_lesson_over_http_before_the_class_shares_the_rest() {
    let mut region = Region::morning(600, 0);
    region.origin.down = None;
    region.origin.set_rate(10_000, region.chunk_size);
    region.reading_chunks = 0;
    let saving_only = run(&region, Policy::Cartable, 2, &mut |_| {});
    region.reading_chunks = 1;
    let reading = run(&region, Policy::Cartable, 2, &mut |_| {});
    let chunks = |bytes: u64| bytes / region.chunk_size;
    // Every pupil took the first chunk from the origin: at least one per pupil, on top of the class's copy.
    assert!(chunks(reading.bytes_origin) >= 600, "{} chunks from the origin", chunks(reading.bytes_origin));
    assert!(reading.bytes_origin > saving_only.bytes_origin, "reading costs the origin more than saving alone");
    assert_eq!((reading.gave_up(), saving_only.gave_up()), (0, 0));
}
