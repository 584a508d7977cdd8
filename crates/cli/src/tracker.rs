//! `cartable tracker`: the WebTorrent tracker WebSocket protocol around the core's `Swarms`, one task
//! per connection. Also mounted by `cartable serve` at [`PATH`]. It relays signalling between browsers;
//! it never sees course content. The swarms' logic is the core's; here are only sockets, time and counts,
//! and the bounds that keep one client from taking the tracker: connections per address, peers per
//! swarm (the core's), and a deadline on every send so that a client that stops reading is dropped.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use axum::body::Body;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::FromRequestParts as _;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse as _;
use cartable_core::random::SplitMix64;
use cartable_core::tracker::{
    ConnId, Counts, Millis, Swarms, DEFAULT_INTERVAL_SECS, MAX_MESSAGE_BYTES, MAX_PEERS_PER_SWARM,
};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::clock::Stopwatch;
use crate::listen;
use crate::listen::crowd::{self, Crowd, Watched};

mod addresses;

use addresses::Addresses;

/// Where `cartable serve` answers WebSocket upgrades for its embedded tracker.
pub const PATH: &str = "/tracker";

/// How often a connection is pinged; browsers answer pings by themselves.
const PING_EVERY: Duration = Duration::from_secs(30);
/// Pings in a row without a word from the client before its connection counts as dead.
const SILENT_PINGS: u32 = 3;
/// Messages waiting for one slow connection before more are dropped (clients announce again anyway).
const OUTBOX: usize = 64;
/// How long a message or ping may wait for the client to take it. A browser reads its tracker socket
/// at once; one that stopped reading (or a frozen tab) would otherwise block its task, and the ping
/// timer that detects dead clients with it, forever. It reconnects when it wakes.
const SEND_WITHIN: Duration = Duration::from_secs(15);
/// Open tracker connections one client address may hold by default. A browser holds one per tracker;
/// a school behind one NAT address (or a reverse proxy in front of `serve`) shows many pupils as one
/// address, hence room for a few hundred. Past it, a client would only be taking memory (each
/// connection costs a task, buffers and an outbox).
pub const MAX_PER_ADDRESS: usize = 256;
/// The WebSocket read buffer each connection starts with: signalling messages are a few KiB, and the
/// library's 128 KiB default, zeroed for every connection, was most of a connection's cost.
const READ_BUFFER: usize = 4 * 1024;

/// Options of `cartable tracker`.
#[derive(clap::Args)]
pub struct TrackerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Seconds between a client's announces; a peer silent for twice as long leaves its swarms.
    #[arg(long, default_value_t = DEFAULT_INTERVAL_SECS, value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub interval: u32,
    /// Most peers in one swarm (one course); announces past it are refused with a failure reason.
    #[arg(long, default_value_t = MAX_PEERS_PER_SWARM)]
    pub max_peers: usize,
    /// Most open connections from one client address (an IPv6 client: its /64); more are closed at once
    /// with a reason. Raise it for many pupils behind one NAT address.
    #[arg(long, default_value_t = MAX_PER_ADDRESS)]
    pub max_per_address: usize,
}

/// The swarms, the connections' outboxes and the counts, shared by every connection task.
pub struct Tracker {
    state: Mutex<State>,
    interval: u32,
    per_address: usize,
    started: Stopwatch,
    connections: AtomicU64,
    dropped: AtomicU64,
    turned_away: AtomicU64,
}

struct State {
    swarms: Swarms,
    outboxes: HashMap<ConnId, mpsc::Sender<String>>,
    addresses: Addresses,
    next: u64,
    random: SplitMix64,
}

/// What the tracker did, for the summary line.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    connections: u64,
    counts: Counts,
    dropped: u64,
    turned_away: u64,
}

impl Tracker {
    /// A tracker asking clients to announce every `interval` seconds, with the default bounds.
    pub fn new(interval: u32) -> Arc<Tracker> {
        Tracker::bounded(interval, MAX_PEERS_PER_SWARM, MAX_PER_ADDRESS)
    }

