//! Chunks from every source the page knows, the school's origin and its mirrors, in the order and at the
//! pace the core's [`Scheduler`] decides: this module only carries out its plans (starts and aborts
//! requests, reports byte progress, wakes it when it asked to be woken) and hands verified chunks to
//! whoever waits for them. Every chunk is checked against its CID here, before anyone sees a byte; the
//! outcome, good or bad, is reported against the one source the bytes came from.

pub mod http;
pub mod manifest;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use cartable_core::fetch::{
    Attempt, AttemptId, Millis, OriginState, Outcome, Remembered, Scheduler, SourceId, SourceKind, SourceReport,
};
use cartable_core::Cid;
use futures::channel::oneshot;
use futures::future::LocalBoxFuture;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortController;

use crate::clock::now;
use crate::digest::{self, Mismatch};

/// A place chunks can be fetched from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The school's origin or a mirror.
    pub kind: SourceKind,
    /// The folder holding `manifest.json` and `ipfs/`, as an absolute URL ending in `/`.
    pub base: String,
}

impl Source {
    /// The mirror whose folder is `base`, an absolute URL, written to end in `/`.
    pub fn mirror(base: &str) -> Source {
        let base = if base.ends_with('/') { base.to_owned() } else { format!("{base}/") };
        Source { kind: SourceKind::Mirror, base }
    }

    /// Where this source serves chunk `cid`. Mirrors get `?format=raw`, which an IPFS trustless gateway
    /// needs and a static host ignores.
    pub fn chunk_url(&self, cid: &Cid) -> String {
        match self.kind {
            SourceKind::Origin => format!("{}ipfs/{cid}", self.base),
            SourceKind::Mirror => format!("{}ipfs/{cid}?format=raw", self.base),
            SourceKind::Peer => format!("peer:{cid}"),
        }
    }

    /// A short name for the pupil: the host, and the path when several mirrors share a host.
    pub fn label(&self) -> String {
        web_sys::Url::new(&self.base).map(|url| format!("{}{}", url.host(), url.pathname())).unwrap_or_default()
    }
}

/// Why a chunk could not be had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Every source that answered sent bytes that failed verification (they were thrown away).
    Corrupt,
    /// No source could give it (down, refusing, or out of retries).
    Unreachable,
    /// The browser cannot hash, so nothing can be verified.
    NoWebCrypto,
}

/// Classmates as the fetcher's peer source: the page's swarm implements it. A seam, so that a fetcher
/// without classmates (the service worker's) carries no WebRTC code.
pub trait Classmates {
    /// Whether a connected classmate says it holds `cid`.
    fn anyone_has(&self, cid: &Cid) -> bool;
    /// Chunk `cid` (`len` bytes), verified, from a classmate that holds it; else the outcome to report.
    fn get(&self, cid: Cid, len: u64) -> LocalBoxFuture<'_, Result<Vec<u8>, Outcome>>;
    /// How many classmates are connected now.
    fn connected(&self) -> usize;
}

/// Fetches chunks through a [`Scheduler`] over `sources`. Cheap to clone; one per course.
#[derive(Clone)]
pub struct Fetcher(Rc<Shared>);

struct Shared {
    sources: Vec<Source>,
    classmates: RefCell<Option<Rc<dyn Classmates>>>,
    state: RefCell<State>,
    on_change: RefCell<Option<Rc<dyn Fn()>>>,
    /// What was last kept of each source for the next page (see [`remember`]), by index.
    kept: RefCell<Vec<Option<String>>>,
}

/// Someone waiting for a chunk: its bytes, verified, or why not.
type Waiter = oneshot::Sender<Result<Vec<u8>, Failure>>;

struct State {
    scheduler: Scheduler,
    lengths: HashMap<Cid, u64>,
    waiting: HashMap<Cid, Vec<Waiter>>,
    running: HashMap<AttemptId, AbortController>,
    corrupt: HashSet<Cid>,
    timer: Option<i32>,
    /// When the scheduler asked to be woken next, on [`now`]'s clock.
    wake_at: Option<Millis>,
    no_webcrypto: bool,
}

