use super::*;

fn cid(n: u32) -> Cid {
    Cid::of(&n.to_be_bytes())
}

fn peer(n: u8) -> Vec<u8> {
    vec![b'p', n]
}

#[test]
fn a_held_chunk_is_asked_of_classmates_three_times_then_drawn() {
    let mut saving = Saving::new(Rules::default(), 0);
    let (me, them) = (peer(0), [peer(1)]);
    let classmates: Vec<&[u8]> = them.iter().map(Vec::as_slice).collect();
    for _ in 0..ASKS {
        assert_eq!(saving.step(&me, &classmates, cid(1), Held::Free, 0), Step::Ask);
        saving.not_given(cid(1));
    }
    assert_ne!(saving.step(&me, &classmates, cid(1), Held::Free, 0), Step::Ask);
    // Another chunk still gets its asks; while its holders are busy, it waits without losing one.
    assert_eq!(saving.step(&me, &classmates, cid(2), Held::Busy, 0), Step::Wait(LOOK_AGAIN_AT_MOST_MS));
    assert_eq!(saving.step(&me, &classmates, cid(2), Held::Free, 5), Step::Ask);
}

#[test]
fn nothing_starts_before_the_swarm_settles_and_a_page_alone_then_fetches_everything() {
    let mut saving = Saving::new(Rules::default(), 2_000);
    assert_eq!(saving.step(&peer(0), &[], cid(1), Held::No, 0), Step::Wait(2_000));
    assert_eq!(saving.step(&peer(0), &[&peer(1)], cid(1), Held::Free, 1_999), Step::Wait(2_000));
    for n in 0..20 {
        assert_eq!(saving.step(&peer(0), &[], cid(n), Held::No, 2_000), Step::Fetch);
    }
}

#[test]
fn a_waiting_chunk_looks_again_when_the_lottery_may_change_and_never_later_than_the_net() {
    let (me, them) = (peer(0), peer(1));
    let lost = (0..).map(cid).find(|c| crate::peer::lottery::ticket(&them, c) < crate::peer::lottery::ticket(&me, c));
    let lost = lost.unwrap();
    let mut saving = Saving::new(Rules::default(), 0);
    // The winner's grace: 3 s.
    assert_eq!(saving.step(&me, &[&them], lost, Held::No, 1_000), Step::Wait(4_000));
    // A winner that keeps announcing is looked at again within the safety net.
    let slow = Rules { patience_ms: 60_000, max_wait_ms: 120_000, ..Rules::default() };
    let mut saving = Saving::new(slow, 0);
    saving.fetching(&them, lost, 1_000);
    assert_eq!(saving.step(&me, &[&them], lost, Held::No, 1_000), Step::Wait(1_000 + LOOK_AGAIN_AT_MOST_MS));
    // It leaves: nothing holds me back (its draw was never mine to wait for past the grace).
    saving.left(&them);
    assert_eq!(saving.step(&me, &[], lost, Held::No, 1_000), Step::Fetch);
}

/// A class of pages saving the same course, each carrying out its steps at the times it asked for:
/// a winner announces `Fetching` to all and holds the chunk 2 s later, when the others ask it.
#[test]
fn a_class_saving_together_fetches_each_chunk_over_http_once() {
    let (size, chunks) = (6u8, 40u32);
    let ids: Vec<Vec<u8>> = (0..size).map(peer).collect();
    let mut pages: Vec<Saving> = (0..size).map(|_| Saving::new(Rules::default(), 500)).collect();
    let mut held_since: HashMap<Cid, Millis> = HashMap::new();
    let mut has = vec![vec![false; chunks as usize]; size as usize];
    let mut wake = vec![vec![0; chunks as usize]; size as usize];
    let mut http = 0;
    for now in (0..120_000).step_by(100) {
        for page in 0..size as usize {
            let classmates: Vec<&[u8]> =
                ids.iter().enumerate().filter(|(i, _)| *i != page).map(|(_, id)| id.as_slice()).collect();
            for n in 0..chunks {
                let c = cid(n);
                if has[page][n as usize] || wake[page][n as usize] > now {
                    continue;
                }
                let held = match held_since.get(&c).is_some_and(|&at| at <= now) {
                    true => Held::Free,
                    false => Held::No,
                };
                match pages[page].step(&ids[page], &classmates, c, held, now) {
                    Step::Ask => has[page][n as usize] = true,
                    Step::Fetch => {
                        http += 1;
                        has[page][n as usize] = true;
                        held_since.entry(c).or_insert(now + 2_000);
                        for (other, saving) in pages.iter_mut().enumerate().filter(|(i, _)| *i != page) {
                            saving.fetching(&ids[page], c, now);
                            wake[other][n as usize] = now; // news: look again
                        }
                    }
                    Step::Wait(at) => {
                        assert!(at > now && at <= now + LOOK_AGAIN_AT_MOST_MS, "wait until {at} at {now}");
                        wake[page][n as usize] = at;
                    }
                }
            }
        }
    }
    assert!(has.iter().all(|page| page.iter().all(|&held| held)), "every page has every chunk");
    assert_eq!(http, chunks, "one HTTP fetch per chunk for the whole class");
}

#[test]
fn a_page_saves_one_chunk_at_a_time_from_the_origin_alone() {
    assert_eq!(at_once(false, false, 19), 1);
    assert_eq!(at_once(true, false, 19), 19);
    assert_eq!(at_once(false, true, 19), 19);
    assert_eq!(at_once(true, true, 0), 1);
}

/// Milliseconds a page waits when `peers_at(waited)` classmates are connected and the tracker counts `others`.
fn settle(others: Option<usize>, peers_at: impl Fn(Millis) -> usize) -> Millis {
    let mut settling = Settling::new(false);
    while !settling.settled(peers_at(settling.waited()), others) {}
    settling.waited()
}

#[test]
fn a_page_settles_a_second_after_everyone_connects_and_waits_for_a_first_link_when_not_alone() {
    // Alone in the swarm: a second of quiet.
    assert_eq!(settle(Some(0), |_| 0), 1_000);
    // Three classmates, all connected after 1.5 s (a quiet second went by): at once.
    assert_eq!(settle(Some(3), |t| if t >= 1_500 { 3 } else { 0 }), 1_500);
    // One, then the other two: a second after the last, at the next look.
    assert_eq!(settle(Some(3), |t| [0, 1, 1, 3][(t / 500).min(3) as usize]), 2_750);
    // Twenty counted, eight links at most.
    assert_eq!(settle(Some(20), |t| if t >= 1_250 { 8 } else { 0 }), 1_250);
    // Two of three came: two seconds of quiet, at the next look.
    assert_eq!(settle(Some(3), |t| if t >= 500 { 2 } else { 0 }), 2_750);
    // Others counted, nobody reachable yet: up to half a minute for a first link...
    assert_eq!(settle(Some(5), |_| 0), SETTLE_ALONE_MS);
    assert_eq!(settle(Some(5), |t| if t >= 12_000 { 5 } else { 0 }), 12_000);
    // ...five seconds when mirrors spare the origin...
    let mut settling = Settling::new(true);
    while !settling.settled(0, Some(5)) {}
    assert_eq!(settling.waited(), SETTLE_MS);
    // ...and with one classmate of five, and no other coming: two seconds of quiet.
    assert_eq!(settle(Some(5), |_| 1), 2_250);
}
