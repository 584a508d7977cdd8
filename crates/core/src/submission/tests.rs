//! The outbox's exactly-once rules and the upload's checks.

use super::*;
use crate::Cid;

fn hand_in(key: &str, files: &[&[u8]]) -> Submission {
    let attachments = files
        .iter()
        .enumerate()
        .map(|(i, bytes)| Attachment {
            name: format!("photo-{i}.jpg"),
            media_type: "image/jpeg".into(),
            size: bytes.len() as u64,
            cid: Cid::of(bytes),
        })
        .collect();
    Submission {
        key: key.into(),
        course_id: "physique-3e".into(),
        student: "Léa".into(),
        created_at: 1_700_000_000_000,
        kind: Kind::HandIn { title: "Exercice 3".into(), text: "U = R × I".into(), attachments },
    }
}

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn receipt(key: &str, id: i64) -> Receipt {
    Receipt { key: key.into(), received_at: 1_700_000_001_000, id }
}

#[test]
fn keys_are_32_hex_digits() {
    assert_eq!(key_from([0xab; 16]), "ab".repeat(16));
    assert_eq!(short_key(KEY), "01234567");
    assert_eq!(hand_in(KEY, &[]).validate(), Ok(()));
    assert_eq!(hand_in("0123", &[]).validate(), Err(SubmissionError::Key));
    assert_eq!(hand_in(&"G".repeat(32), &[]).validate(), Err(SubmissionError::Key));
}

#[test]
fn limits_are_checked() {
    let mut nameless = hand_in(KEY, &[]);
    nameless.student = "  ".into();
    assert_eq!(nameless.validate(), Err(SubmissionError::Empty("the pupil's name")));
    let mut big = hand_in(KEY, &[b"x"]);
    if let Kind::HandIn { attachments, .. } = &mut big.kind {
        attachments[0].size = MAX_ATTACHMENT_BYTES + 1;
    }
    assert_eq!(big.validate(), Err(SubmissionError::TooBig));
    let mut huge = hand_in(KEY, &[b"x", b"y"]);
    if let Kind::HandIn { attachments, .. } = &mut huge.kind {
        attachments.iter_mut().for_each(|a| a.size = u64::MAX);
    }
    assert_eq!(huge.validate(), Err(SubmissionError::TooBig), "an overflowing sum is too big, not a panic");
    let many: Vec<&[u8]> = vec![b"x"; MAX_ATTACHMENTS + 1];
    assert_eq!(hand_in(KEY, &many).validate(), Err(SubmissionError::TooManyFiles));
}

#[test]
fn uploads_round_trip_and_files_must_match() {
    let submission = hand_in(KEY, &[b"first file", b"second"]);
    let body = encode_upload(&submission, &[b"first file".to_vec(), b"second".to_vec()]);
    let upload = decode_upload(body.as_bytes()).expect("a well-formed upload");
    assert_eq!(upload.submission, submission);
    assert_eq!(upload.files, vec![b"first file".to_vec(), b"second".to_vec()]);

    let swapped = encode_upload(&submission, &[b"second".to_vec(), b"first file".to_vec()]);
    assert_eq!(decode_upload(swapped.as_bytes()), Err(SubmissionError::FileMismatch(0)));
    let missing = encode_upload(&submission, &[b"first file".to_vec()]);
    assert!(matches!(decode_upload(missing.as_bytes()), Err(SubmissionError::Malformed(_))));
}

#[test]
fn hostile_bodies_are_refused_without_panicking() {
    for body in
        [&b""[..], b"{", b"null", b"{\"submission\": 3}", b"{\"submission\": {}, \"files\": [\"!\"]}", &[0xff; 40]]
    {
        assert!(decode_upload(body).is_err(), "{body:?}");
    }
}

#[test]
fn a_receipt_must_name_the_key_sent() {
    let body = serde_json::to_vec(&receipt(KEY, 7)).expect("json");
    assert_eq!(receipt_from_json(&body, KEY), Ok(receipt(KEY, 7)));
    assert!(receipt_from_json(&body, &"f".repeat(32)).is_err());
    assert!(receipt_from_json(b"<html>", KEY).is_err());
}

#[test]
fn a_receipt_delivers_and_a_duplicate_is_harmless() {
    let mut outbox = Outbox::default();
    outbox.add(hand_in(KEY, &[]));
    outbox.add(hand_in(KEY, &[]));
    assert_eq!(outbox.entries().len(), 1, "one entry per key");
    assert_eq!(outbox.due(0).len(), 1);
    assert!(outbox.due(0).is_empty(), "an entry being sent is not sent twice at once");
    outbox.finish(KEY, Outcome::Receipt(receipt(KEY, 7)), 10, 0.5);
    assert_eq!(outbox.entry(KEY).map(|e| &e.state), Some(&State::Delivered(receipt(KEY, 7))));
    outbox.finish(KEY, Outcome::Receipt(receipt(KEY, 7)), 20, 0.5);
    outbox.finish(KEY, Outcome::Lost, 30, 0.5);
    assert_eq!(outbox.entry(KEY).map(|e| &e.state), Some(&State::Delivered(receipt(KEY, 7))));
    assert_eq!(outbox.undelivered(), 0);
    assert_eq!(outbox.wake_at(), None);
    outbox.hurry();
    assert!(outbox.due(u64::MAX).is_empty(), "a delivered entry is never sent again");
}

