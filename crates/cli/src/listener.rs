//! The accept loop of `cartable serve`: one HTTP/1.1 connection per task, which the origin may close
//! without an answer; a summary of requests every 10 s while there is traffic; on Ctrl-C or SIGTERM, a
//! short grace for answers in flight, then the last summary. Answers come from `origin.rs`, except
//! WebSocket upgrades at `/tracker`, handed to the embedded tracker (`tracker.rs`) before the origin's
//! faults: the signalling relay is another service, and a socket open all morning must not hold one of
//! the origin's request slots.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use crate::desk;
use crate::origin::{Answer, Origin};
use crate::tracker::{self, Tracker};

/// How often the summary line is printed while requests keep coming.
const REPORT_EVERY: Duration = Duration::from_secs(10);
/// How long answers in flight may take to finish once the server is asked to stop.
const GRACE: Duration = Duration::from_secs(2);

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
    let expiry = tracker.as_ref().map(|tracker| tokio::spawn(Arc::clone(tracker).expire()));
    let mut connections = JoinSet::new();
    let stopped = stopped();
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            () = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Chunks are small answers: send each at once rather than wait to fill a packet.
                    let _ = stream.set_nodelay(true);
                    let served = (Arc::clone(&origin), tracker.clone());
                    connections.spawn(connection(stream, served, stopping.clone()));
                }
                // Such as too many open files: wait for connections to close rather than spin.
                Err(error) => {
                    eprintln!("cartable serve: cannot accept a connection: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
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
/// upgrade at `/tracker` leaves this connection for a task of the tracker's.
async fn connection(
    stream: TcpStream,
    (origin, tracker): (Arc<Origin>, Option<Arc<Tracker>>),
    mut stopping: watch::Receiver<bool>,
) {
    let hangup = Arc::new(Notify::new());
    let service = {
        let hangup = Arc::clone(&hangup);
        service_fn(move |request: hyper::Request<Incoming>| {
            let (origin, tracker, hangup) = (Arc::clone(&origin), tracker.clone(), Arc::clone(&hangup));
            async move {
                // The tracker is not the origin: no fault, count or log of the origin's applies to it.
                if let Some(tracker) = tracker.filter(|_| request.uri().path() == tracker::PATH) {
                    return Ok(tracker.upgrade(request).await);
                }
                let answer = match desk::claims(request.method(), request.uri().path()) {
                    true => {
                        let (parts, body) = request.into_parts();
                        let body =
                            axum::body::to_bytes(axum::body::Body::new(body), desk::MAX_BODY).await.map_err(|_| ());
                        origin.desk(&parts.method, parts.uri.path(), &parts.headers, body).await
                    }
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
    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service).with_upgrades();
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
