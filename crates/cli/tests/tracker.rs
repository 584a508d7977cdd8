//! Integration tests of `cartable tracker` and of the tracker `cartable serve` embeds: real binaries,
//! real WebSocket clients speaking the WebTorrent tracker protocol.
// See: the tracker brief (signalling for classmates' browsers)

mod support;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, ChildStderr, Stdio};
use std::time::Duration;

use cartable_core::tracker::{binary_string, info_hash};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use support::{cartable, ok, run, site, Server, SITE_ARGS};
use tempfile::TempDir;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A running `cartable tracker --port 0`, killed when dropped.
struct Tracker {
    child: Child,
    url: String,
}

impl Tracker {
    fn start() -> Tracker {
        Tracker::start_with(&[])
    }

    /// `cartable tracker --port 0 args...`.
    fn start_with(args: &[&str]) -> Tracker {
        let mut child = cartable()
            .args(["tracker", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the cartable binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("cartable tracker: ").expect("the address line comes first").to_owned();
        assert!(url.starts_with("ws://127.0.0.1:") && url.ends_with('/'), "{line}");
        Tracker { child, url }
    }

    /// Sends SIGTERM and returns what the tracker printed on standard error.
    fn terminate(mut self) -> String {
        let pid = self.child.id().to_string();
        assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let stderr: ChildStderr = self.child.stderr.take().unwrap();
        let text = std::io::read_to_string(stderr).unwrap();
        assert!(self.child.wait().unwrap().success());
        text
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(url: &str) -> Socket {
    tokio_tungstenite::connect_async(url).await.expect("the WebSocket opens").0
}

/// A WebSocket to `url` from the local address `local` (any of 127.0.0.0/8 on Linux), its receive
/// buffer at most `receive_buffer` bytes if given.
async fn connect_from(local: &str, url: &str, receive_buffer: Option<u32>) -> Socket {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{local}:0").parse().unwrap()).unwrap();
    if let Some(size) = receive_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    let address = url.strip_prefix("ws://").unwrap().trim_end_matches('/').parse().unwrap();
    let stream = socket.connect(address).await.expect("the tracker accepts");
    tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream)).await.expect("the WebSocket opens").0
}

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).await.unwrap();
}

/// The next text message, as JSON; fails after 10 s.
async fn receive(socket: &mut Socket) -> Value {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("a message in time");
        match next.expect("the socket is open").unwrap() {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            _ => continue,
        }
    }
}

fn hash() -> String {
    binary_string(&info_hash("essai"))
}

fn peer(byte: u8) -> String {
    binary_string(&[byte; 20])
}

/// Two clients meet on `url`: the first announces, the second sends an offer that reaches the first,
/// whose answer reaches the second. Returns both, still open.
async fn offer_and_answer(url: &str) -> (Socket, Socket) {
    let (mut first, mut second) = (connect(url).await, connect(url).await);
    send(
        &mut first,
        json!({"action": "announce", "info_hash": hash(), "peer_id": peer(1), "numwant": 5,
        "uploaded": 0, "downloaded": 0, "left": 1000, "event": "started", "offers": []}),
    )
    .await;
    let reply = receive(&mut first).await;
    assert_eq!((reply["action"].as_str(), reply["interval"].as_u64()), (Some("announce"), Some(120)), "{reply}");
    assert_eq!(reply["info_hash"].as_str(), Some(&*hash()));

    let offer = json!({"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"});
    send(
        &mut second,
        json!({"action": "announce", "info_hash": hash(), "peer_id": peer(2), "numwant": 1,
        "left": 1000, "event": "started", "offers": [{"offer_id": peer(9), "offer": offer}]}),
    )
    .await;
    assert_eq!(receive(&mut second).await["incomplete"], 2);
    let relayed = receive(&mut first).await;
    assert_eq!(relayed["offer"], offer);
    assert_eq!((relayed["peer_id"].as_str(), relayed["offer_id"].as_str()), (Some(&*peer(2)), Some(&*peer(9))));

    let answer = json!({"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n"});
    send(
        &mut first,
        json!({"action": "announce", "info_hash": hash(), "peer_id": peer(1),
        "to_peer_id": relayed["peer_id"], "answer": answer, "offer_id": relayed["offer_id"]}),
    )
    .await;
    let back = receive(&mut second).await;
    assert_eq!(back["answer"], answer);
    assert_eq!((back["peer_id"].as_str(), back["offer_id"].as_str()), (Some(&*peer(1)), Some(&*peer(9))));
    (first, second)
}

