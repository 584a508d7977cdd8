//! The invariants of every standard rehearsal, and the ones particular to each.
// See: issue "source scheduler"

use super::*;
use crate::random::SplitMix64;

fn scenario(name: &str) -> Scenario {
    standard().into_iter().find(|(found, _)| *found == name).map(|(_, scenario)| scenario).expect("a standard scenario")
}

#[test]
fn every_standard_scenario_completes_safely() {
    let all = standard();
    assert_eq!(all.len(), 6);
    for (name, scenario) in all {
        let figures = run(&scenario, 1);
        assert_eq!(figures.complete(), scenario.clients, "{name}: every client gets the course");
        assert_eq!(figures.corrupt_accepted, 0, "{name}");
        assert_eq!(figures.violations, 0, "{name}: no attempt to a banned, open or waiting source");
        let most_probes = figures.origin_requests_while_open.iter().max().copied().unwrap_or(0);
        assert!(most_probes <= 4, "{name}: only a few half-open probes per client reach the origin: {most_probes}");
        assert!(figures.max_finish().unwrap() < 120_000, "{name}: {:?}", figures.max_finish());
    }
}

#[test]
fn runs_are_deterministic_per_seed() {
    let storm = scenario("503 storm, Retry-After 10 s");
    assert_eq!(run(&storm, 5), run(&storm, 5));
    assert_ne!(run(&storm, 5).finished, run(&storm, 6).finished);
}

#[test]
fn a_healthy_origin_serves_its_share_with_no_refusal() {
    let figures = run(&scenario("healthy origin"), 1);
    assert_eq!(figures.origin_refusals, 0);
    assert!(figures.shares()[0] > 30.0, "{:?}", figures.shares());
}

#[test]
fn the_503_storm_costs_the_origin_few_requests_per_client() {
    let storm = scenario("503 storm, Retry-After 10 s");
    let figures = run(&storm, 1);
    // A client the origin keeps accepting may send it up to 16 requests; refused clients go elsewhere.
    assert!(figures.origin_mean() <= 6.0, "origin requests per client: {}", figures.origin_mean());
    assert!(figures.origin_max() <= 20, "origin requests of one client: {}", figures.origin_max());
    assert!(figures.origin_refusals <= 2 * storm.clients as u64, "refusals: {}", figures.origin_refusals);
    assert!(figures.shares()[0] < 30.0, "mirrors carry the course: {:?}", figures.shares());
}

#[test]
fn a_429_without_retry_after_trips_breakers_instead_of_a_storm() {
    let figures = run(&scenario("429, no Retry-After"), 1);
    assert!(figures.origin_mean() <= 10.0, "origin requests per client: {}", figures.origin_mean());
    assert!(figures.origin_refusals <= 5 * 30, "refusals: {}", figures.origin_refusals);
}

#[test]
fn a_stalling_origin_is_left_for_the_mirrors() {
    let figures = run(&scenario("stalling origin"), 1);
    assert_eq!(figures.bytes_per_source[0], 0, "no stalled answer completes");
    assert!(figures.origin_max() <= 6, "stalls cost a few attempts each: {}", figures.origin_max());
}

#[test]
fn a_lying_mirror_is_banned_and_its_lies_never_accepted() {
    let liar = scenario("lying mirror");
    let figures = run(&liar, 1);
    assert_eq!(figures.corrupt_accepted, 0);
    // Each client asks the liar at most its in-flight cap before the first bad chunk bans it.
    let most = liar.clients as u64 * (liar.config.mirror_in_flight as u64 + 4) * liar.chunk_size;
    assert!(figures.bytes_per_source[1] <= most, "{:?}", figures.bytes_per_source);
    assert!(figures.bytes_per_source[2] > 0);
}

#[test]
fn an_origin_back_from_an_outage_gets_its_traffic_back() {
    let figures = run(&scenario("origin down 30 s, then back"), 1);
    assert!(figures.shares()[0] > 20.0, "late arrivals use the origin again: {:?}", figures.shares());
}

/// Seeded draws for the scenarios: a failure names the seed that shows it.
struct Draw(SplitMix64);

impl Draw {
    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.0.next_u64() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A source of `kind` with troubles drawn from `draw`: saturated (503 or 429, with or without
/// `Retry-After`), down for a while, stalling, lying about some chunks, slow; each recovering or not.
fn troubled(draw: &mut Draw, kind: SourceKind, chunks: usize) -> Script {
    let mut script = Script::healthy(kind);
    script.latency = draw.below(400);
    script.ms_per_kib = draw.below(8);
    if draw.chance(50) {
        script.capacity = Some(1 + draw.below(4) as usize);
        let code = if draw.chance(50) { 503 } else { 429 };
        let retry_after_s = draw.chance(60).then(|| draw.below(20));
        script.refusal = Refusal { code, retry_after_s };
    }
    if draw.chance(30) {
        let from = draw.below(20_000);
        script.outage = Some((from, from + draw.below(60_000)));
    }
    if draw.chance(20) {
        script.stall_after = Some(draw.below(64 * 1024));
    }
    if draw.chance(50) {
        script.recovers_at = Some(draw.below(120_000));
    }
    if kind == SourceKind::Mirror && draw.chance(30) {
        script.corrupt = (0..chunks).filter(|_| draw.chance(40)).collect();
    }
    script
}

#[test]
fn no_attempt_ever_starts_towards_a_banned_open_or_waiting_source_whatever_the_sources_do() {
    let (mut clients, mut complete) = (0, 0);
    for seed in 0..60 {
        let mut draw = Draw(SplitMix64::new(seed));
        let chunks = 2 + draw.below(12) as usize;
        let mut sources = vec![troubled(&mut draw, SourceKind::Origin, chunks)];
        for _ in 0..draw.below(4) {
            sources.push(troubled(&mut draw, SourceKind::Mirror, chunks));
        }
        let scenario = Scenario {
            clients: 1 + draw.below(8) as usize,
            chunks,
            chunk_size: 1024 * (1 + draw.below(128)),
            arrival_spread: draw.below(20_000),
            horizon: 10 * 60_000,
            config: Config::default(),
            sources,
        };
        let figures = run(&scenario, seed);
        assert_eq!(figures.violations, 0, "seed {seed}: an attempt went to a banned, open or waiting source");
        assert_eq!(figures.corrupt_accepted, 0, "seed {seed}: a corrupt chunk was accepted");
        clients += scenario.clients;
        complete += figures.complete();
    }
    // The mornings drawn are lived through, not cut short: most clients get their course.
    assert!(complete * 2 > clients, "{complete} of {clients} clients got the course");
}