#[test]
fn a_busy_origin_is_waited_for_at_least_its_retry_after() {
    let mut outbox = Outbox::default();
    outbox.add(hand_in(KEY, &[]));
    outbox.due(1_000);
    outbox.finish(KEY, Outcome::Busy(Some(5_000)), 1_000, 0.0);
    assert_eq!(outbox.wake_at(), Some(6_000));
    assert!(outbox.due(5_999).is_empty());
    assert_eq!(outbox.due(6_000).len(), 1);
    outbox.finish(KEY, Outcome::Busy(Some(5_000)), 6_000, 0.99);
    let wake = outbox.wake_at().expect("pending");
    assert!((11_000..12_000).contains(&wake), "Retry-After plus up to a second of jitter: {wake}");
}

#[test]
fn a_retry_after_past_the_end_of_time_waits_until_then_without_overflow() {
    let mut outbox = Outbox::default();
    outbox.add(hand_in(KEY, &[]));
    outbox.due(1_000);
    // 10^20 seconds, as an origin may send it.
    outbox.finish(KEY, Outcome::Busy(Some(u64::MAX)), 1_000, 0.99);
    assert_eq!(outbox.wake_at(), Some(u64::MAX));
    outbox.hurry();
    assert_eq!(outbox.due(2_000).len(), 1, "the pupil's \"send now\" still sends it");
    outbox.finish(KEY, Outcome::Lost, u64::MAX - 1, 0.99);
    assert_eq!(outbox.wake_at(), Some(u64::MAX));
}

#[test]
fn a_lost_answer_sends_the_same_key_again_with_growing_backoff() {
    let mut outbox = Outbox::default();
    outbox.add(hand_in(KEY, &[]));
    let mut ceilings = Vec::new();
    let mut now = 0;
    for _ in 0..10 {
        let due = outbox.due(now);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].key, KEY, "the same key every time");
        outbox.finish(KEY, Outcome::Lost, now, 0.999_999);
        let wake = outbox.wake_at().expect("pending");
        ceilings.push(wake - now);
        now = wake;
    }
    assert!(ceilings.windows(2).all(|w| w[0] <= w[1]), "{ceilings:?}");
    assert!(ceilings[0] < BACKOFF_BASE && *ceilings.last().expect("ten") < BACKOFF_CAP);
    assert!(ceilings.last().expect("ten") + 1 >= BACKOFF_CAP, "capped: {ceilings:?}");
    outbox.hurry();
    assert_eq!(outbox.due(now).len(), 1, "send now forgets the backoff");
}

#[test]
fn a_refusal_waits_for_the_pupil() {
    let mut outbox = Outbox::default();
    outbox.add(hand_in(KEY, &[]));
    outbox.due(0);
    outbox.finish(KEY, Outcome::Refused("too big".into()), 0, 0.5);
    assert!(outbox.due(u64::MAX).is_empty());
    assert_eq!(outbox.undelivered(), 1, "refused is not delivered: nothing is dropped");
    outbox.hurry();
    assert_eq!(outbox.due(0).len(), 1);
}

#[test]
fn an_answer_is_a_receipt_busy_refused_for_good_or_lost() {
    let json = serde_json::to_string(&receipt(KEY, 4)).expect("a receipt serialises");
    assert_eq!(Outcome::of_answer(200, json.as_bytes(), KEY, None), Outcome::Receipt(receipt(KEY, 4)));
    assert_eq!(Outcome::of_answer(200, json.as_bytes(), "another-key", None), Outcome::Lost, "not our receipt");
    assert_eq!(Outcome::of_answer(200, b"<html>", KEY, None), Outcome::Lost);
    assert_eq!(Outcome::of_answer(503, b"", KEY, Some(2_000)), Outcome::Busy(Some(2_000)));
    assert_eq!(Outcome::of_answer(429, b"", KEY, None), Outcome::Busy(None));
    for status in REFUSED_FOR_GOOD {
        assert_eq!(Outcome::of_answer(status, b" not found\n", KEY, None), Outcome::Refused("not found".into()));
    }
    for status in [401, 500, 502, 504] {
        assert_eq!(Outcome::of_answer(status, b"", KEY, None), Outcome::Lost, "{status} is tried again");
    }
}

#[test]
fn a_stored_refusal_is_not_sent_again_until_the_pupil_asks() {
    let mut outbox = Outbox::default();
    outbox.add_refused(hand_in(KEY, &[]), "not found".into());
    assert_eq!(outbox.entry(KEY).map(|e| &e.state), Some(&State::Refused("not found".into())));
    assert!(outbox.due(u64::MAX).is_empty(), "read back refused, it is not posted again");
    assert_eq!(outbox.undelivered(), 1);
    outbox.hurry();
    assert_eq!(outbox.due(0).len(), 1, "\"send now\" posts it again");
    // A key already known keeps its state: this page's attempt, or a receipt, is newer news.
    outbox.add_refused(hand_in(KEY, &[]), "stale".into());
    assert_eq!(outbox.entry(KEY).map(|e| &e.state), Some(&State::Sending { failures: 0 }));
    outbox.finish(KEY, Outcome::Receipt(receipt(KEY, 3)), 10, 0.5);
    outbox.add_refused(hand_in(KEY, &[]), "stale".into());
    assert_eq!(outbox.entry(KEY).map(|e| &e.state), Some(&State::Delivered(receipt(KEY, 3))));
}

#[test]
fn answers_carry_an_exercise_response_as_json_text() {
    let answer = Submission {
        kind: Kind::Answer { exercise: "ohm-1".into(), response: "{\"choice\":2}".into(), score: Some(1.0) },
        ..hand_in(KEY, &[])
    };
    let body = encode_upload(&answer, &[]);
    assert_eq!(decode_upload(body.as_bytes()).map(|u| u.submission), Ok(answer));
}
