//! The app shell the worker keeps: per build, its list (`cartable_core::shell::Shell`, carried by the
//! worker's own script) and its boot pages as the origin served them; and the shell's chunks by CID,
//! shared by builds, so that an update fetches only what changed. Chunks come from the mirrors or the
//! origin through the core's scheduler, each checked against its CID before it is stored. A build's
//! snapshot record is written last: a build is served only once it is whole, and a page runs one build.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use cartable_core::fetch::{full_jitter, Millis, Outcome, SourceKind};
use cartable_core::shell::Shell;
use cartable_core::store::StoreError;
use cartable_core::Cid;
use cartable_web::fetcher::{http, Failure, Fetcher, Source};
use cartable_web::{clock, net};
use wasm_bindgen::JsCast;
use web_sys::RequestCache;

use crate::kept::ShellRecords;
use crate::progress::Progress;

/// Why the worker could not keep or prune the shell: its install or activation fails with it (the page
/// registers the worker again later, and what was kept stays kept).
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    /// The list the worker's script carries does not read.
    #[error("the worker's list of the app is malformed")]
    Malformed,
    /// The list is another build's than the worker's.
    #[error("the shell list is build {listed}, the worker build {worker}")]
    OtherBuild { listed: String, worker: String },
    /// IndexedDB failed (full, unavailable).
    #[error("the app's storage: {0}")]
    Store(#[from] StoreError),
    /// This browser cannot hash (no WebCrypto): no byte could be checked.
    #[error("this browser cannot check files (no WebCrypto)")]
    NoWebCrypto,
    /// No source gave this chunk before the install's deadline.
    #[error("no source gave the app's chunk {0} in time")]
    ChunkTimedOut(Cid),
    /// The origin refused a boot page for good.
    #[error("{url} answered HTTP {code}")]
    PageRefused { url: String, code: u16 },
    /// The origin did not give a boot page before the install's deadline.
    #[error("the origin did not give {0} in time")]
    PageTimedOut(String),
    /// Activation found no whole snapshot of its build.
    #[error("build {0} has no snapshot")]
    NoSnapshot(String),
}

/// How long an install keeps asking, chunks and pages together, before it fails: the page registers the
/// worker again later, and the chunks kept so far stay kept. Under the 5 minutes browsers give an
/// install event before they stop the worker.
const PATIENCE_MS: f64 = 240_000.0;
/// The pause before a chunk or page the scheduler gave up on is asked again: full jitter, from this...
const PAUSE_BASE_MS: Millis = 1_000;
/// ...up to this.
const PAUSE_CAP_MS: Millis = 30_000;
/// Media type of the boot pages.
const PAGE_TYPE: &str = "text/html; charset=utf-8";

thread_local! {
    /// The running build's list, read once per worker start.
    static SNAPSHOT: RefCell<Option<(String, Rc<Shell>)>> = const { RefCell::new(None) };
}

fn snapshot_key(build: &str) -> String {
    format!("snapshot/{build}")
}

fn page_key(build: &str, page: &str) -> String {
    format!("page/{build}/{page}")
}

/// The Content-Security-Policy header the origin sent with a page, kept to be sent again with it.
fn policy_key(build: &str, page: &str) -> String {
    format!("policy/{build}/{page}")
}

fn chunk_key(cid: &Cid) -> String {
    format!("chunk/{cid}")
}

