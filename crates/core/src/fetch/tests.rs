//! Native tests of the scheduler, driven by a small scripted harness: each source answers by a rule.
// See: issue "source scheduler"

use std::collections::BTreeMap;

use super::*;

fn cid(n: u64) -> Cid {
    Cid::of(&n.to_le_bytes())
}

fn course(n: u64) -> Vec<(Cid, u64)> {
    (0..n).map(|i| (cid(i), 1000)).collect()
}

/// How a scripted source answers an attempt started at some time: after `after` ms, with `outcome`;
/// `None` for an attempt that stalls (no byte ever, no answer).
type Answer = Option<(Millis, Outcome)>;

/// Drives one scheduler against scripted answers, in virtual time, and logs every attempt started.
struct Drive {
    scheduler: Scheduler,
    now: Millis,
    running: BTreeMap<AttemptId, (Millis, Option<Outcome>)>,
    started: Vec<(Millis, Attempt)>,
    cancelled: Vec<AttemptId>,
    seed: u64,
}

impl Drive {
    fn new(sources: &[SourceKind], config: Config, chunks: u64) -> Drive {
        let mut scheduler = Scheduler::new(sources, config);
        scheduler.want(course(chunks));
        Drive { scheduler, now: 0, running: BTreeMap::new(), started: Vec::new(), cancelled: Vec::new(), seed: 7 }
    }

    /// One poll at `now`, then time moves to the next answer or wake-up; returns false when nothing is left.
    fn step(&mut self, answer: &mut dyn FnMut(&Attempt, Millis) -> Answer) -> bool {
        let mut seed = self.seed;
        let plan = self.scheduler.poll(self.now, &mut || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        });
        self.seed = seed;
        for id in &plan.cancel {
            self.running.remove(id);
            self.cancelled.push(*id);
        }
        for attempt in plan.start {
            let (end, outcome) = match answer(&attempt, self.now) {
                Some((after, outcome)) => (self.now + after.max(1), Some(outcome)),
                None => (Millis::MAX, None),
            };
            self.running.insert(attempt.id, (end, outcome));
            self.started.push((self.now, attempt));
        }
        let next_end = self.running.values().map(|(end, _)| *end).filter(|&end| end != Millis::MAX).min();
        let Some(next) = [next_end, plan.wake_at].into_iter().flatten().min() else { return false };
        self.now = next.max(self.now + 1);
        let ended: Vec<AttemptId> =
            self.running.iter().filter(|(_, (end, _))| *end <= self.now).map(|(id, _)| *id).collect();
        for id in ended {
            if let Some((_, Some(outcome))) = self.running.remove(&id) {
                self.scheduler.finish(id, outcome, self.now);
            }
        }
        true
    }

    fn run_until(&mut self, limit: Millis, answer: &mut dyn FnMut(&Attempt, Millis) -> Answer) {
        while self.now < limit && !self.scheduler.done() && self.step(answer) {}
    }

    fn to(&self, source: usize) -> Vec<Millis> {
        self.started.iter().filter(|(_, a)| a.source == SourceId(source)).map(|(at, _)| *at).collect()
    }
}

fn ok(after: Millis) -> Answer {
    Some((after, Outcome::Verified { bytes: 1000 }))
}

fn status(after: Millis, code: u16, retry_after_ms: Option<u64>) -> Answer {
    Some((after, Outcome::Status { code, retry_after_ms }))
}

#[track_caller]
fn check_retry_after(header: &str, expected: Option<u64>) {
    // 2015-10-21 07:28:00 GMT is 1445412480 s.
    assert_eq!(retry_after_ms(header, 1_445_412_480_000), expected, "{header:?}");
}

#[test]
fn reads_retry_after_as_seconds_or_a_date() {
    check_retry_after("120", Some(120_000));
    check_retry_after(" 0 ", Some(0));
    check_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", Some(30_000));
    check_retry_after("Thu, 22 Oct 2015 07:28:00 GMT", Some(86_400_000));
    check_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", Some(0));
    check_retry_after("Mon, 01 Jan 1990 00:00:00 GMT", Some(0));
    check_retry_after("99999999999999999999999", Some(u64::MAX));
    for garbage in ["", "soon", "-5", "1.5", "12 s", "Wed, 21 Oct 2015 07:28:00 UTC", "Wed, 32 Oct 2015 07:28:00 GMT"] {
        check_retry_after(garbage, None);
    }
    check_retry_after("Wed, 21 Oct 2015 7:28:00 GMT", None);
    check_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", None);
}

