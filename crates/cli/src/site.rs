//! What a healthy `cartable serve` answers to each request: the app's pages and the packed courses. One
//! `Site` value and one handler, no global state. Fault injection (`origin.rs`) wraps `Site::answer`;
//! nothing here knows about faults, counters or connections.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Response, StatusCode};
use cartable_core::media::media_type;
use cartable_core::Cid;

use crate::policy::{content_security_policy, Framing};

/// The marker that opens the page's configuration block; `serve` replaces what follows it up to `</script>`.
pub const CONFIG_OPEN: &str = r#"<script type="application/json" id="cartable-config">"#;
const CONFIG_CLOSE: &str = "</script>";
const NO_CACHE: &str = "no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Everything the server serves. Folders are canonical, so served paths can be checked by prefix.
pub struct Site {
    /// The static pages (index.html, app.js, style.css...).
    pub www: PathBuf,
    /// The built app (cartable.js, cartable_bg.wasm).
    pub pkg: PathBuf,
    /// JSON put into index.html's configuration block, if a course is served.
    pub config: Option<String>,
    /// Packed course folders by course id.
    pub courses: BTreeMap<String, PathBuf>,
    /// Origins of the course's mirrors, which the pages' Content-Security-Policy lets them fetch from.
    pub mirror_origins: Vec<String>,
    /// The shown course's manifest path and key, written into the demo school page's iframe address.
    pub embedded: Option<(String, String)>,
}

/// The demo school page, whose iframe address `serve` fills in with the course and its key.
const SCHOOL_PAGE: &str = "ecole.html";
/// The example of `mount()` in a site's own page, whose script `serve` fills in likewise.
const MOUNT_EXAMPLE: &str = "examples/mount.html";
/// The placeholders of the pages for the course and the school key.
const MANIFEST_PLACEHOLDER: &str = "courses/exemple/manifest.json";
const KEY_PLACEHOLDER: &str = "ed25519:REPLACE-WITH-THE-SCHOOL-PUBLIC-KEY";
/// The page other sites frame.
const EMBED_PAGE: &str = "embed.html";

impl Site {
    /// The answer to `method path` (the raw, undecoded request path).
    pub async fn answer(&self, method: &Method, path: &str) -> Response<Body> {
        let response = match path.strip_prefix("/courses/") {
            Some(rest) => with_cors(self.course(method, rest).await),
            None if !matches!(*method, Method::GET | Method::HEAD) => {
                plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
            }
            None => self.app(path).await,
        };
        nosniff(response)
    }

    async fn app(&self, path: &str) -> Response<Body> {
        let page = path.trim_start_matches('/');
        let response = match path.strip_prefix("/pkg/") {
            _ if path == "/" || page == "index.html" => self.index().await,
            _ if page == SCHOOL_PAGE || page == MOUNT_EXAMPLE => return self.filled_page(page).await,
            Some(rest) => static_file(&self.pkg, rest, NO_CACHE).await,
            None => static_file(&self.www, page, NO_CACHE).await,
        };
        match (page.ends_with(".html") || page.is_empty(), response.status().is_success()) {
            (true, true) => self.with_policy(response, page),
            _ => response,
        }
    }

    /// An app page with its Content-Security-Policy: framed by any site for the embed page, by none
    /// but its own origin otherwise.
    fn with_policy(&self, mut response: Response<Body>, page: &str) -> Response<Body> {
        let framing = if page == EMBED_PAGE { Framing::AnySite } else { Framing::SameOrigin };
        let policy = content_security_policy(&self.mirror_origins, framing);
        if let Ok(value) = HeaderValue::from_str(&policy) {
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
        }
        response
    }

    /// A page of a school's own site (the demo school page, the `mount()` example), naming the served
    /// course and key: in its iframe's address, or in its script. The school's page: no policy of ours.
    async fn filled_page(&self, name: &str) -> Response<Body> {
        let Some(file) = resolve(&self.www, name).await else { return not_found() };
        let Ok(mut page) = tokio::fs::read_to_string(&file).await else { return not_found() };
        if let Some((manifest, key)) = &self.embedded {
            let (manifest, key) = match name {
                SCHOOL_PAGE => (query_value(manifest), query_value(key)),
                _ => (manifest.clone(), key.clone()),
            };
            page = page.replace(MANIFEST_PLACEHOLDER, &manifest).replace(KEY_PLACEHOLDER, &key);
        }
        file_response(page.into_bytes(), media_type(name), NO_CACHE)
    }

    async fn index(&self) -> Response<Body> {
        let Some(file) = resolve(&self.www, "index.html").await else { return not_found() };
        let Ok(page) = tokio::fs::read_to_string(&file).await else { return not_found() };
        let page = match &self.config {
            Some(config) => with_config(&page, config).unwrap_or(page),
            None => page,
        };
        file_response(page.into_bytes(), media_type("index.html"), NO_CACHE)
    }

