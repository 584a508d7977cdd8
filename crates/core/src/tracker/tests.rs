//! Native tests of the tracker messages and of the server's state machine: JSON as the npm
//! `bittorrent-tracker` client and server write it, relays between three peers, leaving and expiry,
//! bounds, and hostile input.

use serde_json::{json, Value};

use super::*;

fn id(byte: u8) -> Id20 {
    Id20([byte; 20])
}

/// `id(byte)` as the binary string a JavaScript client would send.
fn bin(byte: u8) -> String {
    binary_string(&[byte; 20])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn binary_strings_carry_every_byte() {
    let all: Vec<u8> = (0..=255).collect();
    let text = binary_string(&all);
    assert_eq!(text.chars().count(), 256);
    assert_eq!(from_binary_string(&text), Some(all));
    // JSON escapes control bytes as \u00xx and writes the others as their char, like JSON.stringify.
    assert_eq!(serde_json::to_string(&binary_string(&[0, 1, 0x41, 0xe9])).unwrap(), "\"\\u0000\\u0001Aé\"");
    assert_eq!(from_binary_string("\u{100}"), None);
    assert_eq!(from_binary_string("€"), None);
    assert_eq!(from_binary_string(""), Some(vec![]));
}

#[test]
fn info_hash_is_stable_and_twenty_bytes() {
    // sha256("cartable-swarm:" + id), first 20 bytes: the same as tests/e2e computes with node:crypto.
    assert_eq!(hex(&info_hash("physique-3e-electricite")), "81723ad4094229532ebcaff6d292d9c401468b51");
    assert_eq!(hex(&info_hash("essai")), "a236406524e67f30c05a885b8dbb95512736bc65");
    assert_eq!(info_hash("essai").len(), 20);
    assert_ne!(info_hash("essai"), info_hash("essai2"));
}

#[test]
fn reads_an_announce_as_the_npm_client_writes_it() {
    let text = json!({
        "numwant": 5, "uploaded": 0, "downloaded": 0, "left": 4096, "event": "started",
        "action": "announce", "info_hash": bin(1), "peer_id": bin(2), "trackerid": "ignored",
        "offers": [{"offer": {"type": "offer", "sdp": "v=0\r\n"}, "offer_id": bin(3)}]
    })
    .to_string();
    let ClientMessage::Announce(announce) = serde_json::from_str(&text).unwrap() else { panic!("an announce") };
    assert_eq!((announce.info_hash, announce.peer_id), (id(1), id(2)));
    assert_eq!((announce.numwant, announce.left, announce.event), (Some(5), Some(4096), Some(Event::Started)));
    let offers = announce.offers.clone().unwrap();
    assert_eq!(offers, vec![Offer { offer_id: id(3), offer: Sdp { kind: SdpType::Offer, sdp: "v=0\r\n".into() } }]);
    let again: ClientMessage =
        serde_json::from_str(&serde_json::to_string(&ClientMessage::Announce(announce.clone())).unwrap()).unwrap();
    assert_eq!(again, ClientMessage::Announce(announce));
}

#[test]
fn reads_an_answer_and_a_scrape() {
    let text = json!({"action": "announce", "info_hash": bin(1), "peer_id": bin(4), "to_peer_id": bin(2),
        "answer": {"type": "answer", "sdp": "v=0"}, "offer_id": bin(3)})
    .to_string();
    let ClientMessage::Announce(answer) = serde_json::from_str(&text).unwrap() else { panic!("an announce") };
    assert_eq!((answer.to_peer_id, answer.offer_id), (Some(id(2)), Some(id(3))));
    assert_eq!(answer.answer.map(|sdp| sdp.kind), Some(SdpType::Answer));
    let one: ClientMessage = serde_json::from_value(json!({"action": "scrape", "info_hash": bin(1)})).unwrap();
    let many: ClientMessage =
        serde_json::from_value(json!({"action": "scrape", "info_hash": [bin(1), bin(5)]})).unwrap();
    assert_eq!(one, ClientMessage::Scrape(Scrape { info_hash: vec![id(1)] }));
    assert_eq!(many, ClientMessage::Scrape(Scrape { info_hash: vec![id(1), id(5)] }));
}

#[test]
fn counts_are_read_leniently() {
    let announce = |extra: Value| {
        let mut value = json!({"action": "announce", "info_hash": bin(1), "peer_id": bin(2)});
        value.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        match serde_json::from_value(value).unwrap() {
            ClientMessage::Announce(announce) => (announce.left, announce.numwant),
            ClientMessage::Scrape(_) => panic!("an announce"),
        }
    };
    assert_eq!(announce(json!({"left": null, "numwant": "5"})), (None, None));
    assert_eq!(announce(json!({"left": 1.5, "numwant": -3})), (Some(1), Some(0)));
    assert_eq!(announce(json!({"left": 1e300})), (Some(u64::MAX), None));
}

#[test]
fn reads_what_the_npm_server_sends() {
    #[track_caller]
    fn check(value: Value, expected: ServerMessage) {
        assert_eq!(serde_json::from_value::<ServerMessage>(value.clone()).unwrap(), expected);
        let written: Value = serde_json::to_value(&expected).unwrap();
        assert_eq!(serde_json::from_value::<ServerMessage>(written).unwrap(), expected);
    }
    let sdp = |kind, text: &str| Sdp { kind, sdp: text.into() };
    check(
        json!({"complete": 0, "incomplete": 1, "action": "announce", "info_hash": bin(1), "interval": 120}),
        ServerMessage::Announced(AnnounceReply {
            action: Action::Announce,
            interval: 120,
            info_hash: id(1),
            complete: 0,
            incomplete: 1,
        }),
    );
    check(
        json!({"action": "announce", "offer": {"type": "offer", "sdp": "o"}, "offer_id": bin(3), "peer_id": bin(2), "info_hash": bin(1)}),
        ServerMessage::Offer(RelayedOffer {
            action: Action::Announce,
            offer: sdp(SdpType::Offer, "o"),
            offer_id: id(3),
            peer_id: id(2),
            info_hash: id(1),
        }),
    );
    check(
        json!({"action": "announce", "answer": {"type": "answer", "sdp": "a"}, "offer_id": bin(3), "peer_id": bin(4), "info_hash": bin(1)}),
        ServerMessage::Answer(RelayedAnswer {
            action: Action::Announce,
            answer: sdp(SdpType::Answer, "a"),
            offer_id: id(3),
            peer_id: id(4),
            info_hash: id(1),
        }),
    );
    check(
        json!({"failure reason": "invalid info_hash"}),
        ServerMessage::Failure(Failure { action: None, reason: "invalid info_hash".into(), info_hash: None }),
    );
    let files = [(id(1), ScrapeFile { complete: 1, incomplete: 2, downloaded: 1 })].into_iter().collect();
    check(
        json!({"action": "scrape", "files": {bin(1): {"complete": 1, "incomplete": 2, "downloaded": 1}}, "flags": {"min_request_interval": 600}}),
        ServerMessage::Scraped(ScrapeReply {
            action: Action::Scrape,
            files,
            flags: Some(ScrapeFlags { min_request_interval: 600 }),
        }),
    );
}

/// Messages the npm `bittorrent-tracker` 11.2.3 server sent, verbatim (an info_hash with bytes 0x01, 0xe9,
/// 0xff and 0x20; peers 1 and 2; offer 3): ours parse them, and write the same JSON values.
const CAPTURED: &[&str] = &[
    r#"{"complete":1,"incomplete":0,"action":"announce","interval":120,"info_hash":"\u0001éÿ AAAAAAAAAAAAAAAA"}"#,
    r#"{"action":"announce","offer":{"type":"offer","sdp":"o"},"offer_id":"\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003","peer_id":"\u0002\u0002\u0002\u0002\u0002\u0002\u0002\u0002\u0002\u0002\u0002\u0002\u0002\u0002\u0002\u0002\u0002\u0002\u0002\u0002","info_hash":"\u0001éÿ AAAAAAAAAAAAAAAA"}"#,
    r#"{"action":"announce","answer":{"type":"answer","sdp":"a"},"offer_id":"\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003\u0003","peer_id":"\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001","info_hash":"\u0001éÿ AAAAAAAAAAAAAAAA"}"#,
    r#"{"action":"scrape","files":{"\u0001éÿ AAAAAAAAAAAAAAAA":{"complete":1,"incomplete":1,"downloaded":1}},"flags":{"min_request_interval":600}}"#,
    r#"{"failure reason":"invalid info_hash"}"#,
];

#[test]
fn messages_captured_from_the_npm_server_round_trip() {
    let swarm = Id20::from_binary_string("\u{1}\u{e9}\u{ff} AAAAAAAAAAAAAAAA").unwrap();
    for text in CAPTURED {
        let message: ServerMessage = serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let written: Value = serde_json::to_value(&message).unwrap();
        assert_eq!(written, serde_json::from_str::<Value>(text).unwrap(), "{text}");
        match message {
            ServerMessage::Announced(reply) => assert_eq!((reply.info_hash, reply.complete), (swarm, 1)),
            ServerMessage::Offer(offer) => assert_eq!((offer.peer_id, offer.offer_id), (id(2), id(3))),
            ServerMessage::Answer(answer) => assert_eq!((answer.peer_id, answer.offer_id), (id(1), id(3))),
            ServerMessage::Scraped(scrape) => assert_eq!(scrape.files[&swarm].incomplete, 1),
            ServerMessage::Failure(failure) => assert_eq!(failure.reason, "invalid info_hash"),
        }
    }
}

// See: issue 16: a page parses no scrape reply.
#[test]
fn a_page_reads_what_the_npm_server_sends_it_but_scrape_replies() {
    for text in CAPTURED {
        let page = serde_json::from_str::<ToPage>(text);
        let server: ServerMessage = serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        match server {
            ServerMessage::Scraped(_) => assert!(page.is_err(), "{text}"),
            ServerMessage::Failure(failure) => assert_eq!(page.ok(), Some(ToPage::Failure(failure))),
            ServerMessage::Offer(offer) => assert_eq!(page.ok(), Some(ToPage::Offer(offer))),
            ServerMessage::Answer(answer) => assert_eq!(page.ok(), Some(ToPage::Answer(answer))),
            ServerMessage::Announced(reply) => assert_eq!(page.ok(), Some(ToPage::Announced(reply))),
        }
    }
}

/// A tracker and its connections, with a seeded random source.
struct Tracker {
    swarms: Swarms,
    now: Millis,
    seed: u64,
}

impl Tracker {
    fn new() -> Tracker {
        Tracker { swarms: Swarms::new(120), now: 0, seed: 7 }
    }

    fn send(&mut self, from: u64, message: Value) -> Vec<(u64, Value)> {
        self.send_text(from, &message.to_string())
    }

    fn send_text(&mut self, from: u64, message: &str) -> Vec<(u64, Value)> {
        let seed = &mut self.seed;
        let mut random = move || {
            *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (*seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let sends = self.swarms.handle(ConnId(from), message, self.now, &mut random);
        sends.into_iter().map(|(to, text)| (to.0, serde_json::from_str(&text).expect("JSON out"))).collect()
    }
}

fn announce(peer: u8, extra: Value) -> Value {
    let mut value = json!({"action": "announce", "info_hash": bin(1), "peer_id": bin(peer), "numwant": 5,
        "uploaded": 0, "downloaded": 0, "left": 100});
    value.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    value
}

fn offers(from: u8, count: u8) -> Value {
    let list: Vec<Value> = (0..count)
        .map(|n| json!({"offer_id": bin(100 + from * 10 + n), "offer": {"type": "offer", "sdp": format!("sdp {from}.{n}")}}))
        .collect();
    json!({"offers": list, "numwant": count})
}

#[test]
fn three_peers_exchange_offers_and_answers() {
    let mut tracker = Tracker::new();
    let first = tracker.send(1, announce(1, json!({"event": "started"})));
    assert_eq!(first.len(), 1, "a lone peer gets its reply only: {first:?}");
    assert_eq!(first[0].1["interval"], 120);
    assert_eq!((first[0].1["incomplete"].as_u64(), first[0].1["info_hash"].as_str()), (Some(1), Some(&*bin(1))));
    tracker.send(2, announce(2, json!({"event": "started", "left": 0})));

    let sends = tracker.send(3, announce(3, offers(3, 5)));
    assert_eq!(sends[0].0, 3, "the reply comes first");
    assert_eq!((sends[0].1["complete"].as_u64(), sends[0].1["incomplete"].as_u64()), (Some(1), Some(2)));
    let relays = &sends[1..];
    let mut receivers: Vec<u64> = relays.iter().map(|(to, _)| *to).collect();
    receivers.sort();
    assert_eq!(receivers, [1, 2], "each other peer gets one offer, the sender none");
    let ids: Vec<&Value> = relays.iter().map(|(_, m)| &m["offer_id"]).collect();
    assert_ne!(ids[0], ids[1], "different offers to different peers");
    let (to, offer) = relays.iter().find(|(to, _)| *to == 1).unwrap().clone();
    assert_eq!((to, offer["peer_id"].as_str(), offer["offer"]["type"].as_str()), (1, Some(&*bin(3)), Some("offer")));

    let answer = json!({"action": "announce", "info_hash": bin(1), "peer_id": bin(1), "to_peer_id": bin(3),
        "answer": {"type": "answer", "sdp": "answer 1"}, "offer_id": offer["offer_id"]});
    let sends = tracker.send(1, answer);
    assert_eq!(sends.len(), 1, "no reply to an answer, one relay: {sends:?}");
    let (to, relayed) = &sends[0];
    assert_eq!((*to, relayed["peer_id"].as_str()), (3, Some(&*bin(1))));
    assert_eq!((&relayed["offer_id"], relayed["answer"]["sdp"].as_str()), (&offer["offer_id"], Some("answer 1")));
    assert_eq!(tracker.swarms.counts().offers_relayed, 2);
    assert_eq!(tracker.swarms.counts().answers_relayed, 1);
}

#[test]
fn numwant_limits_the_offers_relayed() {
    let mut tracker = Tracker::new();
    for peer in 1..=4 {
        tracker.send(u64::from(peer), announce(peer, json!({})));
    }
    let mut message = announce(9, offers(9, 3));
    message["numwant"] = json!(1);
    assert_eq!(tracker.send(9, message).len(), 2, "the reply and one offer");
    assert_eq!(tracker.send(8, announce(8, offers(8, 2))).len(), 3, "the reply and two offers");
}

#[test]
fn offers_reach_distinct_random_peers() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..20 {
        let mut tracker = Tracker::new();
        tracker.seed = seed;
        for peer in 1..=6 {
            tracker.send(u64::from(peer), announce(peer, json!({})));
        }
        let sends = tracker.send(9, announce(9, offers(9, 3)));
        let mut receivers: Vec<u64> = sends[1..].iter().map(|(to, _)| *to).collect();
        receivers.sort();
        receivers.dedup();
        assert_eq!(receivers.len(), 3, "distinct peers");
        seen.extend(receivers);
    }
    assert_eq!(seen.len(), 6, "every peer is picked sometimes");
}

#[test]
fn an_answer_for_a_peer_gone_is_dropped() {
    let mut tracker = Tracker::new();
    tracker.send(1, announce(1, json!({})));
    let answer = json!({"action": "announce", "info_hash": bin(1), "peer_id": bin(1), "to_peer_id": bin(7),
        "answer": {"type": "answer", "sdp": "x"}, "offer_id": bin(3)});
    assert!(tracker.send(1, answer).is_empty());
    assert_eq!(tracker.swarms.counts().answers_lost, 1);
}

#[test]
fn stopped_disconnect_and_expiry_remove_peers() {
    let mut tracker = Tracker::new();
    tracker.send(1, announce(1, json!({})));
    tracker.send(2, announce(2, json!({})));
    tracker.send(3, announce(3, json!({})));
    let stopped = tracker.send(2, announce(2, json!({"event": "stopped"})));
    assert_eq!(stopped[0].1["incomplete"], 2);
    assert_eq!(tracker.swarms.size(), (1, 2));
    tracker.swarms.disconnect(ConnId(3));
    assert_eq!(tracker.swarms.size(), (1, 1));
    assert_eq!(tracker.send(4, announce(4, offers(4, 2))).len(), 2, "only peer 1 is left to offer to");

    tracker.now = 240_000;
    tracker.send(4, announce(4, json!({})));
    assert_eq!(tracker.swarms.size(), (1, 2), "2 × interval has not passed yet");
    tracker.now = 240_001;
    let sends = tracker.send(4, announce(4, offers(4, 2)));
    assert_eq!(sends.len(), 1, "peer 1 expired: nobody to offer to");
    tracker.now = 500_000;
    tracker.swarms.expire(tracker.now);
    assert_eq!(tracker.swarms.size(), (0, 0));
}

#[test]
fn a_stranger_cannot_stop_someone_else() {
    let mut tracker = Tracker::new();
    tracker.send(1, announce(1, json!({})));
    tracker.send(2, announce(1, json!({"event": "stopped"})));
    assert_eq!(tracker.swarms.size(), (1, 1));
}

#[test]
fn a_peer_that_reconnects_moves_to_its_new_connection() {
    let mut tracker = Tracker::new();
    tracker.send(1, announce(1, json!({})));
    tracker.send(5, announce(1, json!({})));
    tracker.swarms.disconnect(ConnId(1));
    assert_eq!(tracker.swarms.size(), (1, 1), "the old connection no longer holds it");
    let sends = tracker.send(2, announce(2, offers(2, 1)));
    assert_eq!(sends[1].0, 5);
}

#[test]
fn scrape_counts_each_swarm() {
    let mut tracker = Tracker::new();
    tracker.send(1, announce(1, json!({"left": 0})));
    tracker.send(2, announce(2, json!({})));
    let sends = tracker.send(3, json!({"action": "scrape", "info_hash": [bin(1), bin(9)]}));
    let files = &sends[0].1["files"];
    assert_eq!(files[bin(1)], json!({"complete": 1, "incomplete": 1, "downloaded": 1}));
    assert_eq!(files[bin(9)], json!({"complete": 0, "incomplete": 0, "downloaded": 0}));
}

#[track_caller]
fn refused(message: &str, reason: &str) {
    let mut tracker = Tracker::new();
    tracker.send(1, announce(1, json!({})));
    let sends = tracker.send_text(2, message);
    assert_eq!(sends.len(), 1, "{sends:?}");
    let (to, reply) = &sends[0];
    assert_eq!(*to, 2);
    let text = reply["failure reason"].as_str().unwrap_or_else(|| panic!("a failure: {reply}"));
    assert!(text.contains(reason), "{text:?} should say {reason:?}");
    assert_eq!(tracker.swarms.size(), (1, 1), "nothing joined");
}

#[test]
fn bad_input_gets_a_failure_reason() {
    refused("", "expected JSON");
    refused("not json", "expected JSON");
    refused("null", "invalid action");
    refused("[]", "invalid action");
    refused(r#"{"action":"connect"}"#, "invalid action");
    refused(r#"{"action":"announce"}"#, "invalid request");
    refused(&json!({"action": "announce", "info_hash": "short", "peer_id": bin(1)}).to_string(), "20 bytes");
    refused(
        &json!({"action": "announce", "info_hash": "\u{100}".repeat(20), "peer_id": bin(2)}).to_string(),
        "20 bytes",
    );
    refused(&json!({"action": "announce", "info_hash": 5, "peer_id": bin(2)}).to_string(), "invalid request");
    refused(&announce(2, json!({"event": "exploded"})).to_string(), "invalid request");
    refused(&announce(2, json!({"offers": [{"offer_id": bin(1)}]})).to_string(), "invalid request");
    refused(&announce(2, json!({"answer": {"type": "answer", "sdp": "x"}})).to_string(), "to_peer_id");
    let wrong = json!({"answer": {"type": "offer", "sdp": "x"}, "to_peer_id": bin(1), "offer_id": bin(1)});
    refused(&announce(2, wrong).to_string(), "invalid answer");
    refused(&format!("{}{}", "[".repeat(40_000), "]".repeat(40_000)), "message too long");
    refused(&format!("{}{}", "[".repeat(1000), "]".repeat(1000)), "expected JSON");
}

#[test]
fn failures_name_the_swarm_when_they_can() {
    let mut tracker = Tracker::new();
    let sends = tracker.send(1, announce(1, json!({"event": "exploded"})));
    assert_eq!((sends[0].1["action"].as_str(), sends[0].1["info_hash"].as_str()), (Some("announce"), Some(&*bin(1))));
}

#[test]
fn bounds_are_enforced() {
    refused(&announce(2, offers(2, 6)).to_string(), "too many offers");
    let big = json!({"offers": [{"offer_id": bin(1), "offer": {"type": "offer", "sdp": "a".repeat(16 * 1024 + 1)}}]});
    refused(&announce(2, big).to_string(), "invalid offer");
    let fits = json!({"offers": [{"offer_id": bin(1), "offer": {"type": "offer", "sdp": "a".repeat(16 * 1024)}}]});
    assert_eq!(Tracker::new().send(2, announce(2, fits)).len(), 1);
    let padding = "x".repeat(MAX_MESSAGE_BYTES);
    refused(&announce(2, json!({ "padding": padding })).to_string(), "message too long");

    let mut tracker = Tracker::new();
    for n in 0..MAX_SWARMS_PER_CONNECTION {
        let message = json!({"action": "announce", "info_hash": binary_string(&[n as u8; 20]), "peer_id": bin(1)});
        assert!(tracker.send(1, message)[0].1.get("interval").is_some());
    }
    let one_more = json!({"action": "announce", "info_hash": bin(250), "peer_id": bin(1)});
    assert!(tracker.send(1, one_more)[0].1["failure reason"].as_str().unwrap().contains("too many swarms"));
}

#[test]
fn a_full_swarm_refuses_newcomers_and_keeps_its_peers() {
    let mut tracker = Tracker { swarms: Swarms::new(120).with_max_peers(2), now: 0, seed: 7 };
    let accepted = |sends: Vec<(u64, Value)>| sends[0].1.get("interval").is_some();
    tracker.send(1, announce(1, json!({})));
    tracker.send(2, announce(2, json!({})));
    let sends = tracker.send(3, announce(3, offers(3, 1)));
    assert_eq!(sends.len(), 1, "nothing relayed for a refused peer: {sends:?}");
    assert_eq!(sends[0].1["failure reason"], "swarm full: 2 peers at most");
    assert_eq!(tracker.swarms.size(), (1, 2));
    assert_eq!(tracker.swarms.counts().failures, 1);
    // Peers already in keep announcing, and may move to a new connection.
    assert!(accepted(tracker.send(2, announce(2, json!({})))));
    assert!(accepted(tracker.send(5, announce(2, json!({})))));
    // A connection that changes its peer_id takes its old place.
    assert!(accepted(tracker.send(1, announce(9, json!({})))));
    assert_eq!(tracker.swarms.size(), (1, 2));
    // Each swarm has its own room, and a place freed is taken.
    assert!(accepted(tracker.send(3, json!({"action": "announce", "info_hash": bin(2), "peer_id": bin(3)}))));
    tracker.swarms.disconnect(ConnId(5));
    assert!(accepted(tracker.send(3, announce(3, json!({})))));
    assert_eq!(tracker.swarms.size(), (2, 3));
    assert!(!accepted(tracker.send(4, announce(4, json!({})))));
    assert_eq!(Swarms::new(120).with_max_peers(0).size(), (0, 0), "at least one peer fits");
}

#[test]
fn mangled_messages_never_panic() {
    let valid = [
        announce(1, offers(1, 3)).to_string(),
        json!({"action": "announce", "info_hash": bin(1), "peer_id": bin(2), "to_peer_id": bin(3),
            "answer": {"type": "answer", "sdp": "a"}, "offer_id": bin(4)})
        .to_string(),
        json!({"action": "scrape", "info_hash": [bin(1)]}).to_string(),
    ];
    let mut tracker = Tracker::new();
    let mut state = 1u64;
    let mut next = move |below: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % below.max(1) as u64) as usize
    };
    for round in 0..3000 {
        let mut bytes = valid[round % valid.len()].clone().into_bytes();
        for _ in 0..1 + next(4) {
            let at = next(bytes.len());
            match next(3) {
                _ if bytes.is_empty() => bytes.push(b'{'),
                0 => bytes[at] = b"{}[]\":,0aZ\\\x01\xc4"[next(13)],
                1 => bytes.truncate(at),
                _ => bytes.insert(at, b"\"9e999-"[next(7)]),
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        tracker.send_text(next(5) as u64, &text);
    }
    tracker.swarms.expire(u64::MAX);
    assert_eq!(tracker.swarms.size(), (0, 0));
}
