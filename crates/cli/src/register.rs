//! The register: pupils' submissions as `cartable serve` keeps them, in SQLite. One row per idempotency
//! key (a `UNIQUE` column), so a submission sent again, after a lost answer or from a second sender,
//! gets the receipt of its first row and adds nothing. Hand-in files are kept beside their row.

use std::path::Path;
use std::sync::Mutex;

use anyhow::Context as _;
use cartable_core::submission::{Kind, Receipt, Upload};
use rusqlite::{params, Connection, OptionalExtension as _};

/// The SQLite database of submissions. One connection behind a lock: a school's origin stores a few
/// submissions a second, each a short transaction.
pub struct Register {
    connection: Mutex<Connection>,
}

/// One stored submission, as the teacher view lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The origin's number for it.
    pub id: i64,
    /// Its idempotency key.
    pub key: String,
    /// The course.
    pub course_id: String,
    /// The pupil's name as typed.
    pub student: String,
    /// `answer` or `hand_in`.
    pub kind: String,
    /// The exercise id (an answer) or the title (a hand-in).
    pub subject: String,
    /// The response (an answer, JSON text) or the text (a hand-in).
    pub text: String,
    /// An answer's offline grade.
    pub score: Option<f64>,
    /// When the pupil saved it (ms since the epoch, the device's clock).
    pub created_at: i64,
    /// When the origin stored it (ms since the epoch).
    pub received_at: i64,
    /// Its files: position, name, media type, size.
    pub files: Vec<FileInfo>,
}

/// A hand-in file's description.
#[derive(Clone, Debug, PartialEq)]
pub struct FileInfo {
    /// Its place among the submission's files, from 0.
    pub position: i64,
    /// Its name on the pupil's device.
    pub name: String,
    /// Its media type as the pupil's browser gave it.
    pub media_type: String,
    /// Its length in bytes.
    pub size: i64,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    course_id TEXT NOT NULL,
    student TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    text TEXT NOT NULL,
    score REAL,
    created_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    cid TEXT NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (submission_id, position)
);";

impl Register {
    /// Opens (and on first use creates) the database at `path`.
    pub fn open(path: &Path) -> anyhow::Result<Register> {
        let connection = Connection::open(path)
            .with_context(|| format!("cannot open the submissions database {} (see --db)", path.display()))?;
        connection
            .execute_batch(&format!("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; {SCHEMA}"))
            .with_context(|| format!("cannot set up the submissions database {}", path.display()))?;
        Ok(Register { connection: Mutex::new(connection) })
    }

