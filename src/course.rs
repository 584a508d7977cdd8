//! One course as the app sees it: a verified manifest and its files. The manifest comes from the network
//! when it answers, else from the copy this browser stored; every chunk is read from the store, or fetched
//! and checked against its CID before any byte of it is used, shown or kept.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use cartable_core::manifest::FileEntry;
use cartable_core::offline::{self, OfflineError, Progress};
use cartable_core::store::{Store, StoreError};
use cartable_core::{Cid, Manifest, ManifestError, PublicKey};
use futures::future::try_join_all;
use futures::stream::StreamExt;

use cartable_core::fetch::{OriginState, SourceKind};

use crate::sharing::{self, Sharing};
use crate::swarm::{Peers, SwarmConfig};
use cartable_core::peer::saving::{self, Step};
use cartable_web::fetcher::{manifest, Failure, Fetcher, Source};
use cartable_web::net::{self, FetchError};
use cartable_web::store::IdbStore;

mod store;
mod unkept;

pub use store::PageStore;
use unkept::Unkept;

/// Why a course or one of its files cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The manifest was refused: not signed by the pinned key, expired, rolled back or malformed.
    #[error("course could not be verified: {0}")]
    Unverified(#[from] ManifestError),
    /// A chunk of this file did not match its CID: its bytes were thrown away.
    #[error("{path} is corrupted")]
    Corrupted {
        /// Course path of the file.
        path: String,
    },
    /// The server did not answer, or answered with an error, and nothing stored could stand in.
    #[error("server did not answer: {0}")]
    Unreachable(#[from] FetchError),
    /// The manifest lists no such file.
    #[error("{path} is not part of this course")]
    NotInCourse {
        /// Course path asked for.
        path: String,
    },
    /// The browser cannot hash (no WebCrypto), so nothing can be verified.
    #[error("this browser cannot verify files (no WebCrypto)")]
    NoWebCrypto,
    /// Storage is full: what was stored before is intact, the rest was not saved.
    #[error("storage is full")]
    StorageFull,
    /// The browser refuses storage (private browsing, blocked): the course can only be read online.
    #[error("storage is unavailable")]
    StorageUnavailable,
    /// A part of the app (`crate::parts`) could not be fetched: never kept on this device, and the
    /// network did not give it.
    #[error("a part of the app could not be loaded")]
    PartUnloaded,
}

/// Where the manifest in use came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// Fetched and verified just now.
    Fresh,
    /// The network did not answer: this browser's stored copy, stored at this unix time.
    Stored {
        /// Unix time (seconds) of storing.
        stored_at: i64,
    },
}

/// A course whose manifest has been verified against the school's key.
pub struct Course {
    /// The verified manifest.
    pub manifest: Manifest,
    /// Where it came from.
    pub freshness: Freshness,
    /// The version stored before this visit, when this visit brought a newer one.
    pub updated_from: Option<u64>,
    /// The mirror the manifest came from, when the origin could not give it.
    pub manifest_mirror: Option<Source>,
    /// How the origin answered when the course was opened.
    pub origin_at_open: OriginState,
    /// Whether this page shares the course with classmates, and if not, who decided.
    pub sharing: Sharing,
    /// Where chunks come from: the origin, the mirrors and, when sharing is on, the classmates.
    pub fetcher: Fetcher,
    /// The classmates' swarm, once this tab has joined it.
    swarm: Rc<RefCell<Option<Rc<dyn Peers>>>>,
    manifest_url: String,
    store: Rc<PageStore>,
    object_urls: RefCell<HashMap<String, String>>,
}

