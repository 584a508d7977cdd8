//! HTTP range answers built from whole chunks: media elements ask for byte ranges, but the Cache API and
//! the store keep whole chunks, so a `206` answer is cut from them. Pure: reads a header value and a
//! manifest entry, never touches the network, a store or the bytes themselves.

use crate::cid::Cid;
use crate::manifest::FileEntry;

/// The bytes of a file to answer with: `start..end` (end exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// First byte, counted from 0.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// True when a `Range` was honoured: answer `206` with [`Span::content_range`]; false: answer `200`.
    pub partial: bool,
}

/// Why a `Range` header cannot be answered with any byte of the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// No byte of the range is in the file: answer `416` with [`RangeError::content_range`].
    #[error("the requested range is outside the file's {size} bytes")]
    Unsatisfiable {
        /// The file's size in bytes.
        size: u64,
    },
}

/// The part of one chunk that an answer needs: bytes `from..to` of chunk `index` (`to` exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Position of the chunk in [`FileEntry::chunks`].
    pub index: usize,
    /// The chunk's identity.
    pub cid: Cid,
    /// First byte needed, inside the chunk.
    pub from: usize,
    /// One past the last byte needed, inside the chunk.
    pub to: usize,
}

impl Span {
    /// The whole of a file of `size` bytes, not partial.
    pub fn whole(size: u64) -> Span {
        Span { start: 0, end: size, partial: false }
    }

    /// Number of bytes in the span.
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// True when the span has no byte (only the whole of an empty file).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `Content-Range` value for this span of a file of `size` bytes: `bytes a-b/size` (b inclusive),
    /// or `bytes */size` for an empty span.
    pub fn content_range(&self, size: u64) -> String {
        match self.end.checked_sub(1).filter(|&last| last >= self.start) {
            Some(last) => format!("bytes {}-{last}/{size}", self.start),
            None => format!("bytes */{size}"),
        }
    }
}

impl RangeError {
    /// The `Content-Range` value of the `416` answer: `bytes */size`.
    pub fn content_range(&self) -> String {
        match self {
            RangeError::Unsatisfiable { size } => format!("bytes */{size}"),
        }
    }
}

/// The span to answer for a `Range` header value (`None`: no header) on a file of `size` bytes.
///
/// Honours exactly one `bytes=` range (unit case-insensitive, spaces tolerated): `a-b` (b inclusive,
/// clamped to the last byte), `a-` (to the end) or `-n` (the last n bytes). Any honoured range is partial,
/// even one covering the whole file. A range with no byte in the file (`a` past the end, `-0`, any range
/// on an empty file) is [`RangeError::Unsatisfiable`].
///
/// Choice: a header this code does not understand (another unit, several ranges, `b < a`, not numbers)
/// is ignored and the whole file answered, as RFC 9110 §14.2 allows; browsers' media elements only send
/// single `bytes=` ranges, and a `200` is always a correct answer.
pub fn parse(header: Option<&str>, size: u64) -> Result<Span, RangeError> {
    match header.and_then(single_byte_range) {
        None => Ok(Span::whole(size)),
        Some(asked) => asked.within(size).ok_or(RangeError::Unsatisfiable { size }),
    }
}

/// Which chunks of `file` (cut in chunks of `chunk_size` bytes) cover `span`, in order, and which bytes
/// of each. The span is clamped to the file; a manifest whose chunk list is shorter than its size
/// yields the pieces it has.
pub fn pieces(file: &FileEntry, chunk_size: u32, span: &Span) -> Vec<Piece> {
    let chunk_size = u64::from(chunk_size);
    let end = span.end.min(file.size);
    if chunk_size == 0 || span.start >= end {
        return Vec::new();
    }
    let first = span.start / chunk_size;
    let last = (end - 1) / chunk_size;
    (first..=last)
        .map_while(|index| {
            let offset = index * chunk_size;
            let index = usize::try_from(index).ok()?;
            let cid = *file.chunks.get(index)?;
            // Both offsets are below `chunk_size`, a `u32`, so they fit a `usize` on every target.
            let from = span.start.saturating_sub(offset) as usize;
            let to = (end - offset).min(chunk_size) as usize;
            Some(Piece { index, cid, from, to })
        })
        .collect()
}

/// One range as asked, before it meets the file's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asked {
    /// `a-b` (b inclusive) or `a-` (no b).
    From { first: u64, last: Option<u64> },
    /// `-n`: the last n bytes.
    Suffix(u64),
}

impl Asked {
    /// The bytes of a file of `size` that this range names, if there is at least one.
    fn within(self, size: u64) -> Option<Span> {
        let (start, end) = match self {
            Asked::From { first, last } => (first, last.map_or(size, |last| last.saturating_add(1).min(size))),
            Asked::Suffix(count) => (size - count.min(size), size),
        };
        (start < end).then_some(Span { start, end, partial: true })
    }
}

/// The single byte range of `header`, or `None` when the header is not one this code understands.
fn single_byte_range(header: &str) -> Option<Asked> {
    let (unit, set) = header.split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") || set.contains(',') {
        return None;
    }
    let (first, last) = set.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        return number(last).map(Asked::Suffix);
    }
    let first = number(first)?;
    if last.is_empty() {
        return Some(Asked::From { first, last: None });
    }
    let last = number(last).filter(|&last| last >= first)?;
    Some(Asked::From { first, last: Some(last) })
}

/// Decimal digits only (no sign, no spaces inside); too many digits saturate, as they are past any file.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests;
