//! How many connections a server of the `cartable` tool keeps open, and which one gives way when a
//! new one comes. The cap stays below the process's open-file limit, so that the server can still
//! accept, open a course file or the register when clients flood it; past the cap, the quietest
//! connection with no request in hand is closed for the newcomer, so a crowd of idle or half-sent
//! connections never stops a pupil's page from loading. [`Watched`] wraps each socket: it notes the
//! connection's last sign of life, closes it when it is made to give way, and drops a client that
//! stops reading. Knows nothing of HTTP or WebSockets.

use std::collections::BTreeMap;
use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::oneshot;
use tokio::time::Sleep;

use crate::clock::Stopwatch;

/// The cap when the open-file limit cannot be read: three quarters of the usual limit of 1024.
pub const DEFAULT_CAP: usize = 768;
/// The cap however high the limit: each connection costs buffers and a task, and a school's origin
/// serves a few thousand browsers at most.
const MOST: usize = 16_384;
/// Open files kept for everything but connections (a quarter of the limit, at least this many):
/// course files being read, the register, the runtime's own descriptors.
const RESERVE_AT_LEAST: u64 = 32;
/// How long a write may wait for a client that reads nothing before its connection is dropped. A
/// phone on a poor link still takes a few bytes a minute; a client that stopped reading would
/// otherwise hold its place, and its answer's buffers, forever.
pub const WRITE_STALL: Duration = Duration::from_secs(60);

/// The most connections to keep open under an open-file limit of `open_files` (`None`: unknown).
pub fn cap(open_files: Option<u64>) -> usize {
    let Some(limit) = open_files else { return DEFAULT_CAP };
    let reserve = (limit / 4).max(RESERVE_AT_LEAST);
    usize::try_from(limit.saturating_sub(reserve)).unwrap_or(usize::MAX).clamp(1, MOST)
}

/// The process's open-file limit (the soft `RLIMIT_NOFILE`; `u64::MAX` when unlimited), or `None`
/// where there is no such limit to read.
#[cfg(unix)]
pub fn open_files() -> Option<u64> {
    Some(rustix::process::getrlimit(rustix::process::Resource::Nofile).current.unwrap_or(u64::MAX))
}

/// The process's open-file limit, or `None` where there is no such limit to read.
#[cfg(not(unix))]
pub fn open_files() -> Option<u64> {
    None
}

/// What giving way weighs of an open connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Candidate {
    id: u64,
    /// A request is being answered: closing it would lose work a pupil waits for.
    busy: bool,
    /// Milliseconds since the crowd began, when a byte last went in or out.
    last: u64,
}

/// The connection that gives way: the one silent longest among those with no request in hand (the
/// oldest first when as silent), or `None` if every one is busy.
fn quietest(open: impl IntoIterator<Item = Candidate>) -> Option<u64> {
    open.into_iter().filter(|candidate| !candidate.busy).min_by_key(|c| (c.last, c.id)).map(|c| c.id)
}

/// The open connections of one server, up to its cap.
pub struct Crowd {
    cap: usize,
    table: Mutex<Table>,
    clock: Stopwatch,
    said: AtomicBool,
}

/// How a new connection was let in.
pub enum Admission {
    /// In a free place.
    Free(Place),
    /// In the place of the quietest connection, told to leave: its socket closes on its task's next
    /// turn, which the server should give it before accepting more.
    MadeRoom(Place),
    /// Not at all: every place holds a connection with a request in hand. Close the new one.
    Refused,
}

#[derive(Default)]
struct Table {
    next: u64,
    open: BTreeMap<u64, Member>,
}

struct Member {
    pulse: Arc<Pulse>,
    /// Told once, when this connection must give way.
    leave: oneshot::Sender<()>,
}

impl Crowd {
    /// A crowd of at most `cap` connections (at least 1).
    pub fn new(cap: usize) -> Arc<Crowd> {
        Arc::new(Crowd { cap: cap.max(1), table: Mutex::default(), clock: Stopwatch::start(), said: false.into() })
    }

