//! The signed manifest: what a course contains and the only trust root for every byte of it.
//! Pure: the caller passes the current time and the version it accepted before.

use serde::{Deserialize, Serialize};

use crate::cid::Cid;
use crate::date::Date;
use crate::key::{PublicKey, SecretKey, Signature, SignatureCheck};

/// The manifest format this code writes and reads.
pub const FORMAT: u32 = 1;
/// Domain separation: these signed bytes can never be mistaken for another message signed by the key.
const SIGNING_CONTEXT: &[u8] = b"cartable-manifest-v1\n";

/// Everything a client needs to fetch, verify and show one version of a course.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT`] for manifests this code accepts.
    pub format: u32,
    /// Who and what the course is for.
    pub course: CourseInfo,
    /// Grows with every publication; a client never goes back to a lower one.
    pub version: u64,
    /// Unix time (seconds) of packing.
    pub created_at: i64,
    /// Unix time (seconds) after which clients refuse this manifest.
    pub expires_at: i64,
    /// Size of every chunk but the last of each file, in bytes.
    pub chunk_size: u32,
    /// The lessons, in teaching order.
    pub lessons: Vec<Lesson>,
    /// The homework agenda ("cahier de textes"), as the teacher wrote it.
    pub agenda: Vec<Homework>,
    /// Every file of the course, each as a list of chunks.
    pub files: Vec<FileEntry>,
    /// Base URLs of static mirrors serving `ipfs/<cid>` under them.
    pub mirrors: Vec<String>,
    /// WebSocket URLs of trackers for the classmates' swarm.
    pub trackers: Vec<String>,
    /// What the school allows between classmates' browsers. Left out of the JSON when it is the default,
    /// so that manifests signed before this field existed keep their canonical bytes and still verify.
    #[serde(default, skip_serializing_if = "PeerPolicy::is_default")]
    pub peers: PeerPolicy,
}

/// The school's rules for the classmates' swarm: whether pupils' browsers share the course at all, and
/// through which ICE servers they connect.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PeerPolicy {
    /// Whether pupils' browsers may exchange chunks with each other (on unless the school says no).
    pub sharing: bool,
    /// Whether classmates connect through a TURN relay only, so that none learns another's address.
    pub relay_only: bool,
    /// STUN and TURN servers for the WebRTC connections, in order of preference.
    pub ice: Vec<IceServer>,
}

/// One STUN or TURN server, as WebRTC's `RTCIceServer` takes it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IceServer {
    /// `stun:`, `turn:` or `turns:` URLs of the same server.
    pub urls: Vec<String>,
    /// The TURN user name.
    pub username: Option<String>,
    /// The TURN password.
    pub credential: Option<String>,
}

impl Default for PeerPolicy {
    fn default() -> PeerPolicy {
        PeerPolicy { sharing: true, relay_only: false, ice: Vec::new() }
    }
}

impl PeerPolicy {
    /// Whether this is the policy of a manifest that says nothing about peers.
    pub fn is_default(&self) -> bool {
        *self == PeerPolicy::default()
    }

    /// Whether one of the servers is a TURN relay.
    pub fn has_relay(&self) -> bool {
        self.ice.iter().flat_map(|server| &server.urls).any(|url| is_turn(url))
    }

    /// What is wrong with the policy, if anything: a URL that is not STUN or TURN, a TURN server without
    /// its user name and password (WebRTC refuses it), relay-only mode without a relay.
    pub fn problem(&self) -> Option<String> {
        for server in &self.ice {
            if server.urls.is_empty() {
                return Some("an ice server needs at least one URL in urls".into());
            }
            if let Some(problem) = server.urls.iter().find_map(|url| ice_url_problem(url)) {
                return Some(problem);
            }
            if server.urls.iter().any(|url| is_turn(url)) && (server.username.is_none() || server.credential.is_none())
            {
                return Some(TURN_NEEDS_CREDENTIALS.into());
            }
        }
        (self.relay_only && !self.has_relay()).then(|| RELAY_ONLY_NEEDS_TURN.into())
    }
}

/// The mistake of a relay-only policy without a TURN server.
pub const RELAY_ONLY_NEEDS_TURN: &str =
    "relay_only needs a TURN server: add a [[peers.ice]] table with a turn: or turns: URL";
/// The mistake of a TURN server without its user name and password.
pub const TURN_NEEDS_CREDENTIALS: &str = "a TURN server needs a username and a credential";

/// What is wrong with an ICE server URL, if anything: it must be `stun:`, `turn:` or `turns:`.
pub fn ice_url_problem(url: &str) -> Option<String> {
    let known = url
        .split_once(':')
        .is_some_and(|(scheme, host)| matches!(scheme, "stun" | "turn" | "turns") && !host.trim().is_empty());
    (!known).then(|| format!("ice server `{url}` must be a stun:, turn: or turns: URL"))
}

fn is_turn(url: &str) -> bool {
    url.starts_with("turn:") || url.starts_with("turns:")
}

