//! Where pupils' work arrives at `cartable serve`: `POST /courses/<id>/submissions` stores an upload in
//! the register and answers its receipt; `/teacher` is the teacher view (`teacher.rs`). The faults of
//! `--refuse-submissions` and `--drop-response-every` are applied here, around the register, since only
//! here is the difference between "refused" and "stored but the answer lost" visible. Before a byte of
//! an upload is read, [`Desk::admit`] applies the limits of [`Limits`]: a rate per client address, the
//! announced length, and the memory all the bodies being received may take together. Decoding and
//! storing happen on tokio's blocking pool (`register::off_loop`), never on the request loop.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use cartable_core::submission::{decode_upload, MAX_ATTACHMENT_BYTES, SUBMISSIONS_PATH};
use futures_util::StreamExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::clock::Stopwatch;
use crate::serve::quota::{self, Quota, Rate};
use crate::serve::register::{self, Register, Stored};
use crate::serve::teacher::{self, Teacher};

/// The largest upload body read: the attachments in base64 (4/3 of their size) plus the texts.
pub const MAX_BODY: usize = (MAX_ATTACHMENT_BYTES as usize / 3 + 1) * 4 + 1024 * 1024;
/// The largest body read for the teacher view: its login form.
pub const MAX_FORM: usize = 4096;
/// When an upload refused for want of memory may come back: about the time a large upload takes on a
/// school's network (the pupil's outbox adds its jitter).
const UPLOAD_RETRY_AFTER: u64 = 5;
/// When a submission refused by a full register may come back: the school has to make room first.
const FULL_RETRY_AFTER: u64 = 600;

/// `--upload-memory-mib` by default: four of the largest uploads at once, or hundreds of usual ones.
pub const DEFAULT_UPLOAD_MEMORY_MIB: u64 = 64;
/// `--submissions-per-minute` by default: a class's outbox flushing a morning's work at once through
/// one school address gets through; a script storing keys in a loop does not.
pub const DEFAULT_SUBMISSIONS_PER_MINUTE: u32 = 120;
/// `--db-max-mib` by default: a school year of hand-ins, well below a small server's disk.
pub const DEFAULT_DB_MAX_MIB: u64 = 4096;

/// How much pupils may send, and how fast: flags of `cartable serve`.
#[derive(clap::Args, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The memory, in MiB, that the submission bodies being received and stored may take together; past
    /// it a new upload gets 503 with Retry-After at once, before its body is read (the pupil's outbox
    /// sends it again then). An upload larger than this takes all of it.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_UPLOAD_MEMORY_MIB,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub upload_memory_mib: u64,
    /// Submissions one client address may post a minute, in a burst, then one every 60/N s; past it, 429
    /// with Retry-After (0: no limit). Behind a reverse proxy every pupil has the proxy's address.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SUBMISSIONS_PER_MINUTE)]
    pub submissions_per_minute: u32,
    /// Once the --db file (with its write-ahead log) takes this many MiB, new submissions get 503 with
    /// Retry-After and are not stored (a repeat still gets its receipt): a flood cannot fill the disk.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_DB_MAX_MIB)]
    pub db_max_mib: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            upload_memory_mib: DEFAULT_UPLOAD_MEMORY_MIB,
            submissions_per_minute: DEFAULT_SUBMISSIONS_PER_MINUTE,
            db_max_mib: DEFAULT_DB_MAX_MIB,
        }
    }
}

impl Limits {
    /// The upload memory in bytes, as a number of semaphore permits.
    fn upload_memory(&self) -> usize {
        let bytes = usize::try_from(self.upload_memory_mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        bytes.min(Semaphore::MAX_PERMITS)
    }
}

/// The register, the teacher view, the limits on uploads and the submission faults.
pub struct Desk {
    register: Arc<Register>,
    teacher: Teacher,
    limits: Limits,
    /// One permit per byte of the upload bodies being received or stored.
    uploads: Arc<Semaphore>,
    /// Submissions per client address, if limited.
    pace: Option<Quota>,
    started: Stopwatch,
    full_told: AtomicBool,
    refuse_first: u64,
    drop_response_every: Option<u64>,
    posted: AtomicU64,
    stored: AtomicU64,
}

/// An upload let in before its body is read: its share of the upload memory, given back when this is
/// dropped (once it is stored, or refused), and the most bytes its body may bring.
pub struct Admitted {
    _share: OwnedSemaphorePermit,
    /// The body's announced length, or [`MAX_BODY`] if none was.
    pub length: usize,
}

/// Why an upload is refused before a byte of its body is read. Each answer but the 413 has a
/// `Retry-After`, which the pupil's outbox waits for before it sends the same key again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The address is past its rate: 429, to come back in so many seconds.
    TooFast(u64),
    /// It announces more than [`MAX_BODY`]: 413, final (the outbox keeps the work and says why).
    TooLarge,
    /// The bodies being received take the upload memory: 503.
    Busy,
}

