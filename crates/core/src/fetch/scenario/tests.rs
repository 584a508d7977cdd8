//! The invariants of every standard rehearsal, and the ones particular to each.
// See: issue "source scheduler"

use super::*;

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
