//! The peer wire format: one binary message per data-channel message, at most [`MAX_MESSAGE`] bytes.
//! Pure: encoding and decoding only; what a message means for a peer is [`super::session`]'s business.
//!
//! Layout: a one-byte tag, then the fields in order. Integers are big-endian, a CID is its 36-byte
//! binary form ([`Cid::to_bytes`]), a string or byte string is a `u16` length then its bytes. Decoding
//! refuses anything that is not exactly one well-formed message, so every message has one spelling.

use std::collections::BTreeSet;

use crate::cid::{self, Cid};
use crate::manifest::Manifest;
use crate::pack::MAX_CHUNK_SIZE;

/// The largest encoded message: 64 KiB - 1, which every WebRTC implementation delivers unfragmented.
pub const MAX_MESSAGE: usize = 65_535;
/// The protocol version this code speaks, sent in [`Message::Hello`].
pub const PROTOCOL: u8 = 1;
/// The longest course id a [`Message::Hello`] may carry, in bytes.
pub const MAX_COURSE_ID: usize = 200;
/// The longest signed manifest classmates pass on, in bytes (2 MiB: a course of thousands of files).
pub const MAX_MANIFEST: u32 = 2 * 1024 * 1024;
/// Bytes of a [`Message::ManifestPiece`] besides its data: tag, offset, total and data length.
const MANIFEST_PIECE_HEADER: usize = 1 + 4 + 4 + 2;
/// Bytes of a [`Message::Piece`] besides its data: tag, cid, offset, total and data length.
const PIECE_HEADER: usize = 1 + cid::BINARY_LEN + 4 + 4 + 2;
/// The most chunk bytes one [`Message::Piece`] carries: a Piece with this much data is [`MAX_MESSAGE`] long.
pub const MAX_PIECE_DATA: usize = MAX_MESSAGE - PIECE_HEADER;

const HELLO: u8 = 1;
const BITFIELD: u8 = 2;
const HAVE: u8 = 3;
const FETCHING: u8 = 4;
const REQUEST: u8 = 5;
const PIECE: u8 = 6;
const CANCEL: u8 = 7;
const ABSENT: u8 = 8;
const ASK_MANIFEST: u8 = 9;
const MANIFEST_PIECE: u8 = 10;

/// One message between two peers of the same course.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// The first message each way: who I am and which version of the course I hold. The course id is at
    /// most [`MAX_COURSE_ID`] bytes.
    Hello {
        /// The protocol version ([`PROTOCOL`]).
        protocol: u8,
        /// The course's stable id (`Manifest::course.id`).
        course_id: String,
        /// The manifest version I hold.
        version: u64,
    },
    /// Which chunks I hold, one bit each (most significant first) over [`distinct_chunks`] of my manifest,
    /// spare bits zero. Only meaningful when both peers hold the same version.
    Bitfield {
        /// `ceil(chunks / 8)` bytes.
        bits: Vec<u8>,
    },
    /// I now hold this chunk (incremental, after the Bitfield).
    Have {
        /// The chunk.
        cid: Cid,
    },
    /// I am fetching this chunk over HTTP: wait for my Have instead of asking the origin too.
    Fetching {
        /// The chunk.
        cid: Cid,
    },
    /// Please send me this chunk.
    Request {
        /// The chunk.
        cid: Cid,
    },
    /// A slice of a chunk, sent in order; the whole message is at most [`MAX_MESSAGE`] bytes.
    Piece {
        /// The chunk this slice belongs to.
        cid: Cid,
        /// Where `data` starts in the chunk.
        offset: u32,
        /// The chunk's whole length, at most `MAX_CHUNK_SIZE`.
        total: u32,
        /// The slice; `offset + data.len() <= total`.
        data: Vec<u8>,
    },
    /// Stop sending this chunk.
    Cancel {
        /// The chunk.
        cid: Cid,
    },
    /// I do not have this chunk (the answer to a Request).
    Absent {
        /// The chunk.
        cid: Cid,
    },
    /// Please send me your signed manifest (you said you hold a newer version than mine).
    AskManifest,
    /// A slice of my signed manifest as published (`manifest.json`'s bytes), sent in order.
    ManifestPiece {
        /// Where `data` starts.
        offset: u32,
        /// The manifest's whole length, at most [`MAX_MANIFEST`].
        total: u32,
        /// The slice; `offset + data.len() <= total`.
        data: Vec<u8>,
    },
}

