//! What the tool's two servers, `cartable serve` and `cartable tracker`, share to listen: binding the
//! address and its printed URL, the tokio runtime, the HTTP/1.1 settings with their head timeout, the
//! admission of a connection within the crowd bounds (`listen/crowd.rs`), and the Ctrl-C or SIGTERM that stops
//! both. Knows nothing of what either serves: `serve` and `tracker` use it, never the other way round.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hyper::server::conn::http1;
use hyper_util::rt::TokioTimer;

pub mod crowd;

use crowd::{Admission, Crowd, Watched};

/// How long a client has to send a request's head, counted from when the server waits for it: a
/// connection that sends nothing, half a head, or sits idle between requests is closed then. A phone on
/// a slow link sends a whole head (under 1 KiB) in a second or two; a browser reopens an idle
/// connection closed under it without the pupil seeing anything.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(15);

/// A socket listening on `host:port`, still blocking (set it non-blocking before tokio takes it), and
/// the port it listens on: `port`, or the free one picked for 0.
pub fn bind(host: &str, port: u16) -> anyhow::Result<(std::net::TcpListener, u16)> {
    let listener = std::net::TcpListener::bind((host, port))
        .with_context(|| format!("cannot listen on {host}:{port} (is another server using it? try --port)"))?;
    let port = listener.local_addr().context("cannot read the address listened on")?.port();
    Ok((listener, port))
}

/// The root URL of a server listening on `host:port`, such as `http://127.0.0.1:8080/` (an IPv6 host in
/// brackets).
pub fn url(scheme: &str, host: &str, port: u16) -> String {
    match host.contains(':') {
        true => format!("{scheme}://[{host}]:{port}/"),
        false => format!("{scheme}://{host}:{port}/"),
    }
}

/// The single-threaded runtime a server runs on; `whose` names it in the error, such as "server".
pub fn runtime(whose: &str) -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .with_context(|| format!("cannot start the {whose}'s runtime"))
}

/// The HTTP/1.1 settings of every connection the tool serves: keep-alive, upgrades, and the request
/// head within [`HEADER_TIMEOUT`] (hyper enforces none without a timer).
pub fn http1() -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT);
    builder
}

/// The next connection `listener` accepts and its peer's address, or `None` when accepting failed (such
/// as too many open files): said on standard error, with `server` naming the subcommand, after a pause
/// so that the caller's loop waits for connections to close rather than spin.
pub async fn accept(
    listener: &tokio::net::TcpListener,
    server: &str,
) -> Option<(tokio::net::TcpStream, std::net::IpAddr)> {
    match listener.accept().await {
        Ok((stream, address)) => Some((stream, address.ip())),
        Err(error) => {
            eprintln!("cartable {server}: cannot accept a connection: {error}");
            tokio::time::sleep(Duration::from_millis(100)).await;
            None
        }
    }
}

/// A place in `crowd` for a new connection, as a watched socket, or `None` (the connection is closed
/// unanswered) when every place holds a connection with a request in hand. Says once when the crowd is
/// first full; `server` names the subcommand in that line.
pub async fn admit<S>(crowd: &Arc<Crowd>, stream: S, server: &str) -> Option<Watched<S>> {
    let admission = crowd.admit();
    if !matches!(admission, Admission::Free(_)) && crowd.first_crowding() {
        eprintln!(
            "cartable {server}: {} connections open, the most this process's open-file limit allows: the quietest \
             now give way to new ones (raise the limit with `ulimit -n` for more)",
            crowd.cap()
        );
    }
    let place = match admission {
        Admission::Free(place) => place,
        Admission::MadeRoom(place) => {
            // The connection told to leave closes its socket on its task's next turn: give it that turn
            // before accepting more, or a flood would open sockets faster than they close.
            tokio::task::yield_now().await;
            place
        }
        Admission::Refused => return None,
    };
    Some(Watched::new(stream, place, crowd::WRITE_STALL))
}

/// Resolves when the user presses Ctrl-C or the process receives SIGTERM.
pub async fn stopped() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