    /// A tracker with at most `max_peers` peers per swarm and `per_address` connections per client
    /// address (each at least 1).
    pub fn bounded(interval: u32, max_peers: usize, per_address: usize) -> Arc<Tracker> {
        // Only spreads offers among peers: a fixed seed if the system has no randomness is harmless.
        let seed = getrandom::u64().unwrap_or(0x5eed_cafe);
        let state = State {
            swarms: Swarms::new(interval).with_max_peers(max_peers),
            outboxes: HashMap::new(),
            addresses: Addresses::default(),
            next: 0,
            random: SplitMix64::new(seed),
        };
        Arc::new(Tracker {
            state: Mutex::new(state),
            interval,
            per_address: per_address.max(1),
            started: Stopwatch::start(),
            connections: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            turned_away: AtomicU64::new(0),
        })
    }

    /// The counts so far.
    pub fn summary(&self) -> Summary {
        Summary {
            connections: self.connections.load(Ordering::Relaxed),
            counts: self.state().swarms.counts(),
            dropped: self.dropped.load(Ordering::Relaxed),
            turned_away: self.turned_away.load(Ordering::Relaxed),
        }
    }

    /// Forgets peers silent for twice the interval, once per interval, forever.
    pub async fn expire(self: Arc<Self>) {
        let mut ticks = tokio::time::interval(Duration::from_secs(u64::from(self.interval)));
        loop {
            ticks.tick().await;
            let now = self.now();
            self.state().swarms.expire(now);
        }
    }

