//! Native tests of one peer session: two sessions wired to each other, the limits, stalls, and a
//! malicious peer whose every trick ends in one Violation and then silence.
// See: issue "peer wire protocol"

use std::sync::OnceLock;

use super::*;
use crate::peer::wire::{decode, encode, pieces};

const COURSE: &str = "physique-3e";

fn chunk_bytes(n: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(7) ^ n).collect()
}

/// Three chunks: a small one, one of three pieces, and an empty one. Built and hashed once: debug builds
/// are slow, and the fuzz test makes thousands of sessions.
fn course() -> &'static [(Cid, Vec<u8>)] {
    static CHUNKS: OnceLock<Vec<(Cid, Vec<u8>)>> = OnceLock::new();
    CHUNKS.get_or_init(|| {
        let chunks = [chunk_bytes(1, 10), chunk_bytes(2, 150_000), Vec::new()];
        chunks.into_iter().map(|bytes| (Cid::of(&bytes), bytes)).collect()
    })
}

fn cids() -> Vec<Cid> {
    course().iter().map(|(cid, _)| *cid).collect()
}

fn session(version: u64, limits: Limits) -> Session {
    Session::new(COURSE, version, cids(), limits)
}

/// Encodes `messages` and hands them to `to` at `now`, one by one.
fn deliver(to: &mut Session, messages: &[Message], now: Millis) -> Vec<Event> {
    messages.iter().flat_map(|message| to.receive(&encode(message), now)).collect()
}

/// A seeder holding every chunk and a leecher holding none, after both handshakes.
fn pair(limits: Limits) -> (Session, Session) {
    let (mut seeder, mut leecher) = (session(3, limits), session(3, limits));
    let events = deliver(&mut leecher, &seeder.hello(&[true; 3]), 0);
    let mut expected = vec![Event::Ready { version: 3 }];
    expected.extend(cids().into_iter().map(|cid| Event::Has { cid }));
    assert_eq!(events, expected);
    assert_eq!(deliver(&mut seeder, &leecher.hello(&[]), 0), [Event::Ready { version: 3 }]);
    (seeder, leecher)
}

/// The leecher asks for chunk `index`, the seeder serves it from `store`; returns the seeder's messages.
fn ask(seeder: &mut Session, leecher: &mut Session, index: usize, now: Millis) -> Vec<Message> {
    let (cid, bytes) = &course()[index];
    let request = leecher.request(*cid, now).expect("a request within limits");
    assert_eq!(deliver(seeder, &[request], now), [Event::Requested { cid: *cid }]);
    seeder.serve(*cid, Some(bytes))
}

#[test]
fn two_sessions_pass_every_chunk() {
    let (mut seeder, mut leecher) = pair(Limits::default());
    for (index, (cid, bytes)) in course().iter().enumerate() {
        let messages = ask(&mut seeder, &mut leecher, index, 10);
        assert!(messages.iter().all(|message| encode(message).len() <= wire::MAX_MESSAGE));
        let events = deliver(&mut leecher, &messages, 20);
        assert_eq!(events, [Event::Chunk { cid: *cid, bytes: bytes.clone() }]);
        assert!(cid.matches(bytes));
    }
    assert_eq!(leecher.poll(1_000_000), []);
}

#[test]
fn hello_opens_with_my_bitfield() {
    let messages = session(9, Limits::default()).hello(&[true, false, true, true]);
    assert_eq!(messages[0], Message::Hello { protocol: wire::PROTOCOL, course_id: COURSE.into(), version: 9 });
    assert_eq!(messages[1], Message::Bitfield { bits: vec![0b1010_0000] });
}

#[test]
fn haves_and_absents_track_what_they_hold() {
    let (mut seeder, mut leecher) = pair(Limits::default());
    let cid = cids()[0];
    let request = leecher.request(cid, 0).expect("they hold it");
    deliver(&mut seeder, &[request], 0);
    assert_eq!(seeder.serve(cid, None), [Message::Absent { cid }]);
    assert_eq!(deliver(&mut leecher, &[Message::Absent { cid }], 1), [Event::Absent { cid }]);
    assert!(!leecher.has(&cid));
    assert_eq!(leecher.request(cid, 2), None);
    let have = [seeder.announce(cid)];
    assert_eq!(deliver(&mut leecher, &have, 3), [Event::Has { cid }]);
    assert_eq!(deliver(&mut leecher, &have, 3), [], "reported once");
    assert_eq!(deliver(&mut leecher, &[Message::Fetching { cid }], 4), [Event::Fetching { cid }]);
}