#[test]
fn backoff_grows_is_capped_and_jittered() {
    let config = Config::default();
    let ceilings: Vec<Millis> = (1..=8).map(|retry| config.backoff(retry, 0.999_999)).collect();
    assert_eq!(ceilings, [499, 999, 1999, 3999, 7999, 15999, 29999, 29999]);
    assert_eq!(config.backoff(3, 0.0), 0, "full jitter reaches down to zero");
    assert_eq!(config.backoff(3, 0.5), 1000);
    assert!(config.backoff(u32::MAX, 0.999) <= config.backoff_cap);
    assert_eq!(config.backoff(2, f64::NAN), 0);
    assert!(config.backoff(2, 7.0) <= 1000, "out-of-range random numbers are clamped");
}

#[test]
fn the_breaker_opens_probes_once_then_closes_or_reopens_for_longer() {
    let mut s = Scheduler::new(&[SourceKind::Origin], Config::default());
    s.want(course(10));
    let zero = &mut || 0.0;
    let first = s.poll(0, zero).start;
    assert_eq!(first.len(), 2, "the origin's in-flight cap");
    for attempt in &first {
        s.finish(attempt.id, Outcome::Status { code: 500, retry_after_ms: None }, 10);
    }
    let second = s.poll(10, zero).start;
    s.finish(second[0].id, Outcome::NetworkError, 20);
    assert_eq!(s.report()[0].breaker, Breaker::Open);
    assert_eq!(s.origin_state(), OriginState::Down);
    let plan = s.poll(20, zero);
    assert!(plan.start.is_empty(), "no request while open");
    assert_eq!(plan.wake_at, Some(2520), "half of the 5 s delay with zero jitter");
    s.finish(second[1].id, Outcome::Verified { bytes: 1000 }, 30);
    assert_eq!(s.report()[0].breaker, Breaker::Open, "a late answer does not close it");
    assert!(s.poll(2519, zero).start.is_empty());
    let probe = s.poll(2520, zero).start;
    assert_eq!(probe.len(), 1, "a single probe");
    assert_eq!(s.report()[0].breaker, Breaker::HalfOpen);
    assert!(s.poll(2600, zero).start.is_empty(), "nothing more while the probe runs");
    s.finish(probe[0].id, Outcome::Status { code: 503, retry_after_ms: None }, 2700);
    assert_eq!((s.report()[0].breaker, s.origin_state()), (Breaker::Open, OriginState::Saturated));
    assert_eq!(s.poll(2700, zero).wake_at, Some(7700), "the delay doubled to 10 s (half of it, no jitter)");
    let probe = s.poll(7700, zero).start;
    assert_eq!(probe.len(), 1);
    s.finish(probe[0].id, Outcome::Verified { bytes: 1000 }, 7800);
    assert_eq!((s.report()[0].breaker, s.origin_state()), (Breaker::Closed, OriginState::Healthy));
    assert_eq!(s.poll(7800, zero).start.len(), 2, "traffic flows again");
}

#[test]
fn the_retry_budget_caps_retries() {
    let config = Config { breaker_threshold: 1000, retry_floor: 2, retry_ratio: 0.1, ..Config::default() };
    let mut drive = Drive::new(&[SourceKind::Mirror, SourceKind::Mirror], config, 20);
    drive.run_until(600_000, &mut |_, _| status(50, 503, None));
    assert_eq!(drive.scheduler.retries(), (4, 4), "10 % of 20 first attempts, plus 2");
    assert_eq!(drive.started.len(), 24, "20 first attempts and 4 retries, then nothing");
    assert_eq!(drive.scheduler.failed().len(), 20);
    assert!(!drive.scheduler.done());
}

