//! The origin as `cartable serve` runs it: `Site::answer` wrapped in the faults asked for, the counters,
//! the statistics endpoint and the access log. The faults cover every request ([`Faults::covers`]), the
//! app shell's as much as the courses': an overloaded school server fails both. Two requests never meet
//! them: the statistics endpoint (the tests' instrument, neither counted nor logged) and WebSocket
//! upgrades at `/tracker`, which `listener.rs` hands to the tracker before they get here. Connections
//! are the listener's business: a request to drop comes back as [`Answer::Hangup`].

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use futures_util::StreamExt as _;
use hyper::body::Body as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::clock::{self, Stopwatch};
use crate::serve::faults::{self, Capacity, Faults};
use crate::serve::site::{self, Site};
use crate::serve::stats::{Counters, Event, Part, Stats};
use crate::serve::submissions::{self, Desk, Reply};
use crate::serve::teacher;

/// Where the counters are served as JSON. Requests to it are neither faulted, counted nor logged.
pub const STATS_PATH: &str = "/_cartable/stats";

/// How long a stalled body stays silent before its connection is closed: longer than any client waits.
const STALL_FOR: Duration = Duration::from_secs(600);

/// What to do with a request.
pub enum Answer {
    /// Send this response.
    Respond(Response<Body>),
    /// Close the connection without answering.
    Hangup,
}

/// An answer and the body bytes it puts on the wire.
struct Sent {
    answer: Answer,
    bytes: u64,
}

impl Sent {
    /// `answer` with its whole body sent (none for `HEAD`, 304 and a dropped connection).
    fn whole(method: &Method, answer: Answer) -> Sent {
        let bytes = match &answer {
            Answer::Respond(response) => body_length(method, response),
            Answer::Hangup => 0,
        };
        Sent { answer, bytes }
    }
}

/// The site, its faults and what happened so far.
pub struct Origin {
    site: Site,
    faults: Faults,
    counters: Counters,
    /// One permit per request in flight, if capacity is limited.
    slots: Option<Arc<Semaphore>>,
    started: Stopwatch,
    access_log: bool,
    /// Where submissions arrive and the teacher view, when courses are served.
    desk: Option<Desk>,
}

impl Origin {
    /// Serves `site` with `faults`; with `access_log`, prints `METHOD /path STATUS BYTES` per request on
    /// standard error (`000 0` for a connection dropped without an answer).
    pub fn new(site: Site, faults: Faults, access_log: bool, desk: Option<Desk>) -> Origin {
        let slots =
            faults.capacity.map(|c| Arc::new(Semaphore::new(c.max.min(Semaphore::MAX_PERMITS as u64) as usize)));
        Origin { site, faults, counters: Counters::default(), slots, started: Stopwatch::start(), access_log, desk }
    }

    /// The request counts and the bytes sent so far.
    pub fn stats(&self) -> Stats {
        self.counters.snapshot()
    }

    /// The answer to `method path` (the raw, undecoded request path, without its query) with the
    /// request's `headers`.
    pub async fn answer(&self, method: &Method, path: &str, headers: &HeaderMap) -> Answer {
        if path == STATS_PATH && matches!(*method, Method::GET | Method::HEAD) {
            return Answer::Respond(site::json(self.stats().to_json()));
        }
        let sent = match self.faults.covers(path) {
            true => self.faulted(method, path, headers).await,
            false => Sent::whole(method, Answer::Respond(self.site.answer(method, path, headers).await)),
        };
        self.finish(method, path, sent)
    }

    /// The answer to a request [`submissions::claims`] from `address` (unknown: no limit per address), its body
    /// not read yet: a submission (whose body is read only once [`Desk::admit`] lets it in) or the
    /// teacher view (whose body, a login form, is read up to [`submissions::MAX_FORM`]), with the faults when
    /// they cover it.
    pub async fn receive(&self, address: Option<IpAddr>, request: Request<Body>) -> Answer {
        let (parts, body) = request.into_parts();
        self.at_desk_through_faults(address, &parts.method, parts.uri.path(), &parts.headers, body).await
    }

    async fn at_desk_through_faults(
        &self,
        address: Option<IpAddr>,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        body: Body,
    ) -> Answer {
        let covered = self.faults.covers(path);
        let _slot = match covered {
            true => match self.admit(headers).await {
                Ok(slot) => slot,
                Err(refusal) => return self.finish(method, path, Sent::whole(method, refusal)),
            },
            false => None,
        };
        let answer = match (&self.desk, submissions::course_of(path)) {
            (None, _) => Answer::Respond(site::answer_missing()),
            (Some(desk), Some(course)) if *method == Method::POST => {
                self.submit(desk, address, course, headers, body).await
            }
            (Some(desk), _) => {
                let form = axum::body::to_bytes(body, submissions::MAX_FORM).await.unwrap_or_default();
                Answer::Respond(desk.teacher(address, method, path, headers, &form).await)
            }
        };
        if covered {
            self.count(status(&answer));
        }
        self.finish(method, path, Sent::whole(method, answer))
    }