impl Course {
    /// Opens the course whose manifest is at `manifest_url` (relative to the page), signed by `key`: from
    /// the origin if it answers, else from one of `elsewhere.mirrors` (base URLs, relative to the page),
    /// refusing a version older than the stored one; else from the stored copy. With a tracker (the
    /// page's, else the manifest's first), the page also joins the course's swarm of classmates when the
    /// school's policy and the pupil's switch both allow it, and this tab leads this browser's swarm.
    /// There, a classmate holding a newer version passes on its signed manifest, checked like the origin's
    /// ([`Course::newer_from_classmate`]): a page opened from its stored copy learns of today's work.
    pub async fn open(manifest_url: &str, elsewhere: &Elsewhere, key: PublicKey) -> Result<Course, LoadError> {
        let mirrors = &elsewhere.mirrors;
        let page = net::page_url();
        let manifest_url = net::resolve(manifest_url, &page).unwrap_or_else(|| manifest_url.to_owned());
        let origin = Source { kind: SourceKind::Origin, base: net::resolve("./", &manifest_url).unwrap_or_default() };
        let mirrors: Vec<Source> = mirrors.iter().filter_map(|base| mirror(base, &page)).collect();
        let store = open_store().await;
        let now = now();
        let known = offline::published_at(&*store, &manifest_url).await.ok().flatten().map(|copy| copy.course_id);
        let check = &crate::signature::Browser;
        let fetched = manifest::fetch(&manifest_url, &mirrors, (key, check), now, known.as_deref()).await;
        let (origin_at_open, manifest_mirror) = match &fetched {
            Ok(found) => (found.origin, found.mirror.clone()),
            Err(_) => (OriginState::Down, None),
        };
        let (manifest, freshness, updated_from) = match fetched {
            Ok(found) => match offline::accept(&*store, &manifest_url, &found.json, (&[key], check), now).await {
                Ok(accepted) => {
                    let updated_from = accepted.previous_version.filter(|_| accepted.updated);
                    (accepted.manifest, Freshness::Fresh, updated_from)
                }
                // A mirror behind the stored copy: the stored copy is the newest there is.
                Err(OfflineError::Manifest(ManifestError::Rollback { .. })) if found.mirror.is_some() => {
                    let stored = stored_copy(&store, &manifest_url, key, now).await?;
                    let (manifest, stored_at) = stored
                        .ok_or(LoadError::Unverified(ManifestError::Malformed("the stored copy disappeared".into())))?;
                    (manifest, Freshness::Stored { stored_at }, None)
                }
                Err(OfflineError::Manifest(error)) => return Err(error.into()),
                // Storage failed: the manifest verified, show it without keeping it.
                Err(OfflineError::Store(_)) => (verify_only(&found.json, key, now).await?, Freshness::Fresh, None),
            },
            Err(error) => {
                let stored = stored_copy(&store, &manifest_url, key, now).await?;
                let (manifest, stored_at) = stored.ok_or(LoadError::Unreachable(error))?;
                (manifest, Freshness::Stored { stored_at }, None)
            }
        };
        let tracker = sharing::tracker(elsewhere.tracker.as_deref(), &manifest.trackers);
        let sharing = Sharing::decide(tracker.as_deref(), &manifest.peers, sharing::pupil_shares());
        let peers = tracker.filter(|_| sharing == Sharing::On);
        let classmates = peers.as_ref().map(|_| Source { kind: SourceKind::Peer, base: String::new() });
        let fetcher = Fetcher::new(std::iter::once(origin).chain(mirrors).chain(classmates).collect());
        if origin_at_open == OriginState::Saturated {
            fetcher.spare_origin();
        }
        let swarm = Rc::new(RefCell::new(None));
        if let Some(tracker) = peers {
            join_swarm(&fetcher, &swarm, (&manifest, &manifest_url, key), (tracker, origin_at_open), store.clone());
        }
        Ok(Course {
            manifest,
            sharing,
            freshness,
            updated_from,
            manifest_mirror,
            origin_at_open,
            fetcher,
            swarm,
            manifest_url,
            store,
            object_urls: RefCell::default(),
        })
    }

