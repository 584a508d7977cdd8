use super::*;

fn cid(n: u32) -> Cid {
    Cid::of(&n.to_be_bytes())
}

/// The default rules, but a winner's chunk is its own at once (confirmation has its own test).
fn rules() -> Rules {
    Rules { confirm_ms: 0, ..Rules::default() }
}

fn peer(n: u8) -> Vec<u8> {
    let mut id = *b"-CA0001-000000000000";
    id[19] = n;
    id.to_vec()
}

/// Peers `0..n`, and the classmates of peer `me` among them.
fn class(n: u8) -> Vec<Vec<u8>> {
    (0..n).map(peer).collect()
}

fn others(class: &[Vec<u8>], me: usize) -> Vec<&[u8]> {
    class.iter().enumerate().filter(|(i, _)| *i != me).map(|(_, id)| id.as_slice()).collect()
}

#[test]
fn tickets_are_the_same_everywhere_and_differ_by_peer_and_chunk() {
    assert_eq!(ticket(&peer(1), &cid(1)), ticket(&peer(1), &cid(1)));
    assert_ne!(ticket(&peer(1), &cid(1)), ticket(&peer(2), &cid(1)));
    assert_ne!(ticket(&peer(1), &cid(1)), ticket(&peer(1), &cid(2)));
}

#[test]
fn in_a_class_that_sees_everyone_exactly_one_peer_fetches_each_chunk() {
    for size in [2u8, 3, 8, 16] {
        let class = class(size);
        let mut lotteries: Vec<Lottery> = (0..size).map(|_| Lottery::new(rules())).collect();
        for n in 0..200 {
            let fetchers = (0..size as usize)
                .filter(|&me| lotteries[me].turn(&class[me], &others(&class, me), cid(n), 0) == Turn::Mine)
                .count();
            assert_eq!(fetchers, 1, "class of {size}, chunk {n}");
        }
    }
}

#[test]
fn each_peer_wins_about_its_share_of_the_chunks() {
    let (size, chunks) = (8u8, 8_000u32);
    let class = class(size);
    for me in 0..size as usize {
        let mut lottery = Lottery::new(rules());
        let won =
            (0..chunks).filter(|&n| lottery.turn(&class[me], &others(&class, me), cid(n), 0) == Turn::Mine).count();
        let share = won as f64 / f64::from(chunks);
        assert!((share - 1.0 / f64::from(size)).abs() < 0.03, "peer {me} won {share:.3} of the chunks");
    }
}

#[test]
fn alone_i_fetch_everything_at_once() {
    let mut lottery = Lottery::default();
    assert_eq!(lottery.turn(&peer(0), &[], cid(7), 0), Turn::Mine);
}

#[test]
fn a_silent_winner_is_waited_for_during_the_grace_then_passed_over() {
    let class = class(2);
    let chunk = (0..).map(cid).find(|c| ticket(&class[1], c) < ticket(&class[0], c)).unwrap();
    let mut lottery = Lottery::new(rules());
    let (me, them) = (&class[0], [class[1].as_slice()]);
    assert_eq!(lottery.turn(me, &them, chunk, 10_000), Turn::Theirs(class[1].clone()));
    assert_eq!(lottery.turn(me, &them, chunk, 12_999), Turn::Theirs(class[1].clone()));
    assert_eq!(lottery.turn(me, &them, chunk, 13_000), Turn::Mine);
    // Passed over for this chunk only.
    let other = (0..).map(cid).find(|c| *c != chunk && ticket(&class[1], c) < ticket(&class[0], c)).unwrap();
    assert_eq!(lottery.turn(me, &them, other, 13_000), Turn::Theirs(class[1].clone()));
}

#[test]
fn a_classmate_fetching_is_waited_for_while_its_announce_holds() {
    let class = class(3);
    // A chunk I would win: a classmate that says it fetches it is still waited for (views differ).
    let chunk = (0..).map(cid).find(|c| class[1..].iter().all(|p| ticket(&class[0], c) < ticket(p, c))).unwrap();
    let mut lottery = Lottery::new(rules());
    let them = [class[1].as_slice(), class[2].as_slice()];
    lottery.fetching(&class[2], chunk, 1_000);
    assert_eq!(lottery.turn(&class[0], &them, chunk, 1_000), Turn::Theirs(class[2].clone()));
    assert_eq!(lottery.turn(&class[0], &them, chunk, 8_999), Turn::Theirs(class[2].clone()));
    // Repeated while it fetches: still waited for.
    lottery.fetching(&class[2], chunk, 8_000);
    assert_eq!(lottery.turn(&class[0], &them, chunk, 15_999), Turn::Theirs(class[2].clone()));
    // It went quiet: the draw is mine again.
    assert_eq!(lottery.turn(&class[0], &them, chunk, 16_000), Turn::Mine);
}

#[test]
fn a_winner_whose_announce_ran_out_is_passed_over_at_once() {
    let class = class(2);
    let chunk = (0..).map(cid).find(|c| ticket(&class[1], c) < ticket(&class[0], c)).unwrap();
    let mut lottery = Lottery::new(rules());
    let them = [class[1].as_slice()];
    lottery.fetching(&class[1], chunk, 0);
    assert_eq!(lottery.turn(&class[0], &them, chunk, 7_999), Turn::Theirs(class[1].clone()));
    assert_eq!(lottery.turn(&class[0], &them, chunk, 8_000), Turn::Mine);
    // Announcing again brings it back.
    lottery.fetching(&class[1], chunk, 9_000);
    assert_eq!(lottery.turn(&class[0], &them, chunk, 9_000), Turn::Theirs(class[1].clone()));
}

