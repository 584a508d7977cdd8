//! The tracker protocol's JSON messages, as the npm `bittorrent-tracker` client and server write them.
//! Unknown fields are ignored (clients add `trackerid`, servers `warning message`...); the 20-byte
//! identifiers are binary strings and must have exactly 20 bytes; counts accept any JSON number.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::{binary_string, from_binary_string};

/// A 20-byte identifier (info_hash, peer_id, offer_id), written in JSON as a 20-char binary string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id20(pub [u8; 20]);

impl Id20 {
    /// The identifier a binary string stands for, if it has exactly 20 chars, each a byte.
    pub fn from_binary_string(text: &str) -> Option<Id20> {
        from_binary_string(text)?.try_into().ok().map(Id20)
    }
}

impl Serialize for Id20 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&binary_string(&self.0))
    }
}

impl<'de> Deserialize<'de> for Id20 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Id20, D::Error> {
        struct Binary;
        impl Visitor<'_> for Binary {
            type Value = Id20;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a binary string of 20 bytes")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Id20, E> {
                Id20::from_binary_string(text).ok_or_else(|| E::custom("expected a binary string of 20 bytes"))
            }
        }
        deserializer.deserialize_str(Binary)
    }
}

/// A message from a client to the tracker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum ClientMessage {
    /// Join or refresh a swarm, possibly with offers to relay, or answer a relayed offer.
    Announce(Announce),
    /// Ask for the counts of swarms.
    Scrape(Scrape),
}

/// An announce: `offers` for other peers of the swarm, or an `answer` to the offer `offer_id` of
/// `to_peer_id`, or neither (a refresh, or `stopped` to leave).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Announce {
    /// The swarm.
    pub info_hash: Id20,
    /// The sender.
    pub peer_id: Id20,
    /// How many peers the sender wants offers sent to.
    #[serde(default, deserialize_with = "count", skip_serializing_if = "Option::is_none")]
    pub numwant: Option<u64>,
    /// Bytes sent so far (informative).
    #[serde(default, deserialize_with = "count", skip_serializing_if = "Option::is_none")]
    pub uploaded: Option<u64>,
    /// Bytes received so far (informative).
    #[serde(default, deserialize_with = "count", skip_serializing_if = "Option::is_none")]
    pub downloaded: Option<u64>,
    /// Bytes still missing: 0 for a peer that has the whole course.
    #[serde(default, deserialize_with = "count", skip_serializing_if = "Option::is_none")]
    pub left: Option<u64>,
    /// What happened, if anything (absent: a periodic update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Event>,
    /// WebRTC offers, each for a different peer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offers: Option<Vec<Offer>>,
    /// The answer to a relayed offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Sdp>,
    /// The offerer an `answer` is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_peer_id: Option<Id20>,
    /// The offer an `answer` answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<Id20>,
}

/// The event of an announce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    /// The peer joins the swarm.
    Started,
    /// The peer now has everything.
    Completed,
    /// The peer leaves the swarm.
    Stopped,
    /// A periodic refresh (also meant by an absent event).
    Update,
    /// The peer pauses (treated as an update).
    Paused,
}

/// One offer of an announce.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    /// Names the offer, so that its answer finds its way back to the right connection attempt.
    pub offer_id: Id20,
    /// The WebRTC session description.
    pub offer: Sdp,
}

/// A WebRTC session description, as `RTCPeerConnection` gives it (ICE candidates included: no trickle).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sdp {
    /// Offer or answer.
    #[serde(rename = "type")]
    pub kind: SdpType,
    /// The SDP text.
    pub sdp: String,
}

/// The type of a session description the tracker relays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SdpType {
    /// An offer, sent with an announce.
    Offer,
    /// An answer, sent back to the offerer.
    Answer,
}

/// A scrape: the swarms asked about (one binary string or a list of them; none asks about nothing).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scrape {
    /// The swarms asked about.
    #[serde(default, deserialize_with = "one_or_many")]
    pub info_hash: Vec<Id20>,
}

/// Which request a reply or failure answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// An announce.
    Announce,
    /// A scrape.
    Scrape,
}