impl Fetcher {
    /// A fetcher over `sources` (the origin first, by convention), with the core's default settings, and
    /// what an earlier page of this browser remembered of them (bans, and origins or mirrors to leave
    /// alone for a while; see [`remember`]).
    pub fn new(sources: Vec<Source>) -> Fetcher {
        let kinds: Vec<SourceKind> = sources.iter().map(|source| source.kind).collect();
        let mut scheduler = Scheduler::new(&kinds, Default::default());
        let kept: Vec<Option<String>> =
            sources.iter().map(|source| memory(source)?.get_item(&memory_key(source)).ok()?).collect();
        let wall_ms = crate::clock::unix_ms() as u64;
        for (index, text) in kept.iter().enumerate() {
            if let Some(text) = text {
                scheduler.recall(SourceId(index), Remembered::from_text(text, wall_ms), now());
            }
        }
        let state = State {
            scheduler,
            lengths: HashMap::new(),
            waiting: HashMap::new(),
            running: HashMap::new(),
            corrupt: HashSet::new(),
            timer: None,
            wake_at: None,
            no_webcrypto: false,
        };
        let classmates = RefCell::default();
        let (state, on_change, kept) = (RefCell::new(state), RefCell::default(), RefCell::new(kept));
        Fetcher(Rc::new(Shared { sources, classmates, state, on_change, kept }))
    }

    /// Lets the peer source (if the fetcher has one) ask `classmates`.
    pub fn attach_classmates(&self, classmates: Rc<dyn Classmates>) {
        *self.0.classmates.borrow_mut() = Some(classmates);
        drive(&self.0);
        // The sources panel speaks of classmates (and what they can see) once there are some.
        changed(&self.0);
    }

    /// A callback recording that a classmate holds a chunk: a chunk saved for later is then asked of the
    /// classmates before the origin. It holds the fetcher weakly, so the swarm keeping it keeps no cycle.
    pub fn classmates_hold(&self) -> Rc<dyn Fn(&Cid)> {
        let weak = Rc::downgrade(&self.0);
        Rc::new(move |cid| {
            let Some(shared) = weak.upgrade() else { return };
            let Some(peers) = shared.sources.iter().position(|source| source.kind == SourceKind::Peer) else {
                return;
            };
            shared.state.borrow_mut().scheduler.held_by(SourceId(peers), cid);
            drive(&shared);
        })
    }

    /// Chunk `cid`, of `len` bytes, verified, for a pupil who waits for it: before any prefetch, from
    /// HTTP sources first. Concurrent calls for one chunk share one download.
    pub async fn get(&self, cid: Cid, len: u64) -> Result<Vec<u8>, Failure> {
        self.fetch(cid, len, false).await
    }

    /// Like [`Fetcher::get`], for a chunk nobody waits for yet (saving the course): after the waited
    /// ones, and from a classmate that holds it first.
    pub async fn prefetch(&self, cid: Cid, len: u64) -> Result<Vec<u8>, Failure> {
        self.fetch(cid, len, true).await
    }

    async fn fetch(&self, cid: Cid, len: u64, prefetch: bool) -> Result<Vec<u8>, Failure> {
        let (sender, receiver) = oneshot::channel();
        {
            let mut state = self.0.state.borrow_mut();
            state.lengths.insert(cid, len);
            state.waiting.entry(cid).or_default().push(sender);
            match prefetch {
                true => state.scheduler.prefetch([(cid, len)]),
                false => state.scheduler.want([(cid, len)]),
            }
        }
        drive(&self.0);
        receiver.await.unwrap_or(Err(Failure::Unreachable))
    }

    /// Each source with what it did so far (requests, failures, verified bytes, breaker, ban).
    pub fn sources(&self) -> Vec<(Source, SourceReport)> {
        let reports = self.0.state.borrow().scheduler.report();
        self.0.sources.iter().cloned().zip(reports).collect()
    }

    /// The origin refused the page when it opened the course: what the pupil waits for is asked of a
    /// classmate holding it before HTTP, until the origin serves again (`Scheduler::spare_origin`).
    pub fn spare_origin(&self) {
        self.0.state.borrow_mut().scheduler.spare_origin();
    }

    /// How the origin is doing, as far as this page has seen.
    pub fn origin_state(&self) -> OriginState {
        self.0.state.borrow().scheduler.origin_state()
    }

    /// Whether someone waits for a chunk this fetcher has not delivered yet.
    pub fn waiting(&self) -> bool {
        !self.0.state.borrow().waiting.is_empty()
    }

    /// In how many milliseconds the scheduler decides again, when chunks wait and none is being fetched
    /// (every source refusing, resting or asked to wait): the pupil can be told when the next try is.
    pub fn next_try_in(&self) -> Option<Millis> {
        let state = self.0.state.borrow();
        let idle = state.running.is_empty() && !state.waiting.is_empty();
        state.wake_at.filter(|_| idle).map(|wake_at| wake_at.saturating_sub(now()))
    }