/// Why bytes are not a message. Messages are lowercase, for logs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// No bytes at all.
    #[error("empty message")]
    Empty,
    /// Longer than [`MAX_MESSAGE`].
    #[error("message of {0} bytes is over the {MAX_MESSAGE}-byte limit")]
    Oversize(usize),
    /// The first byte names no message.
    #[error("unknown message tag {0}")]
    UnknownTag(u8),
    /// The bytes end inside a field.
    #[error("message is truncated")]
    Truncated,
    /// Bytes remain after the last field.
    #[error("{0} bytes after the end of the message")]
    Trailing(usize),
    /// The course id is not UTF-8.
    #[error("course id is not utf-8")]
    BadUtf8,
    /// The course id is longer than [`MAX_COURSE_ID`].
    #[error("course id of {0} bytes is over the {MAX_COURSE_ID}-byte limit")]
    CourseIdTooLong(usize),
    /// 36 bytes that are not a raw sha2-256 CIDv1.
    #[error("not a raw sha2-256 cidv1")]
    BadCid,
    /// A piece that ends past its chunk's declared length.
    #[error("piece at {offset} of {len} bytes ends past the chunk's {total} bytes")]
    PieceBeyondTotal {
        /// Where the piece starts.
        offset: u32,
        /// Its data length.
        len: usize,
        /// The declared chunk length.
        total: u32,
    },
    /// A chunk declared longer than `MAX_CHUNK_SIZE`.
    #[error("chunk of {0} bytes is over the {MAX_CHUNK_SIZE}-byte limit")]
    ChunkTooLarge(u32),
    /// A manifest declared longer than [`MAX_MANIFEST`].
    #[error("manifest of {0} bytes is over the {MAX_MANIFEST}-byte limit")]
    ManifestTooLarge(u32),
}

/// The bytes of `message`. Messages built by this module and [`super::session`] always decode back to
/// themselves; one that breaks a limit (a course id over [`MAX_COURSE_ID`], a piece over
/// [`MAX_PIECE_DATA`]) encodes to bytes that [`decode`] refuses, never to another valid message.
pub fn encode(message: &Message) -> Vec<u8> {
    let mut out = Vec::new();
    match message {
        Message::Hello { protocol, course_id, version } => {
            out.extend([HELLO, *protocol]);
            put_bytes(&mut out, course_id.as_bytes());
            out.extend(version.to_be_bytes());
        }
        Message::Bitfield { bits } => {
            out.push(BITFIELD);
            put_bytes(&mut out, bits);
        }
        Message::Have { cid } => put_cid(&mut out, HAVE, cid),
        Message::Fetching { cid } => put_cid(&mut out, FETCHING, cid),
        Message::Request { cid } => put_cid(&mut out, REQUEST, cid),
        Message::Piece { cid, offset, total, data } => {
            put_cid(&mut out, PIECE, cid);
            out.extend(offset.to_be_bytes());
            out.extend(total.to_be_bytes());
            put_bytes(&mut out, data);
        }
        Message::Cancel { cid } => put_cid(&mut out, CANCEL, cid),
        Message::Absent { cid } => put_cid(&mut out, ABSENT, cid),
        Message::AskManifest => out.push(ASK_MANIFEST),
        Message::ManifestPiece { offset, total, data } => {
            out.push(MANIFEST_PIECE);
            out.extend(offset.to_be_bytes());
            out.extend(total.to_be_bytes());
            put_bytes(&mut out, data);
        }
    }
    out
}

/// The one message `bytes` spell, or why they spell none. Never panics, whatever the bytes.
pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    if bytes.len() > MAX_MESSAGE {
        return Err(WireError::Oversize(bytes.len()));
    }
    let (&tag, rest) = bytes.split_first().ok_or(WireError::Empty)?;
    let mut reader = Reader { rest };
    let message = match tag {
        HELLO => {
            let protocol = reader.u8()?;
            let course_id = reader.course_id()?;
            Message::Hello { protocol, course_id, version: reader.u64()? }
        }
        BITFIELD => Message::Bitfield { bits: reader.bytes()?.to_vec() },
        HAVE => Message::Have { cid: reader.cid()? },
        FETCHING => Message::Fetching { cid: reader.cid()? },
        REQUEST => Message::Request { cid: reader.cid()? },
        PIECE => reader.piece()?,
        CANCEL => Message::Cancel { cid: reader.cid()? },
        ABSENT => Message::Absent { cid: reader.cid()? },
        ASK_MANIFEST => Message::AskManifest,
        MANIFEST_PIECE => reader.manifest_piece()?,
        other => return Err(WireError::UnknownTag(other)),
    };
    match reader.rest.len() {
        0 => Ok(message),
        trailing => Err(WireError::Trailing(trailing)),
    }
}

