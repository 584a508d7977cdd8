//! The app's page with the stored lessons of its course already in it, so that a lesson opened with no
//! network shows before any script runs (see `cartable_core::html::page_with_lessons`). Built only from
//! the stored manifest and stored chunks, never the network. An expired copy, a lesson not wholly stored,
//! or a page whose config names no stored course leaves the page as it is: the app shows what it must.

use cartable_core::manifest::StoredContents;
use cartable_core::store::Store as _;
use cartable_core::{html, markdown, offline, path};

use crate::connection;

/// At most this much lesson HTML goes into the page: a course of many long lessons must not make every
/// start slower than the app itself. Lessons past it are shown by the app.
const EARLY_LESSONS_BYTES: usize = 256 * 1024;

/// `page` (the stored app page, answering a navigation to `page_url`) with the stored lessons of the
/// course its config names; `None` when there is nothing to add.
pub async fn page(page_url: &str, page: &[u8]) -> Option<Vec<u8>> {
    let page = std::str::from_utf8(page).ok()?;
    let manifest_url = web_sys::Url::new_with_base(&html::config_manifest(page)?, page_url).ok()?;
    let store = connection::store().await.ok()?;
    let stored = offline::published_at(&*store, &manifest_url.href()).await.ok()??;
    // The page verified this manifest before it stored it; its expiry is checked again here.
    let manifest = StoredContents::read(&stored.json).ok()?;
    if cartable_web::clock::unix_s() >= manifest.expires_at {
        return None;
    }
    // Course files are served by the worker next to the manifest (`cartable_core::path::worker_file`).
    let manifest_path = manifest_url.pathname();
    let base = &manifest_path[..manifest_path.rfind('/')?];
    let mut lessons = Vec::new();
    let mut size = 0;
    for index in 0..manifest.lessons.len() {
        let Some(lesson) = lesson_html(&store, &manifest, &stored.course_id, base, index).await else { continue };
        size += lesson.len();
        if size > EARLY_LESSONS_BYTES {
            break;
        }
        lessons.push((index, lesson));
    }
    if lessons.is_empty() {
        return None;
    }
    html::page_with_lessons(page, &lessons).map(String::into_bytes)
}

async fn lesson_html(
    store: &cartable_web::store::IdbStore,
    manifest: &StoredContents,
    course_id: &str,
    base: &str,
    index: usize,
) -> Option<String> {
    let body = manifest.file(&manifest.lessons.get(index)?.body)?;
    let mut json = Vec::with_capacity(body.size as usize);
    for cid in &body.chunks {
        json.extend(store.get_chunk(cid).await.ok()??);
    }
    let nodes = markdown::from_json(&json).ok()?;
    let stored_files = stored_files(store, manifest, &nodes).await;
    let file_url = |path: &str| {
        stored_files.contains(&path.to_owned()).then(|| format!("{base}/{}", path::worker_file(course_id, path)))
    };
    Some(html::lesson(&nodes, &file_url))
}

/// The course files the lesson refers to whose chunks are all stored (the others would not load offline).
async fn stored_files(
    store: &cartable_web::store::IdbStore,
    manifest: &StoredContents,
    nodes: &[markdown::Node],
) -> Vec<String> {
    let mut stored = Vec::new();
    for path in markdown::course_files(nodes) {
        let Some(file) = manifest.file(&path) else { continue };
        if store.has_chunks(&file.chunks).await.is_ok_and(|present| present.iter().all(|&p| p)) {
            stored.push(path);
        }
    }
    stored
}
