// See: issue 7 ("A region's morning: simulation at scale").

use super::engine::Engine;
use super::world::{arrivals, Answer};
use super::{run, BaselineMirrors, Figures, Overload, Policy, Region, MINUTE};
use crate::fetch::Millis;
use crate::peer::lottery::ticket;
use crate::peer::saving::MAX_LINKS;
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
    let mut live = super::world::Live::new(&origin, 0);
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

/// The cartable pages of a region of one class, all opened and joined at 07:00 with their links made,
/// the clock then set ten minutes later, when their swarm has settled.
fn joined(region: &Region) -> Engine<'_> {
    let mut engine = Engine::new(region, Policy::Cartable, 1);
    for index in 0..region.students as u32 {
        engine.arrive();
        engine.manifest_answered(index, 0, Answer::Bytes { lie: false });
    }
    engine.forget_events();
    engine.now = 10 * MINUTE;
    engine
}

/// One class of `students` who all reach each other directly, with neither a first lesson nor mirrors.
fn one_class(students: usize) -> Region {
    let mut region = Region::morning(students, 0);
    (region.class_size, region.unreachable, region.pair_failure, region.reading_chunks) = (students, 0.0, 0.0, 0);
    region.origin.down = None;
    region
}

fn links_of(engine: &Engine, index: u32) -> Vec<u32> {
    let student = engine.students[index as usize].as_ref();
    student.map(|student| student.links.iter().map(|link| link.peer).collect()).unwrap_or_default()
}

fn give(engine: &mut Engine, index: u32, chunks: u64) {
    if let Some(student) = engine.students[index as usize].as_mut() {
        student.has |= chunks;
    }
}

/// Polls the page of `index` now; returns its chunk requests in flight: (source, chunk, end, holder).
fn poll_now(engine: &mut Engine, index: u32) -> Vec<(usize, usize, Millis, Option<u32>)> {
    let now = engine.now;
    engine.schedule_poll(index, now);
    engine.poll(index);
    engine.saver_of(index).map(|saver| saver.requested()).unwrap_or_default()
}

// See: issue 15: a page talks to 8 classmates at most, and sees only what they hold.
#[test]
fn with_eight_links_a_chunk_held_only_by_unlinked_classmates_is_fetched_over_http() {
    let region = one_class(30);
    let mut engine = joined(&region);
    let links: Vec<Vec<u32>> = (0..30).map(|index| links_of(&engine, index)).collect();
    assert!(links.iter().all(|links| links.len() <= MAX_LINKS), "{links:?}");
    assert!(links.iter().filter(|links| links.len() == MAX_LINKS).count() >= 20, "most have 8 links: {links:?}");
    for (index, linked) in links.iter().enumerate() {
        assert!(linked.iter().all(|&peer| links[peer as usize].contains(&(index as u32))), "links go both ways");
    }
    // A page whose ticket for a chunk beats its linked classmates' wins that chunk's draw; only classmates
    // it has no link to hold the chunk.
    let cids = engine.classes[0].as_ref().map(|class| class.cids.clone()).unwrap_or_default();
    let wins = |index: u32, chunk: usize| {
        let ticket = |student: u32| ticket(&student.to_le_bytes(), &cids[chunk]);
        links[index as usize].iter().all(|&peer| ticket(peer) > ticket(index))
    };
    let (me, chunk) =
        (0..30u32).flat_map(|me| (0..12).map(move |chunk| (me, chunk))).find(|&(me, chunk)| wins(me, chunk)).unwrap();
    let unlinked: Vec<u32> = (0..30).filter(|&other| other != me && !links[me as usize].contains(&other)).collect();
    assert!(!unlinked.is_empty());
    for &other in &unlinked {
        give(&mut engine, other, 1 << chunk);
    }
    assert_eq!(poll_now(&mut engine, me), [], "not held by a linked classmate: nothing asked; confirming its win");
    engine.now += 1_500;
    let requested = poll_now(&mut engine, me);
    assert!(requested.contains(&(0, chunk, requested[0].2, None)), "chunk {chunk} from the origin: {requested:?}");
    assert!(requested.iter().all(|&(source, ..)| source == 0), "{requested:?}");
    // Held by a linked classmate, it is asked of that classmate.
    let mut engine = joined(&region);
    let linked = links[me as usize][0];
    give(&mut engine, linked, 1 << chunk);
    let asked = poll_now(&mut engine, me);
    assert_eq!(asked.iter().map(|&(_, chunk, _, holder)| (chunk, holder)).collect::<Vec<_>>(), [(chunk, Some(linked))]);
}

