//! Native tests of range parsing and of cutting a span into chunk pieces.

use super::*;

/// `expected`: `Some((start, end, partial))`, or `None` for unsatisfiable.
#[track_caller]
fn check(header: Option<&str>, size: u64, expected: Option<(u64, u64, bool)>) {
    let expected = match expected {
        Some((start, end, partial)) => Ok(Span { start, end, partial }),
        None => Err(RangeError::Unsatisfiable { size }),
    };
    assert_eq!(parse(header, size), expected, "{header:?} on {size} bytes");
}

#[test]
fn no_header_is_the_whole_file() {
    check(None, 1000, Some((0, 1000, false)));
    check(None, 0, Some((0, 0, false)));
}

#[test]
fn honours_one_byte_range() {
    check(Some("bytes=0-"), 1000, Some((0, 1000, true)));
    check(Some("bytes=0-99"), 1000, Some((0, 100, true)));
    check(Some("bytes=100-"), 1000, Some((100, 1000, true)));
    check(Some("bytes=-50"), 1000, Some((950, 1000, true)));
    check(Some("bytes=999-999"), 1000, Some((999, 1000, true)));
}

#[test]
fn clamps_a_range_past_the_end() {
    check(Some("bytes=0-1999"), 1000, Some((0, 1000, true)));
    check(Some("bytes=-5000"), 1000, Some((0, 1000, true)));
    check(Some("bytes=10-99999999999999999999999"), 1000, Some((10, 1000, true)));
}

#[test]
fn tolerates_spaces_and_case() {
    check(Some("  bytes = 0 - 99 "), 1000, Some((0, 100, true)));
    check(Some("Bytes=-50"), 1000, Some((950, 1000, true)));
    check(Some("BYTES=100-"), 1000, Some((100, 1000, true)));
}

#[test]
fn refuses_a_range_with_no_byte_in_the_file() {
    check(Some("bytes=5000-"), 1000, None);
    check(Some("bytes=1000-1001"), 1000, None);
    check(Some("bytes=-0"), 1000, None);
    check(Some("bytes=0-"), 0, None);
    check(Some("bytes=-10"), 0, None);
}

#[test]
fn ignores_a_header_it_does_not_understand() {
    check(Some("bytes=1-2,4-5"), 1000, Some((0, 1000, false)));
    check(Some("items=0-1"), 1000, Some((0, 1000, false)));
    check(Some("bytes=9-5"), 1000, Some((0, 1000, false)));
    check(Some("bytes=+1-5"), 1000, Some((0, 1000, false)));
    check(Some("bytes=a-b"), 1000, Some((0, 1000, false)));
    check(Some("bytes=-"), 1000, Some((0, 1000, false)));
    check(Some("bytes 0-1"), 1000, Some((0, 1000, false)));
    check(Some(""), 1000, Some((0, 1000, false)));
    check(Some("items=0-1"), 0, Some((0, 0, false)));
}

fn ten_bytes() -> FileEntry {
    FileEntry {
        path: "video.webm".into(),
        media_type: "video/webm".into(),
        size: 10,
        chunks: [b"0123".as_slice(), b"4567", b"89"].into_iter().map(Cid::of).collect(),
    }
}

#[track_caller]
fn check_pieces(start: u64, end: u64, expected: &[(usize, usize, usize)]) {
    let file = ten_bytes();
    let span = Span { start, end, partial: true };
    let expected: Vec<Piece> =
        expected.iter().map(|&(index, from, to)| Piece { index, cid: file.chunks[index], from, to }).collect();
    assert_eq!(pieces(&file, 4, &span), expected, "span {start}..{end}");
}

#[test]
fn pieces_cover_a_span_across_chunk_boundaries() {
    check_pieces(3, 9, &[(0, 3, 4), (1, 0, 4), (2, 0, 1)]);
    check_pieces(0, 10, &[(0, 0, 4), (1, 0, 4), (2, 0, 2)]);
    check_pieces(4, 8, &[(1, 0, 4)]);
    check_pieces(5, 6, &[(1, 1, 2)]);
    check_pieces(9, 10, &[(2, 1, 2)]);
}

#[test]
fn pieces_of_an_empty_or_outside_span_are_none() {
    check_pieces(0, 0, &[]);
    check_pieces(10, 12, &[]);
    check_pieces(8, 50, &[(2, 0, 2)]);
}

#[test]
fn pieces_rebuild_exactly_the_asked_bytes() {
    let bytes = b"0123456789";
    let chunks: Vec<&[u8]> = bytes.chunks(4).collect();
    let file = ten_bytes();
    for start in 0..10 {
        for end in start + 1..=10 {
            let span = Span { start, end, partial: true };
            let answer: Vec<u8> = pieces(&file, 4, &span)
                .iter()
                .flat_map(|piece| &chunks[piece.index][piece.from..piece.to])
                .copied()
                .collect();
            assert_eq!(answer, &bytes[start as usize..end as usize], "span {start}..{end}");
        }
    }
}

#[test]
fn content_range_names_the_inclusive_last_byte() {
    let cases =
        [((0, 100), 1000, "bytes 0-99/1000"), ((950, 1000), 1000, "bytes 950-999/1000"), ((0, 0), 0, "bytes */0")];
    for ((start, end), size, expected) in cases {
        let span = Span { start, end, partial: true };
        assert_eq!(span.content_range(size), expected);
    }
    assert_eq!(RangeError::Unsatisfiable { size: 1000 }.content_range(), "bytes */1000");
}

#[test]
fn len_counts_the_bytes_of_the_span() {
    assert_eq!(Span { start: 3, end: 9, partial: true }.len(), 6);
    assert!(Span::whole(0).is_empty());
    assert!(!Span::whole(1).is_empty());
}
