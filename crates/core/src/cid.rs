//! Content identifiers: CIDv1, raw codec, sha2-256, written in lowercase base32 (`bafkrei...`).
//! Pure: hashing here uses `sha2`; the browser hashes with WebCrypto and calls [`Cid::from_sha256`].

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// CID version 1, multicodec `raw` (0x55), multihash `sha2-256` (0x12) of 32 bytes.
const PREFIX: [u8; 4] = [0x01, 0x55, 0x12, 0x20];
/// Multibase prefix for lowercase RFC 4648 base32 without padding.
const MULTIBASE_BASE32: char = 'b';
/// Length of a CID's binary form ([`Cid::to_bytes`]): the 4-byte prefix and the 32-byte digest.
pub const BINARY_LEN: usize = 36;
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// The identity of one chunk: the sha2-256 digest of its bytes, as a CIDv1 with the raw codec.
///
/// Two chunks with the same bytes have the same `Cid`, whoever packed them, so a mirror laid out as
/// `/ipfs/<cid>` or any IPFS trustless gateway can serve them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cid {
    digest: [u8; 32],
}

/// Why a string is not a CID this project accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidError {
    /// Not multibase base32 (`b...`) or a character outside the base32 alphabet.
    #[error("`{0}` is not a base32 CIDv1 (expected `bafkrei...`)")]
    NotBase32(String),
    /// Decodes, but is not CIDv1 + raw + sha2-256.
    #[error("`{0}` is not a raw sha2-256 CIDv1")]
    UnsupportedKind(String),
    /// Binary form ([`Cid::from_bytes`]) of the wrong length or not CIDv1 + raw + sha2-256.
    #[error("{0} bytes are not the binary form of a raw sha2-256 CIDv1")]
    NotBinary(usize),
    /// Decodes to a CID, but is not the one way this project writes it (spare trailing bits set, or a
    /// character too many): two spellings of one CID would be two names for one chunk.
    #[error("`{0}` is not the canonical spelling of its CID")]
    NotCanonical(String),
}

impl Cid {
    /// The CID of `bytes`, hashed here with sha2 (native code: the browser uses [`Cid::from_sha256`]).
    pub fn of(bytes: &[u8]) -> Cid {
        Cid { digest: Sha256::digest(bytes).into() }
    }

    /// The CID whose sha2-256 digest is `digest` (as computed by WebCrypto, say).
    pub fn from_sha256(digest: [u8; 32]) -> Cid {
        Cid { digest }
    }

    /// The sha2-256 digest this CID names.
    pub fn sha256(&self) -> &[u8; 32] {
        &self.digest
    }

    /// The binary form: the CIDv1 prefix (version 1, raw codec, sha2-256, 32 bytes) then the digest.
    /// The string form is this in base32; [`Cid::from_bytes`] reads it back.
    pub fn to_bytes(&self) -> [u8; BINARY_LEN] {
        let mut out = [0u8; BINARY_LEN];
        out[..PREFIX.len()].copy_from_slice(&PREFIX);
        out[PREFIX.len()..].copy_from_slice(&self.digest);
        out
    }

    /// Reads the binary form written by [`Cid::to_bytes`]: exactly [`BINARY_LEN`] bytes, CIDv1 + raw +
    /// sha2-256, anything else refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Cid, CidError> {
        match bytes.strip_prefix(&PREFIX[..]) {
            Some(digest) if bytes.len() == BINARY_LEN => {
                let mut out = [0u8; 32];
                out.copy_from_slice(digest);
                Ok(Cid { digest: out })
            }
            _ => Err(CidError::NotBinary(bytes.len())),
        }
    }

    /// True when `bytes` hash to this CID. The only check that lets bytes from any source be used.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        Cid::of(bytes) == *self
    }
}

impl fmt::Display for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{MULTIBASE_BASE32}{}", base32_encode(&self.to_bytes()))
    }
}

impl fmt::Debug for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cid({self})")
    }
}

impl FromStr for Cid {
    type Err = CidError;

    fn from_str(text: &str) -> Result<Cid, CidError> {
        let body = text.strip_prefix(MULTIBASE_BASE32).ok_or_else(|| CidError::NotBase32(text.to_owned()))?;
        let bytes = base32_decode(body).ok_or_else(|| CidError::NotBase32(text.to_owned()))?;
        let cid = Cid::from_bytes(&bytes).map_err(|_| CidError::UnsupportedKind(text.to_owned()))?;
        match cid.to_string() == text {
            true => Ok(cid),
            false => Err(CidError::NotCanonical(text.to_owned())),
        }
    }
}

impl serde::Serialize for Cid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Cid, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = ALPHABET.iter().position(|&a| a == c)? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    // Leftover bits are padding and must be zero, so that every CID has exactly one spelling.
    (buffer & ((1 << bits) - 1) == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(bytes: &[u8], expected: &str) {
        let cid = Cid::of(bytes);
        assert_eq!(cid.to_string(), expected);
        assert_eq!(expected.parse::<Cid>(), Ok(cid));
    }

    #[test]
    fn known_cids_match_ipfs() {
        // Values from `ipfs add --cid-version 1 --raw-leaves` (and any trustless gateway).
        check(b"", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
        check(b"hello world", "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
    }

    #[test]
    fn from_sha256_is_the_same_identity() {
        let cid = Cid::of(b"chunk");
        assert_eq!(Cid::from_sha256(*cid.sha256()), cid);
        assert!(cid.matches(b"chunk"));
        assert!(!cid.matches(b"chunK"));
    }

    #[test]
    fn binary_form_round_trips_and_refuses_other_kinds() {
        let cid = Cid::of(b"chunk");
        let bytes = cid.to_bytes();
        assert_eq!(bytes[..4], [0x01, 0x55, 0x12, 0x20]);
        assert_eq!(&bytes[4..], cid.sha256());
        assert_eq!(Cid::from_bytes(&bytes), Ok(cid));
        assert_eq!(Cid::from_bytes(&bytes[..35]), Err(CidError::NotBinary(35)));
        assert_eq!(Cid::from_bytes(&[&bytes[..], &[0]].concat()), Err(CidError::NotBinary(37)));
        assert_eq!(Cid::from_bytes(&[]), Err(CidError::NotBinary(0)));
        let mut dag_pb = bytes;
        dag_pb[1] = 0x70;
        assert_eq!(Cid::from_bytes(&dag_pb), Err(CidError::NotBinary(36)));
    }

    #[test]
    fn rejects_other_spellings_and_kinds() {
        let good = Cid::of(b"x").to_string();
        assert!(matches!(good.to_uppercase().parse::<Cid>(), Err(CidError::NotBase32(_))));
        assert!(matches!(good[1..].parse::<Cid>(), Err(CidError::NotBase32(_))));
        // A dag-pb CIDv1 (codec 0x70) is a real CID but not a raw chunk.
        let dag_pb = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
        assert!(matches!(dag_pb.parse::<Cid>(), Err(CidError::UnsupportedKind(_))));
        // Non-zero padding bits would give a second spelling of the same digest.
        let mut twisted = good.clone();
        let last = twisted.pop().unwrap();
        let next = ALPHABET[(ALPHABET.iter().position(|&a| a as char == last).unwrap() + 1) % 32];
        twisted.push(next as char);
        assert!(twisted.parse::<Cid>().is_err());
        // One character too many, whatever it is, is not the same CID.
        for extra in ALPHABET {
            let longer = format!("{good}{}", *extra as char);
            assert!(longer.parse::<Cid>().is_err(), "{longer}");
        }
    }
}