// See: issue 15: NATs fail some pairs of classmates, not all-or-nothing; the school's relay links them.
#[test]
fn pairs_that_cannot_link_are_drawn_once_from_the_seed_and_linked_through_the_relay() {
    let mut region = one_class(30);
    region.pair_failure = 0.3;
    let engine = Engine::new(&region, Policy::Cartable, 1);
    let pairs: Vec<(u32, u32)> = (0..300).flat_map(|a| (a + 1..300).map(move |b| (a, b))).collect();
    let failed = pairs.iter().filter(|&&(a, b)| engine.pair_fails(a, b)).count();
    assert!((pairs.len() * 27 / 100..pairs.len() * 33 / 100).contains(&failed), "{failed} of {} pairs", pairs.len());
    assert!(pairs.iter().all(|&(a, b)| engine.pair_fails(a, b) == engine.pair_fails(b, a)), "a pair, either way");
    assert_eq!(
        Engine::new(&region, Policy::Naive, 1).pair_fails(3, 4),
        engine.pair_fails(3, 4),
        "every policy's world"
    );
    // Linked pages are never a failed pair, unless through the relay.
    let joined_links = |region: &Region| {
        let engine = joined(region);
        let links: Vec<_> =
            (0..30u32).flat_map(|me| links_of(&engine, me).into_iter().map(move |peer| (me, peer))).collect();
        let through_failed = links.iter().filter(|&&(me, peer)| engine.pair_fails(me, peer)).count();
        (links.len(), through_failed)
    };
    let (links, through_failed) = joined_links(&region);
    assert!(links > 0 && through_failed == 0, "{links} links, {through_failed} across a failed pair");
    region.turn = Some(1_000_000);
    let (links, through_failed) = joined_links(&region);
    assert!(through_failed > 0, "{links} links, {through_failed} of them through the relay");
    // With every pair failed, classmates give nothing, but through the relay they do.
    let mut region = Region::morning(300, 0);
    region.pair_failure = 1.0;
    assert_eq!(run(&region, Policy::Cartable, 2, &mut |_| {}).bytes_peers, 0);
    region.turn = Some(1_000_000);
    assert!(run(&region, Policy::Cartable, 2, &mut |_| {}).bytes_peers > 0);
}

// See: issue 15: a transfer between classmates is sent by one holder, from its own upload.
#[test]
fn a_holder_shares_its_upload_among_the_transfers_it_is_sending() {
    let region = one_class(30);
    let mut engine = joined(&region);
    let holder = (0..30).find(|&index| links_of(&engine, index).len() >= 2).unwrap();
    let (first, second) = (links_of(&engine, holder)[0], links_of(&engine, holder)[1]);
    give(&mut engine, holder, 1);
    let now = engine.now;
    let asked = |requested: Vec<(usize, usize, Millis, Option<u32>)>| match requested.as_slice() {
        [(_, 0, end, Some(from))] if *from == holder => end - now,
        other => panic!("one ask of chunk 0 from {holder}: {other:?}"),
    };
    let (alone, shared) = (asked(poll_now(&mut engine, first)), asked(poll_now(&mut engine, second)));
    let latency = region.peer_latency;
    let sending = |rate: u64| latency + region.chunk_size * 1000 / rate;
    assert_eq!((alone, shared), (sending(region.peer_upload), sending(region.peer_upload / 2)));
    assert_eq!(engine.students[holder as usize].as_ref().map(|student| student.uploads.len()), Some(2));
}

