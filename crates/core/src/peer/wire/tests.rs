//! Native tests of the wire format: every message round-trips, the 64 KiB - 1 bound holds, and every
//! malformed input is refused with an error, never a panic.
// See: issue "peer wire protocol"

use super::*;
use crate::random::SplitMix64;

fn cid(n: u8) -> Cid {
    Cid::of(&[n])
}

fn every_message() -> Vec<Message> {
    vec![
        Message::Hello { protocol: PROTOCOL, course_id: "physique-3e".into(), version: 7 },
        Message::Hello { protocol: 0, course_id: String::new(), version: u64::MAX },
        Message::Hello { protocol: 200, course_id: "é".repeat(MAX_COURSE_ID / 2), version: 0 },
        Message::Bitfield { bits: vec![] },
        Message::Bitfield { bits: vec![0b1010_0000, 0xff] },
        Message::Have { cid: cid(1) },
        Message::Fetching { cid: cid(2) },
        Message::Request { cid: cid(3) },
        Message::Piece { cid: cid(4), offset: 0, total: 0, data: vec![] },
        Message::Piece { cid: cid(4), offset: 10, total: 13, data: vec![1, 2, 3] },
        Message::Piece { cid: cid(4), offset: MAX_CHUNK_SIZE - 1, total: MAX_CHUNK_SIZE, data: vec![9] },
        Message::Cancel { cid: cid(5) },
        Message::Absent { cid: cid(6) },
        Message::AskManifest,
        Message::ManifestPiece { offset: 0, total: 3, data: b"{}\n".to_vec() },
        Message::ManifestPiece { offset: MAX_MANIFEST - 1, total: MAX_MANIFEST, data: vec![b'}'] },
    ]
}

#[test]
fn every_message_round_trips() {
    for message in every_message() {
        let bytes = encode(&message);
        assert!(bytes.len() <= MAX_MESSAGE);
        assert_eq!(decode(&bytes), Ok(message));
    }
}

#[test]
fn the_layout_is_tag_then_big_endian_fields() {
    let bytes = encode(&Message::Hello { protocol: 1, course_id: "ab".into(), version: 258 });
    assert_eq!(bytes, [1, 1, 0, 2, b'a', b'b', 0, 0, 0, 0, 0, 0, 1, 2]);
    let bytes = encode(&Message::Piece { cid: cid(0), offset: 1, total: 3, data: vec![7, 8] });
    assert_eq!(bytes[0], 6);
    assert_eq!(bytes[1..37], cid(0).to_bytes());
    assert_eq!(bytes[37..], [0, 0, 0, 1, 0, 0, 0, 3, 0, 2, 7, 8]);
}

#[test]
fn a_piece_exactly_at_the_limit_encodes_and_one_byte_more_is_refused() {
    let full = Message::Piece { cid: cid(1), offset: 0, total: MAX_CHUNK_SIZE, data: vec![3; MAX_PIECE_DATA] };
    let bytes = encode(&full);
    assert_eq!(bytes.len(), MAX_MESSAGE);
    assert_eq!(decode(&bytes), Ok(full));

    let over = Message::Piece { cid: cid(1), offset: 0, total: MAX_CHUNK_SIZE, data: vec![3; MAX_PIECE_DATA + 1] };
    assert_eq!(decode(&encode(&over)), Err(WireError::Oversize(MAX_MESSAGE + 1)));
}

#[test]
fn pieces_of_a_full_chunk_fit_and_reassemble() {
    let chunk: Vec<u8> = (0..MAX_CHUNK_SIZE).map(|i| (i * 31 % 251) as u8).collect();
    let messages = pieces(Cid::of(&chunk), &chunk);
    assert_eq!(messages.len(), (chunk.len()).div_ceil(MAX_PIECE_DATA));
    let mut assembled = Vec::new();
    for message in &messages {
        let bytes = encode(message);
        assert!(bytes.len() <= MAX_MESSAGE, "{} bytes", bytes.len());
        let Ok(Message::Piece { cid, offset, total, data }) = decode(&bytes) else { panic!("not a piece") };
        assert_eq!((cid, offset as usize, total), (Cid::of(&chunk), assembled.len(), MAX_CHUNK_SIZE));
        assembled.extend(data);
    }
    assert_eq!(assembled, chunk);
}

