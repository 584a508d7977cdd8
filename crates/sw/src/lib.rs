//! cartable's service worker, in Rust. The JavaScript shim (`www/sw.js`) registers the listeners
//! synchronously and calls these exports once the wasm is loaded. It keeps the app shell its script lists
//! (`shell`: fetched from mirrors or the origin through the core's scheduler, every chunk checked against
//! its CID) and answers from IndexedDB: the shell snapshot of its build (its pages with the stored lessons
//! put in), stored chunks, and course files (with byte ranges) built from stored chunks; a chunk of a
//! course file neither stored nor given by the origin is asked of the tab leading the course's swarm
//! (`leader`). It stores only bytes it verified against its own list or a manifest the page verified and
//! stored; it decides no trust.

#![deny(missing_docs)]

mod connection;
mod files;
mod http;
mod kept;
mod leader;
mod prerender;
mod progress;
mod shell;

use cartable_core::store::Store as _;
use cartable_core::Cid;
use wasm_bindgen::prelude::*;

/// Install: keeps every chunk of the app shell `shell` (the JSON list of build `build`, which the worker
/// script carries) that is not kept yet, fetched from `mirrors` (base URLs) or the origin and checked
/// against its CID, then the boot pages, then the build's snapshot. Tells the waiting pages how it goes.
/// Fails only when no source gave a file within the install's deadline: what was kept stays kept for
/// the next try.
#[wasm_bindgen]
pub async fn install(build: String, shell: String, mirrors: Vec<String>) -> Result<(), JsError> {
    let progress = progress::Progress::new(&build);
    shell::install(&build, &shell, &mirrors, &progress).await.map_err(|error| JsError::new(&error.to_string()))
}

/// Activate: drops other builds' snapshots and the chunks this build does not use, unless `newer_installing`
/// (a newer build is being installed meanwhile, whose chunks must not be taken from under it).
#[wasm_bindgen]
pub async fn activate(build: String, newer_installing: bool) -> Result<(), JsError> {
    if newer_installing {
        return Ok(());
    }
    shell::activate(&build).await.map_err(|error| JsError::new(&error.to_string()))
}

/// Fetch: the answer from storage for `request`, or `undefined` to let the network answer. A course file's
/// chunk that is neither stored nor given by the origin is asked of the page's `mirrors` (base URLs),
/// then of the tab leading the course's swarm through `ask_leader`: `(lock and channel name, miss) =>
/// Promise<Uint8Array | undefined>`.
#[wasm_bindgen]
pub async fn respond(
    request: web_sys::Request,
    build: String,
    mirrors: Vec<String>,
    ask_leader: js_sys::Function,
) -> Option<web_sys::Response> {
    let url = web_sys::Url::new(&request.url()).ok()?;
    let path = url.pathname();
    if let Some(shell::Answer { mut bytes, media_type, page, policy }) = shell::file(&build, &path, &mirrors).await {
        // A boot page, opened by the pupil: with the stored lessons in it, to show before any script.
        if request.mode() == web_sys::RequestMode::Navigate && page {
            bytes = prerender::page(&url.href(), &bytes).await.unwrap_or(bytes);
        }
        // A page goes with the policy the origin sent with it, as from the origin.
        let mut headers = vec![("cache-control", "no-cache".to_owned())];
        headers.extend(policy.map(|policy| ("content-security-policy", policy)));
        return http::bytes(200, bytes, &media_type, &headers).ok();
    }
    // Whole course files: `<base>/cartable-files/<course id>/<path>` (see `cartable_core::path::worker_file`).
    if let Some((base, rest)) = path.split_once(&format!("/{}", cartable_core::path::WORKER_FILES)) {
        let range = request.headers().get("range").ok().flatten();
        let elsewhere = files::Elsewhere { mirrors: &mirrors, leader: &ask_leader };
        return Some(files::answer(&url.origin(), base, rest, range.as_deref(), &elsewhere).await);
    }
    let cid = path.rsplit_once("/ipfs/").and_then(|(_, name)| name.parse::<Cid>().ok())?;
    let store = connection::store().await.ok()?;
    let bytes = store.get_chunk(&cid).await.ok()??;
    let media_type = "application/octet-stream";
    http::bytes(200, bytes, media_type, &http::file_headers(media_type)).ok()
}