#[test]
fn chunks_outside_my_manifest_are_not_recorded() {
    let (_, mut leecher) = pair(Limits::default());
    for n in 0..1_000u16 {
        let cid = Cid::of(&n.to_be_bytes());
        assert_eq!(deliver(&mut leecher, &[Message::Have { cid }, Message::Fetching { cid }], 0), []);
        assert!(!leecher.has(&cid));
        assert_eq!(leecher.request(cid, 0), None);
    }
    assert!(!leecher.is_closed());
}

#[test]
fn requests_in_flight_are_limited_per_peer() {
    let limits = Limits { max_requests_in_flight: 2, ..Limits::default() };
    let (mut seeder, mut leecher) = pair(limits);
    let [a, b, c] = cids()[..] else { panic!("three chunks") };
    assert!(leecher.request(a, 0).is_some());
    assert_eq!(leecher.request(a, 0), None, "already in flight");
    assert!(leecher.request(b, 0).is_some());
    assert!(!leecher.can_request());
    assert_eq!(leecher.request(c, 0), None);
    deliver(&mut seeder, &[Message::Request { cid: a }], 0);
    let pieces = seeder.serve(a, Some(&course()[0].1));
    deliver(&mut leecher, &pieces, 1);
    assert!(leecher.can_request());
    assert!(leecher.request(c, 1).is_some());
    assert_eq!(session(3, limits).request(a, 0), None, "nothing before their hello");
}

#[test]
fn a_request_stalls_after_stall_ms_without_a_new_byte() {
    let (mut seeder, mut leecher) = pair(Limits::default());
    let messages = ask(&mut seeder, &mut leecher, 1, 0);
    let cid = cids()[1];
    assert_eq!(leecher.poll(4_999), []);
    assert_eq!(deliver(&mut leecher, &messages[..1], 4_000), [], "the first piece is progress");
    assert_eq!(leecher.poll(8_999), []);
    let empty = Message::Piece { cid, offset: wire::MAX_PIECE_DATA as u32, total: 150_000, data: vec![] };
    assert_eq!(deliver(&mut leecher, &[empty], 8_000), [], "an empty piece is no progress");
    assert_eq!(leecher.poll(9_000), [Event::Stalled { cid }]);
    assert_eq!(leecher.poll(20_000), [], "forgotten");
    assert_eq!(deliver(&mut leecher, &messages[1..], 21_000), [], "late pieces are dropped, not violations");
    assert!(!leecher.is_closed());
    assert_eq!(leecher.cancel(cid), Some(Message::Cancel { cid }));
    assert_eq!(leecher.cancel(cid), None);
}

#[test]
fn a_chunk_asked_again_after_a_cancel_ignores_the_old_answer() {
    let (mut seeder, mut leecher) = pair(Limits::default());
    let (cid, bytes) = course()[1].clone();
    let old = ask(&mut seeder, &mut leecher, 1, 0);
    assert_eq!(deliver(&mut leecher, &old[..1], 1), []);
    let cancel = leecher.cancel(cid).expect("in flight");
    assert_eq!(deliver(&mut seeder, &[cancel], 2), []);
    assert_eq!(seeder.serve(cid, Some(&bytes)), [], "they cancelled");
    let new = ask(&mut seeder, &mut leecher, 1, 3);
    assert_eq!(deliver(&mut leecher, &old[1..], 4), [], "the old answer's tail");
    assert_eq!(deliver(&mut leecher, &new, 5), [Event::Chunk { cid, bytes }]);
}

#[test]
fn another_version_is_ready_but_its_bitfield_means_nothing() {
    let mut mine = session(3, Limits::default());
    let other = session(4, Limits::default());
    let mut hello = other.hello(&[true; 3]);
    hello[1] = Message::Bitfield { bits: vec![0xff; 5] };
    assert_eq!(deliver(&mut mine, &hello, 0), [Event::Ready { version: 4 }]);
    let cid = cids()[0];
    assert_eq!(deliver(&mut mine, &[Message::Have { cid }], 0), [Event::Has { cid }]);
}

/// A session after the handshake with a peer that sent `hello` and holds every chunk, one request of
/// chunk 1 in flight, and tight limits to break.
fn victim() -> Session {
    let limits = Limits { max_buffered_bytes: 100_000, max_requests_served: 3, ..Limits::default() };
    let (_, mut leecher) = pair(limits);
    leecher.request(cids()[1], 0).expect("within limits");
    leecher
}

