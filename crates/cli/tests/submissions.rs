//! Integration tests of the submissions `cartable serve` keeps: one row per idempotency key in SQLite,
//! clear refusals of bad bodies, the submission faults, and the teacher view's token. Then the limits
//! that keep a flood of uploads, keys or guesses from taking the school's server: uploads refused before
//! their body is read, a rate per address, a register that stops growing, a paginated teacher view that
//! never holds up a pupil's page, session cookies and a lockout after wrong tokens.
// See: issue 6

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

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

/// Inserts `rows` hand-ins, one file each, straight into the server's SQLite file: 3,000 pupils, 10
/// subjects. Far quicker than posting them, and past the server's limits on purpose.
fn fill(dir: &Path, rows: u32) {
    let connection = rusqlite::Connection::open(dir.join("work.sqlite")).unwrap();
    connection.busy_timeout(Duration::from_secs(30)).unwrap();
    connection
        .execute_batch(&format!(
            "BEGIN;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
             INSERT INTO submissions (key, course_id, student, kind, subject, text, score, created_at, received_at)
             SELECT printf('f%031x', i), 'essai', printf('Élève %04d', i % 3000), 'hand_in',
                    printf('Devoir %d', i % 10), 'U = R × I, donc I = U / R', NULL, i, i FROM n;
             INSERT INTO files (submission_id, position, name, media_type, size, cid, bytes)
             SELECT id, 0, 'devoir.pdf', 'application/pdf', 4, 'x', x'25504446' FROM submissions
             WHERE key LIKE 'f%';
             COMMIT;"
        ))
        .unwrap();
}

/// Sends a request head (with `Connection: close`) and no more, on a connection left open.
fn send_head(server: &Server, head: &str) -> TcpStream {
    let mut stream = TcpStream::connect(&server.address).unwrap();
    write!(stream, "{head}Host: {}\r\nConnection: close\r\n\r\n", server.address).unwrap();
    stream
}

/// Reads an answer on `stream` for at most `wait`: `None` if none came whole.
fn answer_within(mut stream: TcpStream, wait: Duration) -> Option<Reply> {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut raw = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n");
        if let Some(end) = head_end {
            let reply = Reply::parse(&raw);
            let length = reply.header("content-length").and_then(|l| l.parse::<usize>().ok());
            if length.is_some_and(|length| raw.len() >= end + 4 + length) {
                return Some(reply);
            }
        }
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return head_end.map(|_| Reply::parse(&raw)),
            Ok(read) => raw.extend_from_slice(&buffer[..read]),
        }
    }
}

/// The bytes of a `Transfer-Encoding: chunked` body.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&body[..line_end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.extend_from_slice(&body[line_end + 2..line_end + 2 + size]);
        body = &body[line_end + 2 + size + 2..];
    }
    out
}

fn bearer() -> String {
    format!("Authorization: Bearer {TOKEN}\r\n")
}

// The next four rely on listener.rs handing a request to `Origin::receive` unread, with the client's
// address: the limits decide before the body arrives.

#[test]
fn an_upload_announcing_too_much_gets_413_before_its_body_is_sent() {
    let dir = TempDir::new().unwrap();
    let server = start(dir.path(), &[]);
    let head = format!("POST {PATH} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n", 64 << 20);
    let reply = answer_within(send_head(&server, &head), Duration::from_secs(10)).expect("an answer without the body");
    assert_eq!(reply.status, 413, "{}", reply.text());
    assert_eq!(count(dir.path()), 0);
}