    /// Calls `on_change` after every attempt that ends and when classmates join in (to redraw what depends
    /// on the sources).
    pub fn on_change(&self, on_change: Option<Rc<dyn Fn()>>) {
        *self.0.on_change.borrow_mut() = on_change;
    }
}

/// Carries out the scheduler's plan for now: aborts, starts, fails what can no longer be had, and sets
/// the timer for the next decision.
fn drive(shared: &Rc<Shared>) {
    let plan = shared.state.borrow_mut().scheduler.poll(now(), &mut || crate::clock::random());
    for id in &plan.cancel {
        if let Some(controller) = shared.state.borrow().running.get(id) {
            controller.abort();
        }
    }
    for attempt in plan.start {
        let shared = shared.clone();
        wasm_bindgen_futures::spawn_local(async move { run(&shared, attempt).await });
    }
    give_up(shared);
    set_timer(shared, plan.wake_at);
}

async fn run(shared: &Rc<Shared>, attempt: Attempt) {
    let Ok(controller) = AbortController::new() else { return finish(shared, &attempt, Outcome::NetworkError) };
    let signal = controller.signal();
    let (url, len) = {
        let mut state = shared.state.borrow_mut();
        state.running.insert(attempt.id, controller);
        let url = shared.sources.get(attempt.source.0).map(|source| source.chunk_url(&attempt.cid));
        (url, state.lengths.get(&attempt.cid).copied().unwrap_or(0))
    };
    let Some(url) = url else { return finish(shared, &attempt, Outcome::NetworkError) };
    if shared.sources.get(attempt.source.0).is_some_and(|source| source.kind == SourceKind::Peer) {
        let outcome = from_classmates(shared, &attempt, len, &signal).await;
        return finish(shared, &attempt, outcome);
    }
    let progress = |bytes| shared.state.borrow_mut().scheduler.progress(attempt.id, bytes, now());
    // Past the HTTP cache: a verified chunk is kept in IndexedDB, and a bad copy the cache kept (chunk
    // URLs are immutable for a year) would be given again at every retry.
    let outcome = match http::get_with_cache(&url, &signal, web_sys::RequestCache::NoStore, progress).await {
        _ if signal.aborted() => Outcome::Cancelled,
        Err(outcome) => outcome,
        Ok(bytes) => match digest::check_chunk(&bytes, attempt.cid, len).await {
            Ok(()) => {
                deliver(shared, &attempt.cid, Ok(bytes));
                Outcome::Verified { bytes: len }
            }
            Err(Mismatch::Bytes) => {
                shared.state.borrow_mut().corrupt.insert(attempt.cid);
                Outcome::Corrupt
            }
            Err(Mismatch::NoWebCrypto) => {
                shared.state.borrow_mut().no_webcrypto = true;
                Outcome::NetworkError
            }
        },
    };
    finish(shared, &attempt, outcome);
}

/// An attempt on the peer source: the swarm verifies what classmates send (and bans liars itself, so
/// that one bad classmate does not set the whole swarm aside). When no connected classmate holds the
/// chunk, the answer is "not here" at once: the chunk goes elsewhere, and comes back to the classmates
/// when one announces it (`Scheduler::held_by`).
async fn from_classmates(shared: &Rc<Shared>, attempt: &Attempt, len: u64, signal: &web_sys::AbortSignal) -> Outcome {
    let classmates = shared.classmates.borrow().clone();
    let Some(classmates) = classmates.filter(|classmates| classmates.anyone_has(&attempt.cid)) else {
        return Outcome::NotHeld;
    };
    let got = futures::future::select(classmates.get(attempt.cid, len), Box::pin(aborted(signal))).await;
    match got {
        futures::future::Either::Left((Ok(bytes), _)) => {
            deliver(shared, &attempt.cid, Ok(bytes));
            Outcome::Verified { bytes: len }
        }
        futures::future::Either::Left((Err(outcome), _)) => outcome,
        futures::future::Either::Right(_) => Outcome::Cancelled,
    }
}