    async fn course(&self, method: &Method, rest: &str) -> Response<Body> {
        if *method == Method::OPTIONS {
            return preflight();
        }
        if !matches!(*method, Method::GET | Method::HEAD) {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        }
        let Some((id, name)) = rest.split_once('/') else { return not_found() };
        let Some(dir) = self.courses.get(id) else { return not_found() };
        match name.strip_prefix("ipfs/") {
            None if name == "manifest.json" => static_file(dir, name, NO_CACHE).await,
            Some(cid) if cid.parse::<Cid>().is_ok() => {
                let Some(file) = resolve(dir, name).await else { return not_found() };
                read_response(&file, "application/octet-stream", IMMUTABLE).await
            }
            _ => not_found(),
        }
    }
}

/// `page` with the content of its configuration block replaced by `config`, if it has that block.
pub fn with_config(page: &str, config: &str) -> Option<String> {
    let start = page.find(CONFIG_OPEN)? + CONFIG_OPEN.len();
    let end = start + page[start..].find(CONFIG_CLOSE)?;
    Some(format!("{}{config}{}", &page[..start], &page[end..]))
}

/// `text` as a value in a URL's query: `+` (a key's base64) would otherwise be read as a space.
fn query_value(text: &str) -> String {
    let keep = |byte: u8| byte.is_ascii_alphanumeric() || b"-._~:/".contains(&byte);
    text.bytes().map(|byte| if keep(byte) { char::from(byte).to_string() } else { format!("%{byte:02X}") }).collect()
}

async fn static_file(base: &Path, relative: &str, cache: &'static str) -> Response<Body> {
    match resolve(base, relative).await {
        Some(file) => read_response(&file, media_type(relative), cache).await,
        None => not_found(),
    }
}

/// The file `relative` names under `base`, if it is a plain relative path that stays inside `base`
/// once symbolic links are followed, and is a file.
async fn resolve(base: &Path, relative: &str) -> Option<PathBuf> {
    let safe =
        |segment: &str| !segment.is_empty() && !segment.starts_with('.') && !segment.contains(['\\', '%', ':', '\0']);
    if !relative.split('/').all(safe) {
        return None;
    }
    let file = tokio::fs::canonicalize(base.join(relative)).await.ok()?;
    let is_file = tokio::fs::metadata(&file).await.ok()?.is_file();
    (file.starts_with(base) && is_file).then_some(file)
}

async fn read_response(file: &Path, content_type: &str, cache: &'static str) -> Response<Body> {
    match tokio::fs::read(file).await {
        Ok(bytes) => file_response(bytes, content_type, cache),
        Err(_) => not_found(),
    }
}

fn file_response(bytes: Vec<u8>, content_type: &str, cache: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    let content_type =
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// The refusal of an overloaded origin (503 or 429), with `Retry-After` if given: a course answer.
pub fn busy(status: StatusCode, retry_after: Option<u64>) -> Response<Body> {
    let mut response = plain(status, "the server is busy: try again later\n");
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    nosniff(with_cors(response))
}

/// A JSON document nobody may cache, readable from any origin (the server's statistics).
pub fn json(text: String) -> Response<Body> {
    let mut response = file_response(text.into_bytes(), "application/json", "no-store");
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    nosniff(response)
}

/// Course answers are readable from any origin (mirrors and embedding sites), `Retry-After` included:
/// it is not a header scripts may read across origins unless it is exposed.
fn with_cors(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("Content-Length, Retry-After"));
    response
}

fn nosniff(mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}

fn preflight() -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, HEAD, OPTIONS"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("*"));
    response
}

/// The 404 of a path nothing serves.
pub fn answer_missing() -> Response<Body> {
    nosniff(not_found())
}

fn not_found() -> Response<Body> {
    plain(StatusCode::NOT_FOUND, "not found\n")
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_the_config_block() {
        let page = format!("<head>{CONFIG_OPEN}\n  {{\"old\": 1}}\n</script><script>x</script>");
        let expected = format!("<head>{CONFIG_OPEN}{{\"new\": 2}}</script><script>x</script>");
        assert_eq!(with_config(&page, "{\"new\": 2}"), Some(expected));
        assert_eq!(with_config("<head></head>", "{}"), None);
    }

    #[test]
    fn a_key_in_a_query_keeps_its_plus_signs() {
        assert_eq!(query_value("ed25519:ab+c/d="), "ed25519:ab%2Bc/d%3D");
        assert_eq!(query_value("courses/physique-3e/manifest.json"), "courses/physique-3e/manifest.json");
    }
}
