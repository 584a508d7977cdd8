//! Compression of the app shell: the gzip and brotli copies the build step (`shell.rs`) writes into
//! `pkg/ipfs/`, the ones `cartable serve` makes once of the pages it fills in, and which of them a
//! request's `Accept-Encoding` takes. Pure functions on bytes and header text: no files, no HTTP types.
//! Nothing is ever compressed per request.

use std::io::Write as _;

/// A content coding of the app shell's bytes, as sent in `Content-Encoding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// The bytes as they are.
    Identity,
    /// `gzip`: the copy named `<cid>.gz`.
    Gzip,
    /// `br`: the copy named `<cid>.br`.
    Brotli,
}

impl Encoding {
    /// The compressed codings, in the order they are preferred when a request accepts both: brotli's
    /// copies are the smaller.
    pub const COMPRESSED: [Encoding; 2] = [Encoding::Brotli, Encoding::Gzip];

    /// The `Content-Encoding` token; none for identity, which is never named.
    pub fn token(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some("gzip"),
            Encoding::Brotli => Some("br"),
        }
    }

    /// What follows the CID in the copy's file name and in its ETag: `.gz`, `.br`, or nothing.
    pub fn suffix(self) -> &'static str {
        match self {
            Encoding::Identity => "",
            Encoding::Gzip => ".gz",
            Encoding::Brotli => ".br",
        }
    }
}

/// `bytes` compressed with gzip at level 9 (the header carries no time or name, so the same bytes
/// always give the same copy).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(9));
    // Writing into a Vec in memory cannot fail.
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

/// `bytes` compressed with brotli at quality 11 with a 4 MiB window (2^22), what browsers decode.
pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    let params =
        brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, size_hint: bytes.len(), ..Default::default() };
    let mut out = Vec::new();
    // Reading from a slice and writing into a Vec cannot fail.
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("brotli into memory");
    out
}

/// The encoding to send: brotli if `accept_encoding` (the request's `Accept-Encoding` values joined
/// with commas; empty when it had none) accepts it and it is `available`, else gzip likewise, else
/// identity (always acceptable here: it is what a request without the header gets).
pub fn choose(accept_encoding: &str, available: &[Encoding]) -> Encoding {
    let usable = |encoding: &Encoding| {
        available.contains(encoding) && encoding.token().is_some_and(|token| accepts(accept_encoding, token))
    };
    Encoding::COMPRESSED.into_iter().find(usable).unwrap_or(Encoding::Identity)
}

/// Whether an `Accept-Encoding` value accepts `coding` (RFC 9110, 12.5.3): named with a weight above 0
/// (`x-gzip` counts as `gzip`), or not named and `*` has a weight above 0. A weight that does not
/// parse counts as 0.
pub fn accepts(accept_encoding: &str, coding: &str) -> bool {
    let mut any = false;
    for item in accept_encoding.split(',') {
        let (name, weight) = weighted(item);
        let named = name.eq_ignore_ascii_case(coding) || (coding == "gzip" && name.eq_ignore_ascii_case("x-gzip"));
        if named {
            return weight > 0.0;
        }
        if name == "*" {
            any = weight > 0.0;
        }
    }
    any
}

/// The coding an `Accept-Encoding` item names and its weight (1 when it has none).
fn weighted(item: &str) -> (&str, f64) {
    let mut parts = item.split(';').map(str::trim);
    let name = parts.next().unwrap_or_default();
    let q = parts.find_map(|param| param.strip_prefix("q=").or_else(|| param.strip_prefix("Q=")));
    let weight = match q {
        Some(value) => value.trim().parse::<f64>().ok().filter(|q| (0.0..=1.0).contains(q)).unwrap_or(0.0),
        None => 1.0,
    };
    (name, weight)
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[track_caller]
    fn check(accept_encoding: &str, coding: &str, expected: bool) {
        assert_eq!(accepts(accept_encoding, coding), expected, "{coding} in `{accept_encoding}`");
    }

    #[test]
    fn accepts_named_codings_with_a_positive_weight() {
        check("gzip, deflate, br, zstd", "br", true);
        check("gzip, deflate, br, zstd", "gzip", true);
        check("BR", "br", true);
        check("gzip ; q=1.0, br;q=0.5", "br", true);
        check("br;q=0.001", "br", true);
        check("br;q=0", "br", false);
        check("br; Q=0.000", "br", false);
        check("br;q=nope", "br", false);
        check("br;q=2", "br", false);
        check("brotli", "br", false);
        check("x-gzip", "gzip", true);
        check("deflate, identity", "gzip", false);
        check("", "gzip", false);
    }

    #[test]
    fn a_star_covers_the_codings_not_named() {
        check("*", "br", true);
        check("*;q=0", "br", false);
        check("gzip, *;q=0", "br", false);
        check("br, *;q=0", "br", true);
        check("*, br;q=0", "br", false);
        check("br;q=0, *", "br", false);
    }

    #[test]
    fn chooses_brotli_then_gzip_then_identity_among_the_copies_there() {
        let both = [Encoding::Gzip, Encoding::Brotli];
        assert_eq!(choose("gzip, br", &both), Encoding::Brotli);
        assert_eq!(choose("gzip;q=1, br;q=0.1", &both), Encoding::Brotli, "any weight above 0 will do");
        assert_eq!(choose("gzip, br", &[Encoding::Gzip]), Encoding::Gzip);
        assert_eq!(choose("br", &[Encoding::Gzip]), Encoding::Identity);
        assert_eq!(choose("gzip, br;q=0", &both), Encoding::Gzip);
        assert_eq!(choose("", &both), Encoding::Identity);
        assert_eq!(choose("gzip, br", &[]), Encoding::Identity);
    }

    #[test]
    fn copies_decode_to_the_bytes() {
        let text: Vec<u8> = b"Le circuit electrique. ".iter().copied().cycle().take(20_000).collect();
        for bytes in [&text[..], b"", b"\0asm\x01\0\0\0"] {
            let mut unzipped = Vec::new();
            flate2::read::GzDecoder::new(&gzip(bytes)[..]).read_to_end(&mut unzipped).unwrap();
            assert_eq!(unzipped, bytes);
            let mut unbrotlied = Vec::new();
            brotli::Decompressor::new(&brotli(bytes)[..], 4096).read_to_end(&mut unbrotlied).unwrap();
            assert_eq!(unbrotlied, bytes);
        }
        assert!(brotli(&text).len() < gzip(&text).len() && gzip(&text).len() < 1000);
        assert_eq!(gzip(&text), gzip(&text), "the same bytes give the same copy");
    }
}
