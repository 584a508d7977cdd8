//! The register: pupils' submissions as `cartable serve` keeps them, in SQLite. One row per idempotency
//! key (a `UNIQUE` column), so a submission sent again, after a lost answer or from a second sender,
//! gets the receipt of its first row and adds nothing. Hand-in files are kept beside their row.
//! SQLite blocks: the server calls in here through [`off_loop`], never from its request loop.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, Context as _};
use cartable_core::submission::{Kind, Receipt, Upload};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension as _};

/// The SQLite database of submissions. One writing connection behind a lock: a school's origin stores a
/// few submissions a second, each a short transaction. Reads open their own connection (WAL lets them
/// run beside the writer), so that a long export never holds up a pupil's submission.
pub struct Register {
    path: PathBuf,
    connection: Mutex<Connection>,
}

/// What became of a submission handed to [`Register::store`].
#[derive(Clone, Debug, PartialEq)]
pub enum Stored {
    /// A new row, with its receipt.
    New(Receipt),
    /// The key was already stored: the receipt of its row.
    Again(Receipt),
    /// The key is new but the database has reached its size limit: nothing stored.
    Full,
}

/// Runs `work` on the register in tokio's blocking pool: SQLite waits on the disk and on its lock, and
/// the server's single request loop must keep answering pages meanwhile.
pub async fn off_loop<T, F>(register: &Arc<Register>, work: F) -> anyhow::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Register) -> anyhow::Result<T> + Send + 'static,
{
    let register = Arc::clone(register);
    tokio::task::spawn_blocking(move || work(&register))
        .await
        .map_err(|error| anyhow!("the register's task failed: {error}"))?
}

/// Whether a database of `size` bytes may take a new row under a limit of `limit` bytes.
pub fn has_room(size: u64, limit: u64) -> bool {
    size < limit
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
);
-- The teacher view's order: a page of it is read from the index, not sorted from the whole table.
CREATE INDEX IF NOT EXISTS submissions_by_pupil ON submissions (student, subject, received_at, id);";

/// A submission's columns and its files' descriptions, joined: one line per file, or one with no file.
const JOINED: &str = "SELECT s.id, s.key, s.course_id, s.student, s.kind, s.subject, s.text, s.score, s.created_at,
        s.received_at, f.position, f.name, f.media_type, f.size";

/// Columns of [`JOINED`] before the file's.
const ROW_COLUMNS: usize = 10;

impl Register {
    /// Opens (and on first use creates) the database at `path`.
    pub fn open(path: &Path) -> anyhow::Result<Register> {
        let connection = Connection::open(path)
            .with_context(|| format!("cannot open the submissions database {} (see --db)", path.display()))?;
        connection
            .execute_batch(&format!("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; {SCHEMA}"))
            .with_context(|| format!("cannot set up the submissions database {}", path.display()))?;
        Ok(Register { path: path.to_owned(), connection: Mutex::new(connection) })
    }