fn piece(index: usize, offset: u32, total: u32, len: usize) -> Vec<u8> {
    encode(&Message::Piece { cid: cids()[index], offset, total, data: vec![7; len] })
}

fn hello(course_id: &str, protocol: u8) -> Vec<u8> {
    encode(&Message::Hello { protocol, course_id: course_id.into(), version: 3 })
}

fn request(n: u8) -> Vec<u8> {
    encode(&Message::Request { cid: Cid::of(&[n]) })
}

#[track_caller]
fn check_violation(mut session: Session, attack: &[Vec<u8>], reason: &str) {
    let mut events: Vec<Event> = attack.iter().flat_map(|bytes| session.receive(bytes, 1)).collect();
    let Some(Event::Violation { reason: actual }) = events.pop() else { panic!("no violation: {events:?}") };
    assert!(actual.contains(reason), "`{actual}` does not say `{reason}`");
    assert!(events.iter().all(|event| !matches!(event, Event::Violation { .. })), "one violation only");
    check_silent(session);
}

#[track_caller]
fn check_silent(mut session: Session) {
    assert!(session.is_closed());
    // Silence after: even a valid message, a request or a poll gives nothing, and nothing is held.
    let cid = cids()[0];
    assert_eq!(session.receive(&encode(&Message::Have { cid }), 2), []);
    assert_eq!(session.receive(&request(1), 2), []);
    assert_eq!(session.poll(1_000_000), []);
    assert_eq!(session.request(cid, 3), None);
    assert_eq!(session.serve(Cid::of(&[1]), Some(b"x")), []);
}

#[test]
fn a_malicious_peer_is_cut_off_after_one_violation() {
    let fresh = || session(3, Limits::default());
    let big = cids()[1];
    check_violation(victim(), &[vec![0xff, 1, 2]], "undecodable");
    check_violation(victim(), &[vec![]], "undecodable");
    check_violation(fresh(), &[hello("another-course", 1)], "another-course");
    check_violation(fresh(), &[hello(COURSE, 2)], "protocol 2");
    check_violation(fresh(), &[encode(&Message::Have { cid: big })], "before hello");
    check_violation(victim(), &[hello(COURSE, 1)], "second hello");
    check_violation(victim(), &[encode(&Message::Bitfield { bits: vec![0] })], "second bitfield");
    check_violation(victim(), &[piece(0, 0, 10, 10)], "not requested");
    check_violation(victim(), &[piece(1, 0, 150_000, 100), piece(1, 100, 150_001, 100)], "declares");
    check_violation(victim(), &[piece(1, 0, 150_000, 150_001)], "undecodable");
    check_violation(victim(), &[piece(1, 100, 150_000, 100)], "out of order");
    check_violation(victim(), &[piece(1, 0, 150_000, 100), piece(1, 50, 150_000, 100)], "out of order");
    let fill = |offset| piece(1, offset, 1_000_000, wire::MAX_PIECE_DATA);
    check_violation(victim(), &[fill(0), fill(wire::MAX_PIECE_DATA as u32)], "overflows");
    check_violation(victim(), &[request(1), request(2), request(1), request(3), request(4)], "more than 3");
    let mut rejected = victim();
    let event = rejected.reject_chunk(big);
    assert!(matches!(&event, Event::Violation { reason } if reason.contains("failed verification")));
    check_silent(rejected);
}

#[test]
fn a_bitfield_must_fit_the_chunk_list() {
    let opened = || {
        let mut session = session(3, Limits::default());
        session.receive(&hello(COURSE, 1), 0);
        session
    };
    check_violation(opened(), &[encode(&Message::Bitfield { bits: vec![] })], "bitfield of 0 bytes");
    check_violation(opened(), &[encode(&Message::Bitfield { bits: vec![0, 0] })], "bitfield of 2 bytes");
    check_violation(opened(), &[encode(&Message::Bitfield { bits: vec![0b1111_0000] })], "past its 3 chunks");
}

#[test]
fn requests_answered_free_room_for_more() {
    let limits = Limits { max_requests_served: 1, ..Limits::default() };
    let (mut seeder, _) = pair(limits);
    let [a, b, _] = cids()[..] else { panic!("three chunks") };
    assert_eq!(deliver(&mut seeder, &[Message::Request { cid: a }], 0), [Event::Requested { cid: a }]);
    assert_eq!(seeder.serve(a, None), [Message::Absent { cid: a }]);
    assert_eq!(deliver(&mut seeder, &[Message::Request { cid: b }], 0), [Event::Requested { cid: b }]);
    assert_eq!(deliver(&mut seeder, &[Message::Cancel { cid: b }], 0), []);
    assert_eq!(deliver(&mut seeder, &[Message::Request { cid: a }], 0), [Event::Requested { cid: a }]);
    assert!(!seeder.is_closed());
}