// See: issue 15: a holder that leaves while sending cuts the transfer; the classmate asks again.
#[test]
fn a_transfer_cut_by_its_holder_leaving_is_asked_again_and_the_student_still_finishes() {
    let region = one_class(30);
    let mut engine = joined(&region);
    let holder = (0..30).find(|&index| !links_of(&engine, index).is_empty()).unwrap();
    let receiver = links_of(&engine, holder)[0];
    give(&mut engine, holder, 1);
    assert_eq!(poll_now(&mut engine, receiver).len(), 1, "asked of the holder");
    engine.leave(holder);
    assert_eq!(engine.figures.peer_cut, 1);
    assert!(!links_of(&engine, receiver).contains(&holder), "the link closed");
    // The cut answer arrives now, not given; the chunk is asked again, of another linked holder.
    engine.answer(receiver, super::cartable::ASK);
    let requested = engine.saver_of(receiver).map(|saver| saver.requested()).unwrap_or_default();
    assert!(requested.is_empty(), "{requested:?}");
    let other = links_of(&engine, receiver)[0];
    give(&mut engine, other, 1);
    let again = poll_now(&mut engine, receiver);
    assert_eq!(again.iter().map(|&(_, chunk, _, from)| (chunk, from)).collect::<Vec<_>>(), [(0, Some(other))]);

    // Over a morning where served students leave within seconds, with slow uploads, transfers are cut
    // and everyone finishes all the same.
    let mut region = Region::morning(600, 0);
    region.origin.down = None;
    (region.stay, region.peer_upload) = (3_000, 20_000);
    let figures = run(&region, Policy::Cartable, 4, &mut |_| {});
    assert!(figures.peer_cut > 20, "{} transfers cut", figures.peer_cut);
    assert_eq!(figures.gave_up(), 0);
    assert_eq!(figures.bytes_delivered(), figures.bytes_kept);
}

// See: issue 15: a server that accepts, sends half the bytes and falls silent; the stall timeout catches it.
#[test]
fn a_stalled_answer_is_given_up_after_the_stall_timeout_and_fetched_elsewhere() {
    let mut region = Region::morning(1, 1);
    (region.reading_chunks, region.origin.down, region.origin.stalls, region.mirrors[0].stalls) = (1, None, 1.0, 0.0);
    let mut engine = joined(&region);
    let config = crate::fetch::Config::default();
    let start = engine.now;
    // The first lesson, waited for, goes to the origin; the rest, saved for later, to the mirror.
    let from_origin = |requested: &[(usize, usize, Millis, Option<u32>)]| {
        requested
            .iter()
            .filter(|&&(source, ..)| source == 0)
            .map(|&(_, chunk, end, _)| (chunk, end))
            .collect::<Vec<_>>()
    };
    let first = from_origin(&poll_now(&mut engine, 0));
    let &[(0, end)] = first.as_slice() else { panic!("the first lesson from the origin: {first:?}") };
    // Its bytes stop halfway between the first and the last: the stall timeout counts from then.
    let first_byte = start + region.origin.latency;
    let silent_from = first_byte + (end - first_byte) / 2;
    engine.now = silent_from + config.stall_timeout - 1;
    assert_eq!(from_origin(&poll_now(&mut engine, 0)).len(), 1, "silent for less than the stall timeout");
    engine.now += 1;
    assert!(from_origin(&poll_now(&mut engine, 0)).is_empty(), "given up");
    assert_eq!(engine.figures.stalls_caught, 1);
    engine.now += config.backoff_base;
    let requested = poll_now(&mut engine, 0);
    let again: Vec<usize> = requested.iter().filter(|r| r.1 == 0).map(|r| r.0).collect();
    assert!(!again.is_empty() && !again.contains(&0), "asked again, not of the origin: {requested:?}");

    // Over a morning where every answer of the origin stalls, each page gets the manifest and the course
    // from the mirror all the same.
    let mut region = Region::morning(60, 1);
    (region.origin.down, region.origin.stalls) = (None, 1.0);
    let figures = run(&region, Policy::Cartable, 3, &mut |_| {});
    assert_eq!((figures.gave_up(), figures.bytes_origin), (0, 0), "{figures:?}");
    assert!(figures.stalls_caught > 0);
}