/// Install: keeps every chunk of `shell_json` (the list of build `build`) not kept yet, from `mirrors`
/// (base URLs holding `ipfs/<cid>`) or the origin, then the boot pages (those open in tabs and those kept
/// for an earlier build), then the snapshot record, all within [`PATIENCE_MS`]. Reports its progress on
/// `progress` as it goes.
pub async fn install(build: &str, shell_json: &str, mirrors: &[String], progress: &Progress) -> Result<(), ShellError> {
    let shell = Shell::read(shell_json.as_bytes()).ok_or(ShellError::Malformed)?;
    if shell.build != build {
        return Err(ShellError::OtherBuild { listed: shell.build, worker: build.to_owned() });
    }
    let store = crate::connection::store().await?;
    let kept: BTreeSet<String> = store.shell_keys().await?.into_iter().collect();
    // The parts the pupil used with an earlier build are kept again for this one: what opened offline
    // before an update still does after it.
    let chunks = shell.chunks_with_parts(&used_parts(&store, &kept).await);
    let keys: Vec<String> = chunks.iter().map(|(cid, _)| chunk_key(cid)).collect();
    let present = store.has_shell(&keys).await?;
    let missing: Vec<(Cid, u64)> = chunks.iter().zip(&present).filter(|(_, kept)| !**kept).map(|(c, _)| *c).collect();
    let total: u64 = chunks.iter().map(|(_, len)| len).sum();
    progress.start(total, total - missing.iter().map(|(_, len)| len).sum::<u64>());
    let first = kept.iter().all(|key| !key.starts_with("snapshot/"));
    // The boot pages the pupil used before: each stays available offline in the new build.
    let used =
        kept.iter().filter_map(|key| key.strip_prefix("page/")?.split_once('/').map(|(_, page)| page.to_owned()));
    let deadline = clock::monotonic_ms() + PATIENCE_MS;
    let fetcher = Fetcher::new(sources(mirrors));
    progress.watch(&fetcher);
    fetch_chunks(&store, &fetcher, missing, deadline, progress).await?;
    let mut records = fetch_pages(&shell, first, used.collect(), deadline, progress).await?;
    records.push((snapshot_key(build), shell.to_json(), "application/json".into()));
    store.put_shell(records).await?;
    progress.done();
    Ok(())
}

/// The paths of the parts kept whole for an earlier build (among the `kept` record keys).
async fn used_parts(store: &cartable_web::store::IdbStore, kept: &BTreeSet<String>) -> Vec<String> {
    let mut used = Vec::new();
    for snapshot in kept.iter().filter(|key| key.starts_with("snapshot/")) {
        let Some(shell) = store.get_shell(snapshot).await.ok().flatten().and_then(|(json, _)| Shell::read(&json))
        else {
            continue;
        };
        let whole =
            |part: &&cartable_core::manifest::FileEntry| part.chunks.iter().all(|cid| kept.contains(&chunk_key(cid)));
        used.extend(shell.parts.iter().filter(whole).map(|part| part.path.clone()));
    }
    used
}

/// The sources of shell chunks: the mirrors (which a saved-for-later chunk prefers), then the origin's
/// `pkg/ipfs/`.
fn sources(mirrors: &[String]) -> Vec<Source> {
    let origin = Source { kind: SourceKind::Origin, base: format!("{}pkg/", scope()) };
    std::iter::once(origin).chain(mirrors.iter().map(|base| Source::mirror(base))).collect()
}

/// Fetches `missing` through `fetcher` (as chunks saved for later: mirrors before the origin) and keeps
/// each as it arrives. A chunk the scheduler gives up on is asked again after a full-jitter pause, until
/// `deadline` (on [`clock::monotonic_ms`]'s clock).
async fn fetch_chunks(
    store: &cartable_web::store::IdbStore,
    fetcher: &Fetcher,
    missing: Vec<(Cid, u64)>,
    deadline: f64,
    progress: &Progress,
) -> Result<(), ShellError> {
    let downloads = missing.into_iter().map(|(cid, len)| async move {
        let mut pauses = 0;
        loop {
            match fetcher.prefetch(cid, len).await {
                Ok(bytes) => {
                    store.put_shell(vec![(chunk_key(&cid), bytes, String::new())]).await?;
                    progress.add(len);
                    return Ok(());
                }
                Err(Failure::NoWebCrypto) => return Err(ShellError::NoWebCrypto),
                Err(_) if clock::monotonic_ms() > deadline => return Err(ShellError::ChunkTimedOut(cid)),
                Err(_) => {
                    pauses += 1;
                    pause(pauses, progress).await;
                }
            }
        }
    });
    futures::future::try_join_all(downloads).await.map(drop)
}

/// Waits the full-jitter pause before ask number `pauses + 1`, telling the page when it ends.
async fn pause(pauses: u32, progress: &Progress) {
    let ms = full_jitter(PAUSE_BASE_MS, PAUSE_CAP_MS, pauses, cartable_web::clock::random());
    progress.resting_until(clock::monotonic_ms() + ms as f64);
    net::sleep(ms as i32).await;
}