    /// A submission for `course`: refused unread past the limits, else read (at most the length it
    /// announced) and stored, its share of the upload memory held until then.
    async fn submit(
        &self,
        desk: &Desk,
        address: Option<IpAddr>,
        course: &str,
        headers: &HeaderMap,
        body: Body,
    ) -> Answer {
        if !self.site.courses.contains_key(course) {
            return Answer::Respond(site::answer_missing());
        }
        let admitted = match desk.admit(address, headers) {
            Ok(admitted) => admitted,
            Err(refused) => return Answer::Respond(refused.answer()),
        };
        let body = match submissions::body_of(body, admitted.length).await {
            Ok(bytes) => Ok(bytes),
            Err(submissions::Cut::TooLong) => Err(()),
            Err(submissions::Cut::Broken) => return Answer::Hangup,
        };
        let now = clock::unix_now_ms().unwrap_or_default();
        let reply = desk.submit(course, body, now).await;
        drop(admitted);
        match reply {
            Reply::Hangup => Answer::Hangup,
            Reply::Respond(response) => Answer::Respond(response),
        }
    }

    /// Counts the bytes `sent` and writes the access log line when it is on (`000` for a dropped
    /// connection); returns the answer.
    fn finish(&self, method: &Method, path: &str, Sent { answer, bytes }: Sent) -> Answer {
        let status = status(&answer).map_or(0, |status| status.as_u16());
        self.counters.sent(part(path, status), bytes);
        if self.access_log {
            eprintln!("{method} {path} {status:03} {bytes}");
        }
        answer
    }

    /// Counts how a request the faults cover ended: answered with `status`, or dropped (`None`).
    fn count(&self, status: Option<StatusCode>) {
        let event = match status {
            None => Event::Dropped,
            Some(StatusCode::OK | StatusCode::NOT_MODIFIED) => Event::Ok,
            Some(StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS) => Event::Refused,
            Some(_) => Event::Other,
        };
        self.counters.add(event);
    }

    /// The site's answer through every fault: admission, then a chunk body corrupted or stalled.
    async fn faulted(&self, method: &Method, path: &str, headers: &HeaderMap) -> Sent {
        let slot = match self.admit(headers).await {
            Ok(slot) => slot,
            Err(refusal) => return Sent::whole(method, refusal),
        };
        let response = match self.faults.corrupts(path) {
            // Altered bytes go out uncompressed, so that they fail the client's CID check rather than its
            // decompression, as a lying server's would.
            true => self.site.answer(method, path, &identity_only(headers)).await,
            false => self.site.answer(method, path, headers).await,
        };
        self.count(Some(response.status()));
        self.spoil(method, path, response, slot).await
    }

    /// Counts a request and puts it through the faults every request meets first: a dropped connection,
    /// the capacity (a refusal with its `Retry-After`), the latency. Its place among those in flight, or
    /// the answer to give instead.
    async fn admit(&self, headers: &HeaderMap) -> Result<Option<OwnedSemaphorePermit>, Answer> {
        let nth = self.counters.add(Event::Received);
        if self.faults.drops(nth, self.started.elapsed()).is_some() {
            self.counters.add(Event::Dropped);
            return Err(Answer::Hangup);
        }
        let slot = self.take_slot().map_err(|capacity| {
            self.counters.add(Event::Refused);
            Answer::Respond(refusal(capacity, headers))
        })?;
        tokio::time::sleep(self.faults.latency).await;
        Ok(slot)
    }

    /// A place among the requests in flight (none needed without a capacity), or the full capacity.
    fn take_slot(&self) -> Result<Option<OwnedSemaphorePermit>, Capacity> {
        let (Some(slots), Some(capacity)) = (&self.slots, self.faults.capacity) else { return Ok(None) };
        Arc::clone(slots).try_acquire_owned().map(Some).map_err(|_| capacity)
    }

