//! Classmates as a source of chunks: this page joins the course's swarm through a WebTorrent tracker,
//! connects to classmates over WebRTC data channels, asks them for chunks and serves them the chunks this
//! browser stores. Every chunk a classmate sends is checked against its CID before anyone sees it; a
//! classmate that sends a bad chunk or breaks the protocol is disconnected and banned for the session.
//! The protocol itself is the core's (`cartable_core::peer`); this module is the WebRTC edge.

mod link;
mod misses;
mod rtc;
mod signalling;

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use cartable_core::fetch::{Millis, Outcome};
use cartable_core::offline::{self, OfflineError};
use cartable_core::peer::saving::{Held, Saving, Settling, Step, MAX_LINKS, SETTLE_STEP_MS};
use cartable_core::peer::session::{Event, Limits, Session};
use cartable_core::peer::Message;
use cartable_core::store::Store;
use cartable_core::{Cid, ManifestError, PublicKey};
use futures::channel::oneshot;
use futures::future::LocalBoxFuture;

use cartable_web::clock::now;
use cartable_web::digest;
use cartable_web::fetcher::Fetcher;
use link::Link;
pub use rtc::Ice;

/// How many classmates a chunk is asked of, in turn, before the swarm says it has none.
const ASKS_PER_CHUNK: usize = 3;

/// How often a `Fetching` announce is repeated while the fetch goes on (within the lottery's patience).
const FETCHING_EVERY_MS: Millis = 2_000;

/// While alive, classmates hear that this page is fetching a chunk over HTTP (see [`Peers::fetching`]).
pub struct Fetching {
    swarm: Swarm,
    cid: Cid,
}

impl Drop for Fetching {
    fn drop(&mut self) {
        self.swarm.0.fetching.borrow_mut().remove(&self.cid);
    }
}

impl cartable_web::fetcher::Classmates for Swarm {
    fn anyone_has(&self, cid: &Cid) -> bool {
        Swarm::anyone_has(self, cid)
    }

    fn get(&self, cid: Cid, len: u64) -> futures::future::LocalBoxFuture<'_, Result<Vec<u8>, Outcome>> {
        Box::pin(Swarm::get(self, cid, len))
    }

    fn connected(&self) -> usize {
        self.stats().peers
    }
}

/// What the rest of the app asks of the swarm it joined. The swarm lives in the classmates' part of the
/// app (`crate::parts`): the first bundle reaches it only through this trait, whose methods are that
/// part's code.
pub trait Peers {
    /// Leaves the swarm for good ([`Swarm::leave`]).
    fn leave(&self);
    /// Chunk `cid` (`len` bytes), verified, from a classmate ([`Swarm::get`]).
    fn get(&self, cid: Cid, len: u64) -> LocalBoxFuture<'_, Result<Vec<u8>, Outcome>>;
    /// The save loop's next step for `cid` (`saving::Saving`): ask the connected classmates who hold it,
    /// fetch it over HTTP (this page's turn in the lottery, the same draw in every page), or wait.
    fn step(&self, cid: &Cid) -> Step;
    /// The classmates asked for `cid` did not give it.
    fn not_given(&self, cid: Cid);
    /// Resolves at the next news from the swarm: a classmate holds a chunk, starts fetching one, answers
    /// a request, comes or goes.
    fn news(&self) -> oneshot::Receiver<()>;
    /// Tells classmates this page is fetching `cid` over HTTP, now, every [`FETCHING_EVERY_MS`] and to
    /// each classmate that connects, until the returned guard ([`Fetching`]) is dropped.
    fn fetching(&self, cid: Cid) -> Box<dyn Any>;
    /// Waits until the swarm has settled (`saving::Settling`), `mirrors` or not: draws made then agree
    /// from page to page. Resolves to how many classmates are connected.
    fn settle(&self, mirrors: bool) -> LocalBoxFuture<'_, usize>;
    /// Tells classmates this browser now holds `cid`.
    fn have(&self, cid: &Cid);
    /// What the swarm did so far.
    fn stats(&self) -> SwarmStats;
}

impl Peers for Swarm {
    fn leave(&self) {
        Swarm::leave(self);
    }