/// The boot pages to keep for the new build, as the origin serves them, as records: those open in tabs,
/// each fetched at the address its tab has (at the first install, from the HTTP cache its own load
/// filled: no request), and `used`, the pages kept for an earlier build, so that an update installed
/// with no tab open still opens offline. A boot page neither open nor used is not asked for (embedded in
/// another site, it belongs to another partition of the browser and so to another worker); the network
/// answers it if one is ever opened.
async fn fetch_pages(
    shell: &Shell,
    first: bool,
    used: Vec<String>,
    deadline: f64,
    progress: &Progress,
) -> Result<Vec<(String, Vec<u8>, String)>, ShellError> {
    let cache = if first { RequestCache::ForceCache } else { RequestCache::NoCache };
    let scope = scope();
    let open = open_pages().await.into_iter().filter_map(|url| Some((path_of(&url)?, url)));
    let used = used.into_iter().map(|page| (page.clone(), format!("{scope}{page}")));
    let mut records: Vec<(String, Vec<u8>, String)> = Vec::new();
    for (path, url) in open.chain(used) {
        let Some(page) = shell.page(&path) else { continue };
        let key = page_key(&shell.build, page);
        if records.iter().any(|(known, _, _)| *known == key) {
            continue;
        }
        let (bytes, policy) = fetch_page(&url, cache, deadline, progress).await?;
        records.push((key, bytes, PAGE_TYPE.to_owned()));
        if let Some(policy) = policy {
            records.push((policy_key(&shell.build, page), policy.into_bytes(), String::new()));
        }
    }
    Ok(records)
}

/// The page at `url` and the Content-Security-Policy header it came with, asked again while the origin
/// refuses it, honouring `Retry-After`, until `deadline`.
async fn fetch_page(
    url: &str,
    cache: RequestCache,
    deadline: f64,
    progress: &Progress,
) -> Result<(Vec<u8>, Option<String>), ShellError> {
    let mut pauses = 0;
    loop {
        let signal = web_sys::AbortSignal::timeout_with_u32(15_000);
        let page = match http::get_response(url, &signal, cache).await {
            Ok(response) => {
                let policy = response.headers().get("content-security-policy").ok().flatten();
                http::read_body(&response, |_| {}).await.map(|bytes| (bytes, policy))
            }
            Err(outcome) => Err(outcome),
        };
        let wait = match page {
            Ok(page) => return Ok(page),
            Err(Outcome::Status { code: 503 | 429, retry_after_ms }) => retry_after_ms,
            Err(Outcome::Status { code, .. }) if code != 408 && code < 500 => {
                return Err(ShellError::PageRefused { url: url.to_owned(), code })
            }
            Err(_) => None,
        };
        if clock::monotonic_ms() > deadline {
            return Err(ShellError::PageTimedOut(url.to_owned()));
        }
        pauses += 1;
        match wait {
            Some(ms) => {
                let ms = ms + (cartable_web::clock::random() * 1_000.0) as u64;
                progress.resting_until(clock::monotonic_ms() + ms as f64);
                net::sleep(ms.min(i32::MAX as u64) as i32).await;
            }
            None => pause(pauses, progress).await,
        }
    }
}

/// The addresses of the windows in the worker's scope, controlled or not (the tab installing it is not).
async fn open_pages() -> Vec<String> {
    let Ok(global) = js_sys::global().dyn_into::<web_sys::ServiceWorkerGlobalScope>() else { return Vec::new() };
    let options = web_sys::ClientQueryOptions::new();
    options.set_include_uncontrolled(true);
    options.set_type(web_sys::ClientType::Window);
    let Ok(clients) = wasm_bindgen_futures::JsFuture::from(global.clients().match_all_with_options(&options)).await
    else {
        return Vec::new();
    };
    js_sys::Array::from(&clients)
        .iter()
        .filter_map(|client| client.dyn_into::<web_sys::Client>().ok())
        .map(|client| client.url())
        .collect()
}

/// The path of `url` relative to the scope, without its query and fragment.
fn path_of(url: &str) -> Option<String> {
    let path = web_sys::Url::new(url).ok()?.pathname();
    Some(relative(&path).to_owned())
}

/// Activate: drops what no longer belongs to build `build`: other builds' snapshots and pages, and chunks
/// its list does not name.
pub async fn activate(build: &str) -> Result<(), ShellError> {
    let store = crate::connection::store().await?;
    let shell = snapshot(&store, build).await.ok_or_else(|| ShellError::NoSnapshot(build.to_owned()))?;
    let keep: BTreeSet<String> = shell.kept_chunks().iter().map(|(cid, _)| chunk_key(cid)).collect();
    let (pages, policies) = (format!("page/{build}/"), format!("policy/{build}/"));
    let stale = store.shell_keys().await?.into_iter().filter(|key| {
        !(keep.contains(key) || key.starts_with(&pages) || key.starts_with(&policies) || *key == snapshot_key(build))
    });
    Ok(store.delete_shell(stale.collect()).await?)
}

