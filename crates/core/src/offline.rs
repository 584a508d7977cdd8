//! What a browser keeps, fetches and drops for offline use: the newest verified manifest per course and the
//! verified chunks those manifests reference. Pure decisions over a [`Store`]: it never names IndexedDB, the
//! network or the clock (the store and the time are passed in), and never changes the `Store` trait.

use std::collections::BTreeSet;

use crate::cid::Cid;
use crate::key::{PublicKey, SignatureCheck};
use crate::manifest::{Manifest, ManifestError, SignedManifest, Trust};
use crate::store::{Store, StoreError, StoredManifest};

/// Why a manifest could not be accepted or used offline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfflineError {
    /// The manifest was refused; the variant says why (rollback, expiry, unknown key...).
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The store failed; what it held before is still whole.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A manifest that passed verification in [`accept`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The verified manifest offered.
    pub manifest: Manifest,
    /// True when it replaced the stored copy (or there was none); false for the same version again.
    pub updated: bool,
    /// The version stored before, if any.
    pub previous_version: Option<u64>,
}

/// The stored copy of a course, verified again, for use without a network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offline {
    /// The verified manifest.
    pub manifest: Manifest,
    /// Unix time (seconds) at which it was stored: "copie du <date>".
    pub stored_at: i64,
}

/// How much of a course is stored, and what is left to fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the stored chunks, each distinct chunk counted once.
    pub bytes_stored: u64,
    /// Bytes of all the course's chunks, each distinct chunk counted once.
    pub bytes_total: u64,
    /// Files whose every chunk is stored (an empty file is complete).
    pub files_complete: usize,
    /// Files in the manifest.
    pub files_total: usize,
    /// Each missing chunk once, in manifest order, so a download can proceed file by file.
    pub chunks_missing: Vec<ChunkNeed>,
}

/// One chunk to fetch: its CID, its expected length and the first file that needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkNeed {
    /// The chunk's identity; its bytes must match it before they are stored.
    pub cid: Cid,
    /// Its expected length in bytes.
    pub size: u64,
    /// Path of the first file (in manifest order) made of it.
    pub path: String,
}

/// Verifies `json` (a published `manifest.json`, fetched from the absolute URL `source`) against the
/// pinned `keys` at time `now`, refusing any version older than the one stored for its course, and stores
/// it if it is newer (or the first).
///
/// The same version again is accepted but not rewritten (`updated: false`), unless it now comes from
/// another URL: the copy then records its new source, keeping its date. Nothing is stored unless
/// verification succeeds.
pub async fn accept<S: Store + ?Sized>(
    store: &S,
    source: &str,
    json: &[u8],
    keys: (&[PublicKey], &dyn SignatureCheck),
    now: i64,
) -> Result<Accepted, OfflineError> {
    accept_read(store, source, (json, SignedManifest::read(json)?), keys, now).await
}

/// [`accept`] for a manifest a classmate passed on in the swarm of course `course_id`: a manifest of
/// another course, however well signed by the same school, is refused before anything is stored (kept
/// under `source`, it would open in place of this course).
pub async fn accept_passed_on<S: Store + ?Sized>(
    store: &S,
    (source, course_id): (&str, &str),
    json: &[u8],
    keys: (&[PublicKey], &dyn SignatureCheck),
    now: i64,
) -> Result<Accepted, OfflineError> {
    let signed = SignedManifest::read(json)?;
    if signed.manifest.course.id != course_id {
        let found = &signed.manifest.course.id;
        return Err(ManifestError::Malformed(format!("a manifest of {found}, passed on for {course_id}")).into());
    }
    accept_read(store, source, (json, signed), keys, now).await
}

/// [`accept`] of `json`, already read as `signed` (its course finds the stored copy, a rollback floor).
async fn accept_read<S: Store + ?Sized>(
    store: &S,
    source: &str,
    (json, signed): (&[u8], SignedManifest),
    (keys, check): (&[PublicKey], &dyn SignatureCheck),
    now: i64,
) -> Result<Accepted, OfflineError> {
    let previous = store.get_manifest(&signed.manifest.course.id).await?;
    let previous_version = previous.as_ref().map(|copy| copy.version);
    let trust = Trust { keys, now, accepted_version: previous_version };
    let manifest = signed.check_with(&trust, check).await?;
    let updated = previous_version.is_none_or(|previous| manifest.version > previous);
    if updated {
        let copy = StoredManifest {
            course_id: manifest.course.id.clone(),
            version: manifest.version,
            json: json.to_vec(),
            stored_at: now,
            source: source.to_owned(),
        };
        store.put_manifest(copy).await?;
    } else if let Some(copy) = previous.filter(|copy| copy.source != source) {
        store.put_manifest(StoredManifest { source: source.to_owned(), ..copy }).await?;
    }
    Ok(Accepted { manifest, updated, previous_version })
}