    /// Stores `upload` received at `now` (ms since the epoch), unless its key is already stored, and
    /// returns the receipt of the key's one row, and whether that row is new. Committed before it returns.
    pub fn store(&self, upload: &Upload, now: i64) -> anyhow::Result<(Receipt, bool)> {
        let mut connection = self.connection.lock().map_err(|_| anyhow::anyhow!("the register's lock is poisoned"))?;
        let transaction = connection.transaction()?;
        let submission = &upload.submission;
        if let Some(receipt) = receipt_of(&transaction, &submission.key)? {
            return Ok((receipt, false));
        }
        let (kind, subject, text, score, attachments) = match &submission.kind {
            Kind::Answer { exercise, response, score } => ("answer", exercise, response, *score, &[][..]),
            Kind::HandIn { title, text, attachments } => ("hand_in", title, text, None, attachments.as_slice()),
        };
        transaction.execute(
            "INSERT INTO submissions (key, course_id, student, kind, subject, text, score, created_at, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                submission.key,
                submission.course_id,
                submission.student.trim(),
                kind,
                subject,
                text,
                score,
                submission.created_at,
                now
            ],
        )?;
        let id = transaction.last_insert_rowid();
        for (position, (attachment, bytes)) in attachments.iter().zip(&upload.files).enumerate() {
            transaction.execute(
                "INSERT INTO files (submission_id, position, name, media_type, size, cid, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id,
                    position as i64,
                    attachment.name,
                    attachment.media_type,
                    attachment.size as i64,
                    attachment.cid.to_string(),
                    bytes
                ],
            )?;
        }
        transaction.commit()?;
        Ok((Receipt { key: submission.key.clone(), received_at: now, id }, true))
    }

    /// Every stored submission, by pupil, then subject, then arrival.
    pub fn rows(&self) -> anyhow::Result<Vec<Row>> {
        let connection = self.connection.lock().map_err(|_| anyhow::anyhow!("the register's lock is poisoned"))?;
        let mut statement = connection.prepare(
            "SELECT id, key, course_id, student, kind, subject, text, score, created_at, received_at
             FROM submissions ORDER BY student, subject, received_at, id",
        )?;
        let mut rows = statement
            .query_map([], |r| {
                Ok(Row {
                    id: r.get(0)?,
                    key: r.get(1)?,
                    course_id: r.get(2)?,
                    student: r.get(3)?,
                    kind: r.get(4)?,
                    subject: r.get(5)?,
                    text: r.get(6)?,
                    score: r.get(7)?,
                    created_at: r.get(8)?,
                    received_at: r.get(9)?,
                    files: Vec::new(),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut files = connection
            .prepare("SELECT submission_id, position, name, media_type, size FROM files ORDER BY position")?;
        let files = files
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    FileInfo { position: r.get(1)?, name: r.get(2)?, media_type: r.get(3)?, size: r.get(4)? },
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (id, file) in files {
            if let Some(row) = rows.iter_mut().find(|row| row.id == id) {
                row.files.push(file);
            }
        }
        Ok(rows)
    }

    /// A hand-in file's description and bytes, if stored.
    pub fn file(&self, id: i64, position: i64) -> anyhow::Result<Option<(FileInfo, Vec<u8>)>> {
        let connection = self.connection.lock().map_err(|_| anyhow::anyhow!("the register's lock is poisoned"))?;
        let found = connection
            .query_row(
                "SELECT position, name, media_type, size, bytes FROM files WHERE submission_id = ?1 AND position = ?2",
                params![id, position],
                |r| {
                    let info =
                        FileInfo { position: r.get(0)?, name: r.get(1)?, media_type: r.get(2)?, size: r.get(3)? };
                    Ok((info, r.get::<_, Vec<u8>>(4)?))
                },
            )
            .optional()?;
        Ok(found)
    }
}

fn receipt_of(connection: &Connection, key: &str) -> rusqlite::Result<Option<Receipt>> {
    connection
        .query_row("SELECT id, received_at FROM submissions WHERE key = ?1", [key], |r| {
            Ok(Receipt { key: key.to_owned(), id: r.get(0)?, received_at: r.get(1)? })
        })
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cartable_core::submission::{decode_upload, encode_upload, Attachment, Submission};
    use cartable_core::Cid;

    fn upload(key: &str) -> Upload {
        let bytes = b"%PDF-1.4 devoir".to_vec();
        let attachment = Attachment {
            name: "devoir.pdf".into(),
            media_type: "application/pdf".into(),
            size: bytes.len() as u64,
            cid: Cid::of(&bytes),
        };
        let submission = Submission {
            key: key.into(),
            course_id: "physique-3e".into(),
            student: "Léa".into(),
            created_at: 1,
            kind: Kind::HandIn { title: "Exercice 3".into(), text: "U = R × I".into(), attachments: vec![attachment] },
        };
        decode_upload(encode_upload(&submission, &[bytes]).as_bytes()).expect("valid")
    }

    #[test]
    fn one_row_per_key_and_the_same_receipt_again() {
        let folder = tempfile::tempdir().expect("temp dir");
        let register = Register::open(&folder.path().join("submissions.db")).expect("open");
        let key = "0123456789abcdef0123456789abcdef";
        let (first, new) = register.store(&upload(key), 1_000).expect("store");
        let (again, new_again) = register.store(&upload(key), 2_000).expect("store again");
        assert_eq!(first, again, "a repeated key gets its first receipt");
        assert!(new && !new_again);
        let (other, _) = register.store(&upload(&"f".repeat(32)), 3_000).expect("another key");
        assert_ne!(other.id, first.id);
        let rows = register.rows().expect("rows");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].files.len(), 1);
        let (info, bytes) = register.file(first.id, 0).expect("query").expect("stored");
        assert_eq!((info.name.as_str(), bytes.as_slice()), ("devoir.pdf", &b"%PDF-1.4 devoir"[..]));
        drop(register);
        let reopened = Register::open(&folder.path().join("submissions.db")).expect("reopen");
        assert_eq!(reopened.store(&upload(key), 4_000).expect("store"), (first, false), "the key survives a restart");
    }
}
