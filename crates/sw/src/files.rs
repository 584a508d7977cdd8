//! Whole course files served from stored chunks, with byte ranges, so audio and video play and seek
//! offline. A chunk not yet stored is fetched from the origin, or else from the page's mirrors, or else
//! asked of the tab leading the swarm (`leader`), checked against its CID and kept.

use cartable_core::manifest::StoredContents;
use cartable_core::store::Store as _;
use cartable_core::{path, range, Cid};
use cartable_web::fetcher::Source;
use cartable_web::{digest, net};
use js_sys::Function;
use web_sys::Response;

use crate::http;
use crate::leader::Leader;

/// Why a file could not be answered.
#[derive(Clone, Copy)]
enum Failure {
    NotFound,
    Unsatisfiable(u64),
    Unavailable,
    Corrupted,
}

/// How long a mirror has to send a chunk the worker misses: a 1 MiB chunk takes about 9 s on a 1 Mbit/s
/// line; a mirror stalled for longer is passed over for the next one.
const MIRROR_WAIT_MS: u32 = 30_000;

/// Where a chunk the origin cannot give is asked next.
pub struct Elsewhere<'a> {
    /// The page's mirrors: base URLs serving `ipfs/<cid>` (the worker script's `mirror` parameters).
    pub mirrors: &'a [String],
    /// `askLeader` (see [`Leader`]).
    pub leader: &'a Function,
}

/// The answer for `<origin><base>/cartable-files/<rest>`, `rest` being `<course id>/<course path>`; what
/// the origin cannot give is asked `elsewhere`.
pub async fn answer(origin: &str, base: &str, rest: &str, range: Option<&str>, elsewhere: &Elsewhere<'_>) -> Response {
    match serve(origin, base, rest, range, elsewhere).await {
        Ok(response) => response,
        Err(Failure::NotFound) => http::text(404, "not in this course\n", &[]),
        Err(Failure::Unsatisfiable(size)) => {
            http::text(416, "range not satisfiable\n", &[("content-range", format!("bytes */{size}"))])
        }
        Err(Failure::Unavailable) => http::text(504, "not stored, and the server does not answer\n", &[]),
        Err(Failure::Corrupted) => http::text(502, "the server sent corrupted bytes\n", &[]),
    }
}

async fn serve(
    origin: &str,
    base: &str,
    rest: &str,
    range: Option<&str>,
    elsewhere: &Elsewhere<'_>,
) -> Result<Response, Failure> {
    let (course_id, encoded) = rest.split_once('/').ok_or(Failure::NotFound)?;
    let file_path = path::percent_decode(encoded).ok_or(Failure::NotFound)?;
    let store = crate::connection::store().await.map_err(|_| Failure::Unavailable)?;
    let stored = store.get_manifest(course_id).await.ok().flatten().ok_or(Failure::NotFound)?;
    // The page verified this manifest before it stored it.
    let manifest = StoredContents::read(&stored.json).map_err(|_| Failure::NotFound)?;
    let file = manifest.file(&file_path).ok_or(Failure::NotFound)?;
    let span = range::parse(range, file.size).map_err(|_| Failure::Unsatisfiable(file.size))?;
    let leader = Leader { ask: elsewhere.leader, course_id };
    let mut body = Vec::with_capacity(span.len() as usize);
    for piece in range::pieces(file, manifest.chunk_size, &span) {
        let len = file.chunk_len(piece.index, manifest.chunk_size);
        let url = format!("{origin}{base}/ipfs/{}", piece.cid);
        let chunk = chunk(&store, &url, elsewhere.mirrors, &leader, piece.cid, len).await?;
        body.extend_from_slice(chunk.get(piece.from..piece.to).ok_or(Failure::Corrupted)?);
    }
    // Signed bytes, never the app's script: sandboxed, never sniffed, and a download unless a lesson
    // shows it.
    let mut headers = http::file_headers(&file.media_type);
    headers.extend([("accept-ranges", "bytes".to_owned()), ("cache-control", "no-cache".to_owned())]);
    let status = match span.partial {
        true => {
            headers.push(("content-range", span.content_range(file.size)));
            206
        }
        false => 200,
    };
    http::bytes(status, body, &file.media_type, &headers).map_err(|_| Failure::Unavailable)
}

async fn chunk(
    store: &cartable_web::store::IdbStore,
    url: &str,
    mirrors: &[String],
    leader: &Leader<'_>,
    cid: Cid,
    len: u64,
) -> Result<Vec<u8>, Failure> {
    if let Some(bytes) = store.get_chunk(&cid).await.ok().flatten() {
        return Ok(bytes);
    }
    // The origin first, then each mirror in turn; what none of them gives may come from classmates,
    // through the tab leading the swarm. Only bytes that match the CID are served and kept.
    let mut failure = Failure::Unavailable;
    for mirror in std::iter::once(None).chain(mirrors.iter().map(Some)) {
        let fetched = match mirror {
            None => net::get(url).await,
            Some(base) => net::get_within(&Source::mirror(base).chunk_url(&cid), MIRROR_WAIT_MS).await,
        };
        let Ok(bytes) = fetched else { continue };
        match digest::check_chunk(&bytes, cid, len).await {
            Ok(()) => return Ok(keep(store, cid, bytes).await),
            Err(_) => failure = Failure::Corrupted,
        }
    }
    let bytes = leader.chunk(cid, len).await.ok_or(failure)?;
    match digest::check_chunk(&bytes, cid, len).await {
        Ok(()) => Ok(keep(store, cid, bytes).await),
        Err(_) => Err(failure),
    }
}

/// Keeps `bytes`, verified chunk `cid`, and returns them. Keeping is a convenience: the answer does not
/// depend on it (a full store still plays).
async fn keep(store: &cartable_web::store::IdbStore, cid: Cid, bytes: Vec<u8>) -> Vec<u8> {
    let _ = store.put_chunks(vec![(cid, bytes.clone())]).await;
    bytes
}