impl Refused {
    /// The answer that says it.
    pub fn answer(self) -> Response<Body> {
        match self {
            Refused::TooFast(seconds) => refusal(
                StatusCode::TOO_MANY_REQUESTS,
                seconds,
                "too many submissions from this address: try again later",
            ),
            Refused::TooLarge => too_large(),
            Refused::Busy => {
                refusal(StatusCode::SERVICE_UNAVAILABLE, UPLOAD_RETRY_AFTER, "the server is busy: try again later")
            }
        }
    }
}

/// What became of a request the desk handles.
pub enum Reply {
    /// Send this response.
    Respond(Response<Body>),
    /// The submission is stored; close the connection without answering (a lost answer).
    Hangup,
}

/// Whether `method path` is the desk's: a submission posted to a course, or the teacher view.
pub fn claims(method: &Method, path: &str) -> bool {
    let submission = *method == Method::POST && path.starts_with("/courses/") && path.ends_with(SUBMISSIONS_PATH);
    submission || path == teacher::PATH || path.starts_with("/teacher/")
}

/// The course id of a submissions path `/courses/<id>/submissions`.
pub fn course_of(path: &str) -> Option<&str> {
    path.strip_prefix("/courses/")?.strip_suffix(SUBMISSIONS_PATH)?.strip_suffix('/').filter(|id| !id.contains('/'))
}

impl Desk {
    /// A desk over `register` within `limits`, opening the teacher view to `token`; the first
    /// `refuse_first` submissions are refused, and every `drop_response_every`-th new one loses its answer.
    pub fn new(
        register: Register,
        token: String,
        limits: Limits,
        refuse_first: u64,
        drop_response_every: Option<u64>,
    ) -> Desk {
        let register = Arc::new(register);
        let pace =
            (limits.submissions_per_minute > 0).then(|| Quota::new(Rate::per_minute(limits.submissions_per_minute)));
        Desk {
            teacher: Teacher::new(Arc::clone(&register), token),
            register,
            uploads: Arc::new(Semaphore::new(limits.upload_memory())),
            limits,
            pace,
            started: Stopwatch::start(),
            full_told: AtomicBool::new(false),
            refuse_first,
            drop_response_every,
            posted: AtomicU64::new(0),
            stored: AtomicU64::new(0),
        }
    }

    /// The teacher view's answer to a request from `address` (unknown: no lockout).
    pub async fn teacher(
        &self,
        address: Option<IpAddr>,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Response<Body> {
        self.teacher.answer(address, method, path, headers, body).await
    }

    /// Whether an upload from `address` (unknown: no rate applies) announcing `headers` may be read now,
    /// or why not; see [`Refused`].
    pub fn admit(&self, address: Option<IpAddr>, headers: &HeaderMap) -> Result<Admitted, Refused> {
        if let (Some(pace), Some(address)) = (&self.pace, address) {
            let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            pace.take(address, now).map_err(|wait| Refused::TooFast(quota::retry_after(wait)))?;
        }
        let length = announced(headers).ok_or(Refused::TooLarge)?;
        let share = u32::try_from(length.min(self.limits.upload_memory())).unwrap_or(u32::MAX);
        let share = Arc::clone(&self.uploads).try_acquire_many_owned(share).map_err(|_| Refused::Busy)?;
        Ok(Admitted { _share: share, length })
    }

    /// Stores the upload `body` posted for `course` (a served course id) at `now` (ms since the epoch)
    /// and answers its receipt, or a 400 saying what is wrong, or a refusal of `--refuse-submissions` or
    /// of a full register.
    pub async fn submit(&self, course: &str, body: Result<Bytes, ()>, now: i64) -> Reply {
        if self.posted.fetch_add(1, Ordering::Relaxed) < self.refuse_first {
            return Reply::Respond(crate::serve::site::busy(StatusCode::SERVICE_UNAVAILABLE, Some(1)));
        }
        let Ok(body) = body else { return Reply::Respond(too_large()) };
        let (course, limit) = (course.to_owned(), self.limits.db_max_mib.saturating_mul(1 << 20));
        let filed = register::off_loop(&self.register, move |register| file(register, &course, &body, now, limit));
        let (receipt, new) = match filed.await {
            Ok(Ok(Stored::New(receipt))) => (receipt, true),
            Ok(Ok(Stored::Again(receipt))) => (receipt, false),
            Ok(Ok(Stored::Full)) => return Reply::Respond(self.full()),
            Ok(Err(rule)) => return Reply::Respond(message(StatusCode::BAD_REQUEST, rule)),
            Err(error) => {
                eprintln!("cartable serve: cannot store a submission: {error:#}");
                return Reply::Respond(message(StatusCode::SERVICE_UNAVAILABLE, "cannot store it now".into()));
            }
        };
        // Only a new row's answer is lost: its repeat is answered, as a real origin would answer it.
        let lost = new && {
            let stored = self.stored.fetch_add(1, Ordering::Relaxed) + 1;
            self.drop_response_every.is_some_and(|every| stored % every == 0)
        };
        if lost {
            return Reply::Hangup;
        }
        // A receipt is plain numbers and a hex key: serialising it cannot fail.
        let json = serde_json::to_string(&receipt).unwrap_or_default();
        let mut response = Response::new(Body::from(json));
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Reply::Respond(response)
    }

    /// The refusal of a new submission by a full register, said once on standard error for the school.
    fn full(&self) -> Response<Body> {
        if !self.full_told.swap(true, Ordering::Relaxed) {
            eprintln!(
                "cartable serve: the submissions database has reached --db-max-mib {} MiB: new submissions are \
                 refused until there is room (export and archive it, or raise the limit)",
                self.limits.db_max_mib
            );
        }
        refusal(StatusCode::SERVICE_UNAVAILABLE, FULL_RETRY_AFTER, "the school's register is full: try again later")
    }
}

/// Why an upload's body did not arrive whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// It brought more than it may: a 413.
    TooLong,
    /// The connection failed or stalled on the way: nobody waits for an answer, and a 413 would tell the
    /// pupil's outbox to give up on work it can still send.
    Broken,
}

