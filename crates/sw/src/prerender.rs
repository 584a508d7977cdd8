//! A stored lesson as HTML, for the page to show while the app starts: `<base>/cartable-prerender/<course
//! id>/<lesson number>`. Built only from the stored manifest and stored chunks, never the network; an
//! expired copy, or a lesson not wholly stored, gets a 404 and the app shows what it must.

use cartable_core::manifest::StoredContents;
use cartable_core::store::Store as _;
use cartable_core::{markdown, path};
use web_sys::Response;

use crate::{connection, http};

/// The answer for `<base>/cartable-prerender/<rest>`, `rest` being `<course id>/<lesson number>`.
pub async fn answer(base: &str, rest: &str) -> Response {
    match lesson_html(base, rest).await {
        Some(html) => {
            http::bytes(200, html.into_bytes(), "text/html; charset=utf-8", &[("cache-control", "no-store".into())])
                .unwrap_or_else(|_| http::text(500, "cannot build the answer\n", &[]))
        }
        None => http::text(404, "no stored copy of this lesson\n", &[]),
    }
}

async fn lesson_html(base: &str, rest: &str) -> Option<String> {
    let (course_id, number) = rest.split_once('/')?;
    let index = number.parse::<usize>().ok()?.checked_sub(1)?;
    let store = connection::store().await.ok()?;
    let stored = store.get_manifest(course_id).await.ok()??;
    // The page verified this manifest before it stored it; its expiry is checked again here.
    let manifest = StoredContents::read(&stored.json).ok()?;
    if (js_sys::Date::now() / 1000.0) as i64 >= manifest.expires_at {
        return None;
    }
    let body = manifest.file(&manifest.lessons.get(index)?.body)?;
    let mut json = Vec::with_capacity(body.size as usize);
    for cid in &body.chunks {
        json.extend(store.get_chunk(cid).await.ok()??);
    }
    let nodes = markdown::from_json(&json).ok()?;
    let stored_files = stored_files(&store, &manifest, &nodes).await;
    let file_url = |path: &str| {
        stored_files.contains(&path.to_owned()).then(|| format!("{base}/{}", path::worker_file(course_id, path)))
    };
    Some(cartable_core::html::lesson(&nodes, &file_url))
}

/// The course files the lesson refers to whose chunks are all stored (the others would not load offline).
async fn stored_files(
    store: &cartable::store::IdbStore,
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