    /// `response` with its body corrupted or stalled, as asked, if it is a chunk's. A stalled body
    /// keeps its `slot` until its connection closes: a hung request still takes the origin's capacity.
    async fn spoil(
        &self,
        method: &Method,
        path: &str,
        response: Response<Body>,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Sent {
        let corrupt = self.faults.corrupts(path);
        let chunk = faults::chunk_cid(path).is_some() && response.status() == StatusCode::OK;
        if *method != Method::GET || !chunk || (!corrupt && self.faults.stall_after.is_none()) {
            return Sent::whole(method, Answer::Respond(response));
        }
        let (mut parts, body) = response.into_parts();
        // The site's bodies are whole files already in memory: reading them back cannot fail.
        let mut bytes = axum::body::to_bytes(body, usize::MAX).await.map(Vec::from).unwrap_or_default();
        if corrupt {
            faults::corrupt(&mut bytes);
            self.counters.add(Event::Corrupted);
            // The true bytes' validator does not name these: a 304 later must not bless them.
            parts.headers.remove(header::ETAG);
        }
        parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        let (body, sent) = match self.faults.stall_after.and_then(|limit| usize::try_from(limit).ok()) {
            Some(limit) if limit < bytes.len() => {
                self.counters.add(Event::Stalled);
                (stalled(bytes, limit, slot), limit)
            }
            _ => {
                let length = bytes.len();
                (Body::from(bytes), length)
            }
        };
        Sent { answer: Answer::Respond(Response::from_parts(parts, body)), bytes: sent as u64 }
    }
}

/// The status `answer` goes out with; none for a dropped connection.
fn status(answer: &Answer) -> Option<StatusCode> {
    match answer {
        Answer::Respond(response) => Some(response.status()),
        Answer::Hangup => None,
    }
}

/// The refusal beyond capacity: for a page load, a page that reloads itself after `Retry-After` plus a
/// jitter drawn for this answer, so that a class refused together does not come back together; for
/// anything else, the plain answer a script reads.
fn refusal(Capacity { refusal, retry_after, .. }: Capacity, headers: &HeaderMap) -> Response<Body> {
    if !is_navigation(headers) {
        return site::busy(refusal, retry_after);
    }
    let wait = retry_after.unwrap_or(faults::DEFAULT_RETRY_AFTER);
    // Without randomness the jitter is 0: the page still reloads, only less spread out.
    let random = getrandom::u64().unwrap_or_default();
    site::busy_page(refusal, faults::refresh_after(wait, random))
}

/// Whether a request loads a page a person looks at: `Sec-Fetch-Mode: navigate`, or an `Accept` that
/// names `text/html` (browsers that send no Fetch Metadata).
fn is_navigation(headers: &HeaderMap) -> bool {
    let names = |name: &str, wanted: &str| {
        let lowercase = |value: &HeaderValue| value.to_str().map(str::to_ascii_lowercase).unwrap_or_default();
        headers.get_all(name).iter().any(|value| lowercase(value).contains(wanted))
    };
    names("sec-fetch-mode", "navigate") || names("accept", "text/html")
}

/// `headers` without `Accept-Encoding`: the request as one that takes the bytes as they are.
fn identity_only(headers: &HeaderMap) -> HeaderMap {
    let mut headers = headers.clone();
    headers.remove(header::ACCEPT_ENCODING);
    headers
}

/// The body bytes `response` sends to `method`: none for `HEAD`, 304 and 204, else its length (all of
/// the site's bodies are whole in memory, so their length is known).
fn body_length(method: &Method, response: &Response<Body>) -> u64 {
    let status = response.status();
    if *method == Method::HEAD || status == StatusCode::NOT_MODIFIED || status == StatusCode::NO_CONTENT {
        return 0;
    }
    let hint = response.body().size_hint();
    hint.exact().unwrap_or(hint.lower())
}

/// What the body of an answer to `path` with `status` counts as: errors, submissions and the teacher
/// view are `Other`, the rest under `/courses/` `Course`, everything else `App`.
fn part(path: &str, status: u16) -> Part {
    let desk = submissions::course_of(path).is_some() || path == teacher::PATH || path.starts_with("/teacher/");
    match (status >= 400 || desk, path.starts_with("/courses/")) {
        (true, _) => Part::Other,
        (false, true) => Part::Course,
        (false, false) => Part::App,
    }
}

/// A body that sends the first `limit` of `bytes`, then nothing for [`STALL_FOR`], then fails (which
/// closes the connection).
fn stalled(mut bytes: Vec<u8>, limit: usize, slot: Option<OwnedSemaphorePermit>) -> Body {
    bytes.truncate(limit);
    let sent = futures_util::stream::once(async move { Ok(Bytes::from(bytes)) });
    let silence = futures_util::stream::once(async move {
        let _slot = slot;
        tokio::time::sleep(STALL_FOR).await;
        Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the body stalled on purpose"))
    });
    Body::from_stream(sent.chain(silence))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_part(path: &str, status: u16, expected: Part) {
        assert_eq!(part(path, status), expected, "{path} {status}");
    }

    #[test]
    fn bytes_count_as_app_course_or_other() {
        check_part("/", 200, Part::App);
        check_part("/pkg/cartable_bg.wasm", 200, Part::App);
        check_part("/pkg/ipfs/bafkreiexample", 200, Part::App);
        check_part("/sw.js", 304, Part::App);
        check_part("/courses/essai/manifest.json", 200, Part::Course);
        check_part("/courses/essai/ipfs/bafkreiexample", 200, Part::Course);
        check_part("/courses/essai/submissions", 200, Part::Other);
        check_part("/teacher", 200, Part::Other);
        check_part("/teacher/export.csv", 200, Part::Other);
        check_part("/courses/essai/ipfs/bafkreiexample", 503, Part::Other);
        check_part("/style.css", 404, Part::Other);
    }

    #[track_caller]
    fn check_navigation(headers: &[(&str, &str)], expected: bool) {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(header::HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
        }
        assert_eq!(is_navigation(&map), expected, "{headers:?}");
    }

    #[test]
    fn page_loads_are_navigations() {
        check_navigation(&[("sec-fetch-mode", "navigate")], true);
        check_navigation(&[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")], true);
        check_navigation(&[("Accept", "Text/HTML")], true);
        check_navigation(&[("sec-fetch-mode", "cors"), ("accept", "*/*")], false);
        check_navigation(&[("accept", "application/wasm")], false);
        check_navigation(&[], false);
    }
}