// See: issue 15: an overloaded origin that leaves requests unanswered instead of refusing them at once.
#[test]
fn a_timing_out_origin_gets_no_more_requests_from_a_client_than_its_breaker_allows() {
    // The origin admits nothing and answers nothing.
    let mut region = Region::morning(1, 1);
    (region.reading_chunks, region.origin.down, region.origin.overload) = (1, None, Overload::Timeout);
    region.origin.set_rate(0, region.chunk_size);
    let config = crate::fetch::Config::default();
    // A request is held until the page gives up on it (its stall timeout, no byte having come), then
    // counted as unanswered.
    let mut engine = joined(&region);
    let start = engine.now;
    let to_origin = |engine: &mut Engine| {
        engine.saver_of(0).is_some_and(|saver| saver.requested().iter().any(|&(source, ..)| source == 0))
    };
    poll_now(&mut engine, 0);
    assert!(to_origin(&mut engine), "the first lesson from the origin");
    while engine.handle_next(start + config.stall_timeout - 1) {}
    assert!(to_origin(&mut engine), "no answer yet, and no refusal");
    while engine.handle_next(start + config.stall_timeout) {}
    assert!(!to_origin(&mut engine), "given up");
    assert_eq!(engine.saver_of(0).map(|saver| saver.refused), Some(true), "left unanswered");

    // Its one mirror has the manifest but lies about every chunk, so that the origin stays the only
    // source: after the first failures, the breaker lets one probe through at a time, each after a delay
    // doubling up to a minute (jittered down to half).
    region.mirrors[0].lies_every = 1;
    region.patience = 10 * MINUTE;
    let figures = run(&region, Policy::Cartable, 1, &mut |_| {});
    let accepted: u32 = figures.origin_accepted.iter().sum();
    assert_eq!((accepted, figures.gave_up(), figures.bytes_refused > 0), (0, 1, true), "{figures:?}");
    let seconds: Vec<usize> =
        figures.origin_offered.iter().enumerate().filter(|(_, &n)| n > 0).map(|(second, _)| second).collect();
    let probes = seconds.get(4..).unwrap_or_default();
    assert!(probes.len() >= 5, "the manifest, the first failures, then probes: {seconds:?}");
    let gap = (config.breaker_open / 2 / 1000) as usize;
    assert!(seconds.windows(2).skip(4).all(|pair| pair[1] - pair[0] >= gap), "{seconds:?}");
    let last_gaps = probes.windows(2).rev().take(3).map(|pair| pair[1] - pair[0]);
    assert!(last_gaps.clone().all(|gap| gap >= (config.breaker_open_max / 2 / 1000) as usize), "{seconds:?}");
    assert!(figures.origin_offered.iter().sum::<u32>() <= 30, "{seconds:?}");
}

// See: issue 15: classmates pass on the signed manifest to a page opened from its stored copy.
#[test]
fn returning_pages_the_origin_refuses_take_the_manifest_from_classmates_and_first_visits_cannot() {
    let region = |returning| Region { returning, ..Region::morning(1_500, 0).with_shares(0.1, 0.5, 2) };
    let first_visits = run(&region(0.0), Policy::Cartable, 2, &mut |_| {});
    let returning = run(&region(1.0), Policy::Cartable, 2, &mut |_| {});
    assert_eq!(first_visits.manifest_from_classmates, 0, "a first visit joins no swarm before its manifest");
    assert!(first_visits.manifest_origin_after_refusal > 0, "refused first visits came back to the origin");
    assert!(returning.manifest_from_classmates > 0, "{returning:?}");
    assert!(
        returning.manifest_origin_after_refusal < first_visits.manifest_origin_after_refusal,
        "{} refused pages came back to the origin for the manifest, against {} without stored copies",
        returning.manifest_origin_after_refusal,
        first_visits.manifest_origin_after_refusal
    );
    assert_eq!(returning.corrupt_accepted, 0);
}
