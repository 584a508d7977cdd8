//! How an install is going, told to the pages that wait for it on the `BroadcastChannel` `cartable-shell`
//! (read by the boot script in `www/boot.js`): `{ build, done, total, wait, origin }` at each change and
//! every second, `wait` being the milliseconds until the next try when every source makes it wait, and
//! `origin` how the origin answers (`healthy`, `saturated` or `down`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use cartable_core::fetch::OriginState;
use cartable_web::fetcher::Fetcher;
use cartable_web::{clock, net};
use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

/// The channel the boot script listens on.
const CHANNEL: &str = "cartable-shell";
/// How often the state is told while nothing changes (the page counts the wait down).
const EVERY_MS: i32 = 1_000;

/// One install's progress. Dropping it stops the telling.
pub struct Progress(Rc<Inner>);

struct Inner {
    build: String,
    channel: Option<web_sys::BroadcastChannel>,
    done: Cell<u64>,
    total: Cell<u64>,
    resting_until: Cell<f64>,
    fetcher: RefCell<Option<Fetcher>>,
    over: Cell<bool>,
}

impl Progress {
    /// The progress of installing build `build`.
    pub fn new(build: &str) -> Progress {
        Progress(Rc::new(Inner {
            build: build.to_owned(),
            channel: web_sys::BroadcastChannel::new(CHANNEL).ok(),
            done: Cell::new(0),
            total: Cell::new(0),
            resting_until: Cell::new(0.0),
            fetcher: RefCell::default(),
            over: Cell::new(false),
        }))
    }

    /// `total` bytes to keep, `done` of them kept already.
    pub fn start(&self, total: u64, done: u64) {
        self.0.total.set(total);
        self.0.done.set(done);
        self.0.tell();
    }

    /// `bytes` more are kept.
    pub fn add(&self, bytes: u64) {
        self.0.done.set(self.0.done.get() + bytes);
        self.0.tell();
    }

    /// Tells, every second until the install ends, what `fetcher` waits for.
    pub fn watch(&self, fetcher: &Fetcher) {
        *self.0.fetcher.borrow_mut() = Some(fetcher.clone());
        let inner = Rc::clone(&self.0);
        wasm_bindgen_futures::spawn_local(async move {
            while !inner.over.get() {
                net::sleep(EVERY_MS).await;
                if !inner.over.get() {
                    inner.tell();
                }
            }
        });
    }

    /// Nothing is asked until `at` (on [`clock::monotonic_ms`]'s clock).
    pub fn resting_until(&self, at: f64) {
        self.0.resting_until.set(at);
        self.0.tell();
    }

    /// The install is whole.
    pub fn done(&self) {
        self.0.done.set(self.0.total.get());
        self.0.tell();
        self.0.over.set(true);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.0.over.set(true);
    }
}

impl Inner {
    fn tell(&self) {
        let Some(channel) = &self.channel else { return };
        let fetcher = self.fetcher.borrow();
        let resting = (self.resting_until.get() - clock::monotonic_ms()).max(0.0);
        let waiting = fetcher.as_ref().and_then(Fetcher::next_try_in).map(|ms| ms as f64);
        let origin = fetcher.as_ref().map_or(OriginState::Healthy, Fetcher::origin_state);
        let message = Object::new();
        let fields: [(&str, JsValue); 5] = [
            ("build", self.build.as_str().into()),
            ("done", (self.done.get() as f64).into()),
            ("total", (self.total.get() as f64).into()),
            ("wait", waiting.unwrap_or(0.0).max(resting).into()),
            ("origin", word(origin).into()),
        ];
        for (name, value) in fields {
            // Setting a property on a fresh plain object cannot fail.
            let _ = Reflect::set(&message, &name.into(), &value);
        }
        let _ = channel.post_message(&message);
    }
}

fn word(state: OriginState) -> &'static str {
    match state {
        OriginState::Healthy => "healthy",
        OriginState::Saturated => "saturated",
        OriginState::Down => "down",
    }
}
