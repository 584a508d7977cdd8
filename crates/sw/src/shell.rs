//! The app shell: one snapshot of the page, its script, styles and wasm per build, stored at install and
//! served as a whole, so a page never runs old and new files mixed.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Fetches every URL of `shell` (bypassing the HTTP cache) and stores them as the snapshot of `build`.
pub async fn install(build: &str, shell: &[String]) -> Result<(), String> {
    let scope = scope_path();
    let mut entries = Vec::with_capacity(shell.len());
    for url in shell {
        let (bytes, media_type) = fetch_fresh(url).await?;
        let path = web_sys::Url::new(url).map(|u| u.pathname()).map_err(|_| format!("bad shell URL {url}"))?;
        entries.push((key(build, &scope, &path), bytes, media_type));
    }
    let store = crate::connection::store().await.map_err(|error| error.to_string())?;
    store.put_shell(entries).await.map_err(|error| error.to_string())
}

/// The stored shell file for `path` in the snapshot of `build`, if `path` is part of the shell.
pub async fn answer(build: &str, path: &str) -> Option<web_sys::Response> {
    let store = crate::connection::store().await.ok()?;
    let (bytes, media_type) = store.get_shell(&key(build, &scope_path(), path)).await.ok()??;
    crate::http::bytes(200, bytes, &media_type, &[("cache-control", "no-cache".into())]).ok()
}

/// `<build>/<path relative to the worker's scope>`: `""` is the scope's root page.
fn key(build: &str, scope: &str, path: &str) -> String {
    let relative = path.strip_prefix(scope).unwrap_or(path);
    let relative = if relative == "index.html" { "" } else { relative };
    format!("{build}/{relative}")
}

/// The path of the worker's scope, such as `/` or `/cartable/`.
fn scope_path() -> String {
    let scope = js_sys::global()
        .dyn_into::<web_sys::ServiceWorkerGlobalScope>()
        .map(|global| global.registration().scope())
        .unwrap_or_default();
    web_sys::Url::new(&scope).map(|url| url.pathname()).unwrap_or_else(|_| "/".into())
}

async fn fetch_fresh(url: &str) -> Result<(Vec<u8>, String), String> {
    let failed = |what: &str| format!("cannot fetch {url} for the app shell: {what}");
    let init = web_sys::RequestInit::new();
    init.set_cache(web_sys::RequestCache::Reload);
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(|_| failed("bad request"))?;
    let global = js_sys::global().unchecked_into::<web_sys::WorkerGlobalScope>();
    let response: web_sys::Response =
        JsFuture::from(global.fetch_with_request(&request)).await.map_err(|_| failed("no answer"))?.unchecked_into();
    if !response.ok() {
        return Err(failed(&format!("HTTP {}", response.status())));
    }
    let media_type = response.headers().get("content-type").ok().flatten().unwrap_or_default();
    let buffer =
        JsFuture::from(response.array_buffer().map_err(|_| failed("no body"))?).await.map_err(|_| failed("body"))?;
    Ok((js_sys::Uint8Array::new(&buffer).to_vec(), media_type))
}