/// A message from the tracker to a client, told apart by its fields (they all share `action`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ServerMessage {
    /// The request was refused.
    Failure(Failure),
    /// Another peer's offer, relayed.
    Offer(RelayedOffer),
    /// The answer to one of this client's offers, relayed.
    Answer(RelayedAnswer),
    /// The reply to this client's announce.
    Announced(AnnounceReply),
    /// The reply to a scrape.
    Scraped(ScrapeReply),
}

/// What a page reads of the tracker's messages: [`ServerMessage`] but scrape replies, which a page that
/// never scrapes has no use for (parsing them would weigh on every pupil's download). A scrape reply,
/// or anything else, is an error the page ignores.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ToPage {
    /// The request was refused.
    Failure(Failure),
    /// Another peer's offer, relayed.
    Offer(RelayedOffer),
    /// The answer to one of this page's offers, relayed.
    Answer(RelayedAnswer),
    /// The reply to this page's announce.
    Announced(AnnounceReply),
}

/// The reply to an announce (not sent for an announce that carries an answer).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnnounceReply {
    /// Always `announce`.
    pub action: Action,
    /// Seconds until the next announce.
    #[serde(deserialize_with = "required_count")]
    pub interval: u64,
    /// The swarm.
    pub info_hash: Id20,
    /// Peers that have everything.
    #[serde(default, deserialize_with = "required_count")]
    pub complete: u64,
    /// Peers still downloading.
    #[serde(default, deserialize_with = "required_count")]
    pub incomplete: u64,
}

/// An offer relayed to one peer of the swarm: `peer_id` is the offerer, to answer with `to_peer_id`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RelayedOffer {
    /// Always `announce`.
    pub action: Action,
    /// The offer.
    pub offer: Sdp,
    /// The offer's id, to send back with the answer.
    pub offer_id: Id20,
    /// The offerer.
    pub peer_id: Id20,
    /// The swarm.
    pub info_hash: Id20,
}

/// An answer relayed back to the offerer: `peer_id` is the answerer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RelayedAnswer {
    /// Always `announce`.
    pub action: Action,
    /// The answer.
    pub answer: Sdp,
    /// The offer it answers.
    pub offer_id: Id20,
    /// The answerer.
    pub peer_id: Id20,
    /// The swarm.
    pub info_hash: Id20,
}

/// The reply to a scrape: counts per swarm asked about (keys are binary strings).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScrapeReply {
    /// Always `scrape`.
    pub action: Action,
    /// Counts by swarm.
    pub files: BTreeMap<Id20, ScrapeFile>,
    /// How often scraping is welcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<ScrapeFlags>,
}

/// The counts of one swarm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScrapeFile {
    /// Peers that have everything.
    #[serde(default, deserialize_with = "required_count")]
    pub complete: u64,
    /// Peers still downloading.
    #[serde(default, deserialize_with = "required_count")]
    pub incomplete: u64,
    /// Completed downloads (the tracker reports at least `complete`).
    #[serde(default, deserialize_with = "required_count")]
    pub downloaded: u64,
}

/// Scrape limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScrapeFlags {
    /// Seconds between two scrapes.
    #[serde(default, deserialize_with = "required_count")]
    pub min_request_interval: u64,
}

/// A refusal: `failure reason` says why. `action` and `info_hash` are there when the request was read
/// far enough (the npm client ignores an announce failure without its `info_hash`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The request refused, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    /// Why, in words.
    #[serde(rename = "failure reason")]
    pub reason: String,
    /// The swarm, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info_hash: Option<Id20>,
}

/// A count as JavaScript writes it: any number (negative ones as 0, fractions truncated, too large ones
/// saturated); `null`, strings and anything else as absent. A client's odd `left` is not worth a refusal.
fn count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(match value {
        serde_json::Value::Number(number) => number.as_u64().or_else(|| number.as_f64().map(|f| f.max(0.0) as u64)),
        _ => None,
    })
}

fn required_count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    count(deserializer).map(Option::unwrap_or_default)
}

/// The npm client sends one info_hash as a string and several as an array.
fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Id20>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(Id20),
        Many(Vec<Id20>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(id) => vec![id],
        OneOrMany::Many(ids) => ids,
    })
}