#[test]
fn pieces_of_small_empty_and_oversize_chunks() {
    assert_eq!(pieces(cid(1), b"abc"), [Message::Piece { cid: cid(1), offset: 0, total: 3, data: b"abc".to_vec() }]);
    assert_eq!(pieces(cid(1), b""), [Message::Piece { cid: cid(1), offset: 0, total: 0, data: vec![] }]);
    assert_eq!(pieces(cid(1), &vec![0; MAX_CHUNK_SIZE as usize + 1]), []);
}

#[test]
fn a_manifest_goes_in_pieces_that_fit_and_reassemble_and_an_oversize_one_is_not_sent() {
    let json: Vec<u8> = (0..150_000u32).map(|i| b"{\"files\":[]}"[i as usize % 12]).collect();
    let pieces = manifest_pieces(&json);
    assert_eq!(pieces.len(), 3);
    let mut whole = Vec::new();
    for piece in &pieces {
        let bytes = encode(piece);
        assert!(bytes.len() <= MAX_MESSAGE, "{} bytes", bytes.len());
        let Ok(Message::ManifestPiece { offset, total, data }) = decode(&bytes) else { panic!("not a manifest piece") };
        assert_eq!((offset as usize, total as usize), (whole.len(), json.len()));
        whole.extend(data);
    }
    assert_eq!(whole, json);
    assert_eq!(manifest_pieces(b""), []);
    assert_eq!(manifest_pieces(&vec![b' '; MAX_MANIFEST as usize + 1]), []);
    let over = Message::ManifestPiece { offset: 0, total: MAX_MANIFEST + 1, data: vec![1] };
    check_refused(&encode(&over), WireError::ManifestTooLarge(MAX_MANIFEST + 1));
    let beyond = Message::ManifestPiece { offset: 2, total: 3, data: vec![1, 2] };
    check_refused(&encode(&beyond), WireError::PieceBeyondTotal { offset: 2, len: 2, total: 3 });
}

#[test]
fn truncated_at_every_length_is_refused() {
    for message in every_message() {
        let bytes = encode(&message);
        for len in 0..bytes.len() {
            let expected = if len == 0 { WireError::Empty } else { WireError::Truncated };
            assert_eq!(decode(&bytes[..len]), Err(expected), "{message:?} cut at {len}");
        }
    }
}

#[track_caller]
fn check_refused(bytes: &[u8], expected: WireError) {
    assert_eq!(decode(bytes), Err(expected));
}

#[test]
fn malformed_messages_are_refused() {
    let have = encode(&Message::Have { cid: cid(1) });
    check_refused(&[], WireError::Empty);
    check_refused(&[0], WireError::UnknownTag(0));
    check_refused(&[11, 1, 2], WireError::UnknownTag(11));
    check_refused(&[255], WireError::UnknownTag(255));
    check_refused(&[&have[..], &[0]].concat(), WireError::Trailing(1));
    check_refused(&[&encode(&Message::Bitfield { bits: vec![1] })[..], &[0, 0]].concat(), WireError::Trailing(2));
    check_refused(&vec![3; MAX_MESSAGE + 1], WireError::Oversize(MAX_MESSAGE + 1));

    let mut bad_cid = have.clone();
    bad_cid[2] = 0x70; // dag-pb instead of raw
    check_refused(&bad_cid, WireError::BadCid);

    check_refused(&[1, 1, 0, 2, 0xc3, 0x28, 0, 0, 0, 0, 0, 0, 0, 1], WireError::BadUtf8);
    let long = Message::Hello { protocol: 1, course_id: "a".repeat(MAX_COURSE_ID + 1), version: 1 };
    check_refused(&encode(&long), WireError::CourseIdTooLong(MAX_COURSE_ID + 1));
}