#[test]
fn arbitrary_bytes_never_panic_a_session() {
    // Valid messages of a real exchange, then each with one byte changed, then random bytes.
    let (mut seeder, mut leecher) = pair(Limits::default());
    let mut corpus: Vec<Vec<u8>> = ask(&mut seeder, &mut leecher, 1, 0).iter().map(encode).collect();
    corpus.extend(seeder.hello(&[true; 3]).iter().map(encode));
    corpus.extend([request(1), encode(&Message::Cancel { cid: cids()[1] }), piece(1, 0, 150_000, 10)]);
    let mut state = 0x1234_5678_9abc_def1u64;
    let mut session = victim();
    for round in 0..20_000u64 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut bytes = corpus[(state % corpus.len() as u64) as usize].clone();
        match round % 3 {
            0 => {}
            1 => {
                let at = (state >> 8) as usize % bytes.len();
                bytes[at] = (state >> 32) as u8;
            }
            _ => bytes = (0..(state % 60) as usize).map(|i| (state >> (i % 8 * 8)) as u8 % 12).collect(),
        }
        let _ = decode(&bytes);
        let _ = session.receive(&bytes, round);
        let _ = session.poll(round);
        if session.is_closed() {
            session = victim();
        }
    }
    let _ = pieces(cids()[0], b"x");
}

/// A page holding version 2 of the course and one holding version 1, after both handshakes.
fn newer_and_older() -> (Session, Session) {
    let (mut newer, mut older) = (session(2, Limits::default()), session(1, Limits::default()));
    assert_eq!(deliver(&mut older, &newer.hello(&[]), 0), [Event::Ready { version: 2 }]);
    assert_eq!(deliver(&mut newer, &older.hello(&[]), 0), [Event::Ready { version: 1 }]);
    (newer, older)
}

#[test]
fn a_classmate_on_a_newer_version_passes_on_its_manifest_once_asked() {
    let (mut newer, mut older) = newer_and_older();
    let json: Vec<u8> = (0..100_000u32).map(|i| b"{\"version\":2}"[i as usize % 13]).collect();
    assert_eq!((older.newer(), newer.newer()), (Some(2), None));
    assert_eq!(newer.ask_manifest(0), None, "an older version is never asked for");
    let ask = older.ask_manifest(10).expect("asked of the newer classmate");
    assert_eq!(older.ask_manifest(10), None, "asked once per session");
    assert_eq!(deliver(&mut newer, std::slice::from_ref(&ask), 10), [Event::ManifestRequested]);
    assert_eq!(deliver(&mut newer, &[ask], 10), [], "a repeated ask is one ask");
    let pieces = newer.serve_manifest(&json);
    assert_eq!(pieces.len(), 2);
    assert_eq!(newer.serve_manifest(&json), [], "answered once");
    assert_eq!(deliver(&mut older, &pieces, 20), [Event::Manifest { bytes: json }]);
    assert!(!older.is_closed());
}

#[test]
fn an_unasked_manifest_breaks_the_protocol_and_a_stalled_one_can_be_asked_elsewhere() {
    let (mut newer, mut older) = newer_and_older();
    let piece = Message::ManifestPiece { offset: 0, total: 4, data: b"{}".to_vec() };
    assert!(matches!(deliver(&mut newer, std::slice::from_ref(&piece), 0)[..], [Event::Violation { .. }]));

    let _ask = older.ask_manifest(0).expect("an ask");
    deliver(&mut older, &[piece], 100);
    assert_eq!(older.poll(5_099), []);
    assert_eq!(older.poll(5_100), [Event::ManifestStalled]);
    let late = Message::ManifestPiece { offset: 2, total: 4, data: b"\n\n".to_vec() };
    assert_eq!(deliver(&mut older, &[late], 5_200), [], "late pieces of a stalled manifest are dropped");
    assert!(!older.is_closed());
    assert_eq!(older.reject_manifest(), Event::Violation { reason: "its manifest failed verification".into() });
    assert!(older.is_closed() && older.newer().is_none());
}
