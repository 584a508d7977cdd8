//! The tracker client: announces this page in the course's swarm with up to five WebRTC offers, answers
//! offers relayed from classmates, completes its own offers with their answers, re-announces on the
//! tracker's interval (sooner while others are in the swarm but none is connected: `peer::announce`) and
//! reconnects with jittered backoff. Speaks the WebTorrent tracker protocol
//! (`cartable_core::tracker`), so any such tracker works.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use cartable_core::peer::announce;
use cartable_core::tracker::{self, Announce, ClientMessage, Event, Id20, Offer, Sdp, SdpType, ToPage};
use futures::future::join_all;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, RtcDataChannel, RtcPeerConnection, WebSocket};

use super::{rtc, Inner, Swarm, MAX_LINKS};

/// Offers not answered are dropped after this many announces.
const KEEP_OFFERS: usize = 2 * tracker::MAX_OFFERS;
/// Longest wait before reconnecting to the tracker.
const RECONNECT_MAX_MS: f64 = 60_000.0;

struct Signalling {
    swarm: Weak<Inner>,
    socket: RefCell<Option<WebSocket>>,
    pending: RefCell<Vec<(Id20, RtcPeerConnection, RtcDataChannel)>>,
    interval_ms: RefCell<i32>,
    failures: RefCell<u32>,
    /// How many announces were sent, and when the last one was (monotonic ms): only the last one's
    /// timer decides the next.
    announced: Cell<(u64, f64)>,
}

/// Starts signalling for `swarm`, for the life of the page.
pub fn start(swarm: &Swarm) {
    let signalling = Rc::new(Signalling {
        swarm: Rc::downgrade(&swarm.0),
        socket: RefCell::default(),
        pending: RefCell::default(),
        interval_ms: RefCell::new(tracker::DEFAULT_INTERVAL_SECS as i32 * 1000),
        failures: RefCell::new(0),
        announced: Cell::new((0, 0.0)),
    });
    connect(&signalling);
}

fn connect(signalling: &Rc<Signalling>) {
    let Some(swarm) = live(signalling) else { return };
    let Ok(socket) = WebSocket::new(&swarm.0.config.tracker) else { return reconnect(signalling) };
    let (on_open, on_message, on_close) = (signalling.clone(), signalling.clone(), signalling.clone());
    let opened = Closure::<dyn FnMut()>::new(move || {
        *on_open.failures.borrow_mut() = 0;
        announce(&on_open, Some(Event::Started));
    });
    let message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some(text) = event.data().as_string() {
            received(&on_message, &text);
        }
    });
    let closed = Closure::<dyn FnMut()>::new(move || reconnect(&on_close));
    socket.set_onopen(Some(opened.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(closed.as_ref().unchecked_ref()));
    // One set of handlers per socket, for the life of the page.
    opened.forget();
    message.forget();
    closed.forget();
    *swarm.0.tracker.borrow_mut() = Some(socket.clone());
    *signalling.socket.borrow_mut() = Some(socket);
}

/// The swarm this signalling is for, unless the page dropped it or left it.
fn live(signalling: &Signalling) -> Option<Swarm> {
    signalling.swarm.upgrade().map(Swarm).filter(|swarm| !swarm.0.left.get())
}

/// Reconnects after a full-jitter exponential delay.
fn reconnect(signalling: &Rc<Signalling>) {
    let failures = {
        let mut failures = signalling.failures.borrow_mut();
        *failures = failures.saturating_add(1);
        *failures
    };
    let ceiling = (1000.0 * 2f64.powi(failures.min(10) as i32)).min(RECONNECT_MAX_MS);
    let again = signalling.clone();
    later((cartable_web::clock::random() * ceiling) as i32, move || connect(&again));
}

/// Announces with fresh offers (as many as there is room for classmates, at most five).
fn announce(signalling: &Rc<Signalling>, event: Option<Event>) {
    let Some(swarm) = live(signalling) else { return };
    let room = MAX_LINKS.saturating_sub(swarm.0.links.borrow().len()).min(tracker::MAX_OFFERS);
    let signalling = signalling.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let ice = swarm.0.config.ice.clone();
        let made = join_all((0..room).map(|_| rtc::offer(&ice))).await;
        let mut offers = Vec::new();
        {
            let mut pending = signalling.pending.borrow_mut();
            for (connection, channel, sdp) in made.into_iter().flatten() {
                let offer_id = Id20(std::array::from_fn(|_| (cartable_web::clock::random() * 256.0) as u8));
                offers.push(Offer { offer_id, offer: Sdp { kind: SdpType::Offer, sdp } });
                pending.push((offer_id, connection, channel));
            }
            let excess = pending.len().saturating_sub(KEEP_OFFERS);
            for (_, connection, _) in pending.drain(..excess) {
                connection.close();
            }
        }
        let announce = Announce {
            info_hash: Id20(tracker::info_hash(&swarm.0.config.course_id)),
            peer_id: Id20(swarm.0.me),
            numwant: Some(offers.len() as u64),
            uploaded: Some(swarm.0.stats.get().bytes_out),
            downloaded: Some(swarm.0.stats.get().bytes_in),
            left: Some(swarm.0.have.borrow().iter().filter(|held| !**held).count() as u64),
            event,
            offers: Some(offers),
            ..Announce::default()
        };
        send(&signalling, &ClientMessage::Announce(announce));
        let generation = signalling.announced.get().0 + 1;
        signalling.announced.set((generation, cartable_web::clock::monotonic_ms()));
        let again = signalling.clone();
        later(CHECK_MS, move || announce_when_due(&again, generation));
    });
}