    /// Stores `upload` received at `now` (ms since the epoch), unless its key is already stored or, for
    /// a new key, the database already takes `limit` bytes on disk or more. Committed before it returns.
    pub fn store(&self, upload: &Upload, now: i64, limit: u64) -> anyhow::Result<Stored> {
        let mut connection = self.connection.lock().map_err(|_| anyhow!("the register's lock is poisoned"))?;
        let transaction = connection.transaction()?;
        let submission = &upload.submission;
        if let Some(receipt) = receipt_of(&transaction, &submission.key)? {
            return Ok(Stored::Again(receipt));
        }
        // A repeat is answered above even when full: its pupil only needs the receipt.
        if !has_room(self.size_on_disk(), limit) {
            return Ok(Stored::Full);
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
        Ok(Stored::New(Receipt { key: submission.key.clone(), received_at: now, id }))
    }

    /// The bytes the database takes on disk: its file and its write-ahead log (0 for one not found).
    pub fn size_on_disk(&self) -> u64 {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        [self.path.clone(), PathBuf::from(wal)]
            .iter()
            .filter_map(|file| std::fs::metadata(file).ok())
            .map(|m| m.len())
            .sum()
    }

    /// How many submissions are stored.
    pub fn count(&self) -> anyhow::Result<u64> {
        let count: i64 = self.reader()?.query_row("SELECT count(*) FROM submissions", [], |r| r.get(0))?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    /// The stored submissions from the `skip`-th on, `take` of them at most, by pupil, then subject,
    /// then arrival: one page of the teacher view.
    pub fn page(&self, skip: u64, take: u64) -> anyhow::Result<Vec<Row>> {
        let sql = format!(
            "{JOINED} FROM (SELECT * FROM submissions ORDER BY student, subject, received_at, id LIMIT ?1 OFFSET ?2) AS s
             LEFT JOIN files AS f ON f.submission_id = s.id
             ORDER BY s.student, s.subject, s.received_at, s.id, f.position"
        );
        let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let mut rows = Vec::new();
        self.each_joined(&sql, params![clamp(take), clamp(skip)], |row| {
            rows.push(row);
            true
        })?;
        Ok(rows)
    }

    /// Hands every stored submission to `each`, in the teacher view's order, until it returns `false`.
    /// Streams: one submission is in memory at a time, whatever the table holds.
    pub fn each_row(&self, each: impl FnMut(Row) -> bool) -> anyhow::Result<()> {
        let sql = format!(
            "{JOINED} FROM submissions AS s LEFT JOIN files AS f ON f.submission_id = s.id
             ORDER BY s.student, s.subject, s.received_at, s.id, f.position"
        );
        self.each_joined(&sql, [], each)
    }

    /// Runs a [`JOINED`] query and hands `each` its submissions, their files gathered from the
    /// consecutive lines of each one (the query orders by submission first), until it returns `false`.
    fn each_joined(
        &self,
        sql: &str,
        parameters: impl rusqlite::Params,
        mut each: impl FnMut(Row) -> bool,
    ) -> anyhow::Result<()> {
        let connection = self.reader()?;
        let mut statement = connection.prepare(sql)?;
        let mut lines = statement.query(parameters)?;
        let mut current = None;
        while let Some(line) = lines.next()? {
            if let Some(done) = gather(&mut current, joined_line(line)?) {
                if !each(done) {
                    return Ok(());
                }
            }
        }
        if let Some(last) = current {
            each(last);
        }
        Ok(())
    }

    /// A hand-in file's description and bytes, if stored.
    pub fn file(&self, id: i64, position: i64) -> anyhow::Result<Option<(FileInfo, Vec<u8>)>> {
        let found = self
            .reader()?
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

    /// A connection of its own for reading: with WAL it sees the last commit and never waits for the
    /// writer, nor makes it wait.
    fn reader(&self) -> anyhow::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(&self.path, flags)
            .with_context(|| format!("cannot read the submissions database {}", self.path.display()))?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(connection)
    }
}

/// One line of a [`JOINED`] query: the submission, and the file the line is about if any.
fn joined_line(r: &rusqlite::Row) -> rusqlite::Result<(Row, Option<FileInfo>)> {
    let row = Row {
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
    };
    let file = match r.get::<_, Option<i64>>(ROW_COLUMNS)? {
        Some(position) => Some(FileInfo {
            position,
            name: r.get(ROW_COLUMNS + 1)?,
            media_type: r.get(ROW_COLUMNS + 2)?,
            size: r.get(ROW_COLUMNS + 3)?,
        }),
        None => None,
    };
    Ok((row, file))
}

/// Adds one joined line to the submission being gathered in `current`: its file joins it if the line is
/// about the same submission; otherwise the line starts the next one, and the finished one is returned.
fn gather(current: &mut Option<Row>, (row, file): (Row, Option<FileInfo>)) -> Option<Row> {
    let finished = match current {
        Some(gathering) if gathering.id == row.id => None,
        _ => current.replace(row),
    };
    if let (Some(gathering), Some(file)) = (current.as_mut(), file) {
        gathering.files.push(file);
    }
    finished
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

    /// A register in a fresh folder (kept alive with it).
    fn fresh() -> (tempfile::TempDir, Register) {
        let folder = tempfile::tempdir().expect("temp dir");
        let register = Register::open(&folder.path().join("submissions.db")).expect("open");
        (folder, register)
    }

    #[test]
    fn one_row_per_key_and_the_same_receipt_again() {
        let (folder, register) = fresh();
        let key = "0123456789abcdef0123456789abcdef";
        let Stored::New(first) = register.store(&upload(key), 1_000, u64::MAX).expect("store") else {
            panic!("a new key makes a new row")
        };
        let again = register.store(&upload(key), 2_000, u64::MAX).expect("store again");
        assert_eq!(again, Stored::Again(first.clone()), "a repeated key gets its first receipt");
        let Stored::New(other) = register.store(&upload(&"f".repeat(32)), 3_000, u64::MAX).expect("another key") else {
            panic!("another key makes another row")
        };
        assert_ne!(other.id, first.id);
        let rows = register.page(0, 100).expect("rows");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].files.len(), 1);
        let (info, bytes) = register.file(first.id, 0).expect("query").expect("stored");
        assert_eq!((info.name.as_str(), bytes.as_slice()), ("devoir.pdf", &b"%PDF-1.4 devoir"[..]));
        drop(register);
        let reopened = Register::open(&folder.path().join("submissions.db")).expect("reopen");
        let after = reopened.store(&upload(key), 4_000, u64::MAX).expect("store");
        assert_eq!(after, Stored::Again(first), "the key survives a restart");
    }

