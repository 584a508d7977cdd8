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
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A running `cartable tracker --port 0`, killed when dropped.
struct Tracker {
    child: Child,
    url: String,
}

impl Tracker {
    fn start() -> Tracker {
        let mut child = cartable()
            .args(["tracker", "--port", "0"])
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