/// The list of build `build`, once it is whole; read from the store once per worker start.
async fn snapshot(store: &cartable_web::store::IdbStore, build: &str) -> Option<Rc<Shell>> {
    let cached = SNAPSHOT.with(|cell| cell.borrow().clone()).filter(|(built, _)| built == build);
    if let Some((_, shell)) = cached {
        return Some(shell);
    }
    let (json, _) = store.get_shell(&snapshot_key(build)).await.ok()??;
    let shell = Rc::new(Shell::read(&json)?);
    SNAPSHOT.with(|cell| *cell.borrow_mut() = Some((build.to_owned(), shell.clone())));
    Some(shell)
}

/// What the snapshot of `build` answers for `path` (a URL path).
pub struct Answer {
    pub bytes: Vec<u8>,
    pub media_type: String,
    /// Whether it is a boot page.
    pub page: bool,
    /// The Content-Security-Policy header the origin sent with the page, if any.
    pub policy: Option<String>,
}

/// What the snapshot of `build` answers for `path` (a URL path): a boot page, a served file put together
/// from its chunks, or a part of the app, whose chunks not kept yet are fetched now from `mirrors` or the
/// origin, checked and kept. `None` for anything else, before the build is whole, or for a part no source
/// gave.
pub async fn file(build: &str, path: &str, mirrors: &[String]) -> Option<Answer> {
    let store = crate::connection::store().await.ok()?;
    let shell = snapshot(&store, build).await?;
    let relative = relative(path);
    if let Some(page) = shell.page(relative) {
        let (bytes, media_type) = store.get_shell(&page_key(build, page)).await.ok()??;
        let policy = store.get_shell(&policy_key(build, page)).await.ok().flatten();
        let policy = policy.map(|(policy, _)| String::from_utf8_lossy(&policy).into_owned());
        return Some(Answer { bytes, media_type, page: true, policy });
    }
    if let Some(part) = shell.part(relative) {
        return part_file(&store, &shell, part, mirrors).await;
    }
    let file = shell.file(relative)?;
    let mut bytes = Vec::with_capacity(file.size as usize);
    for cid in &file.chunks {
        bytes.extend(store.get_shell(&chunk_key(cid)).await.ok()??.0);
    }
    Some(Answer { bytes, media_type: file.media_type.clone(), page: false, policy: None })
}

/// A part of the app, from its kept chunks; those not kept yet (the first time a page asks for the part)
/// are fetched through the core's scheduler as the install fetches the shell (the mirrors before the
/// origin, which a day of overload must spare), checked against their CIDs and kept.
async fn part_file(
    store: &cartable_web::store::IdbStore,
    shell: &Shell,
    part: &cartable_core::manifest::FileEntry,
    mirrors: &[String],
) -> Option<Answer> {
    let mut fetcher = None;
    let mut bytes = Vec::with_capacity(part.size as usize);
    for (index, cid) in part.chunks.iter().enumerate() {
        if let Ok(Some((chunk, _))) = store.get_shell(&chunk_key(cid)).await {
            bytes.extend(chunk);
            continue;
        }
        let fetcher = fetcher.get_or_insert_with(|| Fetcher::new(sources(mirrors)));
        let chunk = fetcher.prefetch(*cid, part.chunk_len(index, shell.chunk_size)).await.ok()?;
        // Kept for the next time; a store that refuses it does not stop the page using it now.
        let _ = store.put_shell(vec![(chunk_key(cid), chunk.clone(), String::new())]).await;
        bytes.extend(chunk);
    }
    Some(Answer { bytes, media_type: part.media_type.clone(), page: false, policy: None })
}

/// `path` relative to the worker's scope.
fn relative(path: &str) -> &str {
    let scope = scope_path();
    path.strip_prefix(scope.as_str()).unwrap_or(path)
}

/// The worker's scope, such as `http://host/` or `http://host/cartable/`.
fn scope() -> String {
    js_sys::global()
        .dyn_into::<web_sys::ServiceWorkerGlobalScope>()
        .map(|global| global.registration().scope())
        .unwrap_or_default()
}

/// The path of the worker's scope, such as `/` or `/cartable/`.
fn scope_path() -> String {
    web_sys::Url::new(&scope()).map(|url| url.pathname()).unwrap_or_else(|_| "/".into())
}
