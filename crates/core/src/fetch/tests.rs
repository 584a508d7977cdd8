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
