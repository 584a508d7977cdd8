//! The page's side of the service worker: registers it, and notices when a new version of the app is
//! installed and waiting, so the pupil can choose to reload into it (never a mix of old and new files).

use cartable_core::fetch::full_jitter;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ServiceWorker, ServiceWorkerContainer, ServiceWorkerRegistration};

/// Message the waiting worker takes as "activate now" (see `www/sw.js`).
const ACTIVATE: &str = "cartable:activate-new-version";

fn container() -> Option<ServiceWorkerContainer> {
    Some(web_sys::window()?.navigator().service_worker())
}

/// True when a service worker controls this page, so `cartable-files/` URLs are answered from storage.
pub fn controlled() -> bool {
    container().and_then(|c| c.controller()).is_some()
}

thread_local! {
    /// Whether the page asked for a worker ([`register`]).
    static ASKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a worker keeps the app on this device, so that the page opens with no network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keeping {
    /// A worker controls the page: it holds the whole app shell (it took control only once it did).
    Kept,
    /// A worker was asked for and is not in control yet (installing, or a forced reload went past it).
    Pending,
    /// No worker here: the browser has none (private browsing, an insecure page) or the page asked none.
    Impossible,
}

/// Where the app stands on this device, for this page.
pub fn keeping() -> Keeping {
    let available = web_sys::window()
        .is_some_and(|window| js_sys::Reflect::has(&window.navigator(), &"serviceWorker".into()).unwrap_or(false));
    match (controlled(), ASKED.with(std::cell::Cell::get) && available) {
        (true, _) => Keeping::Kept,
        (false, true) => Keeping::Pending,
        (false, false) => Keeping::Impossible,
    }
}

/// Calls `on_change` each time a worker takes control of the page, as long as the returned listener lives.
pub fn on_control(on_change: impl Fn() + 'static) -> Option<gloo_events::EventListener> {
    let container = container()?;
    Some(gloo_events::EventListener::new(&container, "controllerchange", move |_| on_change()))
}

/// Registers the worker at `script` (a module worker) and calls `on_waiting` whenever a new version is
/// installed and waiting while an older one controls the page. A registration the origin refuses is
/// asked again after a full-jitter pause (from 1 s up to 30 s), as long as the page lives; a worker
/// already registered at `script` (by the boot script) is only watched. Does nothing where workers are
/// unavailable. The browser itself looks for a new version after each navigation.
pub fn register(script: &str, on_waiting: impl Fn() + 'static) {
    let Some(container) = container() else { return };
    ASKED.with(|asked| asked.set(true));
    let options = web_sys::RegistrationOptions::new();
    options.set_type("module");
    let script = script.to_owned();
    wasm_bindgen_futures::spawn_local(async move {
        let mut failures = 0;
        let registration = loop {
            let promise = container.register_with_options(&script, &options);
            match wasm_bindgen_futures::JsFuture::from(promise).await {
                Ok(registration) => break registration,
                // Workers are refused here (an insecure page, a browser setting): asking again cannot help.
                Err(error) if error_name(&error).as_deref() == Some("SecurityError") => return,
                Err(_) => {
                    failures += 1;
                    let pause = full_jitter(1_000, 30_000, failures, cartable_web::clock::random());
                    cartable_web::net::sleep(pause as i32).await;
                }
            }
        };
        watch(&registration.unchecked_into(), std::rc::Rc::new(on_waiting));
    });
}

/// The `name` of what the browser threw (`SecurityError`...), if it has one.
fn error_name(error: &JsValue) -> Option<String> {
    js_sys::Reflect::get(error, &JsValue::from("name")).ok()?.as_string()
}

fn watch(registration: &ServiceWorkerRegistration, on_waiting: std::rc::Rc<dyn Fn()>) {
    if registration.waiting().is_some() && controlled() {
        on_waiting();
    }
    let found = registration.clone();
    let callback = Closure::<dyn Fn()>::new(move || {
        let Some(installing) = found.installing() else { return };
        let worker = installing.clone();
        let on_waiting = on_waiting.clone();
        let changed = Closure::<dyn Fn()>::new(move || {
            if worker.state() == web_sys::ServiceWorkerState::Installed && controlled() {
                on_waiting();
            }
        });
        installing.set_onstatechange(Some(changed.as_ref().unchecked_ref()));
        changed.forget(); // lives as long as the worker it watches
    });
    registration.set_onupdatefound(Some(callback.as_ref().unchecked_ref()));
    callback.forget(); // lives as long as the page
}

/// Asks the waiting version to take over, and reloads the page once it does.
pub fn activate_new_version() {
    let Some(container) = container() else { return };
    let reload = Closure::<dyn Fn()>::new(|| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    });
    container.set_oncontrollerchange(Some(reload.as_ref().unchecked_ref()));
    reload.forget(); // the page is about to reload
    let Ok(ready) = container.ready() else { return };
    let waiting = wasm_bindgen_futures::JsFuture::from(ready);
    wasm_bindgen_futures::spawn_local(async move {
        let Ok(registration) = waiting.await else { return };
        let registration: ServiceWorkerRegistration = registration.unchecked_into();
        if let Some(worker) = registration.waiting() {
            let _ = ServiceWorker::post_message(&worker, &JsValue::from_str(ACTIVATE));
        }
    });
}
