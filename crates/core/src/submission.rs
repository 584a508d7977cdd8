//! A pupil's work on its way to the school: submissions (answers and hand-ins), the receipt the origin
//! gives for each, the upload's wire format, and the outbox's state machine that decides when to send
//! what. No I/O, no clock, no randomness of its own: the browser edge keeps entries in IndexedDB and
//! passes time and random numbers in; `cartable serve` decodes uploads with the same code.
//!
//! Exactly once rests on the idempotency key: a submission keeps the key it was given when typed, every
//! attempt sends that key, and the origin stores one row per key and answers a repeat with the receipt
//! it already gave. So the outbox may always send again (a lost answer, a reload, a second sender such
//! as the service worker): at worst it is told again what it was told before.

mod outbox;
mod upload;

pub use outbox::{Entry, Outbox, Outcome, State, BACKOFF_BASE, BACKOFF_CAP, REFUSED_FOR_GOOD};
pub use upload::{decode_upload, encode_upload, receipt_from_json, Upload};

use serde::{Deserialize, Serialize};

use crate::Cid;

/// The most bytes of attachments one hand-in may carry, all files together (10 MiB); the page states it.
pub const MAX_ATTACHMENT_BYTES: u64 = 10 * 1024 * 1024;
/// The most files one hand-in may carry.
pub const MAX_ATTACHMENTS: usize = 10;
/// The most characters of a hand-in's text or an answer's response.
pub const MAX_TEXT_CHARS: usize = 100_000;
/// The most characters of a pupil's name, a title, an exercise id, a file name or a media type.
pub const MAX_NAME_CHARS: usize = 200;
/// The path, under a course's base (`courses/<id>/`), where submissions are posted.
pub const SUBMISSIONS_PATH: &str = "submissions";

/// One piece of a pupil's work, as typed, with the idempotency key it keeps for life.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// The idempotency key: 128 random bits as 32 lowercase hexadecimal digits ([`key_from`]).
    pub key: String,
    /// The course it belongs to.
    pub course_id: String,
    /// The pupil's name, as they typed it.
    pub student: String,
    /// When the pupil saved it, in milliseconds since the Unix epoch (the device's clock).
    pub created_at: i64,
    /// What it is.
    pub kind: Kind,
}

/// What a submission carries, as JSON `{"answer": {...}}` or `{"hand_in": {...}}` (externally tagged: an
/// internal tag would make every pupil download serde's buffering of unknown content).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An answer to one exercise, kept generic: the exercise's id and the response as JSON text.
    Answer {
        /// The exercise's id within the course.
        exercise: String,
        /// The pupil's response, as JSON text (its shape is the exercise's business).
        response: String,
        /// The grade given offline, if the exercise grades itself (0.0 to 1.0).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        score: Option<f64>,
    },
    /// Work handed in: a title, a text and files.
    HandIn {
        /// What the work is ("Exercice 3 p. 42").
        title: String,
        /// The text typed.
        text: String,
        /// The files joined, whose bytes travel beside the submission ([`Upload`]).
        attachments: Vec<Attachment>,
    },
}

/// A file joined to a hand-in, named by the CID of its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The file's name on the pupil's device.
    pub name: String,
    /// Its media type as the browser gave it.
    pub media_type: String,
    /// Its length in bytes.
    pub size: u64,
    /// The CID of its bytes.
    pub cid: Cid,
}

/// What the origin gives back once a submission is stored: the same for every attempt with its key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The submission's idempotency key.
    pub key: String,
    /// When the origin stored it, in milliseconds since the Unix epoch (the origin's clock).
    pub received_at: i64,
    /// The origin's number for it (its row).
    pub id: i64,
}

/// Why a submission cannot be kept or accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmissionError {
    /// The idempotency key is not 32 lowercase hexadecimal digits.
    #[error("the idempotency key must be 32 lowercase hexadecimal digits")]
    Key,
    /// A text field is empty where it must not be.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// A text field is too long.
    #[error("{0} is longer than {1} characters")]
    TooLong(&'static str, usize),
    /// Too many files.
    #[error("a hand-in carries at most {MAX_ATTACHMENTS} files")]
    TooManyFiles,
    /// The files are too big together.
    #[error("the files weigh more than {} MiB together", MAX_ATTACHMENT_BYTES / 1024 / 1024)]
    TooBig,
    /// An upload's files do not match its attachments (count, length or CID).
    #[error("file {0} does not match its attachment (length or CID)")]
    FileMismatch(usize),
    /// The upload is not the expected JSON.
    #[error("malformed submission: {0}")]
    Malformed(String),
}

/// The idempotency key made of 16 random bytes: 32 lowercase hexadecimal digits.
pub fn key_from(random: [u8; 16]) -> String {
    random.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The first 8 digits of a key, shown to the pupil on their local receipt.
pub fn short_key(key: &str) -> &str {
    key.get(..8).unwrap_or(key)
}

impl Submission {
    /// Checks every limit: the key's form, non-empty names, text lengths, file count and total size.
    /// The page checks before saving and the origin checks again before storing.
    pub fn validate(&self) -> Result<(), SubmissionError> {
        let hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        if self.key.len() != 32 || !self.key.chars().all(hex) {
            return Err(SubmissionError::Key);
        }
        name("the course id", &self.course_id)?;
        name("the pupil's name", self.student.trim())?;
        match &self.kind {
            Kind::Answer { exercise, response, .. } => {
                name("the exercise id", exercise)?;
                text("the response", response)
            }
            Kind::HandIn { title, text: body, attachments } => {
                name("the title", title.trim())?;
                text("the text", body)?;
                check_attachments(attachments)
            }
        }
    }

    /// The total size of the files it carries (0 for an answer).
    pub fn attachment_bytes(&self) -> u64 {
        match &self.kind {
            Kind::HandIn { attachments, .. } => attachments.iter().map(|a| a.size).sum(),
            Kind::Answer { .. } => 0,
        }
    }
}

fn name(field: &'static str, value: &str) -> Result<(), SubmissionError> {
    if value.is_empty() {
        return Err(SubmissionError::Empty(field));
    }
    match value.chars().count() > MAX_NAME_CHARS {
        true => Err(SubmissionError::TooLong(field, MAX_NAME_CHARS)),
        false => Ok(()),
    }
}

fn text(field: &'static str, value: &str) -> Result<(), SubmissionError> {
    match value.chars().count() > MAX_TEXT_CHARS {
        true => Err(SubmissionError::TooLong(field, MAX_TEXT_CHARS)),
        false => Ok(()),
    }
}

fn check_attachments(attachments: &[Attachment]) -> Result<(), SubmissionError> {
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(SubmissionError::TooManyFiles);
    }
    for attachment in attachments {
        name("a file name", &attachment.name)?;
        name("a media type", &attachment.media_type)?;
    }
    let total = attachments.iter().try_fold(0u64, |sum, a| sum.checked_add(a.size));
    match total {
        Some(total) if total <= MAX_ATTACHMENT_BYTES => Ok(()),
        _ => Err(SubmissionError::TooBig),
    }
}

#[cfg(test)]
mod tests;
