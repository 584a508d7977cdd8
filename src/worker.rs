//! The page's side of the service worker: registers it, and notices when a new version of the app is
//! installed and waiting, so the pupil can choose to reload into it (never a mix of old and new files).

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

/// Registers the worker at `script` (a module worker) and calls `on_waiting` whenever a new version is
/// installed and waiting while an older one controls the page. Does nothing where workers are unavailable.
pub fn register(script: &str, on_waiting: impl Fn() + 'static) {
    let Some(container) = container() else { return };
    let options = web_sys::RegistrationOptions::new();
    options.set_type("module");
    let promise = container.register_with_options(script, &options);
    wasm_bindgen_futures::spawn_local(async move {
        let Ok(registration) = wasm_bindgen_futures::JsFuture::from(promise).await else { return };
        let registration: ServiceWorkerRegistration = registration.unchecked_into();
        watch(&registration, std::rc::Rc::new(on_waiting));
        // Look for a new version now, not only at the next navigation. Awaited, so that an origin gone
        // meanwhile is not an unhandled rejection: the next look will do.
        if let Ok(update) = registration.update() {
            let _ = wasm_bindgen_futures::JsFuture::from(update).await;
        }
    });
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