    fn get(&self, cid: Cid, len: u64) -> LocalBoxFuture<'_, Result<Vec<u8>, Outcome>> {
        Box::pin(Swarm::get(self, cid, len))
    }

    fn step(&self, cid: &Cid) -> Step {
        let links = self.0.links.borrow();
        let classmates: Vec<&[u8]> =
            links.iter().filter(|link| link.is_open()).map(|link| link.peer_id.as_slice()).collect();
        let holders = links.iter().filter(|link| link.is_open() && link.session.borrow().has(cid));
        let held = holders.fold(Held::No, |held, link| match link.session.borrow().can_request() {
            true => Held::Free,
            false if held == Held::No => Held::Busy,
            false => held,
        });
        self.0.saving.borrow_mut().step(&self.0.me, &classmates, *cid, held, now())
    }

    fn not_given(&self, cid: Cid) {
        self.0.saving.borrow_mut().not_given(cid);
    }

    fn news(&self) -> oneshot::Receiver<()> {
        let (sender, receiver) = oneshot::channel();
        self.0.news.borrow_mut().push(sender);
        receiver
    }

    fn fetching(&self, cid: Cid) -> Box<dyn Any> {
        self.0.fetching.borrow_mut().insert(cid);
        for link in self.0.links.borrow().iter().filter(|link| link.is_open()) {
            link.send(&[Message::Fetching { cid }]);
        }
        Box::new(Fetching { swarm: self.clone(), cid })
    }

    fn settle(&self, mirrors: bool) -> LocalBoxFuture<'_, usize> {
        Box::pin(async move {
            let mut settling = Settling::new(mirrors);
            loop {
                let others = self.0.size.get().map(|size| size.saturating_sub(1) as usize);
                if settling.settled(self.stats().peers, others) {
                    return self.stats().peers;
                }
                cartable_web::net::sleep(SETTLE_STEP_MS as i32).await;
            }
        })
    }

    fn have(&self, cid: &Cid) {
        Swarm::have(self, cid);
    }

    fn stats(&self) -> SwarmStats {
        Swarm::stats(self)
    }
}

/// Joins the swarm of `config.course_id` when this tab wins the browser's swarm lock ([`lead`]), and
/// lets `fetcher` ask the classmates, what they hold first. `None` when another tab leads.
pub async fn join_for(config: SwarmConfig, store: Rc<dyn Store>, fetcher: Fetcher) -> Option<Rc<dyn Peers>> {
    if !lead(&config.course_id).await {
        return None;
    }
    let swarm = Swarm::join(config, store).await;
    // What classmates hold is asked of them before the origin.
    swarm.on_held(fetcher.classmates_hold());
    fetcher.attach_classmates(Rc::new(swarm.clone()));
    Some(Rc::new(swarm))
}

/// What a page needs to join a course's swarm.
#[derive(Clone, Debug)]
pub struct SwarmConfig {
    /// The tracker's WebSocket URL.
    pub tracker: String,
    /// The course id and manifest version (classmates on another version share chunks by CID only).
    pub course_id: String,
    /// The manifest's version.
    pub version: u64,
    /// The manifest's distinct chunks, in `cartable_core::peer::wire::distinct_chunks` order.
    pub chunks: Vec<Cid>,
    /// ICE servers and relay-only mode.
    pub ice: Ice,
    /// Whether this page serves chunks to classmates (off on metered connections).
    pub upload: bool,
    /// The manifest's absolute URL, under which a newer manifest from a classmate is stored.
    pub manifest_url: String,
    /// The school's pinned key, which a manifest from a classmate must be signed by.
    pub key: PublicKey,
}

/// What the swarm did so far, for the sources panel and the figures.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SwarmStats {
    /// Classmates connected now.
    pub peers: usize,
    /// Classmates banned for sending chunks that failed verification.
    pub banned_corrupt: usize,
    /// Classmates banned for breaking the protocol (malformed, out-of-order or unasked-for messages).
    pub banned_protocol: usize,
    /// Chunks this browser had stored that failed verification when read to serve a classmate: removed
    /// from the store (so fetched again), never sent.
    pub damaged: usize,
    /// Bytes of verified chunks received from classmates.
    pub bytes_in: u64,
    /// Bytes of chunks sent to classmates.
    pub bytes_out: u64,
    /// Milliseconds from page start to the first verified chunk from a classmate.
    pub first_chunk_ms: Option<Millis>,
    /// A newer version of the course a classmate passed on: verified against the school's key and the
    /// stored version, and stored, so that the course opens at it.
    pub newer_version: Option<u64>,
}