/// An upload's body, at most `limit` bytes (the share of the upload memory it was admitted with, taken
/// at once).
pub async fn body_of(body: Body, limit: usize) -> Result<Bytes, Cut> {
    let mut parts = body.into_data_stream();
    let mut bytes = Vec::with_capacity(limit);
    while let Some(part) = parts.next().await {
        let part = part.map_err(|_| Cut::Broken)?;
        if bytes.len() + part.len() > limit {
            return Err(Cut::TooLong);
        }
        bytes.extend_from_slice(&part);
    }
    Ok(Bytes::from(bytes))
}

/// The most bytes an upload's body may bring, from its `Content-Length` ([`MAX_BODY`] for a body sent in
/// chunks, which announces none); `None` when it announces more than [`MAX_BODY`], or nonsense.
pub fn announced(headers: &HeaderMap) -> Option<usize> {
    let Some(value) = headers.get(header::CONTENT_LENGTH) else { return Some(MAX_BODY) };
    let length = value.to_str().ok()?.trim().parse::<u64>().ok()?;
    usize::try_from(length).ok().filter(|length| *length <= MAX_BODY)
}

/// Decodes an upload `body` for `course` and stores it at `now` under a register `limit` in bytes: what
/// the register made of it, or the rule it breaks (a 400). Decoding base64 and hashing files take time
/// too: this runs off the request loop with the storing.
fn file(
    register: &Register,
    course: &str,
    body: &[u8],
    now: i64,
    limit: u64,
) -> anyhow::Result<Result<Stored, String>> {
    let upload = match decode_upload(body) {
        Ok(upload) => upload,
        Err(error) => return Ok(Err(error.to_string())),
    };
    if upload.submission.course_id != course {
        return Ok(Err("the submission names another course".into()));
    }
    register.store(&upload, now, limit).map(Ok)
}

/// The answer to an upload over [`MAX_BODY`]: final, the outbox keeps the work and says why.
pub fn too_large() -> Response<Body> {
    message(StatusCode::PAYLOAD_TOO_LARGE, "the submission is too large".into())
}