#[test]
fn a_chunk_given_up_for_want_of_retries_and_asked_again_gets_one_first_attempt_more() {
    let config = Config { breaker_threshold: 1000, retry_floor: 2, retry_ratio: 0.0, ..Config::default() };
    let mut drive = Drive::new(&[SourceKind::Origin], config, 1);
    drive.run_until(600_000, &mut |_, _| status(50, 503, None));
    assert_eq!((drive.started.len(), drive.scheduler.failed()), (3, vec![cid(0)]), "one attempt, two retries");
    // Asked again: one more attempt, then given up again, not a new round of retries.
    drive.scheduler.want(course(1));
    assert!(drive.scheduler.failed().is_empty());
    drive.run_until(1_200_000, &mut |_, _| status(50, 503, None));
    assert_eq!((drive.started.len(), drive.scheduler.failed()), (4, vec![cid(0)]));
    // And it is fetched once the origin answers.
    drive.scheduler.want(course(1));
    drive.run_until(1_800_000, &mut |_, _| ok(100));
    assert!(drive.scheduler.done());
}

#[test]
fn asking_again_does_not_jump_a_retry_after() {
    let config = Config { breaker_threshold: 1000, retry_floor: 0, retry_ratio: 0.0, ..Config::default() };
    let mut drive = Drive::new(&[SourceKind::Origin], config, 1);
    drive.run_until(60_000, &mut |_, _| status(50, 503, Some(120_000)));
    assert_eq!(drive.scheduler.failed(), vec![cid(0)]);
    let refused_at = drive.started[0].0;
    drive.scheduler.want(course(1));
    drive.run_until(600_000, &mut |_, _| ok(100));
    assert!(drive.scheduler.done());
    assert!(drive.started[1].0 >= refused_at + 120_000, "asked again at {} ms", drive.started[1].0);
}

#[test]
fn each_verified_chunk_earns_a_retry_so_a_busy_origin_is_not_given_up() {
    let config = Config { breaker_threshold: 1000, retry_floor: 2, retry_ratio: 0.1, ..Config::default() };
    let mut drive = Drive::new(&[SourceKind::Origin], config, 20);
    let mut count = 0;
    // The origin refuses every other request, as one at capacity does.
    drive.run_until(3_600_000, &mut |_, _| {
        count += 1;
        if count % 2 == 0 {
            status(50, 503, None)
        } else {
            ok(100)
        }
    });
    assert!(drive.scheduler.done(), "{:?} retries", drive.scheduler.retries());
    let (used, allowed) = drive.scheduler.retries();
    assert!(used <= allowed && allowed <= 4 + 20, "{used} of {allowed}");
}

#[test]
fn a_prefetched_chunk_a_peer_holds_is_asked_of_it_before_the_origin_and_the_origin_after_it_fails() {
    // Two chunks: within the origin's two slots, so only a preference can send one to the peer.
    let mut drive = Drive::new(&[SourceKind::Origin, SourceKind::Peer], Config::default(), 0);
    drive.scheduler.prefetch(course(2));
    drive.scheduler.held_by(SourceId(1), &cid(1));
    drive.scheduler.held_by(SourceId(0), &cid(0)); // the origin holds everything: no preference
    let mut answer = |attempt: &Attempt, _| match attempt.source {
        SourceId(1) => status(20, 404, None),
        _ => ok(100),
    };
    drive.run_until(60_000, &mut answer);
    assert!(drive.scheduler.done());
    let from = |n: u64| -> Vec<SourceId> {
        drive.started.iter().filter(|(_, a)| a.cid == cid(n)).map(|(_, a)| a.source).collect()
    };
    assert_eq!(from(1), [SourceId(1), SourceId(0)], "the peer first, then the origin once it failed");
    assert_eq!(from(0), [SourceId(0)]);
}

#[test]
fn saving_for_later_goes_to_a_mirror_and_spares_the_origin_while_a_waited_chunk_goes_to_the_origin() {
    let mut drive = Drive::new(&[SourceKind::Origin, SourceKind::Mirror], Config::default(), 1);
    // More than the mirror's 4 slots: the rest wait for one rather than take the origin's.
    drive.scheduler.prefetch((10..18).map(|i| (cid(i), 1000)));
    drive.run_until(60_000, &mut |_, _| ok(100));
    assert!(drive.scheduler.done());
    let sources = |chunks: std::ops::Range<u64>| -> Vec<SourceId> {
        drive.started.iter().filter(|(_, a)| chunks.contains(&cid_index(a.cid))).map(|(_, a)| a.source).collect()
    };
    assert_eq!(sources(0..1), [SourceId(0)], "the waited chunk from the origin");
    assert_eq!(sources(10..18), [SourceId(1); 8], "the saved ones from the mirror");
}

