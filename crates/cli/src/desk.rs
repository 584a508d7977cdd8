//! Where pupils' work arrives at `cartable serve`: `POST /courses/<id>/submissions` stores an upload in
//! the register and answers its receipt; `/teacher` is the teacher view (`teacher.rs`). The faults of
//! `--refuse-submissions` and `--drop-response-every` are applied here, around the register, since only
//! here is the difference between "refused" and "stored but the answer lost" visible.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use cartable_core::submission::{decode_upload, MAX_ATTACHMENT_BYTES, SUBMISSIONS_PATH};

use crate::register::Register;
use crate::{site, teacher};

/// The largest upload body read: the attachments in base64 (4/3 of their size) plus the texts.
pub const MAX_BODY: usize = (MAX_ATTACHMENT_BYTES as usize / 3 + 1) * 4 + 1024 * 1024;

/// The register, the teacher's token and the submission faults.
pub struct Desk {
    register: Register,
    token: String,
    refuse_first: u64,
    drop_response_every: Option<u64>,
    posted: AtomicU64,
    stored: AtomicU64,
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
    /// A desk over `register`, opening the teacher view to `token`.
    pub fn new(register: Register, token: String, refuse_first: u64, drop_response_every: Option<u64>) -> Desk {
        Desk {
            register,
            token,
            refuse_first,
            drop_response_every,
            posted: AtomicU64::new(0),
            stored: AtomicU64::new(0),
        }
    }

    /// The teacher view's answer.
    pub fn teacher(&self, method: &Method, path: &str, headers: &HeaderMap, body: &[u8]) -> Response<Body> {
        teacher::answer(&self.register, &self.token, method, path, headers, body)
    }

    /// Stores the upload `body` posted for `course` (a served course id) at `now` (ms since the epoch)
    /// and answers its receipt, or a 400 saying what is wrong, or a refusal of `--refuse-submissions`.
    pub fn submit(&self, course: &str, body: Result<Bytes, ()>, now: i64) -> Reply {
        if self.posted.fetch_add(1, Ordering::Relaxed) < self.refuse_first {
            return Reply::Respond(site::busy(StatusCode::SERVICE_UNAVAILABLE, Some(1)));
        }
        let Ok(body) = body else {
            return Reply::Respond(message(StatusCode::PAYLOAD_TOO_LARGE, "the submission is too large".into()));
        };
        let upload = match decode_upload(&body) {
            Ok(upload) => upload,
            Err(error) => return Reply::Respond(message(StatusCode::BAD_REQUEST, error.to_string())),
        };
        if upload.submission.course_id != course {
            return Reply::Respond(message(StatusCode::BAD_REQUEST, "the submission names another course".into()));
        }
        let (receipt, new) = match self.register.store(&upload, now) {
            Ok(stored) => stored,
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
}
