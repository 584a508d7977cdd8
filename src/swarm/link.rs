//! One classmate: a data channel and the core's [`Session`] for it. Turns channel messages into session
//! events and session messages into channel sends; the swarm decides what to do with the events.

use std::cell::RefCell;
use std::rc::Rc;

use cartable_core::peer::session::{Event, Session};
use cartable_core::peer::wire::{self, Message};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, RtcDataChannel, RtcDataChannelState, RtcPeerConnection};

/// Data channel buffer above which sending waits: a slow classmate must not fill this page's memory.
pub const MAX_BUFFERED: u32 = 1024 * 1024;

/// A connected (or connecting) classmate.
pub struct Link {
    /// The tracker's id of the classmate (20 bytes), to ban it.
    pub peer_id: Vec<u8>,
    /// The protocol state with this classmate.
    pub session: RefCell<Session>,
    /// Bytes received from this classmate in verified chunks.
    pub bytes_in: std::cell::Cell<u64>,
    channel: RtcDataChannel,
    connection: RtcPeerConnection,
}

impl Link {
    /// A link over `channel` of `connection`, calling `on_event` for each session event and `on_close`
    /// once the channel closes. Sends `hello` once the channel is open.
    pub fn open(
        peer_id: Vec<u8>,
        connection: RtcPeerConnection,
        channel: RtcDataChannel,
        session: Session,
        hello: Vec<Message>,
        on_event: impl Fn(&Rc<Link>, Event) + 'static,
        on_close: impl Fn(&Rc<Link>) + 'static,
    ) -> Rc<Link> {
        let link = Rc::new(Link {
            peer_id,
            session: RefCell::new(session),
            bytes_in: Default::default(),
            channel,
            connection,
        });
        // Sent once, when the channel opens (the answering side may get it open already).
        let greeting = Rc::new(RefCell::new(Some(hello)));
        let greet = move |link: &Link| {
            if let Some(hello) = greeting.borrow_mut().take() {
                link.send(&hello);
            }
        };
        let (weak, greet_later) = (Rc::downgrade(&link), greet.clone());
        let on_open = Closure::<dyn FnMut()>::new(move || {
            if let Some(link) = weak.upgrade() {
                greet_later(&link);
            }
        });
        let weak = Rc::downgrade(&link);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(link) = weak.upgrade() else { return };
            let bytes = js_sys::Uint8Array::new(&event.data()).to_vec();
            let events = link.session.borrow_mut().receive(&bytes, cartable_web::clock::now());
            for event in events {
                on_event(&link, event);
            }
        });
        let weak = Rc::downgrade(&link);
        let on_closed = Closure::<dyn FnMut()>::new(move || {
            if let Some(link) = weak.upgrade() {
                on_close(&link);
            }
        });
        link.channel.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        link.channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        link.channel.set_onclose(Some(on_closed.as_ref().unchecked_ref()));
        // The handlers live as long as the channel: they are dropped with it when the link closes.
        on_open.forget();
        on_message.forget();
        on_closed.forget();
        if link.is_open() {
            greet(&link);
        }
        link
    }

    /// Sends `messages`, encoded; dropped when the channel is not open or its buffer is full (the
    /// classmate then times out on them, by byte progress, and asks elsewhere).
    pub fn send(&self, messages: &[Message]) {
        for message in messages {
            if self.channel.ready_state() != RtcDataChannelState::Open || self.channel.buffered_amount() > MAX_BUFFERED
            {
                return;
            }
            let _ = self.channel.send_with_u8_array(&wire::encode(message));
        }
    }

    /// Whether the channel is open.
    pub fn is_open(&self) -> bool {
        self.channel.ready_state() == RtcDataChannelState::Open
    }

    /// Closes the channel and the connection.
    pub fn close(&self) {
        self.channel.set_onmessage(None);
        self.channel.close();
        self.connection.close();
    }
}