/// The `n` of `cid(n)`, for the small `n` tests use.
fn cid_index(wanted: Cid) -> u64 {
    (0..64).find(|&n| cid(n) == wanted).unwrap_or(u64::MAX)
}

#[test]
fn a_stalled_attempt_is_cancelled_and_retried_elsewhere() {
    let mut drive = Drive::new(&[SourceKind::Origin, SourceKind::Mirror], Config::default(), 1);
    let mut answer = |attempt: &Attempt, _| if attempt.source == SourceId(0) { None } else { ok(100) };
    drive.step(&mut answer);
    assert_eq!(drive.to(0), [0]);
    let first = drive.started[0].1.id;
    drive.scheduler.progress(first, 512, 1000);
    drive.run_until(60_000, &mut answer);
    assert!(drive.scheduler.done());
    assert_eq!(drive.cancelled, [first], "cancelled once stalled");
    let retried = drive.to(1);
    assert!(retried.len() == 1 && (5000..5500).contains(&retried[0]), "on the mirror, after a backoff: {retried:?}");
    assert_eq!(drive.scheduler.report()[0].failures, 1, "the stall is blamed on the origin");
}

#[test]
fn an_attempt_past_the_request_timeout_is_cancelled() {
    let mut s = Scheduler::new(&[SourceKind::Mirror], Config::default());
    s.want(course(1));
    let attempt = s.poll(0, &mut || 0.5).start.remove(0);
    for second in 1..15 {
        s.progress(attempt.id, second * 100, second * 1000);
        assert!(s.poll(second * 1000, &mut || 0.5).cancel.is_empty());
    }
    assert_eq!(s.poll(15_000, &mut || 0.5).cancel, [attempt.id]);
    assert_eq!(s.report()[0].failures, 1);
}

#[test]
fn corrupt_bytes_ban_the_source_and_the_chunk_is_fetched_elsewhere() {
    let mut drive = Drive::new(&[SourceKind::Mirror, SourceKind::Mirror], Config::default(), 12);
    let liar = cid(3);
    drive.run_until(60_000, &mut |attempt, _| match attempt.source {
        SourceId(0) if attempt.cid == liar => Some((50, Outcome::Corrupt)),
        _ => ok(100),
    });
    assert!(drive.scheduler.done());
    let report = drive.scheduler.report();
    assert!(report[0].banned && !report[1].banned);
    let banned_at = drive.started.iter().find(|(_, a)| a.cid == liar).map(|(at, _)| at + 50).unwrap();
    assert!(drive.to(0).iter().all(|&at| at < banned_at), "never asked again once banned");
    let from: Vec<SourceId> = drive.started.iter().filter(|(_, a)| a.cid == liar).map(|(_, a)| a.source).collect();
    assert_eq!(from, [SourceId(0), SourceId(1)], "retried on the other mirror");
    assert_eq!(report[0].bytes + report[1].bytes, 12_000, "the corrupt answer counted no bytes");
}

#[test]
fn a_corrupt_chunk_from_the_origin_is_not_asked_of_it_again_but_the_origin_serves_the_rest() {
    let mut drive = Drive::new(&[SourceKind::Origin], Config::default(), 12);
    let damaged = cid(3);
    drive.run_until(60_000, &mut |attempt, _| match attempt.cid == damaged {
        true => Some((50, Outcome::Corrupt)),
        false => ok(100),
    });
    assert_eq!(drive.scheduler.failed(), vec![damaged], "no other source: that chunk cannot be had");
    assert_eq!(drive.started.iter().filter(|(_, a)| a.cid == damaged).count(), 1, "asked of the origin once");
    assert!(!drive.scheduler.report()[0].banned);
    assert_eq!(drive.scheduler.report()[0].bytes, 11_000, "the other chunks came from the origin");
}

#[test]
fn a_chunk_wanted_again_after_it_was_verified_is_fetched_again() {
    let mut drive = Drive::new(&[SourceKind::Origin], Config::default(), 2);
    drive.run_until(60_000, &mut |_, _| ok(100));
    assert!(drive.scheduler.done());
    drive.scheduler.want([(cid(1), 1000)]);
    assert!(!drive.scheduler.done());
    drive.run_until(120_000, &mut |_, _| ok(100));
    assert!(drive.scheduler.done());
    assert_eq!(drive.started.iter().filter(|(_, a)| a.cid == cid(1)).count(), 2);
}

