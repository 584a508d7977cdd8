//! What a healthy `cartable serve` answers to each request: the app's pages and the packed courses. One
//! `Site` value and one handler, no global state. Fault injection (`origin.rs`) wraps `Site::answer`;
//! nothing here knows about faults, counters or connections.
//!
//! Each byte of the app shell crosses the network once: every app file goes out as the build step
//! precompressed it (`<pkg>/ipfs/<cid>.br` or `.gz`, named by the CID of the uncompressed bytes) when
//! the request accepts it, with a strong ETag naming that CID, so a reload revalidates with a 304. Each
//! file is hashed once per version; the pages `serve` fills in are filled and compressed once, at start.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use anyhow::Context as _;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use cartable_core::media::media_type;
use cartable_core::Cid;

use crate::compress::{self, Encoding};
use crate::serve::policy::{content_security_policy, Framing};

/// The marker that opens the page's configuration block; `serve` replaces what follows it up to `</script>`.
pub const CONFIG_OPEN: &str = r#"<script type="application/json" id="cartable-config">"#;
const CONFIG_CLOSE: &str = "</script>";
const NO_CACHE: &str = "no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Everything the server serves. Folders are canonical, so served paths can be checked by prefix.
pub struct Site {
    /// The static pages (index.html, embed.html, sw.js, style.css...).
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
    /// The pages filled in by [`Site::fill_pages`], by name.
    filled: BTreeMap<&'static str, Filled>,
    /// The CID of each static file served.
    digests: Digests,
}