/// A refusal to come back from in `seconds`.
fn refusal(status: StatusCode, seconds: u64, text: &str) -> Response<Body> {
    let mut response = message(status, text.into());
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

fn message(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(Body::from(format!("{text}\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submission_paths_name_one_course() {
        assert_eq!(course_of("/courses/physique-3e/submissions"), Some("physique-3e"));
        assert_eq!(course_of("/courses/a/b/submissions"), None);
        assert_eq!(course_of("/courses/submissions"), None);
        assert!(claims(&Method::POST, "/courses/physique-3e/submissions"));
        assert!(!claims(&Method::GET, "/courses/physique-3e/submissions"));
        assert!(claims(&Method::GET, "/teacher") && claims(&Method::GET, "/teacher/submissions.csv"));
        assert!(!claims(&Method::GET, "/teachers"));
    }

    fn length(value: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = value {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn an_announced_length_over_the_limit_is_refused_unread() {
        assert_eq!(announced(&length(Some("1200"))), Some(1200));
        assert_eq!(announced(&length(Some(&MAX_BODY.to_string()))), Some(MAX_BODY));
        assert_eq!(announced(&length(Some(&(MAX_BODY + 1).to_string()))), None);
        assert_eq!(announced(&length(Some("99999999999999999999999"))), None);
        assert_eq!(announced(&length(Some("-1"))), None);
        assert_eq!(announced(&length(None)), Some(MAX_BODY), "a chunked body may bring the most");
    }

    fn desk(limits: Limits) -> (tempfile::TempDir, Desk) {
        let folder = tempfile::tempdir().expect("temp dir");
        let register = Register::open(&folder.path().join("work.sqlite")).expect("open");
        (folder, Desk::new(register, "s3cret-token".into(), limits, 0, None))
    }

    fn refused(admitted: Result<Admitted, Refused>) -> Option<Refused> {
        admitted.err()
    }

    #[test]
    fn uploads_share_the_upload_memory() {
        let (_folder, desk) = desk(Limits { upload_memory_mib: 1, ..Limits::default() });
        let half = length(Some("524288"));
        let (first, second) = (desk.admit(None, &half), desk.admit(None, &half));
        assert!(first.is_ok() && second.is_ok());
        assert_eq!(refused(desk.admit(None, &length(Some("1")))), Some(Refused::Busy));
        drop(first);
        assert!(desk.admit(None, &length(Some("1000"))).is_ok(), "a finished upload gives its share back");
        drop(second);
        let larger = desk.admit(None, &length(Some("5000000")));
        assert!(larger.is_ok(), "an upload larger than the memory takes all of it");
        assert_eq!(refused(desk.admit(None, &length(Some("1")))), Some(Refused::Busy));
        let too_large = length(Some(&(MAX_BODY + 1).to_string()));
        assert_eq!(refused(desk.admit(None, &too_large)), Some(Refused::TooLarge));
    }

    #[test]
    fn an_address_past_its_rate_waits() {
        let (_folder, desk) = desk(Limits { submissions_per_minute: 2, ..Limits::default() });
        let (here, there) = (Some("192.0.2.1".parse().unwrap()), Some("192.0.2.2".parse().unwrap()));
        assert!(desk.admit(here, &length(Some("10"))).is_ok() && desk.admit(here, &length(Some("10"))).is_ok());
        let Some(Refused::TooFast(wait)) = refused(desk.admit(here, &length(Some("10")))) else {
            panic!("the third in a row waits")
        };
        assert!((1..=30).contains(&wait), "{wait}");
        assert!(desk.admit(there, &length(Some("10"))).is_ok(), "another address has its own rate");
        let (_folder, unlimited) = self::desk(Limits { submissions_per_minute: 0, ..Limits::default() });
        assert!((0..500).all(|_| unlimited.admit(here, &length(Some("10"))).is_ok()));
    }

    #[track_caller]
    fn check_refusal(refused: Refused, status: u16, retry_after: Option<&str>) {
        let answer = refused.answer();
        let got = answer.headers().get(header::RETRY_AFTER).and_then(|value| value.to_str().ok());
        assert_eq!((answer.status().as_u16(), got), (status, retry_after));
    }

    #[test]
    fn refusals_say_when_to_come_back() {
        check_refusal(Refused::TooFast(7), 429, Some("7"));
        check_refusal(Refused::Busy, 503, Some("5"));
        check_refusal(Refused::TooLarge, 413, None);
    }

    #[tokio::test]
    async fn a_body_arrives_whole_within_its_limit_or_is_cut() {
        let parts = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from("ab")), Ok(Bytes::from("cd"))]);
        assert_eq!(body_of(Body::from_stream(parts), 4).await, Ok(Bytes::from("abcd")));
        assert_eq!(body_of(Body::from("abcde"), 4).await, Err(Cut::TooLong));
        let broken = futures_util::stream::iter([Ok(Bytes::from("ab")), Err(std::io::Error::other("reset"))]);
        assert_eq!(body_of(Body::from_stream(broken), 4).await, Err(Cut::Broken));
        assert_eq!(body_of(Body::empty(), 0).await, Ok(Bytes::new()));
    }

    #[test]
    fn an_upload_breaking_a_rule_says_which() {
        let folder = tempfile::tempdir().expect("temp dir");
        let register = Register::open(&folder.path().join("work.sqlite")).expect("open");
        let said = |body: &[u8]| file(&register, "essai", body, 0, u64::MAX).expect("no storage error").err();
        assert!(said(b"{").is_some_and(|rule| rule.contains("malformed")));
        assert_eq!(register.count().expect("count"), 0);
    }
}