#[test]
fn hedges_go_to_mirrors_only_and_stay_within_five_percent() {
    let config = Config::default();
    let mut drive = Drive::new(&[SourceKind::Origin, SourceKind::Mirror, SourceKind::Peer], config, 400);
    let mut count = 0u64;
    drive.run_until(3_600_000, &mut |attempt, _| {
        count += 1;
        // One answer in forty is very slow, from any source: a tail past the p95, worth hedging.
        let slow = count % 40 == 0 && !attempt.hedge;
        ok(if slow { 3000 } else { 100 + count % 7 * 10 })
    });
    assert!(drive.scheduler.done());
    let hedges: Vec<&Attempt> = drive.started.iter().map(|(_, a)| a).filter(|a| a.hedge).collect();
    let (hedged, started) = drive.scheduler.hedges();
    assert_eq!(hedged, hedges.len() as u64);
    assert!(hedged >= 5, "slow answers were hedged: {hedged}");
    assert!(hedged as f64 <= 0.05 * started as f64, "{hedged} hedges of {started} attempts");
    assert!(hedges.iter().all(|a| a.source != SourceId(0)), "never towards the origin");
    assert!(!drive.cancelled.is_empty(), "a losing twin is cancelled");
}

#[test]
fn no_hedge_towards_a_source_whose_breaker_is_open() {
    let mut drive = Drive::new(&[SourceKind::Mirror, SourceKind::Mirror], Config::default(), 200);
    let mut count = 0u64;
    drive.run_until(3_600_000, &mut |attempt, now| {
        count += 1;
        match attempt.source {
            // The second mirror fails its first answers and stays failed (its probes fail too).
            SourceId(1) => status(20, 502, None),
            _ if count % 10 == 0 && now > 1000 => ok(3000),
            _ => ok(100),
        }
    });
    assert!(drive.scheduler.done());
    assert_eq!(drive.scheduler.report()[1].breaker, Breaker::Open);
    let late = drive.started.iter().filter(|(at, a)| a.source == SourceId(1) && *at > 1000).count();
    assert!(late <= 8, "only half-open probes reach the failing mirror ({late})");
    assert!(drive.started.iter().all(|(_, a)| !a.hedge || a.source != SourceId(1)), "no hedge towards it");
}

#[test]
fn the_origin_gets_traffic_back_once_it_recovers() {
    let mut drive = Drive::new(&[SourceKind::Origin, SourceKind::Mirror], Config::default(), 600);
    let mut down_seen = false;
    let recovery = 20_000;
    let mut answer = |attempt: &Attempt, now| match attempt.source {
        SourceId(0) if now < recovery => Some((30, Outcome::NetworkError)),
        SourceId(0) => ok(100),
        _ => ok(400),
    };
    while drive.now < recovery {
        drive.step(&mut answer);
        down_seen |= drive.scheduler.origin_state() == OriginState::Down;
    }
    assert!(down_seen);
    let during = drive.to(0).len();
    assert!(during <= 12, "the origin gets only probes while down: {during}");
    drive.run_until(3_600_000, &mut answer);
    assert!(drive.scheduler.done());
    assert_eq!(drive.scheduler.origin_state(), OriginState::Healthy);
    let report = drive.scheduler.report();
    assert_eq!(report[0].breaker, Breaker::Closed);
    let after = drive.to(0).len() - during;
    assert!(after > 100, "traffic returned to the origin: {after} attempts");
}

#[test]
fn the_better_mirror_is_preferred() {
    let config = Config { max_in_flight: 1, ..Config::default() };
    let mut drive = Drive::new(&[SourceKind::Mirror, SourceKind::Mirror, SourceKind::Mirror], config, 100);
    let mut count = 0u64;
    drive.run_until(3_600_000, &mut |attempt, _| {
        count += 1;
        match attempt.source {
            SourceId(0) if count % 3 == 0 => status(100, 500, None),
            SourceId(0) | SourceId(2) => ok(100),
            _ => ok(300),
        }
    });
    assert!(drive.scheduler.done());
    let requests: Vec<u64> = drive.scheduler.report().iter().map(|r| r.requests).collect();
    assert!(requests[2] > 80, "the fast, reliable mirror takes most requests: {requests:?}");
    let health = drive.scheduler.health(SourceId(0)).unwrap();
    assert!(health.score < drive.scheduler.health(SourceId(2)).unwrap().score);
}