    /// The bytes of the course file at `path`, every chunk verified (or read from the store, which holds
    /// verified chunks only). Chunks fetched here are kept for the next visit.
    pub async fn file(&self, path: &str) -> Result<Vec<u8>, LoadError> {
        let entry = self.entry(path)?;
        let chunks = entry.chunks.iter().enumerate().map(|(index, cid)| self.chunk(entry, index, *cid));
        let mut bytes = Vec::with_capacity(entry.size as usize);
        for chunk in try_join_all(chunks).await? {
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// A `blob:` URL for the course file at `path`, made once per file: typed with its media type when a
    /// lesson shows it (a picture, audio, video), else `application/octet-stream`, so that the browser
    /// only ever downloads it, whatever the pupil does with the link.
    pub async fn object_url(&self, path: &str) -> Result<String, LoadError> {
        if let Some(url) = self.object_urls.borrow().get(path) {
            return Ok(url.clone());
        }
        let bytes = self.file(path).await?;
        let media_type = &self.entry(path)?.media_type;
        let shown = cartable_core::media::is_image(media_type) || cartable_core::media::is_playable(media_type);
        let blob_type = if shown { media_type.as_str() } else { "application/octet-stream" };
        let url = object_url(&bytes, blob_type).ok_or(LoadError::NoWebCrypto)?;
        self.object_urls.borrow_mut().insert(path.to_owned(), url.clone());
        Ok(url)
    }

    /// The URL under which the service worker serves the file at `path` from stored chunks, with byte
    /// ranges (for audio and video, which seek). Only meaningful when a worker controls the page.
    pub fn worker_url(&self, path: &str) -> Result<String, LoadError> {
        let entry = self.entry(path)?;
        let relative = cartable_core::path::worker_file(&self.manifest.course.id, &entry.path);
        net::resolve(&relative, &self.manifest_url).ok_or_else(|| LoadError::NotInCourse { path: path.to_owned() })
    }

    /// Where the pupil's work for this course is posted: `submissions` beside the manifest, at the origin.
    pub fn submissions_url(&self) -> String {
        let path = cartable_core::submission::SUBMISSIONS_PATH;
        net::resolve(path, &self.manifest_url).unwrap_or_else(|| path.to_owned())
    }

    /// How much of the course this browser holds.
    pub async fn progress(&self) -> Result<Progress, LoadError> {
        offline::progress(&*self.store, &self.manifest).await.map_err(store_error)
    }

    /// Fetches, verifies and keeps every chunk still missing, reporting progress after each. The core's
    /// save loop (`peer::saving`) decides each chunk's steps: ask the classmates who hold it, fetch it
    /// over HTTP when it is this page's turn (the fetcher picks the source), or wait for news. Stops at
    /// the first failure; what was kept stays kept, so calling it again resumes.
    pub async fn save(&self, on_progress: impl Fn(&Progress)) -> Result<(), LoadError> {
        let mut progress = self.progress().await?;
        on_progress(&progress);
        let paths: HashMap<Cid, (&FileEntry, usize)> = self.chunk_positions();
        let mut missing = progress.chunks_missing.clone();
        let swarm = self.swarm();
        let mirrors = self.fetcher.sources().iter().any(|(source, _)| source.kind == SourceKind::Mirror);
        let mut classmates = 0;
        if let Some(swarm) = &swarm {
            // Classmates saving the same course each start somewhere else, so that what one fetches from
            // the origin the others can take from it (random first, as BitTorrent does).
            shuffle(&mut missing);
            classmates = swarm.settle(mirrors).await;
        }
        let at_once = saving::at_once(classmates > 0, mirrors, missing.len());
        let downloads = missing.iter().filter_map(|need| {
            let (cid, &(entry, index)) = (need.cid, paths.get(&need.cid)?);
            let swarm = swarm.clone();
            Some(async move {
                // Without a swarm the page is alone: the loop's every step is to fetch.
                let Some(swarm) = swarm else {
                    return (cid, self.fetch_verified(entry, index, cid, Need::Later).await);
                };
                let len = entry.chunk_len(index, self.manifest.chunk_size);
                loop {
                    let news = swarm.news();
                    match swarm.step(&cid) {
                        Step::Ask => match swarm.get(cid, len).await {
                            Ok(bytes) => return (cid, Ok(bytes)),
                            Err(_) => swarm.not_given(cid),
                        },
                        Step::Fetch => {
                            let _announced = swarm.fetching(cid);
                            return (cid, self.fetch_verified(entry, index, cid, Need::Later).await);
                        }
                        Step::Wait(at) => {
                            let wait = at.saturating_sub(cartable_web::clock::now()).min(i32::MAX as u64) as i32;
                            futures::future::select(Box::pin(net::sleep(wait)), news).await;
                        }
                    }
                }
            })
        });
        let mut downloads = futures::stream::iter(downloads).buffer_unordered(at_once);
        while let Some((cid, bytes)) = downloads.next().await {
            self.store.put_chunks(vec![(cid, bytes?)]).await.map_err(store_error)?;
            self.announce(&cid);
            progress.record(&cid, &self.manifest);
            on_progress(&progress);
        }
        Ok(())
    }

    /// Drops stored chunks that no kept manifest references (after an update, the old version's).
    pub async fn collect_garbage(&self) -> Result<usize, LoadError> {
        offline::collect_garbage(&*self.store).await.map_err(store_error)
    }

    /// Total size of the chunks this browser keeps, all courses together.
    pub async fn stored_bytes(&self) -> Result<u64, LoadError> {
        self.store.chunk_bytes().await.map_err(store_error)
    }

    /// The classmates' swarm, once this tab has joined it.
    pub fn swarm(&self) -> Option<Rc<dyn Peers>> {
        self.swarm.borrow().clone()
    }

    /// A newer version of the course that a classmate passed on, verified and stored: opening the course
    /// again shows it, even while the origin and the mirrors do not answer.
    pub fn newer_from_classmate(&self) -> Option<u64> {
        self.swarm().and_then(|swarm| swarm.stats().newer_version).filter(|&version| version > self.manifest.version)
    }

    /// Leaves the classmates' swarm of this version, before the course is opened again.
    pub fn leave(&self) {
        if let Some(swarm) = self.swarm.borrow_mut().take() {
            swarm.leave();
        }
    }

    /// Tells classmates this browser now holds `cid`.
    fn announce(&self, cid: &Cid) {
        if let Some(swarm) = self.swarm() {
            swarm.have(cid);
        }
    }

    fn entry(&self, path: &str) -> Result<&FileEntry, LoadError> {
        self.manifest.file(path).ok_or_else(|| LoadError::NotInCourse { path: path.to_owned() })
    }

    fn chunk_positions(&self) -> HashMap<Cid, (&FileEntry, usize)> {
        let mut positions = HashMap::new();
        for entry in &self.manifest.files {
            for (index, cid) in entry.chunks.iter().enumerate() {
                positions.entry(*cid).or_insert((entry, index));
            }
        }
        positions
    }

    async fn chunk(&self, entry: &FileEntry, index: usize, cid: Cid) -> Result<Vec<u8>, LoadError> {
        if let Ok(Some(bytes)) = self.store.get_chunk(&cid).await {
            if bytes.len() as u64 == entry.chunk_len(index, self.manifest.chunk_size) {
                return Ok(bytes);
            }
        }
        let bytes = self.fetch_verified(entry, index, cid, Need::Now).await?;
        // Keeping it is for the next visit; a full store must not stop the pupil reading now.
        if self.store.put_chunks(vec![(cid, bytes.clone())]).await.is_ok() {
            self.announce(&cid);
        }
        Ok(bytes)
    }

    async fn fetch_verified(
        &self,
        entry: &FileEntry,
        index: usize,
        cid: Cid,
        need: Need,
    ) -> Result<Vec<u8>, LoadError> {
        let len = entry.chunk_len(index, self.manifest.chunk_size);
        let fetched = match need {
            Need::Now => self.fetcher.get(cid, len).await,
            Need::Later => self.fetcher.prefetch(cid, len).await,
        };
        match fetched {
            Ok(bytes) => Ok(bytes),
            Err(Failure::Corrupt) => Err(LoadError::Corrupted { path: entry.path.clone() }),
            Err(Failure::Unreachable) => Err(LoadError::Unreachable(FetchError::NoAnswer { url: entry.path.clone() })),
            Err(Failure::NoWebCrypto) => Err(LoadError::NoWebCrypto),
        }
    }
}

fn now() -> i64 {
    cartable_web::clock::unix_s()
}

/// IndexedDB, or, where the browser refuses storage, a store that keeps nothing ([`Unkept`]).
async fn open_store() -> Rc<PageStore> {
    match IdbStore::open().await {
        Ok(store) => Rc::new(PageStore::Kept(store)),
        Err(_) => Rc::new(PageStore::Unkept(Unkept)),
    }
}

async fn verify_only(json: &[u8], key: PublicKey, now: i64) -> Result<Manifest, LoadError> {
    let trust = cartable_core::Trust { keys: &[key], now, accepted_version: None };
    Ok(cartable_core::SignedManifest::verify_with(json, &trust, &crate::signature::Browser).await?)
}

async fn stored_copy(
    store: &PageStore,
    manifest_url: &str,
    key: PublicKey,
    now: i64,
) -> Result<Option<(Manifest, i64)>, LoadError> {
    match offline::stored(store, manifest_url, (&[key], &crate::signature::Browser), now).await {
        Ok(copy) => Ok(copy.map(|copy| (copy.manifest, copy.stored_at))),
        // An expired or otherwise refused copy is said so, never silently used.
        Err(OfflineError::Manifest(error)) => Err(error.into()),
        Err(OfflineError::Store(_)) => Ok(None),
    }
}

fn store_error(error: StoreError) -> LoadError {
    match error {
        StoreError::QuotaExceeded => LoadError::StorageFull,
        StoreError::Unavailable(_) => LoadError::StorageUnavailable,
    }
}

fn object_url(bytes: &[u8], media_type: &str) -> Option<String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(media_type);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// The mirror at `base` (relative to `page`), its URL ending in `/`.
fn mirror(base: &str, page: &str) -> Option<Source> {
    Some(Source::mirror(&net::resolve(base, page)?))
}

/// Whether a pupil waits for a chunk (a page needs it) or it is saved for later.
#[derive(Clone, Copy)]
enum Need {
    Now,
    Later,
}

/// Where else the course can come from than its origin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Elsewhere {
    /// Base URLs of mirrors, relative to the page.
    pub mirrors: Vec<String>,
    /// The tracker (WebSocket URL) through which classmates find each other; the manifest's first
    /// tracker when the page names none.
    pub tracker: Option<String>,
}

/// Joins the course's swarm in the background, when this tab wins the browser's swarm lock, and lets
/// the fetcher ask classmates; through the STUN and TURN servers of the school's policy, and through its
/// relays only in relay-only mode. The swarm's code is a part of the app (`crate::parts`), loaded at once
/// when the origin is in trouble, else once the page holds what it shows; where it cannot be fetched,
/// the page goes on without classmates.
fn join_swarm(
    fetcher: &Fetcher,
    joined: &Rc<RefCell<Option<Rc<dyn Peers>>>>,
    (manifest, manifest_url, key): (&Manifest, &str, PublicKey),
    (tracker, origin): (String, OriginState),
    store: Rc<PageStore>,
) {
    let config = SwarmConfig {
        tracker,
        course_id: manifest.course.id.clone(),
        version: manifest.version,
        chunks: cartable_core::peer::wire::distinct_chunks(manifest),
        ice: sharing::ice(&manifest.peers),
        upload: !sharing::metered(),
        manifest_url: manifest_url.to_owned(),
        key,
    };
    let (fetcher, joined) = (fetcher.clone(), joined.clone());
    wasm_bindgen_futures::spawn_local(async move {
        // While the origin answers, the page's own chunks come first; classmates are asked at once when
        // it does not.
        if origin == OriginState::Healthy {
            crate::parts::after_page(&fetcher).await;
        }
        let Ok(joining) = crate::parts::join_swarm(config, store, fetcher).await else { return };
        *joined.borrow_mut() = joining.await;
    });
}

/// Shuffles `items` in place (Fisher-Yates, with the browser's random numbers).
fn shuffle<T>(items: &mut [T]) {
    for index in (1..items.len()).rev() {
        let other = (cartable_web::clock::random() * (index + 1) as f64) as usize;
        items.swap(index, other.min(index));
    }
}
