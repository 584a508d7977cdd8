//! Integration tests of the submissions `cartable serve` keeps: one row per idempotency key in SQLite,
//! clear refusals of bad bodies, the submission faults, and the teacher view's token.
// See: issue 6

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;

use cartable_core::submission::{encode_upload, Attachment, Kind, Receipt, Submission};
use cartable_core::Cid;
use support::{site, Reply, Server, SITE_ARGS};
use tempfile::TempDir;

const PATH: &str = "/courses/essai/submissions";
const TOKEN: &str = "jeton-de-test";

fn start(dir: &Path, extra: &[&str]) -> Server {
    site(dir);
    let args = [SITE_ARGS, &["--db", "work.sqlite", "--teacher-token", TOKEN], extra].concat();
    Server::start(dir, &args)
}

/// Sends `method path` with `headers` and `body`; `None` if the server closed without answering.
fn send(server: &Server, method: &str, path: &str, headers: &str, body: &[u8]) -> Option<Reply> {
    let mut stream = TcpStream::connect(&server.address).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n{headers}\r\n",
        server.address,
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    (!raw.is_empty()).then(|| Reply::parse(&raw))
}

fn upload(key: &str) -> String {
    let file = b"%PDF-1.4 devoir".to_vec();
    let attachment = Attachment {
        name: "devoir.pdf".into(),
        media_type: "application/pdf".into(),
        size: file.len() as u64,
        cid: Cid::of(&file),
    };
    let submission = Submission {
        key: key.into(),
        course_id: "essai".into(),
        student: "Léa".into(),
        created_at: 1_764_000_000_000,
        kind: Kind::HandIn { title: "Exercice 3".into(), text: "U = R × I".into(), attachments: vec![attachment] },
    };
    encode_upload(&submission, &[file])
}

fn receipt(reply: &Reply) -> Receipt {
    assert_eq!(reply.status, 200, "{}", reply.text());
    serde_json::from_slice(&reply.body).expect("a receipt")
}

fn count(dir: &Path) -> i64 {
    let connection = rusqlite::Connection::open(dir.join("work.sqlite")).unwrap();
    connection.query_row("SELECT count(*) FROM submissions", [], |row| row.get(0)).unwrap()
}

const KEY: &str = "00112233445566778899aabbccddeeff";

#[test]
fn a_key_sent_twice_is_stored_once_with_one_receipt() {
    let dir = TempDir::new().unwrap();
    let server = start(dir.path(), &[]);
    let first = receipt(&send(&server, "POST", PATH, "", upload(KEY).as_bytes()).unwrap());
    let again = receipt(&send(&server, "POST", PATH, "", upload(KEY).as_bytes()).unwrap());
    assert_eq!(first, again);
    assert_eq!(first.key, KEY);
    assert_eq!(count(dir.path()), 1);
}

#[test]
fn bad_bodies_get_a_400_that_says_why() {
    let dir = TempDir::new().unwrap();
    let server = start(dir.path(), &[]);
    for (body, says) in [
        ("{".to_owned(), "malformed submission"),
        (upload("short"), "idempotency key"),
        (upload(KEY).replace("\"files\":[\"", "\"files\":[\"QQ"), "does not match"),
        (upload(KEY).replace("\"essai\"", "\"autre\""), "another course"),
    ] {
        let reply = send(&server, "POST", PATH, "", body.as_bytes()).unwrap();
        assert_eq!(reply.status, 400, "{body}");
        assert!(reply.text().contains(says), "{}", reply.text());
    }
    let elsewhere = send(&server, "POST", "/courses/inconnu/submissions", "", upload(KEY).as_bytes()).unwrap();
    assert_eq!(elsewhere.status, 404);
    assert_eq!(count(dir.path()), 0);
}

#[test]
fn refusals_and_lost_receipts_as_asked() {
    let dir = TempDir::new().unwrap();
    let server = start(dir.path(), &["--refuse-submissions", "1", "--drop-response-every", "1"]);
    let refused = send(&server, "POST", PATH, "", upload(KEY).as_bytes()).unwrap();
    assert_eq!((refused.status, refused.header("retry-after")), (503, Some("1")));
    assert_eq!(count(dir.path()), 0, "a refusal stores nothing");
    assert!(send(&server, "POST", PATH, "", upload(KEY).as_bytes()).is_none(), "stored, answer lost");
    assert_eq!(count(dir.path()), 1);
    let found = receipt(&send(&server, "POST", PATH, "", upload(KEY).as_bytes()).unwrap());
    assert_eq!(found.key, KEY, "the repeat gets the receipt");
    assert_eq!(count(dir.path()), 1);
}

#[test]
fn the_teacher_view_needs_the_token() {
    let dir = TempDir::new().unwrap();
    let server = start(dir.path(), &[]);
    receipt(&send(&server, "POST", PATH, "", upload(KEY).as_bytes()).unwrap());
    for path in ["/teacher", "/teacher/submissions.csv", "/teacher/files/1/0"] {
        assert_eq!(server.get(path).status, 401, "{path}");
        let wrong = send(&server, "GET", path, "Authorization: Bearer jeton-de-tesT\r\n", b"").unwrap();
        assert_eq!(wrong.status, 401, "{path}");
    }
    let bearer = format!("Authorization: Bearer {TOKEN}\r\n");
    let page = send(&server, "GET", "/teacher", &bearer, b"").unwrap();
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Léa") && page.text().contains("/teacher/files/1/0"));
    let file = send(&server, "GET", "/teacher/files/1/0", &bearer, b"").unwrap();
    assert_eq!(file.body, b"%PDF-1.4 devoir");
    let login = send(
        &server,
        "POST",
        "/teacher/login",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        format!("token={TOKEN}").as_bytes(),
    )
    .unwrap();
    assert_eq!(login.status, 303);
    let cookie = login.header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let csv = send(
        &server,
        "GET",
        "/teacher/submissions.csv",
        &format!("Cookie: {}\r\n", cookie.split(';').next().unwrap()),
        b"",
    )
    .unwrap();
    assert_eq!(csv.status, 200);
    assert!(csv.text().contains(&format!("\"{KEY}\",\"essai\",\"Léa\",\"hand_in\"")), "{}", csv.text());
}
