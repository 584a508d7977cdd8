//! The app shell: one snapshot of the page, its script, styles and wasm per build, stored at install and
//! served as a whole, so a page never runs old and new files mixed.

use wasm_bindgen::JsCast;

/// Fetches every URL of `shell` (bypassing the HTTP cache) and stores them as the snapshot of `build`.
pub async fn install(build: &str, shell: &[String]) -> Result<(), String> {
    let scope = scope_path();
    let mut entries = Vec::with_capacity(shell.len());
    for url in shell {
        let (bytes, media_type) =
            cartable::net::get_fresh(url).await.map_err(|error| format!("cannot fetch the app shell: {error}"))?;
        let path = web_sys::Url::new(url).map(|u| u.pathname()).map_err(|_| format!("bad shell URL {url}"))?;
        entries.push((key(build, &scope, &path), bytes, media_type));
    }
    let store = crate::connection::store().await.map_err(|error| error.to_string())?;
    store.put_shell(entries).await.map_err(|error| error.to_string())
}

/// The stored shell file for `path` (its bytes and media type) in the snapshot of `build`, if `path` is
/// part of the shell.
pub async fn file(build: &str, path: &str) -> Option<(Vec<u8>, String)> {
    let store = crate::connection::store().await.ok()?;
    store.get_shell(&key(build, &scope_path(), path)).await.ok()?
}

/// Whether `path` is the app's page: the scope's root, or its `index.html`.
pub fn is_page(path: &str) -> bool {
    relative(&scope_path(), path).is_empty()
}

/// `<build>/<path relative to the worker's scope>`: `""` is the scope's root page.
fn key(build: &str, scope: &str, path: &str) -> String {
    format!("{build}/{}", relative(scope, path))
}

/// `path` relative to the worker's `scope`; `""` for the scope's root page, however it is named.
fn relative<'a>(scope: &str, path: &'a str) -> &'a str {
    let relative = path.strip_prefix(scope).unwrap_or(path);
    if relative == "index.html" {
        ""
    } else {
        relative
    }
}

/// The path of the worker's scope, such as `/` or `/cartable/`.
fn scope_path() -> String {
    let scope = js_sys::global()
        .dyn_into::<web_sys::ServiceWorkerGlobalScope>()
        .map(|global| global.registration().scope())
        .unwrap_or_default();
    web_sys::Url::new(&scope).map(|url| url.pathname()).unwrap_or_else(|_| "/".into())
}