/// This page's membership of a course's swarm. Cheap to clone.
#[derive(Clone)]
pub struct Swarm(Rc<Inner>);

struct Inner {
    config: SwarmConfig,
    store: Rc<dyn Store>,
    me: [u8; 20],
    have: RefCell<Vec<bool>>,
    links: RefCell<Vec<Rc<Link>>>,
    banned: RefCell<HashSet<Vec<u8>>>,
    waiting: RefCell<HashMap<(Cid, Vec<u8>), Waiting>>,
    stats: Cell<SwarmStats>,
    on_held: RefCell<Option<OnHeld>>,
    /// The save loop's state: the lottery's announces and the asks each chunk cost.
    saving: RefCell<Saving>,
    /// Who waits for news: a `Have`, a first `Fetching`, an answer, a classmate coming or going.
    news: RefCell<Vec<oneshot::Sender<()>>>,
    /// The chunks this page is fetching over HTTP, announced to classmates while it does.
    fetching: RefCell<HashSet<Cid>>,
    /// Peers in the swarm (me included), as the tracker last counted them.
    size: Cell<Option<u64>>,
    /// Whether the stored chunks are being checked again after one was found damaged.
    checking: Cell<bool>,
    /// The classmate asked for its newer manifest, while it answers.
    manifest_asked_of: RefCell<Option<Vec<u8>>>,
    /// The socket to the tracker, while open.
    tracker: RefCell<Option<web_sys::WebSocket>>,
    /// Whether the page left this swarm ([`Swarm::leave`]).
    left: Cell<bool>,
}

/// Why a classmate is set aside.
#[derive(Clone, Copy)]
enum Ban {
    /// It sent a chunk that failed verification.
    Corrupt,
    /// It broke the protocol.
    Protocol,
}

/// Called when a classmate says it holds a chunk.
type OnHeld = Rc<dyn Fn(&Cid)>;

struct Waiting {
    len: u64,
    sender: oneshot::Sender<Option<Vec<u8>>>,
}

impl Swarm {
    /// Joins the swarm of `config.course_id`: announces to the tracker, connects to classmates as they
    /// come, and keeps doing so (re-announcing, reconnecting) while the page lives. Answers the service
    /// worker's misses from classmates (`misses`): only the tab leading this browser's swarm joins it.
    pub async fn join(config: SwarmConfig, store: Rc<dyn Store>) -> Swarm {
        let have = store.has_chunks(&config.chunks).await.unwrap_or_else(|_| vec![false; config.chunks.len()]);
        let me: [u8; 20] = std::array::from_fn(|_| (cartable_web::clock::random() * 256.0) as u8);
        let inner = Inner {
            config,
            store,
            me,
            have: RefCell::new(have),
            links: RefCell::default(),
            banned: RefCell::default(),
            waiting: RefCell::default(),
            stats: Cell::default(),
            on_held: RefCell::default(),
            saving: RefCell::default(),
            news: RefCell::default(),
            fetching: RefCell::default(),
            size: Cell::default(),
            checking: Cell::default(),
            manifest_asked_of: RefCell::default(),
            tracker: RefCell::default(),
            left: Cell::default(),
        };
        let swarm = Swarm(Rc::new(inner));
        signalling::start(&swarm);
        swarm.every_second();
        misses::answer(&swarm);
        swarm
    }

    /// Leaves the swarm for good: the tracker's socket and every link are closed, and the service worker's
    /// misses are left to the swarm the page joins next (a course opened again at a newer version).
    pub fn leave(&self) {
        self.0.left.set(true);
        if let Some(socket) = self.0.tracker.borrow_mut().take() {
            socket.set_onclose(None);
            let _ = socket.close();
        }
        let links: Vec<Rc<Link>> = self.0.links.borrow().clone();
        for link in links {
            link.close();
            self.drop_link(&link);
        }
    }