#[test]
fn uploads_past_the_upload_memory_get_503_with_retry_after() {
    let dir = TempDir::new().unwrap();
    let server = start(dir.path(), &["--upload-memory-mib", "1"]);
    // An upload announcing 2 MB, stuck after its first bytes, holds the whole MiB while it lasts.
    let mut stuck = send_head(&server, &format!("POST {PATH} HTTP/1.1\r\nContent-Length: {}\r\n", 2_000_000));
    stuck.write_all(b"{\"submission\":").unwrap();
    let key = |n: u32| format!("{n:032x}");
    let refused = (1..=50).find_map(|n| {
        let reply = send(&server, "POST", PATH, "", upload(&key(n)).as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        (reply.status == 503).then_some(reply)
    });
    let refused = refused.expect("a 503 while the stuck upload holds the memory");
    assert_eq!(refused.header("retry-after"), Some("5"));
    drop(stuck);
    let accepted = (51..=100).any(|n| {
        let reply = send(&server, "POST", PATH, "", upload(&key(n)).as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        reply.status == 200
    });
    assert!(accepted, "the memory comes back once the stuck upload is gone");
}

#[test]
fn an_address_past_its_rate_gets_429_with_retry_after() {
    let dir = TempDir::new().unwrap();
    let server = start(dir.path(), &["--submissions-per-minute", "3"]);
    for n in 1..=3u32 {
        receipt(&send(&server, "POST", PATH, "", upload(&format!("{n:032x}")).as_bytes()).unwrap());
    }
    let refused = send(&server, "POST", PATH, "", upload(&"e".repeat(32)).as_bytes()).unwrap();
    assert_eq!(refused.status, 429, "{}", refused.text());
    let wait: u64 = refused.header("retry-after").expect("a Retry-After").parse().unwrap();
    assert!((1..=20).contains(&wait), "one submission comes back every 20 s: {wait}");
    assert_eq!(count(dir.path()), 3);
}

#[test]
fn wrong_tokens_lock_the_address_out() {
    let dir = TempDir::new().unwrap();
    let server = start(dir.path(), &[]);
    let wrong = "Authorization: Bearer jeton-de-tesT\r\n";
    let locked_at = (1..=20).find(|_| send(&server, "GET", "/teacher", wrong, b"").unwrap().status == 429);
    let locked_at = locked_at.expect("locked out within 20 wrong tries");
    assert!(locked_at > 10, "10 wrong tries are allowed, the next waits: locked at try {locked_at}");
    let right = send(&server, "GET", "/teacher", &bearer(), b"").unwrap();
    assert_eq!(right.status, 429, "even the right token waits out the lockout");
    assert!(right.header("retry-after").is_some_and(|wait| wait.parse::<u64>().is_ok_and(|s| (1..=60).contains(&s))));
}

#[test]
fn a_full_register_refuses_new_work_and_still_answers_repeats() {
    let dir = TempDir::new().unwrap();
    let server = start(dir.path(), &["--db-max-mib", "1"]);
    let first = receipt(&send(&server, "POST", PATH, "", upload(KEY).as_bytes()).unwrap());
    let connection = rusqlite::Connection::open(dir.path().join("work.sqlite")).unwrap();
    let blob = vec![0u8; 2 << 20];
    connection
        .execute(
            "INSERT INTO files (submission_id, position, name, media_type, size, cid, bytes)
             VALUES (?1, 1, 'gros.bin', 'application/octet-stream', ?2, 'x', ?3)",
            rusqlite::params![first.id, blob.len() as i64, blob],
        )
        .unwrap();
    let refused = send(&server, "POST", PATH, "", upload(&"e".repeat(32)).as_bytes()).unwrap();
    assert_eq!((refused.status, refused.header("retry-after")), (503, Some("600")), "{}", refused.text());
    assert_eq!(receipt(&send(&server, "POST", PATH, "", upload(KEY).as_bytes()).unwrap()), first);
    assert_eq!(count(dir.path()), 1);
}

#[test]
fn the_teacher_view_is_paginated() {
    let dir = TempDir::new().unwrap();
    let server = start(dir.path(), &[]);
    fill(dir.path(), 250);
    let page = |path: &str| send(&server, "GET", path, &bearer(), b"").unwrap();
    let rows = |reply: &Reply| reply.text().matches("<tr><td>").count();
    let first = page("/teacher");
    assert_eq!((first.status, rows(&first)), (200, 100));
    assert!(first.text().contains("Page 1 sur 3") && first.text().contains("href=\"/teacher/page/2\" rel=\"next\""));
    let last = page("/teacher/page/3");
    assert_eq!((last.status, rows(&last)), (200, 50));
    assert!(last.text().contains("href=\"/teacher/page/2\" rel=\"prev\"") && !last.text().contains("rel=\"next\""));
    assert_eq!(page("/teacher/page/4").status, 404);
    let csv = page("/teacher/submissions.csv");
    let csv = String::from_utf8(dechunk(&csv.body)).unwrap();
    assert_eq!(csv.matches("\"devoir.pdf\"").count(), 250, "the CSV has them all");
}

#[test]
#[allow(clippy::disallowed_methods)] // two clients racing on a real server: a thread and the clock are the point
fn a_page_is_answered_while_the_teacher_exports_100000_rows() {
    let dir = TempDir::new().unwrap();
    let server = start(dir.path(), &[]);
    fill(dir.path(), 100_000);
    let mut export = send_head(&server, &format!("GET /teacher/submissions.csv HTTP/1.1\r\n{}", bearer()));
    let exporting = std::thread::spawn(move || {
        let mut raw = Vec::new();
        export.read_to_end(&mut raw).unwrap();
        (std::time::Instant::now(), raw)
    });
    let page = server.get("/");
    let page_done = std::time::Instant::now();
    let (export_done, raw) = exporting.join().unwrap();
    assert_eq!(page.status, 200);
    let csv = dechunk(&Reply::parse(&raw).body);
    assert_eq!(csv.split(|b| *b == b'\n').filter(|line| line.starts_with(b"\"")).count(), 100_000);
    assert!(page_done < export_done, "the page waited for the export");
}

#[test]
fn the_cookie_holds_a_session_not_the_token() {
    let dir = TempDir::new().unwrap();
    let server = start(dir.path(), &[]);
    let form = "Content-Type: application/x-www-form-urlencoded\r\n";
    let login = |extra: &str| {
        let reply =
            send(&server, "POST", "/teacher/login", &format!("{form}{extra}"), format!("token={TOKEN}").as_bytes());
        let reply = reply.unwrap();
        assert_eq!(reply.status, 303);
        reply.header("set-cookie").unwrap().to_owned()
    };
    let cookie = login("");
    let pair = cookie.split(';').next().unwrap();
    assert!(!cookie.contains(TOKEN) && !cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let page = send(&server, "GET", "/teacher", &format!("Cookie: {pair}\r\n"), b"").unwrap();
    assert_eq!(page.status, 200);
    assert!(page.header("content-security-policy").is_some_and(|csp| csp.contains("frame-ancestors 'none'")));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    let token_as_cookie = send(&server, "GET", "/teacher", &format!("Cookie: cartable_teacher={TOKEN}\r\n"), b"");
    assert_eq!(token_as_cookie.unwrap().status, 401);
    let behind_https = login("X-Forwarded-Proto: https\r\n");
    assert!(behind_https.contains("; Secure"), "{behind_https}");
    assert_ne!(behind_https.split(';').next(), Some(pair), "each login opens its own session");
}

#[test]
fn the_token_can_come_from_a_file() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    support::write(dir.path(), "token.txt", "jeton-du-fichier\n");
    let args = [SITE_ARGS, &["--db", "work.sqlite", "--teacher-token-file", "token.txt"]].concat();
    let server = Server::start(dir.path(), &args);
    let opened = send(&server, "GET", "/teacher", "Authorization: Bearer jeton-du-fichier\r\n", b"").unwrap();
    assert_eq!(opened.status, 200);
}
