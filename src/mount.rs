//! The embedding API: `mount(element, options)` starts the app in a page element.

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use yew::AttrValue;

use crate::course::Elsewhere;
use crate::i18n;
use crate::view;
use crate::view::app::{App, AppProps, Opening};

/// What the embedding page passes to [`mount`]: `{ manifest, key, mirrors?, tracker?, lang?, serviceWorker? }`.
#[derive(serde::Deserialize)]
struct MountOptions {
    manifest: String,
    key: String,
    /// Base URLs of the course's mirrors (each holds `manifest.json` and `ipfs/<cid>`), relative to the page.
    #[serde(default)]
    mirrors: Vec<String>,
    /// The WebSocket URL of the tracker through which classmates share the course; when left out, the
    /// first tracker the manifest names.
    #[serde(default)]
    tracker: Option<String>,
    #[serde(default)]
    lang: Option<String>,
    /// URL of the service worker script, relative to the page; `null` to run without one.
    #[serde(default = "default_worker", rename = "serviceWorker")]
    service_worker: Option<String>,
}

fn default_worker() -> Option<String> {
    Some("sw.js".into())
}

/// Mounts the app into `element`, showing the course whose manifest is at `options.manifest` (a URL,
/// relative to the page) if it is signed by `options.key` (`ed25519:<base64>`, the school's pinned key).
/// `options.mirrors` lists mirrors of the course (static copies made by `cartable mirror`, or IPFS
/// gateways), used when the origin is saturated or down. `options.lang` (`"fr"` or `"en"`) overrides the browser's language; `options.serviceWorker` is the
/// worker script that keeps the app and the course offline (`"sw.js"` by default, `null` for none).
#[wasm_bindgen]
pub fn mount(element: web_sys::Element, options: JsValue) -> Result<(), JsError> {
    view::panic::install(&element);
    let options: MountOptions =
        serde_json::from_str(&js_sys::JSON::stringify(&options).map(String::from).unwrap_or_default())
            .map_err(|error| JsError::new(&format!("cartable options must be {{manifest, key}}: {error}")))?;
    let key = options.key.parse().map_err(|error| JsError::new(&format!("cartable key: {error}")))?;
    let lang = i18n::Lang::choose(options.lang.as_deref());
    let service_worker = options.service_worker.map(AttrValue::from);
    // Opening the course waits on storage and the network: start it now, while Yew renders the first frame.
    let elsewhere = Rc::new(Elsewhere { mirrors: options.mirrors, tracker: options.tracker });
    let opening = Opening::start(options.manifest.clone(), elsewhere.clone(), key);
    let props = AppProps { manifest_url: options.manifest.into(), elsewhere, key, lang, service_worker, opening };
    // Work saved on an earlier visit goes as soon as the page loads, whatever page the pupil opens.
    wasm_bindgen_futures::spawn_local(crate::parts::send_waiting_work());
    element.set_inner_html("");
    yew::Renderer::<App>::with_root_and_props(element, props).render();
    Ok(())
}
