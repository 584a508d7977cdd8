//! The body of one upload: a submission and the bytes of its files, as one JSON document
//! `{"submission": {...}, "files": ["<base64>", ...]}`, the files in the order of its attachments. The
//! page encodes it and the origin decodes it with the same functions, so both sides check the same rules.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::{Kind, Receipt, Submission, SubmissionError};

/// A decoded upload: the submission, checked, and its files, each matching its attachment.
#[derive(Clone, Debug, PartialEq)]
pub struct Upload {
    /// The submission.
    pub submission: Submission,
    /// The bytes of each attachment, in order.
    pub files: Vec<Vec<u8>>,
}

#[derive(Serialize)]
struct Outgoing<'a> {
    submission: &'a Submission,
    files: Vec<String>,
}

#[derive(Deserialize)]
struct Incoming {
    submission: Submission,
    #[serde(default)]
    files: Vec<String>,
}

/// The JSON body that uploads `submission` with the bytes of its files.
pub fn encode_upload(submission: &Submission, files: &[Vec<u8>]) -> String {
    let files = files.iter().map(|bytes| BASE64.encode(bytes)).collect();
    // Serialising plain strings, numbers and a CID cannot fail.
    serde_json::to_string(&Outgoing { submission, files }).unwrap_or_default()
}

/// Reads an upload body: well-formed JSON, a valid submission, and one file per attachment whose length
/// and CID match it. Never panics, whatever the bytes.
pub fn decode_upload(body: &[u8]) -> Result<Upload, SubmissionError> {
    let incoming: Incoming =
        serde_json::from_slice(body).map_err(|error| SubmissionError::Malformed(error.to_string()))?;
    let submission = incoming.submission;
    submission.validate()?;
    let attachments = match &submission.kind {
        Kind::HandIn { attachments, .. } => attachments.as_slice(),
        Kind::Answer { .. } => &[],
    };
    if incoming.files.len() != attachments.len() {
        return Err(SubmissionError::Malformed(format!(
            "{} files for {} attachments",
            incoming.files.len(),
            attachments.len()
        )));
    }
    let mut files = Vec::with_capacity(attachments.len());
    for (index, (text, attachment)) in incoming.files.iter().zip(attachments).enumerate() {
        let bytes = BASE64.decode(text).map_err(|_| SubmissionError::FileMismatch(index))?;
        if bytes.len() as u64 != attachment.size || !attachment.cid.matches(&bytes) {
            return Err(SubmissionError::FileMismatch(index));
        }
        files.push(bytes);
    }
    Ok(Upload { submission, files })
}

/// Reads the origin's answer to an upload: a [`Receipt`] as JSON, for the key that was sent.
pub fn receipt_from_json(body: &[u8], key: &str) -> Result<Receipt, SubmissionError> {
    let receipt: Receipt =
        serde_json::from_slice(body).map_err(|error| SubmissionError::Malformed(error.to_string()))?;
    match receipt.key == key {
        true => Ok(receipt),
        false => Err(SubmissionError::Malformed("a receipt for another key".into())),
    }
}