/// `chunk` as Piece messages in order, each encoding to at most [`MAX_MESSAGE`] bytes; an empty chunk is
/// one empty Piece. A chunk over `MAX_CHUNK_SIZE` cannot be sent and gives no message at all.
pub fn pieces(cid: Cid, chunk: &[u8]) -> Vec<Message> {
    let Some(total) = u32::try_from(chunk.len()).ok().filter(|&total| total <= MAX_CHUNK_SIZE) else {
        return Vec::new();
    };
    if chunk.is_empty() {
        return vec![Message::Piece { cid, offset: 0, total, data: Vec::new() }];
    }
    (0u32..)
        .zip(chunk.chunks(MAX_PIECE_DATA))
        .map(|(index, data)| {
            // Cannot overflow: `index * MAX_PIECE_DATA` is below `total`, itself at most 1 MiB.
            let offset = index * MAX_PIECE_DATA as u32;
            Message::Piece { cid, offset, total, data: data.to_vec() }
        })
        .collect()
}

/// The signed manifest `json` (its published bytes) as ManifestPiece messages in order, each encoding to
/// at most [`MAX_MESSAGE`] bytes. One over [`MAX_MANIFEST`], or empty, gives no message at all.
pub fn manifest_pieces(json: &[u8]) -> Vec<Message> {
    let Some(total) = u32::try_from(json.len()).ok().filter(|&total| total > 0 && total <= MAX_MANIFEST) else {
        return Vec::new();
    };
    (0u32..)
        .zip(json.chunks(MAX_MESSAGE - MANIFEST_PIECE_HEADER))
        .map(|(index, data)| {
            // Cannot overflow: the offset is below `total`, itself at most 2 MiB.
            let offset = index * (MAX_MESSAGE - MANIFEST_PIECE_HEADER) as u32;
            Message::ManifestPiece { offset, total, data: data.to_vec() }
        })
        .collect()
}

/// The chunks a [`Message::Bitfield`] indexes: every chunk of `manifest`, files in order and chunks in
/// order within each file, each kept at its first appearance only.
pub fn distinct_chunks(manifest: &Manifest) -> Vec<Cid> {
    let mut seen = BTreeSet::new();
    manifest.files.iter().flat_map(|file| &file.chunks).filter(|cid| seen.insert(**cid)).copied().collect()
}

fn put_cid(out: &mut Vec<u8>, tag: u8, cid: &Cid) {
    out.push(tag);
    out.extend(cid.to_bytes());
}

/// A `u16` length then the bytes. A longer slice writes a length that cannot match, so decoding refuses it.
fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend(u16::try_from(bytes.len()).unwrap_or(u16::MAX).to_be_bytes());
    out.extend(bytes);
}

/// Reads fields from the front of a message; every read checks the length first.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let (head, rest) = self.rest.split_first_chunk::<N>().ok_or(WireError::Truncated)?;
        self.rest = rest;
        Ok(*head)
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(u8::from_be_bytes(self.take()?))
    }

    fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.take()?))
    }

    fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.take()?))
    }

    fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let len = usize::from(u16::from_be_bytes(self.take()?));
        if self.rest.len() < len {
            return Err(WireError::Truncated);
        }
        let (head, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(head)
    }

    fn cid(&mut self) -> Result<Cid, WireError> {
        Cid::from_bytes(&self.take::<{ cid::BINARY_LEN }>()?).map_err(|_| WireError::BadCid)
    }

    fn course_id(&mut self) -> Result<String, WireError> {
        let bytes = self.bytes()?;
        if bytes.len() > MAX_COURSE_ID {
            return Err(WireError::CourseIdTooLong(bytes.len()));
        }
        String::from_utf8(bytes.to_vec()).map_err(|_| WireError::BadUtf8)
    }

    fn piece(&mut self) -> Result<Message, WireError> {
        let (cid, offset, total) = (self.cid()?, self.u32()?, self.u32()?);
        let data = self.bytes()?;
        if total > MAX_CHUNK_SIZE {
            return Err(WireError::ChunkTooLarge(total));
        }
        if u64::from(offset) + data.len() as u64 > u64::from(total) {
            return Err(WireError::PieceBeyondTotal { offset, len: data.len(), total });
        }
        Ok(Message::Piece { cid, offset, total, data: data.to_vec() })
    }

    fn manifest_piece(&mut self) -> Result<Message, WireError> {
        let (offset, total) = (self.u32()?, self.u32()?);
        let data = self.bytes()?;
        if total > MAX_MANIFEST {
            return Err(WireError::ManifestTooLarge(total));
        }
        if u64::from(offset) + data.len() as u64 > u64::from(total) {
            return Err(WireError::PieceBeyondTotal { offset, len: data.len(), total });
        }
        Ok(Message::ManifestPiece { offset, total, data: data.to_vec() })
    }
}

#[cfg(test)]
mod tests;