    /// The answer to an HTTP request for the tracker from address `from`: the WebSocket upgrade, or 426
    /// for a plain request.
    pub async fn upgrade<B>(self: Arc<Self>, request: Request<B>, from: IpAddr) -> Response<Body> {
        let (mut parts, _body) = request.into_parts();
        match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
            Ok(upgrade) => upgrade
                .max_message_size(2 * MAX_MESSAGE_BYTES)
                .max_frame_size(2 * MAX_MESSAGE_BYTES)
                .read_buffer_size(READ_BUFFER)
                .on_upgrade(move |socket| self.connection(socket, from))
                .into_response(),
            Err(_) => {
                let mut response = Response::new(Body::from(
                    "a WebTorrent tracker: connect with a WebSocket (ws://...), as the page does\n",
                ));
                *response.status_mut() = StatusCode::UPGRADE_REQUIRED;
                let headers = response.headers_mut();
                headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
                response
            }
        }
    }

    /// Serves one WebSocket from `from` until it closes, fails, falls silent or stops reading; then its
    /// peers leave their swarms. One past the address's bound is closed at once, with the reason.
    async fn connection(self: Arc<Self>, mut socket: WebSocket, from: IpAddr) {
        if !self.state().addresses.enter(from, self.per_address) {
            self.turned_away.fetch_add(1, Ordering::Relaxed);
            let reason = format!("too many connections from one address: {} at most", self.per_address);
            let frame = CloseFrame { code: close_code::AGAIN, reason: reason.into() };
            send(&mut socket, Message::Close(Some(frame))).await;
            return;
        }
        let (id, mut outbox) = self.open();
        let mut pings = tokio::time::interval(PING_EVERY);
        pings.tick().await;
        let mut silent = 0;
        loop {
            tokio::select! {
                incoming = socket.recv() => {
                    silent = 0;
                    match incoming {
                        Some(Ok(Message::Text(text))) => self.receive(id, text.as_str()),
                        Some(Ok(Message::Binary(bytes))) => self.receive(id, &String::from_utf8_lossy(&bytes)),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                        Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                    }
                }
                Some(text) = outbox.recv() => {
                    if !send(&mut socket, Message::Text(text.into())).await {
                        break;
                    }
                }
                _ = pings.tick() => {
                    silent += 1;
                    if silent > SILENT_PINGS || !send(&mut socket, Message::Ping(Default::default())).await {
                        break;
                    }
                }
            }
        }
        self.close(id, from);
    }

    fn open(&self) -> (ConnId, mpsc::Receiver<String>) {
        self.connections.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(OUTBOX);
        let mut state = self.state();
        state.next += 1;
        let id = ConnId(state.next);
        state.outboxes.insert(id, sender);
        (id, receiver)
    }

    fn close(&self, id: ConnId, from: IpAddr) {
        let mut state = self.state();
        state.outboxes.remove(&id);
        state.swarms.disconnect(id);
        state.addresses.leave(from);
    }

    /// Hands a message to the swarms and queues what they send, without waiting for any socket.
    fn receive(&self, from: ConnId, text: &str) {
        let now = self.now();
        let mut state = self.state();
        let State { swarms, outboxes, random, .. } = &mut *state;
        for (to, message) in swarms.handle(from, text, now, &mut || random.next_f64()) {
            let queued = outboxes.get(&to).is_some_and(|outbox| outbox.try_send(message).is_ok());
            if !queued {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn now(&self) -> Millis {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the swarms half updated in a way worse than a
        // lost message: keep serving.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Summary { connections, counts, dropped, turned_away } = self;
        write!(
            f,
            "cartable tracker: {connections} connections, {} announces, {} offers relayed, {} answers relayed \
             ({} lost), {} scrapes, {} refused, {dropped} messages dropped, {turned_away} connections turned away",
            counts.announces,
            counts.offers_relayed,
            counts.answers_relayed,
            counts.answers_lost,
            counts.scrapes,
            counts.failures
        )
    }
}

/// Runs `cartable tracker`: prints the address line, then serves until Ctrl-C or SIGTERM and prints the
/// summary line.
pub fn run(args: &TrackerArgs) -> anyhow::Result<()> {
    let (listener, port) = listen::bind(&args.host, args.port)?;
    println!("cartable tracker: {}", listen::url("ws", &args.host, port));
    listener.set_nonblocking(true).context("cannot set up the listening socket")?;
    let runtime = listen::runtime("tracker")?;
    let tracker = Tracker::bounded(args.interval, args.max_peers, args.max_per_address);
    runtime.block_on(serve(listener, tracker))
}

/// Accepts connections, within the same crowd bounds and HTTP timeouts as `cartable serve`, until
/// Ctrl-C or SIGTERM; open WebSockets do not hold the tracker up.
async fn serve(listener: std::net::TcpListener, tracker: Arc<Tracker>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener).context("cannot set up the listening socket")?;
    let expiry = tokio::spawn(Arc::clone(&tracker).expire());
    let crowd = Crowd::new(crowd::cap(crowd::open_files()));
    let stopped = listen::stopped();
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            () = &mut stopped => break,
            accepted = listen::accept(&listener, "tracker") => if let Some((stream, from)) = accepted {
                if let Some(stream) = listen::admit(&crowd, stream, "tracker").await {
                    tokio::spawn(http(Arc::clone(&tracker), stream, from));
                }
            },
        }
    }
    expiry.abort();
    eprintln!("{}", tracker.summary());
    Ok(())
}

/// Serves one connection to `cartable tracker`: the WebSocket upgrade at any path, or the 426 answer.
async fn http(tracker: Arc<Tracker>, stream: Watched<TcpStream>, from: IpAddr) {
    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
        let tracker = Arc::clone(&tracker);
        async move { Ok::<_, Infallible>(tracker.upgrade(request, from).await) }
    });
    let _ = listen::http1().serve_connection(TokioIo::new(stream), service).with_upgrades().await;
}

/// Sends `message`; `false` if the socket failed or the client did not take it within
/// [`SEND_WITHIN`].
async fn send(socket: &mut WebSocket, message: Message) -> bool {
    matches!(tokio::time::timeout(SEND_WITHIN, socket.send(message)).await, Ok(Ok(())))
}