/// The course's identity and people.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CourseInfo {
    /// Stable identifier across versions (lowercase letters, digits and dashes).
    pub id: String,
    /// Title shown on the course home.
    pub title: String,
    /// The class, such as "3e B".
    pub class: String,
    /// The school subject, such as "Physique-chimie".
    pub subject: String,
    /// The teacher's name as pupils know it.
    pub teacher: String,
    /// BCP 47 language tag of the content, such as "fr".
    pub language: String,
}

/// One lesson: the teacher's Markdown and the safe tree made from it at packing time.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// The lesson's first heading.
    pub title: String,
    /// Path of its Markdown file in [`Manifest::files`].
    pub source: String,
    /// Path of its published tree (JSON of `markdown::Node`s) in [`Manifest::files`]: what apps render.
    pub body: String,
    /// Path of its published exercise (JSON of an `exercise::Exercise`) in [`Manifest::files`], if the
    /// teacher wrote one. Left out of the JSON when there is none, so that manifests signed before this
    /// field existed keep their canonical bytes and still verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exercises: Option<String>,
}

/// One line of the homework agenda.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Homework {
    /// The subject, such as "Mathématiques".
    pub subject: String,
    /// What to do.
    pub task: String,
    /// When it is due.
    pub due: Date,
    /// Paths of attached files in [`Manifest::files`].
    pub attachments: Vec<String>,
}

/// One file of the course and the chunks that make it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Path inside the course folder, with `/` separators.
    pub path: String,
    /// Media type, such as `image/png`.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// The chunks in order: each [`Manifest::chunk_size`] bytes but the last; none for an empty file.
    pub chunks: Vec<Cid>,
}

/// `manifest.json` as published: the manifest, its signer and the signature over its canonical bytes.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct SignedManifest {
    /// The signed content.
    pub manifest: Manifest,
    /// The signer's public key, `ed25519:<base64>`.
    pub signer: String,
    /// Base64 Ed25519 signature over [`Manifest::canonical_bytes`].
    pub signature: String,
}

/// Why a manifest was refused. Each reason is its own variant so the UI can say which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Not JSON, or not shaped like a manifest.
    #[error("manifest is malformed: {0}")]
    Malformed(String),
    /// Written by a format this code does not know.
    #[error("manifest format {0} is not supported (this app reads format {FORMAT})")]
    UnsupportedFormat(u32),
    /// Signed by a key the page does not pin.
    #[error("manifest is signed by {0}, which is not a key this school trusts")]
    UnknownKey(String),
    /// The signature does not match the content.
    #[error("manifest signature does not match its content")]
    BadSignature,
    /// The signature could not be checked now (a browser without Ed25519 in WebCrypto, whose part of the
    /// app that checks it could not be fetched): nothing of the manifest is used.
    #[error("manifest signature could not be checked on this device now")]
    Uncheckable,
    /// Past its expiry time.
    #[error("manifest expired on {}", Date::from_unix(*expired_at))]
    Expired {
        /// Unix time of expiry.
        expired_at: i64,
    },
    /// Older than a version already accepted (a rollback).
    #[error("manifest version {offered} is older than version {accepted} already accepted")]
    Rollback {
        /// The version offered now.
        offered: u64,
        /// The newest version accepted before.
        accepted: u64,
    },
}

impl Manifest {
    /// The bytes that are signed: a context string and the JSON of this manifest, fields in declaration
    /// order. Signing and verifying both call this one function.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut bytes = SIGNING_CONTEXT.to_vec();
        // Serialising plain structs of strings, integers and lists cannot fail.
        bytes.extend(serde_json::to_vec(self).unwrap_or_default());
        bytes
    }

    /// Signs this manifest with the school's key.
    pub fn sign(self, key: &SecretKey) -> SignedManifest {
        let signature = key.sign(&self.canonical_bytes());
        SignedManifest { manifest: self, signer: key.public().to_string(), signature: signature.to_string() }
    }

    /// The file at `path`, if the course has one.
    pub fn file(&self, path: &str) -> Option<&FileEntry> {
        self.files.iter().find(|file| file.path == path)
    }

    /// Total size of the course's files, in bytes.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|file| file.size).sum()
    }

    fn check_shape(&self) -> Result<(), ManifestError> {
        if self.chunk_size == 0 {
            return Err(ManifestError::Malformed("chunk_size is 0".into()));
        }
        for file in &self.files {
            if file.chunks.len() as u64 != file.size.div_ceil(u64::from(self.chunk_size)) {
                return Err(ManifestError::Malformed(format!("{}: chunk count does not match its size", file.path)));
            }
        }
        let lessons = self.lessons.iter().flat_map(|lesson| [&lesson.source, &lesson.body]);
        let referenced = lessons.chain(self.agenda.iter().flat_map(|homework| &homework.attachments));
        for path in referenced {
            if self.file(path).is_none() {
                return Err(ManifestError::Malformed(format!("{path} is referenced but not listed in files")));
            }
        }
        // The packer refuses these; checked again so that a faulty packer cannot hand browsers a policy
        // WebRTC would throw on.
        if let Some(problem) = self.peers.problem() {
            return Err(ManifestError::Malformed(format!("peers: {problem}")));
        }
        Ok(())
    }
}

