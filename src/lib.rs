//! The browser edge of cartable: Yew components, WebCrypto hashing and HTTP fetches, thin adapters over
//! `cartable-core`. Nothing here decides what is trusted: the core's manifest and CID checks do.

#![deny(missing_docs)]

pub mod course;
pub mod digest;
pub mod i18n;
pub mod net;
pub mod view;

use wasm_bindgen::prelude::*;

use crate::view::app::{App, AppProps};

/// What the embedding page passes to [`mount`]: `{ manifest, key, lang? }`.
#[derive(serde::Deserialize)]
struct MountOptions {
    manifest: String,
    key: String,
    #[serde(default)]
    lang: Option<String>,
}

/// Mounts the app into `element`, showing the course whose manifest is at `options.manifest` (a URL,
/// relative to the page) if it is signed by `options.key` (`ed25519:<base64>`, the school's pinned key).
/// `options.lang` (`"fr"` or `"en"`) overrides the browser's language.
#[wasm_bindgen]
pub fn mount(element: web_sys::Element, options: JsValue) -> Result<(), JsError> {
    view::panic::install(&element);
    let options: MountOptions =
        serde_json::from_str(&js_sys::JSON::stringify(&options).map(String::from).unwrap_or_default())
            .map_err(|error| JsError::new(&format!("cartable options must be {{manifest, key}}: {error}")))?;
    let key = options.key.parse().map_err(|error| JsError::new(&format!("cartable key: {error}")))?;
    let lang = i18n::Lang::choose(options.lang.as_deref());
    let props = AppProps { manifest_url: options.manifest.into(), key, lang };
    element.set_inner_html("");
    yew::Renderer::<App>::with_root_and_props(element, props).render();
    Ok(())
}