#[tokio::test]
async fn an_offer_reaches_the_other_client_and_its_answer_comes_back() {
    let tracker = Tracker::start();
    let _open = offer_and_answer(&tracker.url).await;
    // Open WebSockets do not hold the tracker up when it is asked to stop.
    let summary = tracker.terminate();
    // The answer is an announce too.
    let expected = "cartable tracker: 2 connections, 3 announces, 1 offers relayed, 1 answers relayed (0 lost)";
    assert!(summary.contains(expected), "{summary}");
}

#[tokio::test]
async fn a_closed_connection_leaves_its_swarm() {
    let tracker = Tracker::start();
    let mut leaving = connect(&tracker.url).await;
    send(&mut leaving, json!({"action": "announce", "info_hash": hash(), "peer_id": peer(1)})).await;
    receive(&mut leaving).await;
    leaving.close(None).await.unwrap();
    let mut asking = connect(&tracker.url).await;
    for _ in 0..100 {
        send(&mut asking, json!({"action": "scrape", "info_hash": hash()})).await;
        let files = receive(&mut asking).await["files"].clone();
        if files[hash()]["incomplete"] == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the closed connection's peer is still in the swarm");
}

#[tokio::test]
async fn bad_messages_get_a_failure_reason() {
    let tracker = Tracker::start();
    let mut socket = connect(&tracker.url).await;
    socket.send(Message::text("{not json")).await.unwrap();
    assert!(receive(&mut socket).await["failure reason"].as_str().unwrap().contains("JSON"));
    send(&mut socket, json!({"action": "announce", "info_hash": "short", "peer_id": peer(1)})).await;
    assert!(receive(&mut socket).await["failure reason"].is_string());
    // The connection still works after refusals.
    send(&mut socket, json!({"action": "announce", "info_hash": hash(), "peer_id": peer(1)})).await;
    assert_eq!(receive(&mut socket).await["interval"], 120);
}

#[tokio::test]
async fn serve_embeds_a_tracker_and_names_it_in_the_page() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = Server::start(dir.path(), SITE_ARGS);
    let page = server.get("/").text();
    let config = page.split(r#"id="cartable-config">"#).nth(1).unwrap().split("</script>").next().unwrap();
    let config: Value = serde_json::from_str(config).expect("the config block is JSON");
    let url = format!("ws://{}/tracker", server.address);
    assert_eq!(config["tracker"].as_str(), Some(&*url));
    assert_eq!(server.get("/tracker").status, 426, "a plain request is told to upgrade");
    offer_and_answer(&url).await;
}

#[test]
fn serve_without_tracker_leaves_it_out() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = Server::start(dir.path(), &[SITE_ARGS, &["--no-tracker"]].concat());
    assert!(!server.get("/").text().contains("tracker"));
    assert_eq!(server.get("/tracker").status, 404);
}

#[test]
fn help_explains_the_tracker() {
    let dir = TempDir::new().unwrap();
    let help = ok(&run(dir.path(), &["tracker", "--help"]));
    for expected in ["WebTorrent", "never sees course content", "--host", "--port", "--interval", "[default: 8000]"] {
        assert!(help.contains(expected), "{expected} in:\n{help}");
    }
    assert!(ok(&run(dir.path(), &["--help"])).contains("tracker"));
    assert!(ok(&run(dir.path(), &["serve", "--help"])).contains("--no-tracker"));
}

/// An announce of `peer` in the swarm of course `course`.
fn announce(course: &str, peer: u8) -> Value {
    json!({"action": "announce", "info_hash": binary_string(&info_hash(course)), "peer_id": self::peer(peer),
        "numwant": 5, "left": 1000, "event": "started", "offers": []})
}