    /// Chunk `cid` (`len` bytes), verified, from a classmate that has it; the outcome to report to the
    /// scheduler otherwise (a "not found" that costs no retry: no connected classmate has it now).
    pub async fn get(&self, cid: Cid, len: u64) -> Result<Vec<u8>, Outcome> {
        let mut asked: Vec<Vec<u8>> = Vec::new();
        for _ in 0..ASKS_PER_CHUNK {
            let Some(link) = self.holder(&cid, &asked) else { break };
            asked.push(link.peer_id.clone());
            let Some(request) = link.session.borrow_mut().request(cid, now()) else { continue };
            let (sender, receiver) = oneshot::channel();
            self.0.waiting.borrow_mut().insert((cid, link.peer_id.clone()), Waiting { len, sender });
            link.send(&[request]);
            if let Ok(Some(bytes)) = receiver.await {
                return Ok(bytes);
            }
        }
        Err(Outcome::NotHeld)
    }

    /// Like [`Swarm::get`], but first waits for a classmate to hold `cid` (checking each half second),
    /// for as long as the caller keeps waiting.
    pub async fn wait_and_get(&self, cid: Cid, len: u64) -> Result<Vec<u8>, Outcome> {
        loop {
            if self.anyone_has(&cid) {
                if let Ok(bytes) = self.get(cid, len).await {
                    return Ok(bytes);
                }
            }
            cartable_web::net::sleep(500).await;
        }
    }

    /// Calls `on_held` whenever a connected classmate says it holds a chunk.
    pub fn on_held(&self, on_held: OnHeld) {
        *self.0.on_held.borrow_mut() = Some(on_held);
    }

    /// Chunk `cid` from a classmate, if one holds it (or comes to) within `ms` milliseconds.
    pub async fn get_within(&self, cid: Cid, len: u64, ms: i32) -> Option<Vec<u8>> {
        let waited =
            futures::future::select(Box::pin(self.wait_and_get(cid, len)), Box::pin(cartable_web::net::sleep(ms)));
        match waited.await {
            futures::future::Either::Left((Ok(bytes), _)) => Some(bytes),
            _ => None,
        }
    }

    fn tell_news(&self) {
        for waiting in self.0.news.borrow_mut().drain(..) {
            let _ = waiting.send(());
        }
    }

    /// Tells classmates this browser now holds `cid`.
    pub fn have(&self, cid: &Cid) {
        if let Some(index) = self.0.config.chunks.iter().position(|known| known == cid) {
            if let Some(slot) = self.0.have.borrow_mut().get_mut(index) {
                *slot = true;
            }
        }
        for link in self.0.links.borrow().iter() {
            let announce = link.session.borrow_mut().announce(*cid);
            link.send(&[announce]);
        }
    }

    /// Whether any connected classmate holds `cid`.
    pub fn anyone_has(&self, cid: &Cid) -> bool {
        self.0.links.borrow().iter().any(|link| link.is_open() && link.session.borrow().has(cid))
    }

    /// What the swarm did so far.
    pub fn stats(&self) -> SwarmStats {
        SwarmStats { peers: self.0.links.borrow().iter().filter(|link| link.is_open()).count(), ..self.0.stats.get() }
    }

    /// A connected classmate, not yet `asked`, that holds `cid` and takes one more request.
    fn holder(&self, cid: &Cid, asked: &[Vec<u8>]) -> Option<Rc<Link>> {
        let links = self.0.links.borrow();
        let mut holders: Vec<&Rc<Link>> = links
            .iter()
            .filter(|link| link.is_open() && !asked.contains(&link.peer_id))
            .filter(|link| link.session.borrow().has(cid) && link.session.borrow().can_request())
            .collect();
        // The classmate that gave most so far first: it has shown it answers.
        holders.sort_by_key(|link| std::cmp::Reverse(link.bytes_in.get()));
        holders.first().map(|link| Rc::clone(link))
    }

