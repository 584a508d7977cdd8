//! The accept loop of `cartable serve`: one HTTP/1.1 connection per task, which the origin may close
//! without an answer; a summary of requests every 10 s while there is traffic; on Ctrl-C or SIGTERM, a
//! short grace for answers in flight, then the last summary. Answers come from `origin.rs`, except
//! WebSocket upgrades at `/tracker`, handed to the embedded tracker (`crate::tracker`) before the origin's
//! faults: the signalling relay is another service, and a socket open all morning must not hold one of
//! the origin's request slots. Abuse is bounded here: the connections open are capped below the
//! open-file limit (`listen/crowd.rs`), a request's headers must arrive within
//! [`listen::HEADER_TIMEOUT`], an upload must keep moving ([`BODY_IDLE`]), and a client that stops
//! reading is dropped.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::body::Body;
use futures_util::StreamExt as _;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use crate::listen;
use crate::listen::crowd::{self, Crowd, Watched};
use crate::serve::origin::{Answer, Origin};
use crate::serve::submissions;
use crate::tracker::{self, Tracker};

/// How often the summary line is printed while requests keep coming.
const REPORT_EVERY: Duration = Duration::from_secs(10);
/// How long answers in flight may take to finish once the server is asked to stop.
const GRACE: Duration = Duration::from_secs(2);
/// How long an upload may go without a byte before it is abandoned and its connection closed. Counted
/// between bytes, not over the whole body: a 14 MiB submission over a slow link may take minutes, and
/// that is fine while it moves.
pub const BODY_IDLE: Duration = Duration::from_secs(30);

/// Serves `origin` (and `tracker` at `/tracker`) on `listener` until Ctrl-C or SIGTERM, then prints the
/// summary lines.
pub async fn serve(
    listener: std::net::TcpListener,
    origin: Arc<Origin>,
    tracker: Option<Arc<Tracker>>,
) -> anyhow::Result<()> {
    let listener = TcpListener::from_std(listener).context("cannot set up the listening socket")?;
    let (stop, stopping) = watch::channel(false);
    let reports = tokio::spawn(report(Arc::clone(&origin)));
    let crowd = Crowd::new(crowd::cap(crowd::open_files()));
    let expiry = tracker.as_ref().map(|tracker| tokio::spawn(Arc::clone(tracker).expire()));
    let mut connections = JoinSet::new();
    let stopped = listen::stopped();
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            () = &mut stopped => break,
            // A failed accept (None) ends this turn of the loop, not the branch: the next turn accepts again.
            accepted = listen::accept(&listener, "serve") => if let Some((stream, from)) = accepted {
                // Chunks are small answers: send each at once rather than wait to fill a packet.
                let _ = stream.set_nodelay(true);
                if let Some(stream) = listen::admit(&crowd, stream, "serve").await {
                    let served = (Arc::clone(&origin), tracker.clone());
                    connections.spawn(connection(stream, from, served, stopping.clone()));
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let _ = tokio::time::timeout(GRACE, async { while connections.join_next().await.is_some() {} }).await;
    reports.abort();
    if let (Some(tracker), Some(expiry)) = (tracker, expiry) {
        expiry.abort();
        eprintln!("{}", tracker.summary());
    }
    eprintln!("{}", origin.stats());
    Ok(())
}

/// Serves one connection until it ends, the origin hangs up on it, or the server stops. A WebSocket
/// upgrade at `/tracker` leaves this connection for a task of the tracker's (the socket keeps its
/// place in the crowd). `from` is the client's address.
async fn connection(
    stream: Watched<TcpStream>,
    from: IpAddr,
    (origin, tracker): (Arc<Origin>, Option<Arc<Tracker>>),
    mut stopping: watch::Receiver<bool>,
) {
    let hangup = Arc::new(Notify::new());
    let pulse = stream.pulse();
    let service = {
        let hangup = Arc::clone(&hangup);
        service_fn(move |request: hyper::Request<Incoming>| {
            let (origin, tracker, hangup) = (Arc::clone(&origin), tracker.clone(), Arc::clone(&hangup));
            // A connection answering a request never gives way to a newcomer.
            let busy = pulse.busy();
            async move {
                let _busy = busy;
                // The tracker is not the origin: no fault, count or log of the origin's applies to it.
                if let Some(tracker) = tracker.filter(|_| request.uri().path() == tracker::PATH) {
                    return Ok(tracker.upgrade(request, from).await);
                }
                let answer = match submissions::claims(request.method(), request.uri().path()) {
                    // Handed over unread: the desk refuses an upload before its body is sent.
                    true => origin.receive(Some(from), request.map(|body| moving(Body::new(body), BODY_IDLE))).await,
                    false => origin.answer(request.method(), request.uri().path(), request.headers()).await,
                };
                match answer {
                    Answer::Respond(response) => Ok::<_, Infallible>(response),
                    Answer::Hangup => {
                        hangup.notify_one();
                        std::future::pending().await
                    }
                }
            }
        })
    };
    let connection = listen::http1().serve_connection(TokioIo::new(stream), service).with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        // Dropping the connection closes the socket before anything of the answer was written.
        () = hangup.notified() => {}
        _ = stopping.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

/// `body`, failing once no part of it has come for `idle`: an upload may take minutes over a slow
/// link, but one that stops moving must not hold its connection, nor its share of the upload memory.
fn moving(body: Body, idle: Duration) -> Body {
    let parts = futures_util::stream::unfold(Some(body.into_data_stream()), move |parts| async move {
        let mut parts = parts?;
        match tokio::time::timeout(idle, parts.next()).await {
            Ok(Some(Ok(part))) => Some((Ok(part), Some(parts))),
            Ok(Some(Err(error))) => Some((Err(std::io::Error::other(error)), None)),
            Ok(None) => None,
            Err(_) => Some((Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the upload stopped moving")), None)),
        }
    });
    Body::from_stream(parts)
}

/// Prints the summary line every [`REPORT_EVERY`] if anything changed since the last one (requests
/// the faults cover, or bytes sent to any).
async fn report(origin: Arc<Origin>) {
    let mut ticks = tokio::time::interval(REPORT_EVERY);
    ticks.tick().await;
    let mut last = origin.stats();
    loop {
        ticks.tick().await;
        let stats = origin.stats();
        if stats != last {
            eprintln!("{stats}");
            last = stats;
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;

    use super::*;

    async fn read(body: Body, idle: Duration) -> Result<Bytes, String> {
        axum::body::to_bytes(moving(body, idle), usize::MAX).await.map_err(|error| format!("{error:?}"))
    }

    #[tokio::test]
    async fn an_upload_that_moves_is_read_whole() {
        let parts = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from("ab")), Ok(Bytes::from("cd"))]);
        assert_eq!(read(Body::from_stream(parts), BODY_IDLE).await, Ok(Bytes::from("abcd")));
        assert_eq!(read(Body::empty(), BODY_IDLE).await, Ok(Bytes::new()));
        let broken = futures_util::stream::iter([Err::<Bytes, _>(std::io::Error::other("reset"))]);
        assert!(read(Body::from_stream(broken), BODY_IDLE).await.unwrap_err().contains("reset"));
    }

    #[tokio::test]
    async fn an_upload_that_stops_moving_fails() {
        let first = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from("ab"))]);
        let stuck = first.chain(futures_util::stream::pending());
        let error = read(Body::from_stream(stuck), Duration::from_millis(50)).await.unwrap_err();
        assert!(error.contains("stopped moving"), "{error}");
    }
}