/// Resolves once `signal` aborts.
async fn aborted(signal: &web_sys::AbortSignal) {
    if signal.aborted() {
        return;
    }
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let options = web_sys::AddEventListenerOptions::new();
        options.set_once(true);
        let _ = signal.add_event_listener_with_callback_and_add_event_listener_options("abort", &resolve, &options);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

fn finish(shared: &Rc<Shared>, attempt: &Attempt, outcome: Outcome) {
    {
        let mut state = shared.state.borrow_mut();
        state.running.remove(&attempt.id);
        state.scheduler.finish(attempt.id, outcome, now());
    }
    remember(shared);
    drive(shared);
    changed(shared);
}

/// Keeps, for the next page of this browser (a reload, another tab), what the scheduler knows of each
/// HTTP source that a reload must not undo: a ban, and how long one that refused is still left alone
/// (`Remembered`, in `localStorage`, written only when it changes). Classmates are not kept: they
/// change from one page to the next. Nothing is kept where there is no `localStorage` (the worker).
fn remember(shared: &Rc<Shared>) {
    let remembered = shared.state.borrow().scheduler.remembered(now());
    let wall_ms = crate::clock::unix_ms() as u64;
    let mut kept = shared.kept.borrow_mut();
    for ((source, remembered), kept) in shared.sources.iter().zip(remembered).zip(kept.iter_mut()) {
        let text = remembered.to_text(wall_ms);
        if text == *kept {
            continue;
        }
        let Some(storage) = memory(source) else { continue };
        let _ = match &text {
            Some(text) => storage.set_item(&memory_key(source), text),
            None => storage.remove_item(&memory_key(source)),
        };
        *kept = text;
    }
}

/// Where a page keeps what it remembers of `source`: `localStorage`, for HTTP sources only.
fn memory(source: &Source) -> Option<web_sys::Storage> {
    let http = matches!(source.kind, SourceKind::Origin | SourceKind::Mirror);
    http.then(web_sys::window).flatten()?.local_storage().ok()?
}

fn memory_key(source: &Source) -> String {
    format!("cartable.source:{}", source.base)
}

/// Calls the `on_change` callback, if any (outside any borrow, since it may read the fetcher).
fn changed(shared: &Rc<Shared>) {
    let on_change = shared.on_change.borrow().clone();
    if let Some(on_change) = on_change {
        on_change();
    }
}

/// Hands `result` to everyone waiting for `cid`.
fn deliver(shared: &Rc<Shared>, cid: &Cid, result: Result<Vec<u8>, Failure>) {
    let waiting = shared.state.borrow_mut().waiting.remove(cid).unwrap_or_default();
    for sender in waiting {
        let _ = sender.send(result.clone());
    }
}

/// Fails the waits for chunks the scheduler gave up on; and every wait when the origin does not answer at
/// all and no other source can stand in: the pupil is told at once, with a way to try again, rather than
/// left waiting on retries (which go on in the background, at the breaker's pace). A saturated origin is
/// waited for: it said it will come back, and the banner says so.
fn give_up(shared: &Rc<Shared>) {
    let failed = {
        let state = shared.state.borrow();
        let classmates = shared.classmates.borrow().as_ref().is_some_and(|classmates| classmates.connected() > 0);
        match state.scheduler.stranded(classmates) {
            true => state.waiting.keys().copied().collect(),
            false => state.scheduler.failed(),
        }
    };
    for cid in failed {
        let failure = {
            let state = shared.state.borrow();
            if !state.waiting.contains_key(&cid) {
                continue;
            }
            match (state.no_webcrypto, state.corrupt.contains(&cid)) {
                (true, _) => Failure::NoWebCrypto,
                (false, true) => Failure::Corrupt,
                (false, false) => Failure::Unreachable,
            }
        };
        deliver(shared, &cid, Err(failure));
    }
}

/// Wakes the scheduler at `wake_at` (replacing the previous timer), if it asked to be.
fn set_timer(shared: &Rc<Shared>, wake_at: Option<Millis>) {
    let previous = {
        let mut state = shared.state.borrow_mut();
        state.wake_at = wake_at;
        state.timer.take()
    };
    if let Some(timer) = previous {
        crate::net::cancel_timer(timer);
    }
    let Some(wake_at) = wake_at else { return };
    let delay = wake_at.saturating_sub(now()).min(i32::MAX as u64) as i32;
    let weak = Rc::downgrade(shared);
    let wake = Closure::once_into_js(move || {
        if let Some(shared) = weak.upgrade() {
            shared.state.borrow_mut().timer = None;
            drive(&shared);
        }
    });
    shared.state.borrow_mut().timer = Some(crate::net::timer(wake.unchecked_ref(), delay));
}