#[test]
fn retry_after_keeps_every_request_away_from_the_origin_until_it_elapses() {
    let mut drive = Drive::new(&[SourceKind::Origin, SourceKind::Mirror], Config::default(), 2000);
    let mut refusals: Vec<Millis> = Vec::new();
    let wait = 10_000;
    let storm_ends = 60_000;
    drive.run_until(3_600_000, &mut |attempt, now| match attempt.source {
        SourceId(0) if now < storm_ends => {
            refusals.push(now + 40);
            status(40, 503, Some(wait))
        }
        SourceId(0) => ok(100),
        _ => ok(200),
    });
    assert!(drive.scheduler.done());
    let origin = drive.to(0);
    for refused in &refusals {
        assert!(!origin.iter().any(|&at| at > *refused && at < refused + wait), "asked before Retry-After elapsed");
    }
    let during: Vec<&Millis> = origin.iter().filter(|&&at| at < storm_ends).collect();
    assert!(during.len() <= 2 + (storm_ends / wait) as usize, "origin requests in the storm: {}", during.len());
    assert!(origin.len() > during.len(), "the origin is used again after the storm");
}

#[test]
fn no_input_makes_it_panic_or_break_its_caps() {
    let kinds = [SourceKind::Origin, SourceKind::Mirror, SourceKind::Peer, SourceKind::Mirror];
    let config = Config::default();
    let mut s = Scheduler::new(&kinds, config.clone());
    s.want(course(50));
    s.want(course(60));
    let mut seed = 99u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut live: Vec<AttemptId> = Vec::new();
    for round in 0..3000u64 {
        let now = round * 37 % 50_000 + next() % 100; // jumps back in time now and then
        let value = next();
        let plan = s.poll(now, &mut || (value % 1000) as f64 / 1000.0);
        live.retain(|id| !plan.cancel.contains(id));
        live.extend(plan.start.iter().map(|a| a.id));
        assert!(live.len() <= config.max_in_flight);
        let pick = (next() % (live.len() as u64 + 2)) as usize;
        let id = live.get(pick).copied().unwrap_or(AttemptId(next() % 10_000));
        let outcome = match next() % 7 {
            0 => Outcome::Verified { bytes: next() % 2000 },
            1 => Outcome::Corrupt,
            2 => Outcome::Status { code: (next() % 600) as u16, retry_after_ms: Some(next() % 100_000) },
            3 => Outcome::NetworkError,
            4 => Outcome::Cancelled,
            5 => Outcome::Status { code: 503, retry_after_ms: None },
            _ => {
                s.progress(id, next(), now);
                continue;
            }
        };
        s.finish(id, outcome, now);
        live.retain(|&other| other != id);
    }
    let _ = (s.done(), s.failed(), s.origin_state(), s.report(), s.health(SourceId(99)));
}

#[test]
fn a_chunk_a_pupil_waits_for_goes_to_the_origin_even_when_a_peer_holds_it() {
    let mut drive = Drive::new(&[SourceKind::Origin, SourceKind::Peer], Config::default(), 0);
    drive.scheduler.prefetch(course(1));
    drive.scheduler.want(course(1)); // the pupil opens the page that needs it: now waited for
    drive.scheduler.held_by(SourceId(1), &cid(0));
    drive.run_until(60_000, &mut |_, _| ok(100));
    assert!(drive.scheduler.done());
    assert_eq!(drive.to(0), [0], "the origin, healthy, serves a waiting pupil");
    assert!(drive.to(1).is_empty());
}

#[test]
fn a_chunk_a_pupil_waits_for_goes_to_a_mirror_then_a_peer_while_the_origin_is_saturated() {
    for (sources, expected) in [
        (vec![SourceKind::Origin, SourceKind::Peer], SourceId(1)),
        (vec![SourceKind::Origin, SourceKind::Peer, SourceKind::Mirror], SourceId(2)),
    ] {
        let mut drive = Drive::new(&sources, Config::default(), 1);
        drive.scheduler.held_by(SourceId(1), &cid(0));
        let mut answer = |attempt: &Attempt, _| match attempt.source {
            SourceId(0) => status(20, 503, Some(60_000)),
            _ => ok(100),
        };
        drive.run_until(60_000, &mut answer);
        assert!(drive.scheduler.done());
        let from: Vec<SourceId> = drive.started.iter().map(|(_, attempt)| attempt.source).collect();
        assert_eq!(from, [SourceId(0), expected], "{sources:?}");
    }
}