impl FileEntry {
    /// The size chunk `index` must have, given the manifest's chunk size.
    pub fn chunk_len(&self, index: usize, chunk_size: u32) -> u64 {
        let start = index as u64 * u64::from(chunk_size);
        self.size.saturating_sub(start).min(u64::from(chunk_size))
    }
}

/// The parts of a stored manifest that serving files needs, read without verifying: for the service
/// worker, which serves copies the page verified before storing them. Other fields are skipped, so the
/// worker carries no code to decode them.
#[derive(Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StoredContents {
    /// See [`Manifest::expires_at`].
    pub expires_at: i64,
    /// See [`Manifest::chunk_size`].
    pub chunk_size: u32,
    /// See [`Manifest::lessons`].
    pub lessons: Vec<Lesson>,
    /// See [`Manifest::files`].
    pub files: Vec<FileEntry>,
}

impl StoredContents {
    /// Reads them from `manifest.json` bytes (`{"manifest": {...}, ...}`).
    pub fn read(json: &[u8]) -> Result<StoredContents, serde_json::Error> {
        #[derive(Deserialize)]
        struct Envelope {
            manifest: StoredContents,
        }
        serde_json::from_slice::<Envelope>(json).map(|envelope| envelope.manifest)
    }

    /// The file at `path`, if the course has one.
    pub fn file(&self, path: &str) -> Option<&FileEntry> {
        self.files.iter().find(|file| file.path == path)
    }
}

/// What a client trusts when it checks a manifest.
#[derive(Clone, Debug)]
pub struct Trust<'a> {
    /// The keys the school pinned in the page.
    pub keys: &'a [PublicKey],
    /// The current unix time, in seconds.
    pub now: i64,
    /// The newest version of this course accepted before, if any.
    pub accepted_version: Option<u64>,
}

impl SignedManifest {
    /// Reads `manifest.json` and returns its manifest if, and only if, it is well formed, signed by a
    /// pinned key, unexpired, and not older than the version accepted before.
    pub fn verify(json: &[u8], trust: &Trust<'_>) -> Result<Manifest, ManifestError> {
        let read = Unchecked::of(SignedManifest::read(json)?, trust)?;
        let verified = read.signer.verify(&read.message, &read.signature);
        read.finish(verified, trust)
    }

    /// [`SignedManifest::verify`], the signature checked by `check` (the browser app's asks WebCrypto):
    /// [`ManifestError::Uncheckable`] when it cannot be checked now.
    pub async fn verify_with(
        json: &[u8],
        trust: &Trust<'_>,
        check: &dyn SignatureCheck,
    ) -> Result<Manifest, ManifestError> {
        SignedManifest::read(json)?.check_with(trust, check).await
    }

    /// `manifest.json` read, nothing checked yet: to find its course before [`SignedManifest::check_with`].
    pub fn read(json: &[u8]) -> Result<SignedManifest, ManifestError> {
        serde_json::from_slice(json).map_err(|error| ManifestError::Malformed(error.to_string()))
    }

    /// This manifest, read by [`SignedManifest::read`], checked as [`SignedManifest::verify_with`] does.
    pub async fn check_with(self, trust: &Trust<'_>, check: &dyn SignatureCheck) -> Result<Manifest, ManifestError> {
        let read = Unchecked::of(self, trust)?;
        let verified = check.check(read.signer, &read.message, read.signature).await;
        read.finish(verified.ok_or(ManifestError::Uncheckable)?, trust)
    }
}

/// A manifest read, its signer pinned, before its signature is checked.
struct Unchecked {
    manifest: Manifest,
    signer: PublicKey,
    signature: Signature,
    /// What the signature covers: [`Manifest::canonical_bytes`].
    message: Vec<u8>,
}

impl Unchecked {
    fn of(signed: SignedManifest, trust: &Trust<'_>) -> Result<Unchecked, ManifestError> {
        let manifest = signed.manifest;
        if manifest.format != FORMAT {
            return Err(ManifestError::UnsupportedFormat(manifest.format));
        }
        let signer = signed.signer.parse::<PublicKey>().ok().filter(|key| trust.keys.contains(key));
        let signer = signer.ok_or_else(|| ManifestError::UnknownKey(signed.signer.clone()))?;
        let signature = signed.signature.parse::<Signature>().map_err(|()| ManifestError::BadSignature)?;
        let message = manifest.canonical_bytes();
        Ok(Unchecked { manifest, signer, signature, message })
    }

    /// The manifest, once its signature `verified`, if unexpired and not a rollback.
    fn finish(self, verified: bool, trust: &Trust<'_>) -> Result<Manifest, ManifestError> {
        let manifest = self.manifest;
        if !verified {
            return Err(ManifestError::BadSignature);
        }
        if trust.now >= manifest.expires_at {
            return Err(ManifestError::Expired { expired_at: manifest.expires_at });
        }
        if let Some(accepted) = trust.accepted_version.filter(|&accepted| manifest.version < accepted) {
            return Err(ManifestError::Rollback { offered: manifest.version, accepted });
        }
        manifest.check_shape()?;
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests;