    #[test]
    fn a_full_register_refuses_new_keys_and_still_answers_repeats() {
        let (_folder, register) = fresh();
        let key = "0123456789abcdef0123456789abcdef";
        let Stored::New(first) = register.store(&upload(key), 1_000, u64::MAX).expect("store") else {
            panic!("stored")
        };
        let size = register.size_on_disk();
        assert!(size > 0);
        assert_eq!(register.store(&upload(&"e".repeat(32)), 2_000, size).expect("full"), Stored::Full);
        assert_eq!(register.store(&upload(key), 3_000, size).expect("repeat"), Stored::Again(first));
        assert_eq!(register.count().expect("count"), 1);
        assert!(has_room(size - 1, size) && !has_room(size, size));
    }

    #[test]
    fn pages_and_the_whole_list_keep_one_order_with_every_file() {
        let (_folder, register) = fresh();
        for (n, key) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            register.store(&upload(&key.repeat(32)), 1_000 + n as i64, u64::MAX).expect("store");
        }
        let page = |skip, take| register.page(skip, take).expect("page").iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!((page(0, 2), page(2, 2), page(4, 2), page(5, 2)), (vec![1, 2], vec![3, 4], vec![5], vec![]));
        let mut all = Vec::new();
        register
            .each_row(|row| {
                assert_eq!(row.files.len(), 1, "{row:?}");
                all.push(row.id);
                all.len() < 4
            })
            .expect("rows");
        assert_eq!(all, vec![1, 2, 3, 4], "stops when asked");
        assert_eq!(register.count().expect("count"), 5);
    }

    #[track_caller]
    fn check_gather(lines: &[(i64, Option<i64>)], expected: &[(i64, Vec<i64>)]) {
        let line = |&(id, position): &(i64, Option<i64>)| {
            let file =
                position.map(|position| FileInfo { position, name: String::new(), media_type: String::new(), size: 0 });
            let row = Row {
                id,
                key: String::new(),
                course_id: String::new(),
                student: String::new(),
                kind: String::new(),
                subject: String::new(),
                text: String::new(),
                score: None,
                created_at: 0,
                received_at: 0,
                files: Vec::new(),
            };
            (row, file)
        };
        let mut current = None;
        let mut rows: Vec<Row> = lines.iter().filter_map(|l| gather(&mut current, line(l))).collect();
        rows.extend(current);
        let got: Vec<(i64, Vec<i64>)> =
            rows.iter().map(|row| (row.id, row.files.iter().map(|f| f.position).collect())).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn joined_lines_gather_into_submissions() {
        check_gather(&[], &[]);
        check_gather(&[(7, None)], &[(7, vec![])]);
        check_gather(
            &[(7, Some(0)), (7, Some(1)), (3, None), (9, Some(0))],
            &[(7, vec![0, 1]), (3, vec![]), (9, vec![0])],
        );
    }
}