#[test]
fn pieces_beyond_their_chunk_are_refused() {
    let piece = |offset, total, len| encode(&Message::Piece { cid: cid(1), offset, total, data: vec![0; len] });
    check_refused(&piece(0, 2, 3), WireError::PieceBeyondTotal { offset: 0, len: 3, total: 2 });
    check_refused(&piece(5, 5, 1), WireError::PieceBeyondTotal { offset: 5, len: 1, total: 5 });
    check_refused(&piece(u32::MAX, 10, 1), WireError::PieceBeyondTotal { offset: u32::MAX, len: 1, total: 10 });
    check_refused(&piece(0, MAX_CHUNK_SIZE + 1, 1), WireError::ChunkTooLarge(MAX_CHUNK_SIZE + 1));
    assert!(decode(&piece(5, 5, 0)).is_ok());
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A cheap deterministic fuzz: mutate every valid message at every byte, and decode random strings.
    for message in every_message() {
        let bytes = encode(&message);
        for at in 0..bytes.len() {
            for value in [0, 1, 0x7f, 0x80, 0xff] {
                let mut mutated = bytes.clone();
                mutated[at] = value;
                let _ = decode(&mutated);
            }
        }
    }
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state % 80) as usize;
        let bytes: Vec<u8> = (0..len).map(|i| (state >> (i % 8 * 8)) as u8 ^ i as u8).collect();
        let _ = decode(&bytes);
    }
}

#[test]
fn distinct_chunks_keep_first_appearance_order() {
    let json = format!(
        r#"{{"format":1,"course":{{"id":"c","title":"t","class":"3e","subject":"s","teacher":"m","language":"fr"}},
        "version":1,"created_at":0,"expires_at":1,"chunk_size":1,"lessons":[],"agenda":[],
        "files":[{{"path":"a","media_type":"text/plain","size":3,"chunks":["{a}","{b}","{a}"]}},
                 {{"path":"b","media_type":"text/plain","size":0,"chunks":[]}},
                 {{"path":"c","media_type":"text/plain","size":2,"chunks":["{c}","{b}"]}}],
        "mirrors":[],"trackers":[],
        "peers":{{"sharing":true,"relay_only":true,"ice":[{{"urls":["turn:t.example:3478"],"username":"u","credential":"c"}}]}}}}"#,
        a = cid(1),
        b = cid(2),
        c = cid(3)
    );
    let manifest: Manifest = serde_json::from_str(&json).expect("a manifest");
    assert_eq!(distinct_chunks(&manifest), [cid(1), cid(2), cid(3)]);
}

/// Inputs a peer could send: a message's encoding spoiled (a byte changed, cut short, lengthened), or
/// bytes at random behind a known tag.
fn hostile_input(random: &mut SplitMix64) -> Vec<u8> {
    let messages = every_message();
    let mut bytes = encode(&messages[random.next_u64() as usize % messages.len()]);
    match random.next_u64() % 4 {
        0 if !bytes.is_empty() => {
            let at = random.next_u64() as usize % bytes.len();
            bytes[at] = random.next_u64() as u8;
        }
        1 => bytes.truncate(random.next_u64() as usize % (bytes.len() + 1)),
        2 => bytes.extend((0..random.next_u64() % 8).map(|_| random.next_u64() as u8)),
        _ => {
            let tag = bytes.first().copied().unwrap_or(0);
            bytes = std::iter::once(tag).chain((0..random.next_u64() % 64).map(|_| random.next_u64() as u8)).collect();
        }
    }
    bytes
}

#[test]
fn whatever_decodes_encodes_back_to_the_same_bytes() {
    let (mut random, mut decoded) = (SplitMix64::new(12_345), 0);
    for _ in 0..50_000 {
        let bytes = hostile_input(&mut random);
        if let Ok(message) = decode(&bytes) {
            assert_eq!(encode(&message), bytes, "{message:?} has one encoding");
            decoded += 1;
        }
    }
    assert!(decoded > 2_500, "enough inputs decode for the property to mean something: {decoded}");
}