    /// Adds a classmate reached through the tracker, unless banned or too many are connected already.
    fn add_link(&self, peer_id: Vec<u8>, connection: web_sys::RtcPeerConnection, channel: web_sys::RtcDataChannel) {
        if self.0.left.get() || self.0.banned.borrow().contains(&peer_id) || self.0.links.borrow().len() >= MAX_LINKS {
            connection.close();
            return;
        }
        let config = &self.0.config;
        let session = Session::new(&config.course_id, config.version, config.chunks.clone(), Limits::default());
        let mut hello = session.hello(&self.0.have.borrow());
        // What this page is fetching, so that a classmate arriving now waits for it instead of asking too.
        hello.extend(self.0.fetching.borrow().iter().map(|cid| Message::Fetching { cid: *cid }));
        let (on_event, on_close) = (self.clone(), self.clone());
        let link = Link::open(
            peer_id,
            connection,
            channel,
            session,
            hello,
            move |link, event| on_event.handle(link, event),
            move |link| on_close.drop_link(link),
        );
        self.0.links.borrow_mut().push(link);
    }

    fn handle(&self, link: &Rc<Link>, event: Event) {
        match event {
            Event::Requested { cid } => self.serve(link, cid),
            Event::Chunk { cid, bytes } => self.received(link, cid, bytes),
            Event::Absent { cid } | Event::Stalled { cid } => self.answer(link, &cid, None),
            Event::Violation { reason } => {
                web_sys::console::warn_1(&format!("cartable: a classmate broke the protocol: {reason}").into());
                self.ban(link, Ban::Protocol);
            }
            Event::Has { cid } => {
                let on_held = self.0.on_held.borrow().clone();
                if let Some(on_held) = on_held {
                    on_held(&cid);
                }
                self.tell_news();
            }
            Event::Fetching { cid } => {
                if self.0.saving.borrow_mut().fetching(&link.peer_id, cid, now()) {
                    self.tell_news();
                }
            }
            Event::Ready { .. } => {
                self.ask_manifest();
                self.tell_news();
            }
            Event::ManifestRequested => self.serve_manifest(link),
            Event::Manifest { bytes } => self.received_manifest(link, bytes),
            Event::ManifestStalled => {
                self.0.manifest_asked_of.borrow_mut().take();
                self.ask_manifest();
            }
        }
    }

    /// Asks one connected classmate holding a newer version of the course for its signed manifest, unless
    /// one was passed on already or another classmate is answering.
    fn ask_manifest(&self) {
        let asking = self.0.manifest_asked_of.borrow().is_some();
        if self.0.left.get() || self.0.stats.get().newer_version.is_some() || asking {
            return;
        }
        let links: Vec<Rc<Link>> = self.0.links.borrow().clone();
        for link in links.iter().filter(|link| link.is_open()) {
            let ask = link.session.borrow_mut().ask_manifest(now());
            if let Some(ask) = ask {
                *self.0.manifest_asked_of.borrow_mut() = Some(link.peer_id.clone());
                link.send(&[ask]);
                return;
            }
        }
    }

