//! `/teacher/submissions.csv`: every submission as RFC 4180 CSV, streamed. The rows are read and
//! written on tokio's blocking pool, a bounded channel apart from the response: the request loop never
//! waits on SQLite, and however many rows there are, a few chunks are in memory at a time.

use std::sync::Arc;

use axum::body::{Body, Bytes};

use crate::serve::register::{Register, Row};

/// The first line.
const HEADER: &str = "id,key,course_id,student,kind,subject,text,score,files,created_at,received_at\r\n";
/// How much CSV is gathered before it is sent.
const CHUNK: usize = 64 * 1024;
/// Chunks waiting for a slow reader at most: past it, reading the rows waits.
const QUEUED: usize = 4;

/// The CSV of every submission in `register`, as a body that is written as it is sent. A failure to
/// read the register half-way ends the body with an error (the connection closes, so the teacher's
/// browser reports the download failed rather than keep a cut file).
pub fn stream(register: Arc<Register>) -> Body {
    let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(QUEUED);
    tokio::task::spawn_blocking(move || {
        let mut chunk = String::from(HEADER);
        let read = register.each_row(|row| {
            chunk.push_str(&line(&row));
            // A closed channel is a teacher who went away: stop reading.
            chunk.len() < CHUNK || sender.blocking_send(Ok(Bytes::from(std::mem::take(&mut chunk)))).is_ok()
        });
        let last = match read {
            Ok(()) => Ok(Bytes::from(chunk)),
            Err(error) => {
                eprintln!("cartable serve: cannot export the submissions: {error:#}");
                Err(std::io::Error::other(format!("{error:#}")))
            }
        };
        let _ = sender.blocking_send(last);
    });
    Body::from_stream(futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    }))
}

/// One submission's CSV line, CRLF included.
pub fn line(row: &Row) -> String {
    let files = row.files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join("; ");
    let score = row.score.map(|s| s.to_string()).unwrap_or_default();
    let cells = [
        row.id.to_string(),
        row.key.clone(),
        row.course_id.clone(),
        row.student.clone(),
        row.kind.clone(),
        row.subject.clone(),
        row.text.clone(),
        score,
        files,
        super::time(row.created_at),
        super::time(row.received_at),
    ];
    let mut line = cells.iter().map(|cell| cell_of(cell)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// One CSV field: quoted, inner quotes doubled, and a cell a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`, tab or carriage return) prefixed with `'`.
pub fn cell_of(cell: &str) -> String {
    let defused = match cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        true => format!("'{cell}"),
        false => cell.to_owned(),
    };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::register::FileInfo;

    #[track_caller]
    fn check_cell(cell: &str, expected: &str) {
        assert_eq!(cell_of(cell), expected);
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        check_cell("Léa", "\"Léa\"");
        check_cell("dit \"oui\", puis non", "\"dit \"\"oui\"\", puis non\"");
        check_cell("ligne 1\r\nligne 2", "\"ligne 1\r\nligne 2\"");
        check_cell("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"");
        check_cell("+33 6", "\"'+33 6\"");
        check_cell("-1", "\"'-1\"");
        check_cell("@SUM(A1)", "\"'@SUM(A1)\"");
    }

    #[test]
    fn a_line_names_every_file() {
        let file = |position, name: &str| FileInfo { position, name: name.into(), media_type: String::new(), size: 1 };
        let row = Row {
            id: 3,
            key: "k".into(),
            course_id: "essai".into(),
            student: "Léa".into(),
            kind: "hand_in".into(),
            subject: "Devoir".into(),
            text: "voir".into(),
            score: Some(0.5),
            created_at: 0,
            received_at: 1_000,
            files: vec![file(0, "a.pdf"), file(1, "b.png")],
        };
        assert_eq!(
            line(&row),
            "\"3\",\"k\",\"essai\",\"Léa\",\"hand_in\",\"Devoir\",\"voir\",\"0.5\",\"a.pdf; b.png\",\
             \"1970-01-01 00:00:00 UTC\",\"1970-01-01 00:00:01 UTC\"\r\n"
        );
    }
}
