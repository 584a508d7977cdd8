//! A chunk the service worker could not get over HTTP, as it asks the tab that leads this browser's swarm
//! for it: WebRTC does not exist in service workers, so classmates are reached through that tab. The worker
//! posts a [`Miss`] as text on a `BroadcastChannel` named [`leader_name`]; the leader answers with an
//! object `{ miss: <the same text>, chunk: <bytes> }`, or `{ miss }` alone when no classmate gave it.
//! Pure: the edges post and read the texts. Nothing here decides trust: the worker checks the bytes it gets
//! against the CID, as it checks the origin's.

use std::fmt;

use crate::pack::MAX_CHUNK_SIZE;
use crate::Cid;

/// The name of the Web Lock the leading tab holds for the course `course_id`, and of the
/// `BroadcastChannel` it listens on for the worker's misses: `cartable-swarm:<course id>`.
pub fn leader_name(course_id: &str) -> String {
    format!("cartable-swarm:{course_id}")
}

/// A chunk the worker wants: its CID and its length, as the manifest names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Miss {
    /// The chunk.
    pub cid: Cid,
    /// Its length in bytes, 1 to [`MAX_CHUNK_SIZE`].
    pub len: u64,
}

impl Miss {
    /// Reads back the text a worker posted (see [`Miss`]'s `Display`): `None` for anything but one CID, one
    /// space and a length of 1 to [`MAX_CHUNK_SIZE`] bytes in plain decimal digits. Never panics.
    pub fn parse(text: &str) -> Option<Miss> {
        let (cid, len) = text.split_once(' ')?;
        let plain = !len.is_empty() && !len.starts_with('0') && len.bytes().all(|byte| byte.is_ascii_digit());
        let len: u64 = len.parse().ok().filter(|len| plain && *len <= u64::from(MAX_CHUNK_SIZE))?;
        Some(Miss { cid: cid.parse().ok()?, len })
    }
}

/// The text the worker posts: `<cid> <len>`, such as `bafkrei… 262144`.
impl fmt::Display for Miss {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(out, "{} {}", self.cid, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cid() -> Cid {
        Cid::from_sha256([7; 32])
    }

    #[track_caller]
    fn refused(text: &str) {
        assert_eq!(Miss::parse(text), None, "{text:?}");
    }

    #[test]
    fn a_miss_reads_back_as_written() {
        for len in [1, 262_144, u64::from(MAX_CHUNK_SIZE)] {
            let miss = Miss { cid: cid(), len };
            assert_eq!(Miss::parse(&miss.to_string()), Some(miss));
        }
        assert_eq!(Miss { cid: cid(), len: 42 }.to_string(), format!("{} 42", cid()));
    }

    #[test]
    fn anything_else_is_refused() {
        let cid = cid();
        refused("");
        refused(&cid.to_string());
        refused(&format!("{cid} "));
        refused(&format!("{cid}  42"));
        refused(&format!("{cid} 42 "));
        refused(&format!("{cid} 42 7"));
        refused(&format!(" {cid} 42"));
        refused(&format!("{cid} +42"));
        refused(&format!("{cid} -42"));
        refused(&format!("{cid} 042"));
        refused(&format!("{cid} 0"));
        refused(&format!("{cid} 4.2"));
        refused(&format!("{cid} {}", u64::from(MAX_CHUNK_SIZE) + 1));
        refused(&format!("{cid} 99999999999999999999999"));
        refused("bafkreinotacid 42");
        refused(&format!("{} 42", cid.to_string().to_uppercase()));
        refused("é 42");
    }

    #[test]
    fn the_leader_holds_the_lock_and_listens_on_the_channel_of_the_course() {
        assert_eq!(leader_name("physique-3e"), "cartable-swarm:physique-3e");
    }
}