// Found by the region simulation: a prefetch stood waiting, with nothing running and no wake-up, for
// the classmate its retry avoided.
#[test]
fn a_prefetch_the_holding_classmate_just_failed_goes_to_the_origin_rather_than_wait_for_it() {
    let mut drive = Drive::new(&[SourceKind::Origin, SourceKind::Peer], Config::default(), 0);
    drive.scheduler.prefetch(course(1));
    drive.scheduler.held_by(SourceId(1), &cid(0));
    // The classmate takes no more requests: "not held"; then it says again that it holds the chunk.
    drive.step(&mut |_, _| Some((150, Outcome::NotHeld)));
    drive.scheduler.held_by(SourceId(1), &cid(0));
    drive.run_until(60_000, &mut |_, _| ok(100));
    assert!(drive.scheduler.done(), "{:?}", drive.started);
    assert_eq!((drive.to(0).len(), drive.to(1).len()), (1, 1));
}

#[test]
fn chunks_a_pupil_waits_for_start_before_prefetched_ones() {
    let config = Config { max_in_flight: 1, ..Config::default() };
    let mut drive = Drive::new(&[SourceKind::Origin], config, 0);
    drive.scheduler.prefetch(course(3));
    drive.scheduler.want([(cid(9), 1000)]);
    drive.run_until(60_000, &mut |_, _| ok(100));
    let order: Vec<Cid> = drive.started.iter().map(|(_, attempt)| attempt.cid).collect();
    assert_eq!(order, [cid(9), cid(0), cid(1), cid(2)]);
}

#[test]
fn a_silent_origin_strands_the_page_only_when_no_mirror_or_classmate_can_stand_in() {
    let config = Config { breaker_threshold: 2, ..Config::default() };
    // The origin does not answer; the mirror sends bad bytes and is banned.
    let mut drive = Drive::new(&[SourceKind::Origin, SourceKind::Mirror], config.clone(), 4);
    assert!(!drive.scheduler.stranded(false), "nothing has failed yet");
    drive.run_until(120_000, &mut |attempt, _| match attempt.source {
        SourceId(0) => Some((50, Outcome::NetworkError)),
        _ => Some((50, Outcome::Corrupt)),
    });
    assert_eq!(drive.scheduler.origin_state(), OriginState::Down);
    assert!(drive.scheduler.stranded(false));
    assert!(!drive.scheduler.stranded(true), "a connected classmate can stand in");

    // A mirror that still answers stands in.
    let mut drive = Drive::new(&[SourceKind::Origin, SourceKind::Mirror], config.clone(), 4);
    drive.run_until(2_000, &mut |attempt, _| match attempt.source {
        SourceId(0) => Some((50, Outcome::NetworkError)),
        _ => None,
    });
    assert!(!drive.scheduler.stranded(false));

    // A saturated origin is waited for: it said it will come back.
    let mut drive = Drive::new(&[SourceKind::Origin], config, 4);
    drive.run_until(120_000, &mut |_, _| status(50, 503, Some(1_000)));
    assert_eq!(drive.scheduler.origin_state(), OriginState::Saturated);
    assert!(!drive.scheduler.stranded(false));
}