    /// The most connections kept open.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// A place for a new connection: a free one, or one made by telling the quietest connection with
    /// no request in hand to leave.
    pub fn admit(self: &Arc<Self>) -> Admission {
        let now = self.now();
        let mut table = self.table();
        let full = table.open.len() >= self.cap;
        if full {
            let candidates = table.open.iter().map(|(&id, member)| Candidate {
                id,
                busy: member.pulse.handling.load(Ordering::Relaxed) > 0,
                last: member.pulse.last.load(Ordering::Relaxed),
            });
            let Some(leaving) = quietest(candidates) else { return Admission::Refused };
            if let Some(member) = table.open.remove(&leaving) {
                let _ = member.leave.send(());
            }
        }
        let id = table.next;
        table.next += 1;
        let pulse = Arc::new(Pulse { last: AtomicU64::new(now), handling: AtomicUsize::new(0) });
        let (leave, told) = oneshot::channel();
        table.open.insert(id, Member { pulse: Arc::clone(&pulse), leave });
        let place = Place { crowd: Arc::clone(self), id, pulse, told: Some(told), left: false };
        match full {
            true => Admission::MadeRoom(place),
            false => Admission::Free(place),
        }
    }

    /// `true` the first time this is asked, then never again: the server says once that it is full,
    /// not once per connection of a flood.
    pub fn first_crowding(&self) -> bool {
        !self.said.swap(true, Ordering::Relaxed)
    }

