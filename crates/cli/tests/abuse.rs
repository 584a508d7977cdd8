//! Integration tests of `cartable serve` against clients that hold connections without using them:
//! silent or half-sent request heads, idle keep-alive connections, stalled uploads, and more idle
//! connections than the process may open files. Each runs the real binary and checks what a pupil
//! sees: the connection is closed in time, and the page still loads.
// See: the hardening brief (5,000 half-sent heads stayed open; 1,100 idle connections locked every
// new client out under a limit of 1,024 open files).

mod support;

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use support::{site, Reply, Server, SITE_ARGS};
use tempfile::TempDir;

/// `listen::HEADER_TIMEOUT`: how long the server waits for a request head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(15);
/// `listener::BODY_IDLE`: how long an upload may send nothing.
const BODY_IDLE: Duration = Duration::from_secs(30);
/// Room for a slow, busy machine on top of the server's own limits.
const MARGIN: Duration = Duration::from_secs(30);

/// Reads what the server sends until it closes the connection or stays silent for `wait`: the bytes,
/// and whether it closed (`false`: still open when the time was up).
fn until_closed(stream: &mut TcpStream, wait: Duration) -> (Vec<u8>, bool) {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut received = Vec::new();
    match stream.read_to_end(&mut received) {
        Ok(_) => (received, true),
        Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => (received, false),
        Err(error) if error.kind() == ErrorKind::ConnectionReset => (received, true),
        Err(error) => panic!("reading: {error}"),
    }
}

/// Sends `GET path` on a kept-alive connection and reads exactly its answer (by Content-Length).
fn exchange(stream: &mut TcpStream, address: &str, path: &str) -> Reply {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n").unwrap();
    stream.set_read_timeout(Some(MARGIN)).unwrap();
    let mut raw = Vec::new();
    let mut byte = [0];
    while !raw.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("an answer's head");
        raw.push(byte[0]);
    }
    let length: usize = Reply::parse(&raw).header("content-length").expect("a Content-Length").parse().unwrap();
    let mut body = vec![0; length];
    stream.read_exact(&mut body).unwrap();
    raw.extend_from_slice(&body);
    Reply::parse(&raw)
}

#[test]
fn silent_half_sent_and_idle_connections_are_closed_and_keep_alive_still_works() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = Server::start(dir.path(), SITE_ARGS);
    let silent = TcpStream::connect(&server.address).unwrap();
    let mut half = TcpStream::connect(&server.address).unwrap();
    write!(half, "GET / HTTP/1.1\r\nHost: {}\r\nAccept: text/html\r\n", server.address).unwrap();
    // A browser's connection: two requests on it, then nothing.
    let mut idle = TcpStream::connect(&server.address).unwrap();
    assert_eq!(exchange(&mut idle, &server.address, "/").status, 200);
    assert_eq!(exchange(&mut idle, &server.address, "/style.css").status, 200, "kept alive");

    for (name, mut stream) in [("silent", silent), ("half-sent", half), ("idle", idle)] {
        let (received, closed) = until_closed(&mut stream, HEADER_TIMEOUT + MARGIN);
        assert!(closed, "the {name} connection is still open: {}", String::from_utf8_lossy(&received));
    }
    assert_eq!(server.get("/").status, 200);
}

#[test]
fn a_slow_pupil_still_gets_the_page() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = Server::start(dir.path(), SITE_ARGS);
    let mut stream = TcpStream::connect(&server.address).unwrap();
    // A head trickling in over a few seconds, as over a poor mobile link.
    let lines = [
        "GET / HTTP/1.1\r\n".to_owned(),
        format!("Host: {}\r\n", server.address),
        "Accept: text/html\r\n".to_owned(),
        "Connection: close\r\n\r\n".to_owned(),
    ];
    for line in lines {
        stream.write_all(line.as_bytes()).unwrap();
        std::thread::sleep(Duration::from_secs(1));
    }
    let (received, closed) = until_closed(&mut stream, MARGIN);
    assert!(closed, "the answer ends the connection");
    assert_eq!(Reply::parse(&received).status, 200);
}

#[test]
fn an_upload_that_stops_moving_is_abandoned() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = Server::start(dir.path(), SITE_ARGS);
    let mut stream = TcpStream::connect(&server.address).unwrap();
    let head = format!(
        "POST /courses/essai/submissions HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: 100000\r\n\r\n{{\"key\": ",
        server.address
    );
    stream.write_all(head.as_bytes()).unwrap();
    let (received, closed) = until_closed(&mut stream, BODY_IDLE + MARGIN);
    assert!(closed, "the stalled upload still holds its connection");
    // Refused if answered at all: nothing half received is stored.
    assert!(received.is_empty() || Reply::parse(&received).status >= 400, "{}", String::from_utf8_lossy(&received));
    assert_eq!(server.get("/").status, 200);
}

#[test]
fn idle_connections_past_the_cap_do_not_keep_a_pupil_out() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    // 128 open files allow 96 connections: more idle ones than that are opened below.
    let server = Server::start_with_open_files(dir.path(), SITE_ARGS, 128);
    let mut crowd: Vec<TcpStream> = (0..150)
        .map(|n| {
            let mut stream = TcpStream::connect(&server.address).unwrap();
            if n % 2 == 1 {
                write!(stream, "GET / HTTP/1.1\r\nHost: {}\r\n", server.address).unwrap();
            }
            stream
        })
        .collect();

    let (raw, closed) = server.get_for("/", MARGIN);
    assert!(closed && !raw.is_empty(), "no answer while idle connections fill the server");
    assert_eq!(Reply::parse(&raw).status, 200);
    // The quietest connection gave way to the newcomers, long before its head was due.
    let (_, closed) = until_closed(&mut crowd[0], HEADER_TIMEOUT / 2);
    assert!(closed, "the first idle connection is still open");
    assert_eq!(server.get("/style.css").status, 200);
}