#[test]
fn announces_of_a_classmate_that_left_do_not_hold() {
    let class = class(3);
    let chunk = (0..).map(cid).find(|c| class[1..].iter().all(|p| ticket(&class[0], c) < ticket(p, c))).unwrap();
    let mut lottery = Lottery::new(rules());
    lottery.fetching(&class[1], chunk, 0);
    lottery.left(&class[1]);
    assert_eq!(lottery.turn(&class[0], &[class[2].as_slice()], chunk, 100), Turn::Mine);
    // Nor does one from a classmate this page is not connected to.
    lottery.fetching(&class[1], chunk, 200);
    assert_eq!(lottery.turn(&class[0], &[class[2].as_slice()], chunk, 300), Turn::Mine);
}

#[test]
fn a_classmate_that_keeps_announcing_is_waited_for_no_longer_than_the_maximum() {
    let class = class(2);
    let chunk = (0..).map(cid).find(|c| ticket(&class[1], c) < ticket(&class[0], c)).unwrap();
    let mut lottery = Lottery::new(rules());
    let them = [class[1].as_slice()];
    for at in (0..=40_000).step_by(4_000) {
        lottery.fetching(&class[1], chunk, at);
        let expected = match at < 30_000 {
            true => Turn::Theirs(class[1].clone()),
            false => Turn::Mine,
        };
        assert_eq!(lottery.turn(&class[0], &them, chunk, at), expected, "at {at} ms");
    }
}

#[test]
fn a_chunk_is_mine_once_i_have_won_it_for_the_confirmation_time() {
    let class = class(3);
    let chunk = (0..)
        .map(cid)
        .find(|c| ticket(&class[1], c) < ticket(&class[0], c) && ticket(&class[0], c) < ticket(&class[2], c))
        .unwrap();
    let mut lottery = Lottery::new(Rules { confirm_ms: 1_000, ..Rules::default() });
    let (one, both) = ([class[2].as_slice()], [class[1].as_slice(), class[2].as_slice()]);
    assert_eq!(lottery.turn(&class[0], &one, chunk, 0), Turn::Confirming);
    assert_eq!(lottery.turn(&class[0], &one, chunk, 400), Turn::Confirming);
    // A classmate with a lower ticket connects: theirs; it leaves: the confirmation starts over.
    assert_eq!(lottery.turn(&class[0], &both, chunk, 500), Turn::Theirs(class[1].clone()));
    assert_eq!(lottery.turn(&class[0], &one, chunk, 600), Turn::Confirming);
    assert_eq!(lottery.turn(&class[0], &one, chunk, 1_599), Turn::Confirming);
    assert_eq!(lottery.turn(&class[0], &one, chunk, 1_600), Turn::Mine);
}

#[test]
fn the_turn_changes_no_sooner_than_the_lottery_says_without_news() {
    let class = class(3);
    let them = [class[1].as_slice(), class[2].as_slice()];
    let lost = (0..).map(cid).find(|c| ticket(&class[1], c) < ticket(&class[0], c)).unwrap();
    let won = (0..).map(cid).find(|c| class[1..].iter().all(|p| ticket(&class[0], c) < ticket(p, c))).unwrap();
    let announced = (0..).map(cid).find(|c| *c != won && *c != lost).unwrap();
    let mut lottery = Lottery::new(Rules::default());
    lottery.fetching(&class[2], announced, 500);
    for chunk in [lost, won, announced] {
        let first = lottery.turn(&class[0], &them, chunk, 1_000);
        let change = lottery.changes_at(&chunk, 1_000).unwrap();
        // A drawn winner's 3 s of grace, a win's 1 s of confirmation, an announce's 8 s of patience.
        let expected = [(lost, 4_000), (won, 2_000), (announced, 8_500)];
        assert_eq!(Some(&(chunk, change)), expected.iter().find(|(c, _)| *c == chunk));
        for at in (1_000..change).step_by(250) {
            assert_eq!(lottery.turn(&class[0], &them, chunk, at), first, "at {at} ms");
        }
        assert_ne!(lottery.turn(&class[0], &them, chunk, change), first);
    }
    assert_eq!(Lottery::default().changes_at(&won, 0), None);
}

#[test]
fn a_first_announce_is_news_and_a_repeat_is_not() {
    let class = class(2);
    let chunk = (0..).map(cid).find(|c| ticket(&class[1], c) < ticket(&class[0], c)).unwrap();
    let mut lottery = Lottery::new(rules());
    assert!(lottery.fetching(&class[1], chunk, 0));
    assert!(!lottery.fetching(&class[1], chunk, 2_000));
    // It went quiet and was passed over: announcing again is news.
    assert_eq!(lottery.turn(&class[0], &[class[1].as_slice()], chunk, 10_000), Turn::Mine);
    assert!(lottery.fetching(&class[1], chunk, 11_000));
    assert!(!lottery.fetching(&class[1], chunk, 12_000));
}