    /// The number of connections open.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.table().open.len()
    }

    fn now(&self) -> u64 {
        u64::try_from(self.clock.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        // The table is whole after every statement: a panic elsewhere cannot leave it half changed.
        self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A connection's signs of life, shared by its socket and the requests it carries.
pub struct Pulse {
    last: AtomicU64,
    handling: AtomicUsize,
}

impl Pulse {
    /// Marks a request in hand until the guard is dropped: the connection does not give way meanwhile.
    pub fn busy(self: &Arc<Self>) -> Busy {
        self.handling.fetch_add(1, Ordering::Relaxed);
        Busy(Arc::clone(self))
    }
}

/// A request in hand, see [`Pulse::busy`].
pub struct Busy(Arc<Pulse>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.handling.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One connection's place in the crowd, freed when dropped.
pub struct Place {
    crowd: Arc<Crowd>,
    id: u64,
    pulse: Arc<Pulse>,
    told: Option<oneshot::Receiver<()>>,
    left: bool,
}

impl Place {
    /// The connection's signs of life, for its requests to say they are busy.
    pub fn pulse(&self) -> Arc<Pulse> {
        Arc::clone(&self.pulse)
    }

    fn touch(&self) {
        self.pulse.last.store(self.crowd.now(), Ordering::Relaxed);
    }

    /// Whether the connection was told to give way; registers `cx` to hear it otherwise.
    fn must_leave(&mut self, cx: &mut Context<'_>) -> bool {
        if let Some(told) = &mut self.told {
            match Pin::new(told).poll(cx) {
                Poll::Pending => {}
                // Told to leave, or the crowd let go of this place (which only dropping it does).
                Poll::Ready(result) => {
                    self.told = None;
                    self.left = result.is_ok();
                }
            }
        }
        self.left
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.crowd.table().open.remove(&self.id);
    }
}

/// A socket with a place in the crowd: it records each byte in or out as a sign of life, fails once
/// the connection is told to give way, and fails a write that waits longer than its stall limit.
pub struct Watched<S> {
    stream: S,
    place: Place,
    stall: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<S> Watched<S> {
    /// `stream` holding `place`; a write blocked for `stall` fails with `TimedOut`.
    pub fn new(stream: S, place: Place, stall: Duration) -> Watched<S> {
        Watched { stream, place, stall, stalled: None }
    }

    /// The connection's signs of life.
    pub fn pulse(&self) -> Arc<Pulse> {
        self.place.pulse()
    }

    fn check_leave(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        match self.place.must_leave(cx) {
            true => Err(io::Error::new(io::ErrorKind::ConnectionAborted, "closed to make room for a new connection")),
            false => Ok(()),
        }
    }

    /// Notes progress, or starts (and polls) the stall timer while the write waits.
    fn watch_write(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        match poll {
            Poll::Pending => {
                let stall = self.stall;
                let timer = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading")))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
            Poll::Ready(result) => {
                self.stalled = None;
                if matches!(result, Ok(written) if written > 0) {
                    self.place.touch();
                }
                Poll::Ready(result)
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check_leave(cx)?;
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.place.touch();
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check_leave(cx)?;
        let poll = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.watch_write(cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check_leave(cx)?;
        let poll = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.watch_write(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    #[track_caller]
    fn check_cap(open_files: Option<u64>, expected: usize) {
        assert_eq!(cap(open_files), expected, "under a limit of {open_files:?}");
    }

    #[test]
    fn the_cap_stays_below_the_open_file_limit() {
        check_cap(None, DEFAULT_CAP);
        check_cap(Some(1024), 768);
        check_cap(Some(4096), 3072);
        check_cap(Some(128), 96);
        check_cap(Some(64), 32);
        check_cap(Some(40), 8);
        check_cap(Some(32), 1);
        check_cap(Some(0), 1);
        check_cap(Some(1 << 20), MOST);
        check_cap(Some(u64::MAX), MOST);
        assert!(open_files().is_none_or(|limit| cap(Some(limit)) as u64 <= limit.max(1)));
    }

    #[track_caller]
    fn check_quietest(open: &[(u64, bool, u64)], expected: Option<u64>) {
        let open = open.iter().map(|&(id, busy, last)| Candidate { id, busy, last });
        assert_eq!(quietest(open), expected);
    }

    #[test]
    fn the_quietest_idle_connection_gives_way() {
        check_quietest(&[], None);
        check_quietest(&[(1, false, 50), (2, false, 10), (3, false, 30)], Some(2));
        check_quietest(&[(1, false, 50), (2, true, 10), (3, false, 30)], Some(3));
        check_quietest(&[(4, false, 10), (2, false, 10)], Some(2));
        check_quietest(&[(1, true, 0), (2, true, 0)], None);
    }

    impl Admission {
        fn place(self) -> Option<Place> {
            match self {
                Admission::Free(place) | Admission::MadeRoom(place) => Some(place),
                Admission::Refused => None,
            }
        }
    }

    fn watched(crowd: &Arc<Crowd>, stall: Duration) -> (Watched<tokio::io::DuplexStream>, tokio::io::DuplexStream) {
        let (ours, theirs) = tokio::io::duplex(64);
        let Admission::Free(place) = crowd.admit() else { panic!("a free place") };
        (Watched::new(ours, place, stall), theirs)
    }

    #[tokio::test]
    async fn a_full_crowd_closes_its_quietest_idle_connection_for_a_newcomer() {
        let crowd = Crowd::new(2);
        let (mut first, _first_peer) = watched(&crowd, WRITE_STALL);
        let (mut second, mut second_peer) = watched(&crowd, WRITE_STALL);
        // The second spoke, then the first; then the second has a request in hand.
        tokio::time::sleep(Duration::from_millis(5)).await;
        second_peer.write_all(b"x").await.unwrap();
        assert_eq!(second.read_u8().await.unwrap(), b'x');
        tokio::time::sleep(Duration::from_millis(5)).await;
        first.write_all(b"y").await.unwrap();
        let busy = second.pulse().busy();

        let Admission::MadeRoom(third) = crowd.admit() else { panic!("the first gives way: the second is busy") };
        assert!(crowd.first_crowding() && !crowd.first_crowding(), "said once");
        let error = first.read_u8().await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionAborted);
        assert_eq!(crowd.len(), 2);
        drop(first);
        assert_eq!(crowd.len(), 2, "the place was already given to the third");

        let _busy_too = third.pulse().busy();
        assert!(crowd.admit().place().is_none(), "every place is busy: the newcomer is refused");
        drop(busy);
        assert!(crowd.admit().place().is_some(), "the second is idle again and gives way");
        drop(third);
        assert_eq!(crowd.len(), 0, "the last place left with the admitted one");
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_fails_the_write() {
        let crowd = Crowd::new(4);
        let (mut socket, _never_read) = watched(&crowd, Duration::from_millis(100));
        let error = socket.write_all(&[7; 4096]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test]
    async fn a_slow_reader_is_kept() {
        let crowd = Crowd::new(4);
        let (mut socket, mut slow) = watched(&crowd, Duration::from_millis(500));
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0; 16];
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                match slow.read(&mut buf).await.unwrap() {
                    0 => return got.len(),
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
        });
        socket.write_all(&[7; 1024]).await.expect("each write moves within the stall limit");
        socket.shutdown().await.unwrap();
        assert_eq!(reader.await.unwrap(), 1024);
    }
}
