//! The origin as `cartable serve` runs it: `Site::answer` wrapped in the faults asked for, the counters,
//! the statistics endpoint and the access log. Faults touch answers under `/courses/` only. Connections
//! are the listener's business: a request to drop comes back as [`Answer::Hangup`].

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use futures_util::StreamExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::clock::{self, Stopwatch};
use crate::desk::{self, Desk, Reply};
use crate::faults::{self, Capacity, Faults};
use crate::site::{self, Site};
use crate::stats::{Counters, Event, Stats};

/// Where the counters are served as JSON. Requests to it are neither counted nor logged.
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

/// The site, its faults and what happened so far.
pub struct Origin {
    site: Site,
    faults: Faults,
    counters: Counters,
    /// One permit per course request in flight, if capacity is limited.
    slots: Option<Arc<Semaphore>>,
    started: Stopwatch,
    access_log: bool,
    /// Where submissions arrive and the teacher view, when courses are served.
    desk: Option<Desk>,
}

impl Origin {
    /// Serves `site` with `faults`; with `access_log`, prints `METHOD /path STATUS` per request on
    /// standard error (status `000` for a connection dropped without an answer).
    pub fn new(site: Site, faults: Faults, access_log: bool, desk: Option<Desk>) -> Origin {
        let slots =
            faults.capacity.map(|c| Arc::new(Semaphore::new(c.max.min(Semaphore::MAX_PERMITS as u64) as usize)));
        Origin { site, faults, counters: Counters::default(), slots, started: Stopwatch::start(), access_log, desk }
    }

    /// The course request counts so far.
    pub fn stats(&self) -> Stats {
        self.counters.snapshot()
    }

    /// The answer to `method path` (the raw, undecoded request path, without its query).
    pub async fn answer(&self, method: &Method, path: &str) -> Answer {
        if path == STATS_PATH && matches!(*method, Method::GET | Method::HEAD) {
            return Answer::Respond(site::json(self.stats().to_json()));
        }
        let answer = match path.starts_with("/courses/") {
            true => self.course(method, path).await,
            false => Answer::Respond(self.site.answer(method, path).await),
        };
        self.logged(method, path, answer)
    }

    /// The answer to a request [`desk::claims`]: a submission (a course request, with its faults) or the
    /// teacher view. `body` is the request's, or `Err` when it was over [`desk::MAX_BODY`].
    pub async fn desk(&self, method: &Method, path: &str, headers: &HeaderMap, body: Result<Bytes, ()>) -> Answer {
        let answer = match (&self.desk, desk::course_of(path)) {
            (None, _) => Answer::Respond(site::answer_missing()),
            (Some(desk), Some(course)) if *method == Method::POST => self.submit(desk, course, body).await,
            (Some(desk), _) => {
                Answer::Respond(desk.teacher(method, path, headers, body.as_deref().unwrap_or_default()))
            }
        };
        self.logged(method, path, answer)
    }

    /// `answer`, written to the access log first when it is on (`000` for a dropped connection).
    fn logged(&self, method: &Method, path: &str, answer: Answer) -> Answer {
        if self.access_log {
            let status = match &answer {
                Answer::Respond(response) => response.status().as_u16(),
                Answer::Hangup => 0,
            };
            eprintln!("{method} {path} {status:03}");
        }
        answer
    }

    async fn submit(&self, desk: &Desk, course: &str, body: Result<Bytes, ()>) -> Answer {
        let _slot = match self.admit().await {
            Ok(slot) => slot,
            Err(answer) => return answer,
        };
        if !self.site.courses.contains_key(course) {
            self.counters.add(Event::Other);
            return Answer::Respond(site::answer_missing());
        }
        let now = clock::unix_now_ms().unwrap_or_default();
        match desk.submit(course, body, now) {
            Reply::Hangup => {
                self.counters.add(Event::Dropped);
                Answer::Hangup
            }
            Reply::Respond(response) => {
                let event = match response.status() {
                    StatusCode::OK => Event::Ok,
                    StatusCode::SERVICE_UNAVAILABLE => Event::Refused,
                    _ => Event::Other,
                };
                self.counters.add(event);
                Answer::Respond(response)
            }
        }
    }

    async fn course(&self, method: &Method, path: &str) -> Answer {
        let slot = match self.admit().await {
            Ok(slot) => slot,
            Err(answer) => return answer,
        };
        let response = self.site.answer(method, path).await;
        if response.status() != StatusCode::OK {
            self.counters.add(Event::Other);
            return Answer::Respond(response);
        }
        self.counters.add(Event::Ok);
        Answer::Respond(self.spoil(method, path, response, slot).await)
    }

    /// Counts a request and puts it through the faults every request meets first: a dropped connection,
    /// the capacity (a refusal with its `Retry-After`), the latency. Its place among those in flight, or
    /// the answer to give instead.
    async fn admit(&self) -> Result<Option<OwnedSemaphorePermit>, Answer> {
        let nth = self.counters.add(Event::Received);
        if self.faults.drops(nth, self.started.elapsed()).is_some() {
            self.counters.add(Event::Dropped);
            return Err(Answer::Hangup);
        }
        let slot = self.take_slot().map_err(|Capacity { refusal, retry_after, .. }| {
            self.counters.add(Event::Refused);
            Answer::Respond(site::busy(refusal, retry_after))
        })?;
        tokio::time::sleep(self.faults.latency).await;
        Ok(slot)
    }

    /// A place among the requests in flight (none needed without a capacity), or the full capacity.
    fn take_slot(&self) -> Result<Option<OwnedSemaphorePermit>, Capacity> {
        let (Some(slots), Some(capacity)) = (&self.slots, self.faults.capacity) else { return Ok(None) };
        Arc::clone(slots).try_acquire_owned().map(Some).map_err(|_| capacity)
    }

    /// `response` with its body corrupted or stalled, as asked. A stalled body keeps its `slot` until
    /// its connection closes: a hung request still takes the origin's capacity.
    async fn spoil(
        &self,
        method: &Method,
        path: &str,
        response: Response<Body>,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Response<Body> {
        let corrupt = self.faults.corrupts(path);
        if *method != Method::GET || (!corrupt && self.faults.stall_after.is_none()) {
            return response;
        }
        let (mut parts, body) = response.into_parts();
        // The site's bodies are whole files already in memory: reading them back cannot fail.
        let mut bytes = axum::body::to_bytes(body, usize::MAX).await.map(Vec::from).unwrap_or_default();
        if corrupt {
            faults::corrupt(&mut bytes);
            self.counters.add(Event::Corrupted);
        }
        parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        let body = match self.faults.stall_after.and_then(|limit| usize::try_from(limit).ok()) {
            Some(limit) if limit < bytes.len() => {
                self.counters.add(Event::Stalled);
                stalled(bytes, limit, slot)
            }
            _ => Body::from(bytes),
        };
        Response::from_parts(parts, body)
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
