//! The embedding API: `mount(element, options)` starts the app in a page element.

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use yew::AttrValue;

use crate::course::Elsewhere;
use crate::i18n;
use crate::view;
use crate::view::app::{App, AppProps, Opening};

/// What the embedding page passes to [`mount`]: `{ manifest, key, mirrors?, tracker?, lang?, serviceWorker? }`,
/// read field by field from the JavaScript object (no JSON parser of its own in the first bundle).
struct MountOptions {
    manifest: String,
    key: String,
    /// Base URLs of the course's mirrors (each holds `manifest.json` and `ipfs/<cid>`), relative to the page.
    mirrors: Vec<String>,
    /// The WebSocket URL of the tracker through which classmates share the course; when left out, the
    /// first tracker the manifest names.
    tracker: Option<String>,
    lang: Option<String>,
    /// URL of the service worker script, relative to the page; `null` to run without one, `sw.js` when
    /// left out.
    service_worker: Option<String>,
}

impl MountOptions {
    fn read(options: &JsValue) -> Result<MountOptions, String> {
        let field = |name: &str| js_sys::Reflect::get(options, &name.into()).unwrap_or(JsValue::UNDEFINED);
        let text = |name: &str| -> Result<Option<String>, String> {
            let value = field(name);
            match value.as_string() {
                Some(text) => Ok(Some(text)),
                None if value.is_null() || value.is_undefined() => Ok(None),
                None => Err(format!("`{name}` must be a string")),
            }
        };
        let required = |name: &str| text(name)?.ok_or_else(|| format!("`{name}` is missing"));
        let mirrors = field("mirrors");
        let mirrors = match mirrors.is_undefined() || mirrors.is_null() {
            true => Vec::new(),
            false => js_sys::Array::is_array(&mirrors)
                .then(|| js_sys::Array::from(&mirrors).iter().map(|mirror| mirror.as_string()).collect())
                .flatten()
                .ok_or("`mirrors` must be a list of strings")?,
        };
        let service_worker = match field("serviceWorker").is_undefined() {
            true => Some("sw.js".to_owned()),
            false => text("serviceWorker")?,
        };
        Ok(MountOptions {
            manifest: required("manifest")?,
            key: required("key")?,
            mirrors,
            tracker: text("tracker")?,
            lang: text("lang")?,
            service_worker,
        })
    }
}

/// Mounts the app into `element`, showing the course whose manifest is at `options.manifest` (a URL,
/// relative to the page) if it is signed by `options.key` (`ed25519:<base64>`, the school's pinned key).
/// `options.mirrors` lists mirrors of the course (static copies made by `cartable mirror`, or IPFS
/// gateways), used when the origin is saturated or down. `options.lang` (`"fr"` or `"en"`) overrides the browser's language; `options.serviceWorker` is the
/// worker script that keeps the app and the course offline (`"sw.js"` by default, `null` for none).
#[wasm_bindgen]
pub fn mount(element: web_sys::Element, options: JsValue) -> Result<(), JsError> {
    view::panic::install(&element);
    let options = MountOptions::read(&options)
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