/// The app's page, whose configuration block `serve` fills in.
const INDEX_PAGE: &str = "index.html";
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
    /// A site serving the canonical folders `www` and `pkg` and `courses`; `config`, `embedded` and
    /// `mirror_origins` are set once the port is known, then [`Site::fill_pages`].
    pub fn new(www: PathBuf, pkg: PathBuf, courses: BTreeMap<String, PathBuf>) -> Site {
        Site {
            www,
            pkg,
            config: None,
            courses,
            mirror_origins: Vec::new(),
            embedded: None,
            filled: BTreeMap::new(),
            digests: Digests::default(),
        }
    }

    /// Fills in the pages that name the served course (index.html's config block, the school page, the
    /// `mount()` example) and compresses them, once: their content is fixed once the port is known, and
    /// nothing is compressed per request. A page missing from `www` is left to the static files (404).
    pub async fn fill_pages(&mut self) -> anyhow::Result<()> {
        let mut filled = BTreeMap::new();
        if let Some(config) = &self.config {
            if let Some(page) = self.page_text(INDEX_PAGE).await? {
                filled.insert(INDEX_PAGE, Filled::new(with_config(&page, config).unwrap_or(page)));
            }
        }
        if let Some((manifest, key)) = &self.embedded {
            for name in [SCHOOL_PAGE, MOUNT_EXAMPLE] {
                if let Some(page) = self.page_text(name).await? {
                    filled.insert(name, Filled::new(with_course(name, &page, manifest, key)));
                }
            }
        }
        self.filled = filled;
        Ok(())
    }

    /// The text of the page `name` in `www`, if there is one.
    async fn page_text(&self, name: &str) -> anyhow::Result<Option<String>> {
        let Some(file) = resolve(&self.www, name).await else { return Ok(None) };
        let text = tokio::fs::read_to_string(&file).await;
        text.map(Some).with_context(|| format!("cannot read {} (a page must be UTF-8 text)", file.display()))
    }

    /// The answer to `method path` (the raw, undecoded request path) with the request's `headers`.
    pub async fn answer(&self, method: &Method, path: &str, headers: &HeaderMap) -> Response<Body> {
        let response = match path.strip_prefix("/courses/") {
            Some(rest) => with_cors(self.course(method, rest).await),
            None if !matches!(*method, Method::GET | Method::HEAD) => {
                plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
            }
            None => self.app(path, headers).await,
        };
        nosniff(response)
    }

    /// A file of the app: a filled page, a file of `pkg/` (an app-shell chunk under `pkg/ipfs/`), or of
    /// `www/`. Our own pages carry their policy; the school's pages do not.
    async fn app(&self, path: &str, headers: &HeaderMap) -> Response<Body> {
        let name = match path.trim_start_matches('/') {
            "" => INDEX_PAGE,
            page => page,
        };
        let response = match (self.filled.get(name), path.strip_prefix("/pkg/")) {
            (Some(filled), _) => filled.answer(media_type(name), headers),
            (None, Some(rest)) => self.pkg_file(rest, headers).await,
            (None, None) => self.shell_file(&self.www, name, NO_CACHE, headers).await,
        };
        let ours = name.ends_with(".html") && name != SCHOOL_PAGE && name != MOUNT_EXAMPLE;
        match ours && response.status().is_success() {
            true => self.with_policy(response, name),
            false => response,
        }
    }

    /// A file of `pkg/`: its content-addressed chunks `ipfs/<cid>` are immutable and readable from any
    /// origin (the app's service worker fetches them, possibly for another site that embeds the app).
    async fn pkg_file(&self, rest: &str, headers: &HeaderMap) -> Response<Body> {
        match rest.strip_prefix("ipfs/").is_some_and(|cid| cid.parse::<Cid>().is_ok()) {
            true => with_cors(self.shell_file(&self.pkg, rest, IMMUTABLE, headers).await),
            false => self.shell_file(&self.pkg, rest, NO_CACHE, headers).await,
        }
    }

    /// A static file of the app, in the representation `headers` take among its copies in `pkg/ipfs/`,
    /// or 304 if the request holds it already.
    async fn shell_file(
        &self,
        base: &Path,
        relative: &str,
        cache: &'static str,
        headers: &HeaderMap,
    ) -> Response<Body> {
        let Some(file) = resolve(base, relative).await else { return not_found() };
        let Some((cid, read)) = self.digests.of(&file).await else { return not_found() };
        let copies = self.copies(cid).await;
        let available: Vec<Encoding> = copies.iter().map(|(encoding, _)| *encoding).collect();
        let shell = Representation::choose(cid, &available, headers, media_type(relative), cache);
        if shell.held_by(headers) {
            return shell.not_modified();
        }
        let bytes = match (copies.into_iter().find(|(encoding, _)| *encoding == shell.encoding), read) {
            (Some((_, copy)), _) => tokio::fs::read(copy).await,
            (None, Some(bytes)) => Ok(bytes),
            (None, None) => tokio::fs::read(&file).await,
        };
        bytes.map_or_else(|_| not_found(), |bytes| shell.respond(bytes.into()))
    }

    /// The compressed copies of the bytes `cid` names that the build step wrote into `pkg/ipfs/`.
    async fn copies(&self, cid: Cid) -> Vec<(Encoding, PathBuf)> {
        let mut found = Vec::new();
        for encoding in Encoding::COMPRESSED {
            if let Some(copy) = resolve(&self.pkg, &format!("ipfs/{cid}{}", encoding.suffix())).await {
                found.push((encoding, copy));
            }
        }
        found
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
                let media_type = "application/octet-stream";
                let mut response = read_response(&file, media_type, IMMUTABLE).await;
                // Signed bytes, never script of this origin, however they are opened.
                for (name, value) in cartable_core::media::file_headers(media_type) {
                    response.headers_mut().insert(name, HeaderValue::from_static(value));
                }
                response
            }
            _ => not_found(),
        }
    }
}

/// A page of a school's own site (the demo school page, the `mount()` example) naming the served
/// course and key: in its iframe's address (escaped for a query), or in its script.
fn with_course(name: &str, page: &str, manifest: &str, key: &str) -> String {
    let (manifest, key) = match name {
        SCHOOL_PAGE => (query_value(manifest), query_value(key)),
        _ => (manifest.to_owned(), key.to_owned()),
    };
    page.replace(MANIFEST_PLACEHOLDER, &manifest).replace(KEY_PLACEHOLDER, &key)
}

/// A page filled in at start, with its compressed copies made then.
struct Filled {
    cid: Cid,
    identity: Bytes,
    gzip: Bytes,
    brotli: Bytes,
}

impl Filled {
    fn new(page: String) -> Filled {
        let bytes = page.into_bytes();
        let (gzip, brotli) = (compress::gzip(&bytes).into(), compress::brotli(&bytes).into());
        Filled { cid: Cid::of(&bytes), identity: bytes.into(), gzip, brotli }
    }