/// The copy kept in `store` of the manifest last fetched from `source` (an absolute URL), verified again
/// (signature, pinned key, expiry) at time `now`; `None` when nothing from `source` is kept.
///
/// An expired copy is an error ([`ManifestError::Expired`]), never silently used; so is a copy whose
/// course id is not the one it is kept under.
pub async fn stored<S: Store + ?Sized>(
    store: &S,
    source: &str,
    (keys, check): (&[PublicKey], &dyn SignatureCheck),
    now: i64,
) -> Result<Option<Offline>, OfflineError> {
    let Some(copy) = published_at(store, source).await? else {
        return Ok(None);
    };
    let trust = Trust { keys, now, accepted_version: None };
    let manifest = SignedManifest::verify_with(&copy.json, &trust, check).await?;
    if manifest.course.id != copy.course_id {
        let message = format!("the copy kept for {} is a manifest of {}", copy.course_id, manifest.course.id);
        return Err(ManifestError::Malformed(message).into());
    }
    Ok(Some(Offline { manifest, stored_at: copy.stored_at }))
}

/// The kept manifest last fetched from `source`, not verified: the newest stored when a URL published
/// several courses over time.
pub async fn published_at<S: Store + ?Sized>(store: &S, source: &str) -> Result<Option<StoredManifest>, StoreError> {
    let copies = store.manifests().await?;
    Ok(copies.into_iter().filter(|copy| copy.source == source).max_by_key(|copy| copy.stored_at))
}

/// How much of `manifest` is in `store`, and which chunks are missing. Asks the store once
/// (`has_chunks`), for each distinct chunk.
pub async fn progress<S: Store + ?Sized>(store: &S, manifest: &Manifest) -> Result<Progress, StoreError> {
    let needs = distinct_needs(manifest);
    let cids: Vec<Cid> = needs.iter().map(|need| need.cid).collect();
    let answers = store.has_chunks(&cids).await?;
    // A store that answers fewer flags than asked leaves the rest counted as missing.
    let present: BTreeSet<Cid> = cids.iter().zip(answers).filter(|(_, has)| *has).map(|(cid, _)| *cid).collect();
    let files_complete = files_complete(manifest, |cid| present.contains(cid));
    let (stored, missing): (Vec<ChunkNeed>, Vec<ChunkNeed>) =
        needs.into_iter().partition(|need| present.contains(&need.cid));
    let bytes_stored: u64 = stored.iter().map(|need| need.size).sum();
    Ok(Progress {
        bytes_stored,
        bytes_total: bytes_stored + missing.iter().map(|need| need.size).sum::<u64>(),
        files_complete,
        files_total: manifest.files.len(),
        chunks_missing: missing,
    })
}

/// Deletes every stored chunk that no kept manifest references and returns how many it deleted.
///
/// Each kept manifest's JSON is read loosely (not verified again: it was verified before it was stored);
/// a kept manifest that does not parse references nothing. A chunk referenced by a kept manifest that
/// parses is never deleted.
pub async fn collect_garbage<S: Store + ?Sized>(store: &S) -> Result<usize, StoreError> {
    let referenced: BTreeSet<Cid> = store
        .manifests()
        .await?
        .iter()
        .filter_map(|copy| serde_json::from_slice::<SignedManifest>(&copy.json).ok())
        .flat_map(|signed| signed.manifest.files.into_iter().flat_map(|file| file.chunks))
        .collect();
    let unreferenced: Vec<Cid> = store.chunk_ids().await?.into_iter().filter(|cid| !referenced.contains(cid)).collect();
    let count = unreferenced.len();
    if count > 0 {
        store.delete_chunks(unreferenced).await?;
    }
    Ok(count)
}

/// The distinct CIDs of `new` that `old` does not reference, in `new`'s order: what an update must fetch.
pub fn new_chunks(old: &Manifest, new: &Manifest) -> Vec<Cid> {
    let mut seen: BTreeSet<Cid> = old.files.iter().flat_map(|file| file.chunks.iter().copied()).collect();
    new.files.iter().flat_map(|file| file.chunks.iter().copied()).filter(|cid| seen.insert(*cid)).collect()
}

/// Each distinct chunk of `manifest` once, in manifest order, with its length and first file.
impl Progress {
    /// Updates this progress of `manifest` for chunk `cid`, just stored, without asking the store again:
    /// what a download does after each chunk.
    pub fn record(&mut self, cid: &Cid, manifest: &Manifest) {
        let Some(position) = self.chunks_missing.iter().position(|need| need.cid == *cid) else { return };
        let need = self.chunks_missing.remove(position);
        self.bytes_stored += need.size;
        let missing: BTreeSet<Cid> = self.chunks_missing.iter().map(|need| need.cid).collect();
        self.files_complete = files_complete(manifest, |cid| !missing.contains(cid));
    }
}

/// How many files of `manifest` have every chunk stored (an empty file is complete).
fn files_complete(manifest: &Manifest, stored: impl Fn(&Cid) -> bool) -> usize {
    manifest.files.iter().filter(|file| file.chunks.iter().all(&stored)).count()
}

fn distinct_needs(manifest: &Manifest) -> Vec<ChunkNeed> {
    let mut seen = BTreeSet::new();
    let mut needs = Vec::new();
    for file in &manifest.files {
        for (index, cid) in file.chunks.iter().enumerate() {
            if seen.insert(*cid) {
                let size = file.chunk_len(index, manifest.chunk_size);
                needs.push(ChunkNeed { cid: *cid, size, path: file.path.clone() });
            }
        }
    }
    needs
}

#[cfg(test)]
mod tests;