#[tokio::test]
async fn a_full_swarm_refuses_more_peers_and_another_swarm_is_still_served() {
    let tracker = Tracker::start_with(&["--max-peers", "2"]);
    let mut open = Vec::new();
    for n in 1..=2 {
        let mut socket = connect(&tracker.url).await;
        send(&mut socket, announce("essai", n)).await;
        assert_eq!(receive(&mut socket).await["incomplete"], u64::from(n));
        open.push(socket);
    }
    let mut third = connect(&tracker.url).await;
    send(&mut third, announce("essai", 3)).await;
    let refused = receive(&mut third).await;
    assert_eq!(refused["failure reason"], "swarm full: 2 peers at most", "{refused}");
    send(&mut third, announce("autre", 3)).await;
    assert_eq!(receive(&mut third).await["incomplete"], 1, "another course has its own room");
    // The peers in the full swarm are still served.
    send(&mut open[0], announce("essai", 1)).await;
    assert_eq!(receive(&mut open[0]).await["incomplete"], 2);
}

#[tokio::test]
async fn one_address_cannot_hold_every_connection() {
    let tracker = Tracker::start_with(&["--max-per-address", "2"]);
    let mut first = connect(&tracker.url).await;
    let mut second = connect(&tracker.url).await;
    for (n, socket) in [&mut first, &mut second].into_iter().enumerate() {
        send(socket, announce("essai", n as u8 + 1)).await;
        assert_eq!(receive(socket).await["interval"], 120);
    }
    let mut third = connect(&tracker.url).await;
    let closed = tokio::time::timeout(Duration::from_secs(10), third.next()).await.expect("closed in time");
    let Some(Ok(Message::Close(Some(frame)))) = closed else { panic!("expected a close frame: {closed:?}") };
    assert_eq!(u16::from(frame.code), 1013, "try again later");
    assert_eq!(frame.reason.as_str(), "too many connections from one address: 2 at most");

    let mut elsewhere = connect_from("127.0.0.2", &tracker.url, None).await;
    send(&mut elsewhere, announce("essai", 3)).await;
    assert_eq!(receive(&mut elsewhere).await["incomplete"], 3, "another address is still served");

    // A place freed is taken again, once the tracker has seen the connection close.
    first.close(None).await.unwrap();
    let mut again = None;
    for _ in 0..100 {
        let mut socket = connect(&tracker.url).await;
        send(&mut socket, announce("essai", 1)).await;
        if let Ok(Some(Ok(Message::Text(_)))) = tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            again = Some(socket);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(again.is_some(), "the address never got its place back");
    let summary = tracker.terminate();
    assert!(summary.contains("connections turned away"), "{summary}");
}

#[tokio::test]
async fn a_client_that_never_reads_is_dropped() {
    let tracker = Tracker::start();
    // A small receive buffer: what the tracker sends backs up sooner.
    let mut stuck = connect_from("127.0.0.1", &tracker.url, Some(4096)).await;
    send(&mut stuck, announce("essai", 1)).await;
    // The flooder reads its own replies: only the stuck client stops reading.
    let (mut flood, mut replies) = connect(&tracker.url).await.split();
    tokio::spawn(async move { while replies.next().await.is_some() {} });
    let mut watcher = connect(&tracker.url).await;

    let sdp = "a".repeat(15_000);
    // The send deadline (15 s) once the buffers are full, and a generous margin for a busy machine.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    for round in 0u32.. {
        for n in 0..20u32 {
            let offer_id =
                binary_string(&[(round % 200) as u8, n as u8, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7]);
            let mut message = announce("essai", 2);
            message["offers"] = json!([{"offer_id": offer_id, "offer": {"type": "offer", "sdp": sdp}}]);
            flood.send(Message::text(message.to_string())).await.unwrap();
        }
        send(&mut watcher, json!({"action": "scrape", "info_hash": hash()})).await;
        if receive(&mut watcher).await["files"][hash()]["incomplete"] == 1 {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the client that never reads is still in the swarm");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