/// How often the page looks whether its next announce is due (`peer::announce` decides when it is).
const CHECK_MS: i32 = (announce::ALONE_ANNOUNCE_MS / 2) as i32;

/// Announces again once it is due, as `announce::next_announce_ms` says from the tracker's interval and
/// whether the page is cut off from the others in its swarm; else looks again later. Stops when a newer
/// announce took over (`generation`) or the socket closed (reconnecting announces anew).
fn announce_when_due(signalling: &Rc<Signalling>, generation: u64) {
    let (latest, at) = signalling.announced.get();
    let open = signalling.socket.borrow().as_ref().is_some_and(|socket| socket.ready_state() == WebSocket::OPEN);
    let Some(swarm) = live(signalling) else { return };
    if latest != generation || !open {
        return;
    }
    let connected = swarm.stats().peers;
    // The tracker's count of the swarm includes this page.
    let others = swarm.0.size.get().unwrap_or(0).saturating_sub(1);
    let interval = *signalling.interval_ms.borrow() as u64;
    let due = announce::next_announce_ms(interval, connected, others, cartable_web::clock::random());
    let since = (cartable_web::clock::monotonic_ms() - at).max(0.0) as u64;
    match due.checked_sub(since).filter(|&left| left > 0) {
        None => announce(signalling, None),
        Some(left) => {
            let again = signalling.clone();
            later(left.min(CHECK_MS as u64) as i32, move || announce_when_due(&again, generation));
        }
    }
}

fn received(signalling: &Rc<Signalling>, text: &str) {
    let Some(swarm) = live(signalling) else { return };
    match serde_json::from_str::<ToPage>(text) {
        Ok(ToPage::Announced(reply)) => {
            *signalling.interval_ms.borrow_mut() = (reply.interval.clamp(5, 3600) * 1000) as i32;
            swarm.0.size.set(Some(reply.complete + reply.incomplete));
        }
        Ok(ToPage::Offer(relayed)) if relayed.peer_id.0 != swarm.0.me => {
            let signalling = signalling.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let ice = swarm.0.config.ice.clone();
                let Ok((connection, sdp)) = rtc::answer(&ice, &relayed.offer.sdp).await else { return };
                let peer_id = relayed.peer_id.0.to_vec();
                let (joining, watched) = (swarm.clone(), connection.clone());
                rtc::incoming_channel(&connection, move |channel| joining.add_link(peer_id, watched, channel));
                let answer = Announce {
                    info_hash: Id20(tracker::info_hash(&swarm.0.config.course_id)),
                    peer_id: Id20(swarm.0.me),
                    answer: Some(Sdp { kind: SdpType::Answer, sdp }),
                    to_peer_id: Some(relayed.peer_id),
                    offer_id: Some(relayed.offer_id),
                    ..Announce::default()
                };
                send(&signalling, &ClientMessage::Announce(answer));
            });
        }
        Ok(ToPage::Answer(relayed)) => {
            let found = {
                let mut pending = signalling.pending.borrow_mut();
                let index = pending.iter().position(|(offer_id, _, _)| *offer_id == relayed.offer_id);
                index.map(|index| pending.remove(index))
            };
            let Some((_, connection, channel)) = found else { return };
            wasm_bindgen_futures::spawn_local(async move {
                if rtc::accept(&connection, &relayed.answer.sdp).await.is_ok() {
                    swarm.add_link(relayed.peer_id.0.to_vec(), connection, channel);
                } else {
                    connection.close();
                }
            });
        }
        // Failures, scrapes, and our own offers relayed back: nothing to do.
        _ => {}
    }
}

fn send(signalling: &Signalling, message: &ClientMessage) {
    if let (Some(socket), Ok(text)) = (signalling.socket.borrow().as_ref(), serde_json::to_string(message)) {
        let _ = socket.send_with_str(&text);
    }
}

/// Runs `then` after `ms` milliseconds.
fn later(ms: i32, then: impl FnOnce() + 'static) {
    let Some(window) = web_sys::window() else { return };
    let callback = Closure::once_into_js(then);
    let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), ms);
}