    /// Answers a classmate's ask for the signed manifest with the one this browser stores (uploading on).
    fn serve_manifest(&self, link: &Rc<Link>) {
        if !self.0.config.upload {
            return;
        }
        let (swarm, link) = (self.clone(), link.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let Ok(Some(copy)) = swarm.0.store.get_manifest(&swarm.0.config.course_id).await else { return };
            let messages = link.session.borrow_mut().serve_manifest(&copy.json);
            link.send(&messages);
        });
    }

    /// A classmate's signed manifest: kept when it verifies against the school's key and is newer than
    /// the stored copy, so that the course opens at it; a classmate whose manifest fails is banned.
    fn received_manifest(&self, link: &Rc<Link>, bytes: Vec<u8>) {
        self.0.manifest_asked_of.borrow_mut().take();
        let (swarm, link) = (self.clone(), link.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let config = &swarm.0.config;
            let (store, unix_now) = (&*swarm.0.store, cartable_web::clock::unix_s());
            let ours = (config.manifest_url.as_str(), config.course_id.as_str());
            match offline::accept_passed_on(store, ours, &bytes, (&[config.key], &crate::signature::Browser), unix_now)
                .await
            {
                Ok(accepted) if accepted.updated => {
                    swarm.update(|stats| stats.newer_version = Some(accepted.manifest.version));
                }
                // Another classmate or the origin brought it first; or storage failed, and the page
                // keeps the version it has.
                Ok(_) | Err(OfflineError::Manifest(ManifestError::Rollback { .. })) | Err(OfflineError::Store(_)) => {
                    swarm.ask_manifest();
                }
                Err(OfflineError::Manifest(error)) => {
                    let reason =
                        format!("cartable: a classmate passed on a manifest that failed verification: {error}");
                    web_sys::console::warn_1(&reason.into());
                    let _closed = link.session.borrow_mut().reject_manifest();
                    swarm.ban(&link, Ban::Corrupt);
                    swarm.ask_manifest();
                }
            }
        });
    }

    /// Answers a classmate's request from the store, if uploading is on, with a chunk checked against its
    /// CID again: a copy damaged on this device is never passed on.
    fn serve(&self, link: &Rc<Link>, cid: Cid) {
        let (swarm, link) = (self.clone(), link.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let chunk = match swarm.0.config.upload {
                true => swarm.0.store.get_chunk(&cid).await.ok().flatten(),
                false => None,
            };
            let chunk = match chunk {
                Some(bytes) if digest::check_chunk(&bytes, cid, bytes.len() as u64).await.is_err() => {
                    swarm.damaged(cid);
                    None
                }
                chunk => chunk,
            };
            let sent = chunk.as_ref().map_or(0, |chunk| chunk.len() as u64);
            let messages = link.session.borrow_mut().serve(cid, chunk.as_deref());
            link.send(&messages);
            swarm.update(|stats| stats.bytes_out += sent);
        });
    }

    /// A whole chunk from a classmate: verified, then handed to whoever waits; a bad one bans the sender.
    fn received(&self, link: &Rc<Link>, cid: Cid, bytes: Vec<u8>) {
        let Some(len) = self.0.waiting.borrow().get(&(cid, link.peer_id.clone())).map(|waiting| waiting.len) else {
            return;
        };
        let (swarm, link) = (self.clone(), link.clone());
        wasm_bindgen_futures::spawn_local(async move {
            match digest::check_chunk(&bytes, cid, len).await {
                Ok(()) => {
                    link.bytes_in.set(link.bytes_in.get() + len);
                    swarm.update(|stats| {
                        stats.bytes_in += len;
                        stats.first_chunk_ms.get_or_insert(now());
                    });
                    swarm.answer(&link, &cid, Some(bytes));
                }
                Err(_) => {
                    swarm.answer(&link, &cid, None);
                    swarm.ban(&link, Ban::Corrupt);
                }
            }
        });
    }

    /// Hands what `link` answered for `cid` to whoever asked; a request slot is free again, which is news.
    fn answer(&self, link: &Link, cid: &Cid, bytes: Option<Vec<u8>>) {
        if let Some(waiting) = self.0.waiting.borrow_mut().remove(&(*cid, link.peer_id.clone())) {
            let _ = waiting.sender.send(bytes);
        }
        self.tell_news();
    }

    /// Disconnects `link` and never takes this classmate again this session, counting why.
    fn ban(&self, link: &Rc<Link>, why: Ban) {
        if self.0.banned.borrow_mut().insert(link.peer_id.clone()) {
            self.update(|stats| match why {
                Ban::Corrupt => stats.banned_corrupt += 1,
                Ban::Protocol => stats.banned_protocol += 1,
            });
        }
        link.close();
        self.drop_link(link);
    }

    /// A stored chunk failed verification as it was read to be served: this browser's copy is damaged
    /// (a disk fault, another program). Checks every stored chunk of the course once, drops the bad ones
    /// (saving the course fetches them again), counts them, so the pupil is told, and parts from the
    /// classmates that heard it held them.
    fn damaged(&self, cid: Cid) {
        if self.0.checking.replace(true) {
            return;
        }
        let swarm = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let mut bad = vec![cid];
            for known in swarm.0.config.chunks.clone().into_iter().filter(|known| *known != cid) {
                let Ok(Some(bytes)) = swarm.0.store.get_chunk(&known).await else { continue };
                if digest::check_chunk(&bytes, known, bytes.len() as u64).await.is_err() {
                    bad.push(known);
                }
            }
            let count = bad.len();
            for gone in &bad {
                if let Some(index) = swarm.0.config.chunks.iter().position(|known| known == gone) {
                    if let Some(slot) = swarm.0.have.borrow_mut().get_mut(index) {
                        *slot = false;
                    }
                }
            }
            let _ = swarm.0.store.delete_chunks(bad).await;
            swarm.update(|stats| stats.damaged += count);
            // Classmates heard this page hold those chunks: part from them, so that they stop asking and,
            // at the next announce, hear what it really holds.
            let links: Vec<Rc<Link>> = swarm.0.links.borrow().clone();
            for link in links {
                link.close();
                swarm.drop_link(&link);
            }
            swarm.0.checking.set(false);
        });
    }

    /// Forgets a closed link and fails what was asked of it.
    fn drop_link(&self, link: &Rc<Link>) {
        self.0.links.borrow_mut().retain(|other| !Rc::ptr_eq(other, link));
        let asked = self.0.manifest_asked_of.borrow().as_ref() == Some(&link.peer_id);
        if asked {
            self.0.manifest_asked_of.borrow_mut().take();
            self.ask_manifest();
        }
        self.0.saving.borrow_mut().left(&link.peer_id);
        self.tell_news();
        let asked: Vec<(Cid, Vec<u8>)> =
            self.0.waiting.borrow().keys().filter(|(_, peer)| *peer == link.peer_id).cloned().collect();
        for (cid, _) in asked {
            self.answer(link, &cid, None);
        }
    }

    /// Every second, asks each session for requests that stopped making byte progress; every
    /// [`FETCHING_EVERY_MS`], repeats what this page is fetching over HTTP.
    fn every_second(&self) {
        let weak = Rc::downgrade(&self.0);
        let mut repeated_at = 0;
        let tick = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            let Some(inner) = weak.upgrade() else { return };
            let swarm = Swarm(inner);
            let links: Vec<Rc<Link>> = swarm.0.links.borrow().clone();
            if now().saturating_sub(repeated_at) >= FETCHING_EVERY_MS {
                repeated_at = now();
                let fetching: Vec<Message> =
                    swarm.0.fetching.borrow().iter().map(|cid| Message::Fetching { cid: *cid }).collect();
                for link in links.iter().filter(|link| link.is_open() && !fetching.is_empty()) {
                    link.send(&fetching);
                }
            }
            for link in links {
                let events = link.session.borrow_mut().poll(now());
                for event in events {
                    swarm.handle(&link, event);
                }
            }
        });
        if let Some(window) = web_sys::window() {
            use wasm_bindgen::JsCast;
            let every = tick.as_ref().unchecked_ref();
            let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(every, 1_000);
        }
        tick.forget();
    }

    fn update(&self, change: impl FnOnce(&mut SwarmStats)) {
        let mut stats = self.0.stats.get();
        change(&mut stats);
        self.0.stats.set(stats);
    }
}