    /// The page in the representation `headers` take, or 304 if the request holds it already.
    fn answer(&self, content_type: &'static str, headers: &HeaderMap) -> Response<Body> {
        let shell = Representation::choose(self.cid, &Encoding::COMPRESSED, headers, content_type, NO_CACHE);
        if shell.held_by(headers) {
            return shell.not_modified();
        }
        let bytes = match shell.encoding {
            Encoding::Identity => &self.identity,
            Encoding::Gzip => &self.gzip,
            Encoding::Brotli => &self.brotli,
        };
        shell.respond(bytes.clone())
    }
}

/// The CID of each static file served, by path, with the length and modification time it was computed
/// for: each file is hashed once, and again if it is rewritten while the server runs.
#[derive(Default)]
struct Digests(Mutex<HashMap<PathBuf, (Version, Cid)>>);

/// What tells one content of a file from the next without reading it.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Version {
    len: u64,
    modified: Option<SystemTime>,
}

impl Digests {
    /// The CID of `file`'s bytes, with the bytes if they had to be read to compute it.
    async fn of(&self, file: &Path) -> Option<(Cid, Option<Vec<u8>>)> {
        let metadata = tokio::fs::metadata(file).await.ok()?;
        let version = Version { len: metadata.len(), modified: metadata.modified().ok() };
        if let Some((_, cid)) = self.known().get(file).filter(|(known, _)| *known == version) {
            return Some((*cid, None));
        }
        let bytes = tokio::fs::read(file).await.ok()?;
        let cid = Cid::of(&bytes);
        // A file rewritten between the two reads is remembered at its next request instead.
        if bytes.len() as u64 == version.len {
            self.known().insert(file.to_owned(), (version, cid));
        }
        Some((cid, Some(bytes)))
    }

    fn known(&self) -> MutexGuard<'_, HashMap<PathBuf, (Version, Cid)>> {
        // The map stays whole even if a thread panicked holding it: entries are inserted in one step.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One representation of an app file: its bytes' CID, the encoding chosen, whether others exist, and
/// how it may be cached. Its strong ETag is `"<cid>"`, `"<cid>.br"` or `"<cid>.gz"`.
struct Representation {
    cid: Cid,
    encoding: Encoding,
    varies: bool,
    content_type: &'static str,
    cache: &'static str,
}

impl Representation {
    /// The representation `headers` (`Accept-Encoding`) take among the `available` compressed copies.
    fn choose(
        cid: Cid,
        available: &[Encoding],
        headers: &HeaderMap,
        content_type: &'static str,
        cache: &'static str,
    ) -> Representation {
        let encoding = compress::choose(&header_text(headers, &header::ACCEPT_ENCODING), available);
        Representation { cid, encoding, varies: !available.is_empty(), content_type, cache }
    }

    fn etag(&self) -> String {
        format!("\"{}{}\"", self.cid, self.encoding.suffix())
    }

    /// Whether the request's `If-None-Match` names this representation: it holds these bytes already.
    fn held_by(&self, headers: &HeaderMap) -> bool {
        etag_listed(&header_text(headers, &header::IF_NONE_MATCH), &self.etag())
    }

    fn respond(&self, bytes: Bytes) -> Response<Body> {
        let mut response = file_response(bytes, self.content_type, self.cache);
        if let Some(token) = self.encoding.token() {
            response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(token));
        }
        self.validators(response)
    }

    /// 304 with what a cache updates its stored answer with: the ETag, `Cache-Control` and `Vary`.
    fn not_modified(&self) -> Response<Body> {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(self.cache));
        self.validators(response)
    }

    fn validators(&self, mut response: Response<Body>) -> Response<Body> {
        let headers = response.headers_mut();
        if let Ok(etag) = HeaderValue::from_str(&self.etag()) {
            headers.insert(header::ETAG, etag);
        }
        if self.varies {
            headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        }
        response
    }
}

/// The values of the header `name` in `headers`, joined with commas as one list (empty if none).
fn header_text(headers: &HeaderMap, name: &header::HeaderName) -> String {
    let values: Vec<&str> = headers.get_all(name).iter().filter_map(|value| value.to_str().ok()).collect();
    values.join(", ")
}