#[test]
fn an_origin_saturated_at_open_is_spared_for_what_a_pupil_waits_for_until_it_serves_again() {
    let sources = [SourceKind::Origin, SourceKind::Peer];
    // Chunk 0 is held by a classmate; chunk 1 by nobody.
    let first_sources = |spare: bool| {
        let mut drive = Drive::new(&sources, Config::default(), 2);
        drive.scheduler.held_by(SourceId(1), &cid(0));
        if spare {
            drive.scheduler.spare_origin();
        }
        drive.step(&mut |_, _| None);
        drive.started.iter().map(|(_, attempt)| (attempt.cid, attempt.source)).collect::<Vec<_>>()
    };
    assert_eq!(first_sources(false), [(cid(0), SourceId(0)), (cid(1), SourceId(0))], "the origin is authoritative");
    assert_eq!(first_sources(true), [(cid(0), SourceId(1)), (cid(1), SourceId(0))], "the classmate first");

    // Once the origin has served a chunk, it is preferred again.
    let mut drive = Drive::new(&sources, Config::default(), 1);
    drive.scheduler.spare_origin();
    drive.run_until(10_000, &mut |_, _| ok(50));
    drive.scheduler.want([(cid(7), 1000)]);
    drive.scheduler.held_by(SourceId(1), &cid(7));
    drive.step(&mut |_, _| None);
    assert_eq!(drive.started.last().map(|(_, attempt)| attempt.source), Some(SourceId(0)));
}

#[test]
fn a_reload_keeps_bans_and_leaves_a_refusing_origin_alone_for_what_remained() {
    let sources = [SourceKind::Origin, SourceKind::Mirror];
    let mut drive = Drive::new(&sources, Config::default(), 3);
    // The origin asks for a minute's rest; the mirror lies.
    drive.run_until(200, &mut |attempt, _| match attempt.source {
        SourceId(0) => status(50, 503, Some(60_000)),
        _ => Some((50, Outcome::Corrupt)),
    });
    // The pupil reloads 100 ms in, while the origin's minute runs.
    let kept = drive.scheduler.remembered(100);
    assert!(kept[1].banned && !kept[0].banned);
    assert!((50_000..=62_000).contains(&kept[0].quiet_ms), "{kept:?}");

    // The reloaded page starts a new scheduler.
    let mut reloaded = Drive::new(&sources, Config::default(), 3);
    for (index, remembered) in kept.iter().enumerate() {
        reloaded.scheduler.recall(SourceId(index), *remembered, 0);
    }
    assert_eq!(reloaded.scheduler.origin_state(), OriginState::Saturated);
    reloaded.run_until(kept[0].quiet_ms + 60_000, &mut |_, _| ok(50));
    assert!(reloaded.scheduler.done());
    assert!(reloaded.to(1).is_empty(), "the liar is not asked again");
    let first = reloaded.to(0)[0];
    assert!(first >= kept[0].quiet_ms, "the origin is left alone for {} ms, asked at {first}", kept[0].quiet_ms);

    // Nothing to remember of sources that behaved.
    let mut calm = Drive::new(&sources, Config::default(), 3);
    calm.run_until(5_000, &mut |_, _| ok(50));
    assert!(calm.scheduler.remembered(calm.now).iter().all(|kept| *kept == Remembered::default()));
}

#[test]
fn a_memory_is_kept_as_text_with_wall_clock_ends_and_read_back_as_what_is_left() {
    let wall = 1_764_400_000_000;
    let kept = Remembered { banned: true, quiet_ms: 30_500 };
    let text = kept.to_text(wall).expect("something to keep");
    assert_eq!(text, format!("{},{}", (wall + REMEMBER_BAN_MS) / 1000, (wall + 31_000) / 1000));
    assert_eq!(Remembered::from_text(&text, wall + 10_000), Remembered { banned: true, quiet_ms: 21_000 });
    assert_eq!(Remembered::from_text(&text, wall + 40_000), Remembered { banned: true, quiet_ms: 0 });
    assert_eq!(Remembered::from_text(&text, wall + REMEMBER_BAN_MS + 1), Remembered::default(), "an hour's ban");
    assert_eq!(Remembered::default().to_text(wall), None, "nothing to keep");
    for garbage in ["", "1", "1,2,3", "a,b", "-1,0", "99999999999999999999,0"] {
        assert_eq!(Remembered::from_text(garbage, wall), Remembered::default(), "{garbage:?}");
    }
}

#[test]
fn a_silent_origin_is_not_kept_quiet_across_a_reload() {
    let config = Config { breaker_threshold: 1, ..Config::default() };
    let mut drive = Drive::new(&[SourceKind::Origin], config, 1);
    drive.run_until(100, &mut |_, _| Some((50, Outcome::NetworkError)));
    assert_eq!(drive.scheduler.origin_state(), OriginState::Down);
    assert_eq!(drive.scheduler.remembered(60), [Remembered::default()], "the reload is the pupil's retry");
}