/// Whether this tab leads the swarm of `course_id` in this browser (Web Locks): one tab per browser
/// talks to classmates (also for the service worker, see `misses`), the others use what it stores. The
/// lock is held for the life of the tab, so a course opened again in the tab (a retry, a newer version)
/// leads again. True where Web Locks do not exist.
pub async fn lead(course_id: &str) -> bool {
    thread_local! {
        static LED: RefCell<HashSet<String>> = RefCell::default();
    }
    let name = cartable_core::miss::leader_name(course_id);
    if LED.with(|led| led.borrow().contains(&name)) {
        return true;
    }
    let won = wasm_bindgen_futures::JsFuture::from(take_lead(&name)).await.map(|won| won.is_truthy()).unwrap_or(true);
    if won {
        LED.with(|led| led.borrow_mut().insert(name));
    }
    won
}

// In JavaScript, as `askLeader` is in the worker: the same through web-sys (whose Web Locks are unstable)
// and closures weighs most of a kilobyte of the app's gzip. A module file, not a string evaluated at run
// time, which the page's Content-Security-Policy refuses.
#[wasm_bindgen::prelude::wasm_bindgen(inline_js = "export function take_lead(name) {
  return new Promise((done) => {
    if (!navigator.locks) return done(true);
    navigator.locks.request(name, { ifAvailable: true }, (lock) => {
      done(!!lock);
      return lock ? new Promise(() => {}) : null;
    }).catch(() => done(true));
  });
}")]
extern "C" {
    /// Resolves to whether this tab now holds the Web Lock `name` for its life (true without Web Locks).
    fn take_lead(name: &str) -> js_sys::Promise;
}