/// Whether an `If-None-Match` value names `etag` (a quoted strong tag), or is `*`. By the weak
/// comparison RFC 9110 (13.1.2) asks of `If-None-Match`: `W/"x"` names `"x"` too (a strong comparison,
/// as for `If-Match`, would not; nothing here needs one). A malformed entry ends the list.
fn etag_listed(if_none_match: &str, etag: &str) -> bool {
    if if_none_match.trim() == "*" {
        return true;
    }
    let mut rest = if_none_match;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        let tag = rest.strip_prefix("W/").unwrap_or(rest);
        // Tags are quoted and may hold commas, so the list is read tag by tag, not split on commas.
        let Some(end) = tag.strip_prefix('"').and_then(|inside| inside.find('"')) else { return false };
        let (quoted, after) = tag.split_at(end + 2);
        if quoted == etag {
            return true;
        }
        rest = after;
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
        Ok(bytes) => file_response(bytes.into(), content_type, cache),
        Err(_) => not_found(),
    }
}

fn file_response(bytes: Bytes, content_type: &str, cache: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    let content_type =
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// The refusal of an overloaded origin (503 or 429), with `Retry-After` if given, to a request that is
/// not a page load: plain text, readable from any origin.
pub fn busy(status: StatusCode, retry_after: Option<u64>) -> Response<Body> {
    let mut response = plain(status, "the server is busy: try again later\n");
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    nosniff(with_cors(response))
}

/// The refusal of an overloaded origin to a page load (a navigation): a small page, in French then
/// English, that loads itself again after `seconds` (also sent as `Retry-After`). No script and no
/// style attribute, so that no policy blocks it; never stored, so that the reload asks the origin.
pub fn busy_page(status: StatusCode, seconds: u64) -> Response<Body> {
    let page = format!(
        r#"<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta http-equiv="refresh" content="{seconds}">
<title>Serveur saturé · Server busy</title>
</head>
<body>
<main>
<h1>Serveur saturé · <span lang="en">Server busy</span></h1>
<p>Le serveur de l'école est saturé. Nouvel essai dans {seconds} s…</p>
<p lang="en">The school's server is busy. Trying again in {seconds} s…</p>
</main>
</body>
</html>
"#
    );
    let mut response = file_response(page.into(), "text/html; charset=utf-8", "no-store");
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'"));
    nosniff(response)
}

/// A JSON document nobody may cache, readable from any origin (the server's statistics).
pub fn json(text: String) -> Response<Body> {
    let mut response = file_response(text.into(), "application/json", "no-store");
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    nosniff(response)
}

/// Course answers, the app's chunks and refusals are readable from any origin (mirrors and embedding
/// sites), `Retry-After` included: it is not a header scripts may read across origins unless it is
/// exposed.
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

    #[track_caller]
    fn check(if_none_match: &str, etag: &str, expected: bool) {
        assert_eq!(etag_listed(if_none_match, etag), expected, "`{etag}` in `{if_none_match}`");
    }

    #[test]
    fn if_none_match_names_the_representation_by_weak_comparison() {
        check(r#""abc""#, r#""abc""#, true);
        check(r#""abc.br""#, r#""abc.br""#, true);
        check(r#""abc""#, r#""abc.br""#, false);
        check(r#""abc.gz""#, r#""abc.br""#, false);
        check(r#""abc.br""#, r#""abc""#, false);
        // A weak tag names the same bytes for If-None-Match (a strong comparison would refuse it).
        check(r#"W/"abc""#, r#""abc""#, true);
        check(r#"w/"abc""#, r#""abc""#, false);
        check("*", r#""abc""#, true);
        check(" * ", r#""abc""#, true);
        check("", r#""abc""#, false);
        check("abc", r#""abc""#, false);
        check(r#""ab"#, r#""abc""#, false);
    }

    #[test]
    fn if_none_match_lists_are_read_tag_by_tag() {
        check(r#""x", "abc""#, r#""abc""#, true);
        check(r#""x",W/"abc""#, r#""abc""#, true);
        check(r#"  "x" ,	 "abc" "#, r#""abc""#, true);
        check(r#""a,b", "abc""#, r#""abc""#, true);
        check(r#""a,"abc"""#, r#""abc""#, false);
        check(r#""x", "y""#, r#""abc""#, false);
        check(r#"bad, "abc""#, r#""abc""#, false);
    }
}
